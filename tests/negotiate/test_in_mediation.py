"""Negotiation as the first step of mediation: when a case enters mediation each party may choose
to negotiate directly first; once both chose, the negotiation opens inside mediation for a while
(the mediator waits and then reads the history); an accepted offer's agreement, signed by both
through the signing endpoints and sealed, settles the case from mediation through the workflow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from flask_babel import force_locale

from odr import jobs
from odr.cases import audit, performance, todo, workflow
from odr.cases import operations as case_ops
from odr.cases.models import Outcome, Stage
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.negotiate import operations as ops
from odr.negotiate.models import NegotiationChoice, NegotiationStatus, OfferStatus
from odr.outbox import OutboxMessage
from tests.documents.signing import sign_via_http
from tests.negotiate.offers import offer
from tests.test_bad_input import FUZZ, VALUES, _post


def actions(case) -> list[str]:
    return [ev.action for ev in audit.case_events(case)]


def english(refused) -> str:
    with force_locale("en"):
        return str(refused.value.reason)


@pytest.fixture
def mediated(parties):
    """The parties' case, moved on to mediation and given its mediator (no negotiation before)."""
    p = parties
    workflow.move(p.case, Stage.mediation, p.staff)
    case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    db.session.commit()
    return p


def kinds(case, user) -> list[str]:
    return [t.kind for t in todo.for_case(case, user)]


def test_both_choose_negotiate_accept_sign_and_the_case_settles_from_mediation(app, client, login_en, mediated):
    p = mediated
    url = f"/negotiate/{p.case.number}"
    login_en(client, p.claimant)
    page = client.get(url).get_data(as_text=True)
    assert 'id="choose-first"' in page
    assert 'id="negotiate"' in client.get(f"/cases/{p.case.number}").get_data(as_text=True)
    # Before both chose, nobody offers.
    assert client.post(f"{url}/offers", data={"terms": "Pay 2,000."}).status_code == 409
    assert client.post(f"{url}/first").status_code == 303
    assert client.post(f"{url}/first").status_code == 409  # chosen already
    assert ops.negotiation_of(p.case) is None
    assert 'id="chosen"' in client.get(url).get_data(as_text=True)
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == p.respondent.contact)).all()
    assert any(url in body for body in told)

    login_en(client, p.respondent)
    with app.test_request_context():
        assert "choose_negotiation" in kinds(p.case, p.respondent)
    assert 'id="other-chose"' in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/first").status_code == 303
    db.session.expire_all()
    negotiation = ops.negotiation_of(p.case)
    assert negotiation.in_mediation and negotiation.status is NegotiationStatus.open
    assert negotiation.deadline_at - negotiation.started_at == timedelta(days=7)
    assert p.case.stage is Stage.mediation and p.case.mediator_id == p.mediator.id
    with app.test_request_context():
        assert "wait_for_negotiation" in kinds(p.case, p.mediator)
        assert "choose_negotiation" not in kinds(p.case, p.respondent)

    resp = client.post(f"{url}/offers", data={"amount": "2000", "terms": "Li Si repays 2,000 yuan.",
                                              "schedule-0-due": "2030-01-31", "schedule-0-amount": "2000"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    first = ops.open_offer(ops.negotiation_of(p.case))
    login_en(client, p.claimant)
    resp = client.post(f"{url}/offers/{first.id}/answer", data={"decision": "accept"})
    assert resp.status_code == 303
    document = ops.agreement_document(p.case)
    for user in (p.claimant, p.respondent):
        login_en(client, user)
        db.session.expire_all()
        resp = sign_via_http(client, db.session.get(SignedDocument, document.id), user)
        assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    case = p.case
    assert db.session.get(SignedDocument, document.id).status is SigningStatus.complete
    assert case.outcome is Outcome.settled and case.stage is Stage.mediation
    assert case.settlement_amount == Decimal("2000.00")
    assert ops.negotiation_of(case).status is NegotiationStatus.settled
    closed = next(ev for ev in audit.case_events(case) if ev.action == "case_closed")
    assert closed.actor == "system" and closed.payload["outcome"] == "settled"
    trail = actions(case)
    assert trail.count("negotiation_chosen") == 2
    assert trail.index("negotiation_chosen") < trail.index("negotiation_started") < trail.index("negotiation_agreed") \
        < trail.index("case_closed") < trail.index("negotiation_settled")
    assert audit.verify_chain(audit.chain_name(case)) is None
    assert [i.amount for i in performance.schedule_of(case).items] == [Decimal("2000.00")]


def test_the_platform_settles_a_mediation_only_with_the_sealed_negotiated_agreement(app, mediated):
    """The mediator may settle by hand; the platform only for a sealed negotiated agreement."""
    p = mediated
    assert workflow.refusal(p.case, Outcome.settled, p.mediator) is None
    with force_locale("en"):
        assert "both parties have signed" in str(workflow.refusal(p.case, Outcome.settled, None))


def test_time_runs_out_and_the_mediator_takes_over_with_the_history(app, clock, client, login_en, parties):
    p = parties
    workflow.move(p.case, Stage.mediation, p.staff)
    case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    db.session.commit()
    for user in (p.claimant, p.respondent):
        ops.choose_first(p.case, user)
    db.session.commit()
    first = offer(p, p.claimant, amount="2500", terms="Repay 2,500 yuan by the end of the month.")
    negotiation = ops.negotiation_of(p.case)
    clock.advance(days=6, hours=23)
    assert jobs.run_all(clock.now)["end_overdue_negotiations"] == 0
    clock.advance(hours=1)
    assert jobs.run_all(clock.now)["end_overdue_negotiations"] == 1
    db.session.expire_all()
    assert negotiation.status is NegotiationStatus.timed_out and first.status is OfferStatus.withdrawn
    assert p.case.is_open and p.case.stage is Stage.mediation  # no second move: it stays with the mediator
    assert "negotiation_timed_out" in actions(p.case) and "stage_changed" not in actions(p.case)[-3:]
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == p.mediator.contact)).all()
    assert any("mediator takes over" in body or "调解员" in body for body in told)
    with pytest.raises(ops.NegotiationError):
        ops.make_offer(p.case, p.respondent, amount=None, terms="Too late", schedule=[], respond_by=None)
    db.session.rollback()
    # The mediator reads the history; nobody can choose to negotiate again.
    login_en(client, p.mediator)
    page = client.get(f"/negotiate/{p.case.number}").get_data(as_text=True)
    assert "Repay 2,500 yuan by the end of the month." in page and 'id="in-mediation"' in page
    with app.test_request_context():
        assert "wait_for_negotiation" not in kinds(p.case, p.mediator)
    login_en(client, p.claimant)
    assert client.post(f"/negotiate/{p.case.number}/first").status_code == 409


def test_a_party_ends_the_negotiation_and_the_mediator_takes_over(app, client, login_en, mediated):
    p = mediated
    for user in (p.claimant, p.respondent):
        ops.choose_first(p.case, user)
    db.session.commit()
    first = offer(p, p.respondent, amount="500", terms="500 and we are done.")
    login_en(client, p.mediator)
    assert client.post(f"/negotiate/{p.case.number}/end").status_code == 403  # the parties' negotiation
    login_en(client, p.claimant)
    assert 'id="end-first"' in client.get(f"/negotiate/{p.case.number}").get_data(as_text=True)
    assert client.post(f"/negotiate/{p.case.number}/end").status_code == 303
    assert client.post(f"/negotiate/{p.case.number}/end").status_code == 409
    db.session.expire_all()
    negotiation = ops.negotiation_of(p.case)
    assert negotiation.status is NegotiationStatus.ended and first.status is OfferStatus.withdrawn
    assert p.case.is_open and p.case.stage is Stage.mediation
    assert actions(p.case)[-1] == "negotiation_ended"


def test_the_choice_closes_after_its_days_and_refusals_write_nothing(app, clock, client, login_en, parties):
    p = parties
    url = f"/negotiate/{p.case.number}/first"
    login_en(client, p.claimant)
    assert client.post(url).status_code == 409  # still in assessment
    workflow.move(p.case, Stage.mediation, p.staff)
    case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    db.session.commit()
    before = len(actions(p.case))
    for user, status in ((p.outsider, 404), (p.staff, 403), (p.mediator, 403)):
        login_en(client, user)
        assert client.post(url).status_code == status, user.name
    login_en(client, p.claimant)
    clock.advance(days=3)
    assert client.post(url).status_code == 409
    assert 'id="choose-first"' not in client.get(f"/negotiate/{p.case.number}").get_data(as_text=True)
    assert len(actions(p.case)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NegotiationChoice)) == 0
    with pytest.raises(ops.NegotiationError) as refused:
        ops.choose_first(p.case, p.claimant)
    assert "has passed" in english(refused)


@FUZZ
@given(data=st.data())
def test_choosing_and_ending_answer_hostile_input_without_500_or_partial_records(app, mediated_world, data):
    """The two buttons take no fields: whatever is posted beside them, no 500, and a refusal writes nothing."""
    url = data.draw(st.sampled_from(["/negotiate/{number}/first", "/negotiate/{number}/end"]))
    payload = {field: data.draw(VALUES, label=field)
               for field in data.draw(st.lists(st.sampled_from(["csrf_token", "side", "days", "case"]), unique=True))}
    _post(app, mediated_world, url, data.draw(st.sampled_from(["claimant", "respondent"])), data=payload)


@pytest.fixture
def mediated_world(mediated):
    return {"claimant": mediated.claimant, "respondent": mediated.respondent, "number": mediated.case.number}
