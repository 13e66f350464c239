"""dashboard: the survey sums also by spans of 1, 2, 4 … 256 days (a period reads a few spans instead
of every day); the performance schedules counted by the day their last item falls due, with those
performed voluntarily and the seconds they took (in four grains); the field dispatches counted per
day of arrival, organisation and grid, worker or sender, with histograms of the seconds each step
took — all filled from the existing rows here and kept in step by the steps that change them

Revision ID: d8f3b1a6c925
Revises: a7d3f9e1c2b4
Create Date: 2026-12-07 03:40:00.000000
"""
from collections import Counter
from datetime import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8f3b1a6c925'
down_revision = 'a7d3f9e1c2b4'
branch_labels = None
depends_on = None

SUMS = ("answers", "outcome", "fairness6", "ease", "again")
SPAN_LEVELS = 9
STEPS = (("accept", "accepted_at"), ("contact", "contacted_at"), ("on_scene", "on_scene_at"))
DIMENSIONS = (("grid", "grid_id"), ("worker", "worker_id"), ("sender", "api_client_id"))


def _time(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _bucket(seconds):
    # As odr.field.summary.bucket, as of this revision.
    if seconds < 3600:
        return seconds
    if seconds < 86400:
        return seconds // 60 * 60
    return seconds // 3600 * 3600


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        'survey_span',
        sa.Column('block', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mediator_id', sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in SUMS),
        sa.PrimaryKeyConstraint('block', 'organization_id', 'mediator_id', name=op.f('pk_survey_span')))
    op.create_index('ix_survey_span_mediators', 'survey_span',
                    ['block', 'mediator_id', 'organization_id', *SUMS], unique=False)
    op.create_table(
        'performance_due_day',
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('district', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('due', sa.Integer(), nullable=False),
        sa.Column('performed', sa.Integer(), nullable=False),
        sa.Column('performed_seconds', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('category', 'district', 'day', 'organization_id',
                                name=op.f('pk_performance_due_day')))
    op.create_table(
        'field_dispatch_day',
        sa.Column('dimension', sa.String(length=8), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('key_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('measure', sa.String(length=16), nullable=False),
        sa.Column('value', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('dimension', 'day', 'organization_id', 'key_id', 'measure', 'value',
                                name=op.f('pk_field_dispatch_day')))
    op.create_index('ix_field_dispatch_day_read', 'field_dispatch_day',
                    ['dimension', 'day', 'organization_id', 'key_id', 'measure', 'value', 'n'], unique=False)

    # Survey spans: every day's sums in the span of each length that holds it (block = the span's first
    # day as date.toordinal(), times 16, plus log2 of its length).
    ordinal = ("CAST(julianday(day) - julianday('0001-01-01') AS INTEGER) + 1" if sqlite
               else "(day - DATE '0001-01-01') + 1")
    sums = ", ".join(f"sum({c})" for c in SUMS)
    for level in range(SPAN_LEVELS):
        block = f"(({ordinal}) / {1 << level}) * {1 << level} * 16 + {level}"
        op.execute(f"INSERT INTO survey_span (block, organization_id, mediator_id, {', '.join(SUMS)}) "
                   f"SELECT {block}, organization_id, mediator_id, {sums} FROM survey_day "
                   f"GROUP BY {block}, organization_id, mediator_id")

    # Schedules by the day their last item falls due, in four grains.
    seconds = ("CAST(ROUND((julianday(performed_at) - julianday(created_at)) * 86400) AS INTEGER)" if sqlite
               else "CAST(ROUND(EXTRACT(EPOCH FROM (performed_at - created_at))) AS BIGINT)")
    voluntary = "performed_at IS NOT NULL AND enforcement_requested_at IS NULL"
    district, category = "COALESCE(district, '')", "COALESCE(category, '')"
    grains = " UNION ALL ".join(
        f"SELECT {c} AS c, {d} AS d, last_due_on AS day, COALESCE(organization_id, 0) AS o, "
        f"CASE WHEN {voluntary} THEN 1 ELSE 0 END AS v, CASE WHEN {voluntary} THEN {seconds} ELSE 0 END AS s "
        "FROM performance_schedule"
        for d, c in ((district, category), (district, "'*'"), ("'*'", category), ("'*'", "'*'")))
    op.execute("INSERT INTO performance_due_day (category, district, day, organization_id, due, performed, "
               f"performed_seconds) SELECT c, d, day, o, count(*), sum(v), sum(s) FROM ({grains}) AS g "
               "GROUP BY c, d, day, o")

    # Dispatches by day of arrival (as odr.field.summary.counted_row, as of this revision).
    conn = op.get_bind()
    totals, last = Counter(), 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, received_at, organization_id, status, grid_id, worker_id, api_client_id, accepted_at, "
            "contacted_at, on_scene_at FROM field_dispatch WHERE id > :last ORDER BY id LIMIT 20000"),
            {"last": last}).mappings().all()
        if not rows:
            break
        for row in rows:
            received = _time(row["received_at"])
            measures = [("dispatches", 0)]
            if row["status"] in ("resolved", "referred"):
                measures.append((row["status"], 0))
            for step, column in STEPS:
                if row[column] is not None:
                    took = max(0, round((_time(row[column]) - received).total_seconds()))
                    measures.append((step, _bucket(took)))
            for dimension, column in DIMENSIONS:
                for measure, value in measures:
                    totals[(dimension, received.date(), row["organization_id"], row[column] or 0, measure,
                            value)] += 1
        last = rows[-1]["id"]
    table = sa.table('field_dispatch_day', sa.column('dimension', sa.String), sa.column('day', sa.Date),
                     *(sa.column(c, sa.Integer) for c in ('organization_id', 'key_id')),
                     sa.column('measure', sa.String), *(sa.column(c, sa.Integer) for c in ('value', 'n')))
    rows = [dict(dimension=k[0], day=k[1], organization_id=k[2], key_id=k[3], measure=k[4], value=k[5], n=n)
            for k, n in totals.items()]
    for start in range(0, len(rows), 5000):
        op.bulk_insert(table, rows[start:start + 5000])


def downgrade():
    op.drop_index('ix_field_dispatch_day_read', table_name='field_dispatch_day')
    op.drop_table('field_dispatch_day')
    op.drop_table('performance_due_day')
    op.drop_index('ix_survey_span_mediators', table_name='survey_span')
    op.drop_table('survey_span')
