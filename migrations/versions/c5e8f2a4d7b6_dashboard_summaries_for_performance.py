"""dashboard: summaries for the performance and satisfaction figures — open performance schedules
counted by organisation, district, category and alert (in four grains), and the survey answers'
daily sums and counts per organisation and mediator; both filled from the existing rows here and
kept in step by the steps that change them

Revision ID: c5e8f2a4d7b6
Revises: c4e8a1f09b37
Create Date: 2026-12-07 00:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e8f2a4d7b6'
down_revision = 'c4e8a1f09b37'
branch_labels = None
depends_on = None

OPEN = ("SELECT {category} AS c, {district} AS d, COALESCE(organization_id, 0) AS o, "
        "CAST(alert AS VARCHAR(16)) AS a FROM performance_schedule WHERE performed_at IS NULL")
FAIRNESS6 = "CASE WHEN neutral IS NULL THEN 3 * (heard + understood) ELSE 2 * (heard + understood + neutral) END"


def upgrade():
    op.create_table(
        'performance_open_count',
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('district', sa.String(length=64), nullable=False),
        sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('alert', sa.String(length=16), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('category', 'district', 'organization_id', 'alert',
                                name=op.f('pk_performance_open_count')))
    op.create_table(
        'survey_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('organization_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mediator_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.Integer(), nullable=False),
        sa.Column('fairness6', sa.Integer(), nullable=False),
        sa.Column('ease', sa.Integer(), nullable=False),
        sa.Column('again', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'organization_id', 'mediator_id', name=op.f('pk_survey_day')))
    op.create_index('ix_survey_day_mediators', 'survey_day', ['day', 'mediator_id', 'organization_id', 'answers',
                                                              'outcome', 'fairness6', 'ease', 'again'], unique=False)

    # Every open schedule in its four grains: by district and category, by either, by neither.
    district, category = "COALESCE(district, '')", "COALESCE(category, '')"
    grains = " UNION ALL ".join(OPEN.format(category=c, district=d) for d, c in (
        (district, category), (district, "'*'"), ("'*'", category), ("'*'", "'*'")))
    op.execute("INSERT INTO performance_open_count (category, district, organization_id, alert, n) "
               f"SELECT c, d, o, a, count(*) FROM ({grains}) AS g GROUP BY c, d, o, a")

    day = "date(created_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(created_at AS DATE)"
    sums = (f"count(*), sum(outcome), sum({FAIRNESS6}), sum(ease), "
            "sum(CASE WHEN would_use_again THEN 1 ELSE 0 END)")
    # Every answer in its organisation's row (mediator 0), and those with a mediator in the mediator's.
    for mediator, where, by in (("0", "1 = 1", ""), ("mediator_id", "mediator_id IS NOT NULL", ", mediator_id")):
        op.execute("INSERT INTO survey_day (day, organization_id, mediator_id, answers, outcome, fairness6, ease, "
                   f"again) SELECT {day}, COALESCE(organization_id, 0), {mediator}, {sums} FROM survey_answer "
                   f"WHERE {where} GROUP BY {day}, COALESCE(organization_id, 0){by}")


def downgrade():
    op.drop_index('ix_survey_day_mediators', table_name='survey_day')
    op.drop_table('survey_day')
    op.drop_table('performance_open_count')
