"""dashboard: covering indexes for the performance and satisfaction figures (the period's survey
answers, the open and due schedules, and the case columns a scope or filter reads by case id)

Revision ID: a7c3e9f1b2d4
Revises: f2b8d4a6c1e3
Create Date: 2026-12-06 22:30:00.000000
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e9f1b2d4'
down_revision = 'f2b8d4a6c1e3'
branch_labels = None
depends_on = None

SURVEY = ['created_at', 'organization_id', 'mediator_id', 'outcome', 'heard', 'neutral', 'understood', 'ease',
          'would_use_again']
ALERT = ['performed_at', 'alert', 'case_id']
DUE = ['last_due_on', 'case_id', 'performed_at', 'enforcement_requested_at', 'created_at']


def _replace(table, name, columns):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(name)
        batch_op.create_index(name, columns, unique=False)


def upgrade():
    _replace('survey_answer', 'ix_survey_answer_created', SURVEY)
    _replace('performance_schedule', 'ix_performance_schedule_alert', ALERT)
    _replace('performance_schedule', 'ix_performance_schedule_last_due', DUE)
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_dashboard', ['id', 'organization_id', 'category', 'district'], unique=False)


def downgrade():
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_dashboard')
    _replace('performance_schedule', 'ix_performance_schedule_last_due', ['last_due_on'])
    _replace('performance_schedule', 'ix_performance_schedule_alert', ['performed_at', 'alert'])
    _replace('survey_answer', 'ix_survey_answer_created', ['created_at', 'organization_id'])
