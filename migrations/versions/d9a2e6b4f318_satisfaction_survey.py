"""satisfaction survey: one answer per party of a case that ended; invitations sent

Revision ID: d9a2e6b4f318
Revises: c3f8a5d27e61
Create Date: 2026-12-06 05:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9a2e6b4f318'
down_revision = 'c3f8a5d27e61'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'survey_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=16), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('mediator_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.Integer(), nullable=False),
        sa.Column('heard', sa.Integer(), nullable=False),
        sa.Column('neutral', sa.Integer(), nullable=True),
        sa.Column('understood', sa.Integer(), nullable=False),
        sa.Column('ease', sa.Integer(), nullable=False),
        sa.Column('would_use_again', sa.Boolean(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('outcome BETWEEN 1 AND 5', name=op.f('ck_survey_answer_outcome_scale')),
        sa.CheckConstraint('heard BETWEEN 1 AND 5', name=op.f('ck_survey_answer_heard_scale')),
        sa.CheckConstraint('understood BETWEEN 1 AND 5', name=op.f('ck_survey_answer_understood_scale')),
        sa.CheckConstraint('ease BETWEEN 1 AND 5', name=op.f('ck_survey_answer_ease_scale')),
        sa.CheckConstraint('neutral IS NULL OR neutral BETWEEN 1 AND 5', name=op.f('ck_survey_answer_neutral_scale')),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_survey_answer_case_id_case'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['mediator_id'], ['user.id'], name=op.f('fk_survey_answer_mediator_id_user')),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_survey_answer_organization_id_organization')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_survey_answer_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer')),
        sa.UniqueConstraint('case_id', 'user_id', name=op.f('uq_survey_answer_case_id_user_id')),
    )
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.create_index('ix_survey_answer_created', ['created_at', 'organization_id'], unique=False)
    op.create_table(
        'survey_invitation',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_survey_invitation_case_id_case'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_survey_invitation')),
    )


def downgrade():
    op.drop_table('survey_invitation')
    with op.batch_alter_table('survey_answer', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answer_created')
    op.drop_table('survey_answer')
