"""outbox: an optional attachment for e-mail (calendar entries of mediation sessions)

Revision ID: 3f1c2a9e8b71
Revises: d6e72d51c84b
Create Date: 2026-11-23 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f1c2a9e8b71'
down_revision = 'd6e72d51c84b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('attachment')
