"""case search: party name and phone indexed with the case, newest first; transfers by arrival, with the organisation they were sent to

Revision ID: 8c4e1f2a6b30
Revises: 3f7c2a9d1e45
Create Date: 2026-12-02 19:30:00.000000

The staff's case search walks each index from the prefix in its own order and stops after a page;
with the case id in the index, one name's (or phone's) cases come newest first without a sort.
The dashboard's table per sender reads the period's transfers of every sender by arrival, and
keeps to the viewer's organisations with the organisation each transfer was sent to (filled here
from the case's organisation; a case routed elsewhere since then was nearly always sent there).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c4e1f2a6b30'
down_revision = '3f7c2a9d1e45'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_party', schema=None) as batch_op:
        batch_op.drop_index('ix_case_party_name')
        batch_op.drop_index('ix_case_party_phone')
        batch_op.create_index('ix_case_party_name_case', ['name', sa.text('case_id DESC')], unique=False)
        batch_op.create_index('ix_case_party_phone_case', ['phone', sa.text('case_id DESC')], unique=False)
    with op.batch_alter_table('ops_transfer_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ops_transfer_response_organization_id_organization'),
                                    'organization', ['organization_id'], ['id'])
        batch_op.create_index('ix_ops_transfer_response_received', ['received_at'], unique=False)
    op.execute('UPDATE ops_transfer_response SET organization_id = '
               '(SELECT "case".organization_id FROM "case" WHERE "case".id = ops_transfer_response.case_id)')


def downgrade():
    with op.batch_alter_table('ops_transfer_response', schema=None) as batch_op:
        batch_op.drop_index('ix_ops_transfer_response_received')
        batch_op.drop_constraint(batch_op.f('fk_ops_transfer_response_organization_id_organization'),
                                 type_='foreignkey')
        batch_op.drop_column('organization_id')
    with op.batch_alter_table('case_party', schema=None) as batch_op:
        batch_op.drop_index('ix_case_party_phone_case')
        batch_op.drop_index('ix_case_party_name_case')
        batch_op.create_index('ix_case_party_phone', ['phone'], unique=False)
        batch_op.create_index('ix_case_party_name', ['name'], unique=False)
