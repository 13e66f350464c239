"""operations: mediator closures by spans of days; where each open case is counted; closed_at in the deadline indexes

Revision ID: 3f7c2a9d1e45
Revises: 5700ddcf5dfa
Create Date: 2026-12-02 15:40:00.000000

The per-day mediator outcomes become closures per power-of-two span of days (1 to 256), filled
from the daily rows. ``ops_open_case`` starts empty: the summary job counts every open case on
its next run (no ``open_cases`` watermark yet) and updates the counts incrementally after that.
The partial deadline indexes also hold ``closed_at`` (always NULL in them), so SQLite answers the red
list's and red count's ``likely(closed_at IS NULL)`` from the index alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7c2a9d1e45'
down_revision = '5700ddcf5dfa'
branch_labels = None
depends_on = None

SPAN_LEVELS = 9


def upgrade():
    op.create_table('ops_mediator_closed',
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=64), nullable=False),
    sa.Column('block', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('mediator_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('settled', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('category', 'district', 'block', 'organization_id', 'mediator_id',
                            name=op.f('pk_ops_mediator_closed'))
    )
    op.create_table('ops_open_case',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=64), nullable=False),
    sa.Column('mediator_id', sa.Integer(), autoincrement=False, nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_ops_open_case_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_ops_open_case'))
    )
    # One-day spans from the daily rows (block = the day as date.toordinal(), times 16), then the
    # longer spans from those.
    if op.get_bind().dialect.name == 'postgresql':
        ordinal = "(day - DATE '0001-01-01' + 1)"
    else:
        ordinal = "CAST(julianday(day) - 1721424.5 AS INTEGER)"
    op.execute(f"""INSERT INTO ops_mediator_closed
        SELECT category, district, {ordinal} * 16, organization_id, mediator_id, SUM(n),
               SUM(CASE WHEN outcome = 'settled' THEN n ELSE 0 END)
        FROM ops_mediator_outcome GROUP BY category, district, day, organization_id, mediator_id""")
    for level in range(1, SPAN_LEVELS):
        block = f"(block / 16 / {1 << level} * {1 << level} * 16 + {level})"
        op.execute(f"""INSERT INTO ops_mediator_closed
            SELECT category, district, {block}, organization_id, mediator_id, SUM(closed), SUM(settled)
            FROM ops_mediator_closed WHERE block % 16 = 0
            GROUP BY category, district, {block}, organization_id, mediator_id""")
    op.drop_table('ops_mediator_outcome')
    _deadline_indexes(['closed_at'])


def _deadline_indexes(extra):
    where = dict(postgresql_where=sa.text('closed_at IS NULL'), sqlite_where=sa.text('closed_at IS NULL'))
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_open_org_due', **where)
        batch_op.drop_index('ix_case_open_due', **where)
        batch_op.create_index('ix_case_open_due', ['due_at', *extra], unique=False, **where)
        batch_op.create_index('ix_case_open_org_due', ['organization_id', 'due_at', *extra], unique=False, **where)


def downgrade():
    _deadline_indexes([])
    # The outcomes other than "settled" are not kept per mediator any more: the daily table comes
    # back empty.
    op.create_table('ops_mediator_outcome',
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('mediator_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('category', 'district', 'day', 'organization_id', 'mediator_id', 'outcome', name=op.f('pk_ops_mediator_outcome'))
    )
    op.drop_table('ops_open_case')
    op.drop_table('ops_mediator_closed')
    op.execute("DELETE FROM ops_watermark WHERE name = 'open_cases'")
