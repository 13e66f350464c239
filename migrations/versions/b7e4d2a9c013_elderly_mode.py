"""elderly mode (长辈版) remembered per account

Revision ID: b7e4d2a9c013
Revises: d9a2e6b4f318
Create Date: 2026-12-06 06:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4d2a9c013'
down_revision = 'd9a2e6b4f318'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('elderly', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('elderly')
