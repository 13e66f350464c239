"""enforce: applications for enforcement handed to a court (court_handoff.kind 'enforcement');
a performance schedule remembers when enforcement was applied for

Revision ID: e4f0c1a7d2b9
Revises: b7e4d2a9c013
Create Date: 2026-12-06 18:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4f0c1a7d2b9'
down_revision = 'b7e4d2a9c013'
branch_labels = None
depends_on = None

KINDS = ('confirmation', 'filing')


def _kinds(values):
    return sa.Enum(*values, name='handoffkind', native_enum=False, create_constraint=True, length=32)


def _kind_check(old, new):
    """Hand-off kinds are a VARCHAR with a CHECK constraint listing them: replace the constraint."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('court_handoff', schema=None) as batch_op:
            batch_op.alter_column('kind', existing_type=_kinds(old), type_=_kinds(new), existing_nullable=False)
    else:
        op.drop_constraint(op.f('ck_court_handoff_handoffkind'), 'court_handoff', type_='check')
        allowed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f('ck_court_handoff_handoffkind'), 'court_handoff', f"kind IN ({allowed})")


def upgrade():
    _kind_check(KINDS, KINDS + ('enforcement',))
    with op.batch_alter_table('performance_schedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enforcement_requested_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('performance_schedule', schema=None) as batch_op:
        batch_op.drop_column('enforcement_requested_at')
    op.execute("DELETE FROM court_handoff WHERE kind = 'enforcement'")
    _kind_check(KINDS + ('enforcement',), KINDS)
