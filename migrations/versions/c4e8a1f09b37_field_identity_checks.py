"""field: a party's ID card checked in person on site, for signing without a phone code

Revision ID: c4e8a1f09b37
Revises: a9d3e5f7b1c2
Create Date: 2026-12-07 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f09b37'
down_revision = 'a9d3e5f7b1c2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('field_identity_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=False),
    sa.Column('id_number_encrypted', sa.Text(), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('id_number_digest', sa.String(length=64), nullable=False),
    sa.Column('no_code_reason', sa.Text(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['user.id'], name=op.f('fk_field_identity_check_checked_by_id_user')),
    sa.ForeignKeyConstraint(['document_id'], ['signed_document.id'], name=op.f('fk_field_identity_check_document_id_signed_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['case_party.id'], name=op.f('fk_field_identity_check_party_id_case_party'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_identity_check')),
    sa.UniqueConstraint('document_id', 'position', name=op.f('uq_field_identity_check_document_id_position'))
    )
    with op.batch_alter_table('field_identity_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_identity_check_id_number_digest'), ['id_number_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_identity_check_party_id'), ['party_id'], unique=False)


def downgrade():
    with op.batch_alter_table('field_identity_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_identity_check_party_id'))
        batch_op.drop_index(batch_op.f('ix_field_identity_check_id_number_digest'))

    op.drop_table('field_identity_check')
