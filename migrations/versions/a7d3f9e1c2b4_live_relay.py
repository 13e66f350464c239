"""live relay: the Socket.IO events that a process serving no pages (the periodic jobs, odr tick)
emits, kept in the database with the change they tell of until a serving process sends them on

Revision ID: a7d3f9e1c2b4
Revises: c5e8f2a4d7b6
Create Date: 2026-12-07 03:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3f9e1c2b4'
down_revision = 'c5e8f2a4d7b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'live_relay',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('namespace', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('room', sa.String(length=200), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_live_relay')))


def downgrade():
    op.drop_table('live_relay')
