"""Direct negotiation: offers, counters, acceptance, the settlement agreement signed by both parties
(real pyHanko signatures through the signing endpoints), the case settled by the workflow, and the
deadline job that sends an unsettled case on to mediation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from odr import jobs
from odr.cases import audit, performance, workflow
from odr.cases import operations as case_ops
from odr.cases.models import Outcome, Stage
from odr.documents import storage
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.negotiate import operations as ops
from odr.negotiate.models import Negotiation, NegotiationStatus, Offer, OfferStatus
from odr.outbox import OutboxMessage
from tests.documents.signing import sign_via_http
from tests.negotiate.offers import offer


def english(refused) -> str:
    """A refusal's reason as an English reader sees it (outside a request the platform speaks Chinese)."""
    with force_locale("en"):
        return str(refused.value.reason)


def actions(case) -> list[str]:
    return [ev.action for ev in audit.case_events(case)]


def test_offer_counter_accept_sign_settles_the_case_without_a_mediator(app, client, login_en, parties):
    p = parties
    first = offer(p, p.claimant, amount="3000", terms="Li Si repays the loan in one payment.", message="Dear Li Si")
    negotiation = ops.negotiation_of(p.case)
    assert negotiation.status is NegotiationStatus.open
    assert negotiation.deadline_at - negotiation.started_at == timedelta(days=14)
    # The respondent is told, with a link to the negotiation.
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == p.respondent.contact)).all()
    assert any(f"/negotiate/{p.case.number}" in body for body in told)

    # The respondent counters with instalments through the page.
    login_en(client, p.respondent)
    page = client.get(f"/negotiate/{p.case.number}/offers/{first.id}/counter")
    assert page.status_code == 200 and "Li Si repays the loan in one payment." in page.get_data(as_text=True)
    resp = client.post(f"/negotiate/{p.case.number}/offers/{first.id}/counter", data={
        "amount": "2400", "terms": "Li Si repays 2,400 yuan in two instalments.",
        "schedule-0-due": "2026-12-31", "schedule-0-amount": "1200",
        "schedule-1-due": "2027-01-31", "schedule-1-amount": "1200", "respond_by": "2030-01-10"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    db.session.expire_all()
    assert first.status is OfferStatus.countered
    counter = ops.open_offer(negotiation)
    assert counter.answers_id == first.id and counter.side == "respondent"
    assert counter.schedule == [{"due": "2026-12-31", "amount": "1200.00"}, {"due": "2027-01-31", "amount": "1200.00"}]

    # The claimant accepts: the agreement is put up for signing by both parties, claimant first.
    login_en(client, p.claimant)
    resp = client.post(f"/negotiate/{p.case.number}/offers/{counter.id}/answer", data={"decision": "accept"})
    assert resp.status_code == 303
    document = ops.agreement_document(p.case)
    assert resp.location.endswith(f"/documents/{document.id}")
    assert [(s.user_id, s.role) for s in document.signers] == [(p.claimant.id, "claimant"), (p.respondent.id, "respondent")]
    db.session.expire_all()
    assert negotiation.status is NegotiationStatus.agreed
    sections = {s["id"]: s["text"] for s in negotiation.agreement["sections"]}
    assert "Li Si repays 2,400 yuan in two instalments." in sections["terms"]
    assert "1,200.00" in sections["payment"] and "2027-01-31" in sections["payment"]
    assert negotiation.agreement["amount"] == "2400.00"
    assert storage.get(document.current_sha256).startswith(b"%PDF")

    # Nothing more can be offered while the agreement is signed.
    with pytest.raises(ops.NegotiationError):
        ops.make_offer(p.case, p.respondent, amount=None, terms="Another idea", schedule=[], respond_by=None)
    db.session.rollback()

    # Both sign in the browser's way; the platform seals, and the case settles.
    for user in (p.claimant, p.respondent):
        login_en(client, user)
        db.session.expire_all()
        resp = sign_via_http(client, db.session.get(SignedDocument, document.id), user)
        assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    case = p.case
    assert db.session.get(SignedDocument, document.id).status is SigningStatus.complete
    assert case.outcome is Outcome.settled and case.stage is Stage.assessment and case.mediator_id is None
    assert case.settlement_amount == Decimal("2400.00")
    assert negotiation.status is NegotiationStatus.settled and negotiation.ended_at is not None
    trail = actions(case)
    assert trail.index("negotiation_started") < trail.index("negotiation_agreed") < trail.index("document_sealed") \
        < trail.index("case_closed") < trail.index("negotiation_settled")
    closed = next(ev for ev in audit.case_events(case) if ev.action == "case_closed")
    assert closed.actor == "system" and closed.payload["outcome"] == "settled"
    assert audit.verify_chain(audit.chain_name(case)) is None
    # The agreed instalments become the schedule the parties follow (odr.perform).
    schedule = performance.schedule_of(case)
    assert schedule.payer_side == "respondent" and schedule.source == f"negotiated_agreement:{document.id}"
    assert [(i.due_on.isoformat(), i.amount) for i in schedule.items] == [
        ("2026-12-31", Decimal("1200.00")), ("2027-01-31", Decimal("1200.00"))]
    assert "performance_schedule_created" in actions(case)
    assert f"/perform/{case.number}" in client.get(f"/cases/{case.number}").get_data(as_text=True)

    # The page shows the settled negotiation and the sealed agreement.
    page = client.get(f"/negotiate/{case.number}").get_data(as_text=True)
    assert "Signed by both parties and sealed" in page and "Settled by the parties" in page


def test_rejecting_and_withdrawing_leave_the_negotiation_open(app, parties):
    p = parties
    first = offer(p, p.claimant)
    ops.answer(first, p.case, p.respondent, accept=False, comment="Too much.")
    db.session.commit()
    assert first.status is OfferStatus.rejected and first.answer_comment == "Too much."
    second = offer(p, p.respondent, amount="1000", terms="1,000 and we are done.")
    ops.withdraw(second, p.case, p.respondent)
    db.session.commit()
    assert second.status is OfferStatus.withdrawn and second.closed_at is not None
    assert ops.negotiation_of(p.case).status is NegotiationStatus.open
    assert actions(p.case).count("negotiation_offer_answered") == 1
    assert "negotiation_offer_withdrawn" in actions(p.case)


@pytest.mark.parametrize("tried, why", [
    ("author answers own offer", "You made this offer"),
    ("second open offer", "An offer is still open"),
    ("outsider offers", "Only the parties negotiate"),
    ("staff answers", "not open for your answer"),
    ("withdraw by the other side", "Only the author"),
])
def test_refusals_say_why_and_write_nothing(app, parties, tried, why):
    p = parties
    first = offer(p, p.claimant)
    before = len(actions(p.case))
    with pytest.raises(ops.NegotiationError) as refused:
        if tried == "author answers own offer":
            ops.answer(first, p.case, p.claimant, accept=True)
        elif tried == "second open offer":
            ops.make_offer(p.case, p.respondent, amount=None, terms="Mine instead", schedule=[], respond_by=None)
        elif tried == "outsider offers":
            ops.make_offer(p.case, p.outsider, amount=None, terms="Hello", schedule=[], respond_by=None)
        elif tried == "staff answers":
            ops.answer(first, p.case, p.staff, accept=True)
        else:
            ops.withdraw(first, p.case, p.respondent)
    assert why in english(refused)
    db.session.rollback()
    assert len(actions(p.case)) == before and first.status is OfferStatus.open


def test_an_offer_past_its_answer_date_can_be_countered_not_accepted(app, clock, parties):
    p = parties
    first = offer(p, p.claimant, respond_by=date(2026, 11, 5))
    clock.advance(days=3, hours=16)  # 6 November, 01:00 in Beijing
    with pytest.raises(ops.NegotiationError) as refused:
        ops.answer(first, p.case, p.respondent, accept=True)
    assert "can no longer be accepted" in english(refused)
    db.session.rollback()
    counter = offer(p, p.respondent, amount="2000", terms="2,000 then.", answers=first)
    assert counter.status is OfferStatus.open and first.status is OfferStatus.countered


def test_negotiation_needs_the_assessment_stage_and_both_parties(app, make_case, make_user, parties):
    p = parties
    alone = make_case(claimant=p.claimant, stages=(Stage.assessment,))
    with pytest.raises(ops.NegotiationError) as refused:
        ops.make_offer(alone, p.claimant, amount=None, terms="Hello", schedule=[], respond_by=None)
    assert "has not joined" in english(refused)
    db.session.rollback()
    workflow.move(p.case, Stage.mediation, p.claimant)
    db.session.commit()
    with pytest.raises(ops.NegotiationError) as refused:
        ops.make_offer(p.case, p.claimant, amount=None, terms="Hello", schedule=[], respond_by=None)
    assert "only when both chose" in english(refused)  # in mediation: only when both chose to negotiate first
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Negotiation)) == 0


def test_time_runs_out_and_the_case_goes_on_to_mediation_with_its_history(app, clock, client, login_en, parties):
    p = parties
    first = offer(p, p.claimant, terms="Pay 3,000 by Christmas.")
    clock.advance(days=13, hours=23)
    assert jobs.run_all(clock.now)["end_overdue_negotiations"] == 0
    assert p.case.stage is Stage.assessment
    clock.advance(hours=1)
    assert jobs.run_all(clock.now)["end_overdue_negotiations"] == 1
    db.session.expire_all()
    negotiation = ops.negotiation_of(p.case)
    assert negotiation.status is NegotiationStatus.timed_out and first.status is OfferStatus.withdrawn
    assert p.case.stage is Stage.mediation and p.case.is_open
    moved = [ev for ev in audit.case_events(p.case) if ev.action == "stage_changed"][-1]
    assert moved.actor == "system" and moved.payload["to"] == "mediation"
    assert "negotiation_timed_out" in actions(p.case)
    # Once a mediator is assigned, the mediator reads the offers.
    case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    db.session.commit()
    login_en(client, p.mediator)
    page = client.get(f"/negotiate/{p.case.number}")
    assert page.status_code == 200 and "Pay 3,000 by Christmas." in page.get_data(as_text=True)
    # Nothing more happens on the next run.
    assert jobs.run_all(clock.now)["end_overdue_negotiations"] == 0


def test_an_unsigned_agreement_gets_the_signing_days_then_the_case_moves_on(app, clock, parties):
    p = parties
    first = offer(p, p.claimant)
    ops.answer(first, p.case, p.respondent, accept=True)
    db.session.commit()
    document = ops.agreement_document(p.case)
    clock.advance(days=14, hours=1)
    assert ops.end_overdue_negotiations(clock.now) == 0
    assert p.case.stage is Stage.assessment
    clock.advance(days=7)
    assert ops.end_overdue_negotiations(clock.now) == 1
    db.session.commit()
    db.session.expire_all()
    assert p.case.stage is Stage.mediation
    assert db.session.get(SignedDocument, document.id).status is SigningStatus.superseded


def test_a_case_that_left_the_assessment_ends_its_negotiation_without_moving(app, clock, parties):
    p = parties
    offer(p, p.claimant)
    workflow.move(p.case, Stage.litigation, p.respondent)
    db.session.commit()
    clock.advance(days=15)
    assert ops.end_overdue_negotiations(clock.now) == 1
    db.session.commit()
    assert ops.negotiation_of(p.case).status is NegotiationStatus.ended
    assert p.case.stage is Stage.litigation


def test_nobody_settles_a_case_by_hand_through_the_negotiated_move(app, client, login_en, parties):
    p = parties
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.move(p.case, Outcome.settled, None)
    assert "both parties have signed" in english(refused)
    db.session.rollback()
    login_en(client, p.claimant)
    resp = client.post(f"/cases/{p.case.number}/move", data={"to": "settled"})
    assert resp.status_code == 409
    db.session.expire_all()
    assert p.case.is_open
    # The platform may not make moves that are not marked for it.
    with pytest.raises(workflow.WorkflowError):
        workflow.move(p.case, Stage.litigation, None)
    db.session.rollback()


def test_letter_template_starts_the_covering_letter(app, client, login_en, parties):
    p = parties
    login_en(client, p.claimant)
    page = client.get(f"/negotiate/{p.case.number}?letter=payment_request").get_data(as_text=True)
    assert "Dear Li Si," in page and p.case.number in page and "Request for payment" in page
    assert client.get(f"/negotiate/{p.case.number}?letter=nonsense").status_code == 200
    # The case page links here while the case is in assessment.
    assert f"/negotiate/{p.case.number}" in client.get(f"/cases/{p.case.number}").get_data(as_text=True)


def test_the_agreement_is_written_in_chinese_by_default(app, parties):
    p = parties
    first = offer(p, p.claimant, amount=None, terms="李四向张三赔礼道歉。")
    ops.answer(first, p.case, p.respondent, accept=True)
    db.session.commit()
    content = ops.negotiation_of(p.case).agreement
    assert content["lang"] == "zh" and content["title"] == "和解协议书"
    sections = {s["id"]: s["text"] for s in content["sections"]}
    assert "李四向张三赔礼道歉。" in sections["terms"] and "不涉及金钱给付" in sections["payment"]
    assert content["amount"] is None


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("data, status, message", [
    ({"terms": ""}, 400, "Write the terms of your offer."),
    ({"terms": "x", "amount": "-5"}, 400, None),
    ({"terms": "x", "amount": "abc"}, 400, None),
    ({"terms": "x\x1b"}, 400, "Remove the invisible control characters."),
    ({"terms": "x" * 4001}, 400, None),
    ({"terms": "x", "respond_by": "2020-01-01"}, 422, "The date to answer by cannot be in the past."),
    ({"terms": "x", "respond_by": "not a date"}, 400, None),
    ({"terms": "x", "amount": "100", "schedule-0-due": "2030-01-01", "schedule-0-amount": "60"}, 422,
     "The instalments add up to 60"),
    ({"terms": "x", "schedule-0-due": "2030-02-01", "schedule-0-amount": "60",
      "schedule-1-due": "2030-01-01", "schedule-1-amount": "40"}, 422, "List the instalments in date order."),
    ({"terms": "x", "schedule-0-due": "2030-02-01"}, 400, "Give both the date and the amount"),
    ({"terms": "x", "schedule-0-due": "2030-02-01", "schedule-0-amount": "0"}, 422, "above zero"),
    ({"terms": "x", "amount": "1000000000000"}, 400, "This amount is too large."),
    ({"terms": "x", "schedule-0-due": "2030-01-01", "schedule-0-amount": "999999999999",
      "schedule-1-due": "2030-02-01", "schedule-1-amount": "999999999999"}, 422, "realistic sum"),
])
def test_bad_offers_are_refused_with_a_reason_and_nothing_written(app, client, login_en, parties, data, status, message):
    p = parties
    login_en(client, p.claimant)
    resp = client.post(f"/negotiate/{p.case.number}/offers", data=data)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    if message:
        assert message in resp.get_data(as_text=True)
    db.session.expire_all()
    assert _count(Negotiation) == 0 and _count(Offer) == 0
    assert "negotiation_started" not in actions(p.case)


def test_bad_answers_are_refused(app, client, login_en, parties):
    p = parties
    first = offer(p, p.claimant)
    login_en(client, p.respondent)
    url = f"/negotiate/{p.case.number}/offers/{first.id}/answer"
    assert client.post(url, data={}).status_code == 400
    assert client.post(url, data={"decision": "maybe"}).status_code == 400
    assert client.post(url, data={"decision": "reject", "comment": "\x00"}).status_code == 400
    assert client.post(f"/negotiate/{p.case.number}/offers/2147483647/answer", data={"decision": "accept"}).status_code == 404
    db.session.expire_all()
    assert first.status is OfferStatus.open
    # The author's own answer is refused by the rule (409), not by the form.
    login_en(client, p.claimant)
    resp = client.post(url, data={"decision": "accept"})
    assert resp.status_code == 409 and "You made this offer" in resp.get_data(as_text=True)


def test_an_offer_of_another_case_is_404(app, client, login_en, parties, make_case):
    p = parties
    other = make_case(claimant=p.claimant, respondent=p.respondent, stages=(Stage.assessment,))
    first = offer(p, p.claimant)
    login_en(client, p.respondent)
    assert client.post(f"/negotiate/{other.number}/offers/{first.id}/answer",
                       data={"decision": "accept"}).status_code == 404
    assert client.get(f"/negotiate/{other.number}/offers/{first.id}/counter").status_code == 404


def test_one_payment_is_due_the_days_the_agreement_states_after_sealing(app, clock, parties):
    p = parties
    first = offer(p, p.claimant, amount="3000")
    ops.answer(first, p.case, p.respondent, accept=True)
    db.session.commit()
    payment = {s["id"]: s["text"] for s in ops.negotiation_of(p.case).agreement["sections"]}["payment"]
    assert "15" in payment
    plan = ops.payment_plan(ops.negotiation_of(p.case).agreement, date(2026, 11, 2))
    assert [(i.due_on, i.amount) for i in plan] == [(date(2026, 11, 17), Decimal("3000.00"))]
    assert ops.payment_plan({"amount": None, "lang": "zh"}, date(2026, 11, 2)) == []
