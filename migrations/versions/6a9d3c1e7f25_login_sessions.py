"""login sessions: each signed-in browser is a row, so signing out, expiry and "sign out of all devices" end sessions on the server

Revision ID: 6a9d3c1e7f25
Revises: 6c1f9a3d2b58
Create Date: 2026-12-06 03:00:00.000000

Sessions signed in before this revision carry no token and are refused: everyone signs in once more.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6a9d3c1e7f25'
down_revision = '6c1f9a3d2b58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_session_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_login_session_token_hash')),
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
    op.drop_table('login_session')
