"""outbox: a message is claimed by the one deliverer sending it (claimed_until)

Revision ID: 5b7e9c1d3a20
Revises: 492012de6183
Create Date: 2026-12-06 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5b7e9c1d3a20"
down_revision = "492012de6183"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("claimed_until")
