"""identity: an account's verified identity (level of assurance, legal name, encrypted ID number,
who verified) and its accounts at external OpenID Connect identity providers

Revision ID: a9d3c5e7f102
Revises: 449d019c1711
Create Date: 2026-12-06 21:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9d3c5e7f102'
down_revision = "449d019c1711"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'identity_verification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Enum('none', 'oidc', 'counter', name='assurancelevel', native_enum=False,
                                   create_constraint=True, length=32), nullable=False),
        sa.Column('method', sa.String(length=32), nullable=False),
        sa.Column('legal_name', sa.String(length=100), nullable=False),
        sa.Column('id_number_encrypted', sa.Text(), nullable=True),
        sa.Column('id_number_masked', sa.String(length=18), nullable=True),
        sa.Column('id_number_digest', sa.String(length=64), nullable=True),
        sa.Column('verified_by_id', sa.Integer(), nullable=True),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('issuer', sa.String(length=255), nullable=True),
        sa.Column('verified_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("method <> 'id_card_at_counter' OR verified_by_id IS NOT NULL",
                           name=op.f('ck_identity_verification_counter_has_staff')),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_identity_verification_organization_id_organization')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE',
                                name=op.f('fk_identity_verification_user_id_user')),
        sa.ForeignKeyConstraint(['verified_by_id'], ['user.id'],
                                name=op.f('fk_identity_verification_verified_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_verification')),
        sa.UniqueConstraint('id_number_digest', name=op.f('uq_identity_verification_id_number_digest')),
        sa.UniqueConstraint('user_id', name=op.f('uq_identity_verification_user_id')),
    )
    op.create_table(
        'external_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=False),
        sa.Column('last_sign_in_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE',
                                name=op.f('fk_external_account_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_external_account')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_external_account_issuer_subject')),
    )
    with op.batch_alter_table('external_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_account_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('external_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_account_user_id'))
    op.drop_table('external_account')
    op.drop_table('identity_verification')
