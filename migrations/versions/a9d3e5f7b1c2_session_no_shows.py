"""no-shows at mediation sessions: the reminder to a party who has not picked a time, whether a
no-show's session notice was served (the proof counts it), who recorded the attendance (the mediator
or the platform from the video room), and the mediation ended for non-attendance

Revision ID: a9d3e5f7b1c2
Revises: a7c3e9f1b2d4
Create Date: 2026-12-06 22:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9d3e5f7b1c2'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pick_reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attendance_by', sa.String(length=16), nullable=True))
    with op.batch_alter_table('mediation_attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_served', sa.Boolean(), nullable=True))
    op.create_table(
        'mediation_non_attendance',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=20), nullable=False),
        sa.Column('no_shows', sa.Integer(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=False),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_mediation_non_attendance_case_id_case'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mediation_non_attendance_user_id_user')),
        sa.ForeignKeyConstraint(['ended_by_id'], ['user.id'],
                                name=op.f('fk_mediation_non_attendance_ended_by_id_user')),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_mediation_non_attendance')),
    )


def downgrade():
    op.drop_table('mediation_non_attendance')
    with op.batch_alter_table('mediation_attendance', schema=None) as batch_op:
        batch_op.drop_column('notice_served')
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.drop_column('attendance_by')
        batch_op.drop_column('pick_reminded_at')
