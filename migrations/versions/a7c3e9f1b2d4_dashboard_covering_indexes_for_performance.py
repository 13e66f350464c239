"""dashboard: the performance and satisfaction figures read indexes only — each performance schedule
carries its case's organisation, district and category (filled from the cases here), and covering
indexes for the open and due schedules and for the period's survey answers

Revision ID: a7c3e9f1b2d4
Revises: f2b8d4a6c1e3
Create Date: 2026-12-06 22:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9f1b2d4'
down_revision = 'f2b8d4a6c1e3'
branch_labels = None
depends_on = None

SURVEY = ['created_at', 'organization_id', 'mediator_id', 'outcome', 'heard', 'neutral', 'understood', 'ease',
          'would_use_again']
ALERT = ['performed_at', 'organization_id', 'alert', 'district', 'category']
DUE = ['last_due_on', 'organization_id', 'category', 'district', 'performed_at', 'enforcement_requested_at',
       'created_at']


def _replace(table, name, columns):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(name)
        batch_op.create_index(name, columns, unique=False)


def upgrade():
    _replace('survey_answer', 'ix_survey_answer_created', SURVEY)
    with op.batch_alter_table('performance_schedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('district', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('category', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_performance_schedule_organization_id_organization'),
                                    'organization', ['organization_id'], ['id'])
    for column in ('organization_id', 'district', 'category'):
        op.execute(f'UPDATE performance_schedule SET {column} = '
                   f'(SELECT "case".{column} FROM "case" WHERE "case".id = performance_schedule.case_id)')
    _replace('performance_schedule', 'ix_performance_schedule_alert', ALERT)
    _replace('performance_schedule', 'ix_performance_schedule_last_due', DUE)


def downgrade():
    _replace('performance_schedule', 'ix_performance_schedule_last_due', ['last_due_on'])
    _replace('performance_schedule', 'ix_performance_schedule_alert', ['performed_at', 'alert'])
    with op.batch_alter_table('performance_schedule', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_performance_schedule_organization_id_organization'),
                                 type_='foreignkey')
        batch_op.drop_column('category')
        batch_op.drop_column('district')
        batch_op.drop_column('organization_id')
    _replace('survey_answer', 'ix_survey_answer_created', ['created_at', 'organization_id'])
