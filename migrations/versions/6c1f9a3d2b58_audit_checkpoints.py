"""audit checkpoints: signed statements of the audit chains' heads, one Merkle leaf per head

Revision ID: 6c1f9a3d2b58
Revises: 4b8e2d7c9f13
Create Date: 2026-12-06 12:00:00.000000

A checkpoint is written once and never changed (odr.documents.checkpoints): the statement and its
detached CMS signature by the platform seal, and the heads it covers. The first periodic run after
this migration checkpoints every chain.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6c1f9a3d2b58'
down_revision = '4b8e2d7c9f13'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Enum('periodic', 'handoff', name='checkpointreason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('heads', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('timestamped_at', sa.DateTime(), nullable=True),
    sa.Column('events_through', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoint_sha256'), ['sha256'], unique=False)

    op.create_table('audit_checkpoint_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('chain', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('case_number', sa.String(length=20), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_audit_checkpoint_head_case_id_case')),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['audit_checkpoint.id'], name=op.f('fk_audit_checkpoint_head_checkpoint_id_audit_checkpoint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint_head')),
    sa.UniqueConstraint('checkpoint_id', 'position', name='one_head_per_leaf')
    )
    with op.batch_alter_table('audit_checkpoint_head', schema=None) as batch_op:
        batch_op.create_index('ix_audit_checkpoint_head_case', ['case_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_checkpoint_head_chain', ['chain', 'seq'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_checkpoint_head', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_checkpoint_head_chain')
        batch_op.drop_index('ix_audit_checkpoint_head_case')

    op.drop_table('audit_checkpoint_head')
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoint_sha256'))

    op.drop_table('audit_checkpoint')
