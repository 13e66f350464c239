"""enforcement results: a court reports an application for enforcement accepted, executed or refused
(court_handoff.result); negotiation first in mediation: each party's choice to negotiate before the
mediator, and the negotiation opened inside mediation

Revision ID: f2b8d4a6c1e3
Revises: 5b7e9c1d3a20
Create Date: 2026-12-06 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d4a6c1e3'
down_revision = '5b7e9c1d3a20'
branch_labels = None
depends_on = None

RESULTS = ('confirmed', 'not_confirmed', 'judgment', 'withdrawn')
ENFORCEMENT_RESULTS = ('enforcement_accepted', 'executed', 'enforcement_refused')


def _results(values):
    return sa.Enum(*values, name='courtresult', native_enum=False, create_constraint=True, length=32)


def _result_check(old, new):
    """Court results are a VARCHAR with a CHECK constraint listing them: replace the constraint."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('court_handoff', schema=None) as batch_op:
            batch_op.alter_column('result', existing_type=_results(old), type_=_results(new), existing_nullable=True)
    else:
        op.drop_constraint(op.f('ck_court_handoff_courtresult'), 'court_handoff', type_='check')
        allowed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f('ck_court_handoff_courtresult'), 'court_handoff', f"result IN ({allowed})")


def upgrade():
    _result_check(RESULTS, RESULTS + ENFORCEMENT_RESULTS)
    with op.batch_alter_table('negotiation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_mediation', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'negotiation_choice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('chosen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_negotiation_choice_case_id_case'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_negotiation_choice_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_negotiation_choice')),
        sa.UniqueConstraint('case_id', 'side', name=op.f('uq_negotiation_choice_case_id_side')),
    )


def downgrade():
    op.drop_table('negotiation_choice')
    with op.batch_alter_table('negotiation', schema=None) as batch_op:
        batch_op.drop_column('in_mediation')
    # An enforcement result cannot be written in the old schema: the hand-off is back to undecided.
    op.execute("UPDATE court_handoff SET result = NULL, status = 'received' "
               "WHERE result IN ('enforcement_accepted', 'executed', 'enforcement_refused')")
    _result_check(RESULTS + ENFORCEMENT_RESULTS, RESULTS)
