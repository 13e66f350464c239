"""performance schedules: the items a sealed agreement obliges a side to, reported, confirmed or disputed

Revision ID: c3f8a5d27e61
Revises: b7e4c2a91d05
Create Date: 2026-12-06 05:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f8a5d27e61'
down_revision = 'b7e4c2a91d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'performance_schedule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('payer_side', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('alert', sa.Enum('ok', 'yellow', 'red', name='alert', native_enum=False, create_constraint=True,
                                   length=32), nullable=False),
        sa.Column('performed_at', sa.DateTime(), nullable=True),
        sa.Column('last_due_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_performance_schedule_case_id_case'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_schedule')),
        sa.UniqueConstraint('case_id', name=op.f('uq_performance_schedule_case_id')),
    )
    with op.batch_alter_table('performance_schedule', schema=None) as batch_op:
        batch_op.create_index('ix_performance_schedule_alert', ['performed_at', 'alert'], unique=False)
        batch_op.create_index('ix_performance_schedule_last_due', ['last_due_on'], unique=False)
    op.create_table(
        'performance_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('schedule_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'reported', 'confirmed', 'disputed', name='itemstatus',
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('receipt_sha256', sa.String(length=64), nullable=True),
        sa.Column('receipt_mimetype', sa.String(length=64), nullable=True),
        sa.Column('receipt_filename', sa.String(length=120), nullable=True),
        sa.Column('reported_at', sa.DateTime(), nullable=True),
        sa.Column('reported_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('dispute_reason', sa.Text(), nullable=False),
        sa.Column('reminded_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_performance_item_amount_positive')),
        sa.CheckConstraint("status = 'pending' OR reported_at IS NOT NULL",
                           name=op.f('ck_performance_item_reported_has_time')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_performance_item_answered_by_id_user')),
        sa.ForeignKeyConstraint(['reported_by_id'], ['user.id'], name=op.f('fk_performance_item_reported_by_id_user')),
        sa.ForeignKeyConstraint(['schedule_id'], ['performance_schedule.id'],
                                name=op.f('fk_performance_item_schedule_id_performance_schedule'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_item')),
    )
    with op.batch_alter_table('performance_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_item_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index('ix_performance_item_status_due', ['status', 'due_on'], unique=False)


def downgrade():
    with op.batch_alter_table('performance_item', schema=None) as batch_op:
        batch_op.drop_index('ix_performance_item_status_due')
        batch_op.drop_index(batch_op.f('ix_performance_item_schedule_id'))
    op.drop_table('performance_item')
    with op.batch_alter_table('performance_schedule', schema=None) as batch_op:
        batch_op.drop_index('ix_performance_schedule_last_due')
        batch_op.drop_index('ix_performance_schedule_alert')
    op.drop_table('performance_schedule')
