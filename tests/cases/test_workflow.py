"""The table of moves: who may move a case where, and what the guards refuse."""

import pytest

from odr.auth.models import Role
from odr.cases import audit, workflow
from odr.cases import operations as ops
from odr.cases.models import ArbitrationBasis, Outcome, Stage
from odr.cases.workflow import WorkflowError
from odr.extensions import db


@pytest.fixture(autouse=True)
def english(app):
    """Refusal reasons are read in English here (the default locale is Chinese)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


def test_party_moves_case_and_event_is_written_in_the_same_transaction(make_case):
    case = make_case()
    claimant = case.claimant.user
    workflow.move(case, Stage.assessment, claimant, reason="let us see the options")
    events = audit.case_events(case)
    assert events[-1].action == "stage_changed"
    assert events[-1].payload == {"from": "consultation", "to": "assessment", "reason": "let us see the options"}
    db.session.rollback()  # nothing committed: neither the stage nor the event survive
    db.session.refresh(case)
    assert case.stage is Stage.consultation
    assert [e.action for e in audit.case_events(case)] == ["case_filed"]


@pytest.mark.parametrize("start, target, reason_part", [
    ((), Stage.litigation, "still has time to answer"),  # until the respondent is recorded as silent
    ((), Outcome.settled, "may not make this change"),  # only the sealed on-site agreement (odr.field)
    ((Stage.assessment,), Stage.consultation, "cannot go from"),
    ((Stage.assessment,), Stage.arbitration, "not joined"),
])
def test_invalid_moves_are_refused_with_a_reason(make_case, start, target, reason_part):
    case = make_case(stages=start)
    with pytest.raises(WorkflowError) as exc:
        workflow.move(case, target, case.claimant.user)
    assert reason_part in str(exc.value)


def test_settling_at_consultation_needs_the_sealed_on_site_agreement(make_case):
    case = make_case()
    with pytest.raises(WorkflowError) as exc:
        workflow.move(case, Outcome.settled, None)  # the platform, without a sealed on-site agreement
    assert "on-site agreement" in str(exc.value)
    assert case.is_open


def test_arbitration_needs_a_basis_and_the_other_party(make_case, make_user):
    respondent = make_user()
    case = make_case(respondent=respondent, stages=(Stage.assessment,))
    with pytest.raises(WorkflowError, match="arbitration clause"):
        workflow.move(case, Stage.arbitration, respondent)
    ops.record_arbitration_basis(case, ArbitrationBasis.clause, None)
    workflow.move(case, Stage.arbitration, respondent)
    assert case.stage is Stage.arbitration


def test_respondent_cannot_withdraw_but_claimant_can(make_case, make_user):
    respondent = make_user()
    case = make_case(respondent=respondent)
    with pytest.raises(WorkflowError, match="may not"):
        workflow.move(case, Outcome.withdrawn, respondent)
    workflow.move(case, Outcome.withdrawn, case.claimant.user)
    assert case.outcome is Outcome.withdrawn and case.closed_at is not None and not case.is_open
    with pytest.raises(WorkflowError, match="closed"):
        workflow.move(case, Stage.assessment, case.claimant.user)


def test_outsider_and_staff_of_other_organisation_may_not_move(make_case, make_user, make_org):
    org, other_org = make_org(), make_org()
    case = make_case(organization=org)
    for user in (make_user(), make_user(Role.staff, other_org), make_user(Role.mediator, org)):
        with pytest.raises(WorkflowError, match="may not"):
            workflow.move(case, Stage.mediation, user)
    workflow.move(case, Stage.mediation, make_user(Role.staff, org))
    assert case.stage is Stage.mediation


def test_hand_off_needs_a_court(make_case, make_user, make_org):
    from odr.cases.models import OrgType

    center, court = make_org(), make_org(OrgType.court)
    staff = make_user(Role.staff, center)
    case = make_case(organization=center, stages=(Stage.assessment, Stage.litigation))
    with pytest.raises(WorkflowError, match="court"):
        workflow.move(case, Outcome.handed_to_court, staff)
    ops.assign_handler(case, staff, court=court)
    workflow.move(case, Outcome.handed_to_court, staff)
    assert case.outcome is Outcome.handed_to_court
    assert "court_clerk" in case.roles_of(make_user(Role.court_clerk, court))


def test_every_stage_can_be_withdrawn_and_every_move_has_a_label():
    from odr.cases import labels

    for stage in Stage:
        assert (stage, Outcome.withdrawn) in workflow.MOVES
    for (_frm, to) in workflow.MOVES:
        assert to in labels.MOVE and to in labels.STAGE


def test_available_moves_lists_refusals_for_buttons(make_case):
    case = make_case(stages=(Stage.assessment,))
    moves = dict(workflow.available_moves(case, case.claimant.user))
    assert moves[Stage.mediation] is None
    assert "not joined" in str(moves[Stage.arbitration])
    assert Outcome.settled not in moves
