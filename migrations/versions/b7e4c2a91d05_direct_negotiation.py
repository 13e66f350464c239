"""direct negotiation: a case's negotiation between its parties and the offers they exchange

Revision ID: b7e4c2a91d05
Revises: 6a9d3c1e7f25
Create Date: 2026-12-06 05:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e4c2a91d05'
down_revision = '6a9d3c1e7f25'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'negotiation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('deadline_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.Enum('open', 'agreed', 'settled', 'timed_out', 'ended', name='negotiationstatus',
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('agreement', sa.JSON(), nullable=True),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("(status IN ('open', 'agreed')) = (ended_at IS NULL)",
                           name=op.f('ck_negotiation_ended_when_over')),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_negotiation_case_id_case'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_negotiation_started_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_negotiation')),
        sa.UniqueConstraint('case_id', name=op.f('uq_negotiation_case_id')),
    )
    with op.batch_alter_table('negotiation', schema=None) as batch_op:
        batch_op.create_index('ix_negotiation_status_deadline', ['status', 'deadline_at'], unique=False)
    op.create_table(
        'negotiation_offer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('negotiation_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=16), nullable=False),
        sa.Column('answers_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('schedule', sa.JSON(), nullable=False),
        sa.Column('respond_by', sa.Date(), nullable=True),
        sa.Column('status', sa.Enum('open', 'accepted', 'rejected', 'countered', 'withdrawn', name='offerstatus',
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answer_comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_negotiation_offer_amount_non_negative')),
        sa.CheckConstraint("(status = 'open') = (closed_at IS NULL)",
                           name=op.f('ck_negotiation_offer_closed_when_answered')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_negotiation_offer_answered_by_id_user')),
        sa.ForeignKeyConstraint(['answers_id'], ['negotiation_offer.id'],
                                name=op.f('fk_negotiation_offer_answers_id_negotiation_offer')),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_negotiation_offer_author_id_user')),
        sa.ForeignKeyConstraint(['negotiation_id'], ['negotiation.id'],
                                name=op.f('fk_negotiation_offer_negotiation_id_negotiation'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_negotiation_offer')),
    )
    with op.batch_alter_table('negotiation_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_negotiation_offer_negotiation_id'), ['negotiation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('negotiation_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_negotiation_offer_negotiation_id'))
    op.drop_table('negotiation_offer')
    with op.batch_alter_table('negotiation', schema=None) as batch_op:
        batch_op.drop_index('ix_negotiation_status_deadline')
    op.drop_table('negotiation')
