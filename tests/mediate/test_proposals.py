"""Settlement proposals: making, answering, countering, withdrawing; refusals and audit events."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from odr.cases import audit
from odr.cases.models import Outcome
from odr.cases import workflow
from odr.extensions import db
from odr.mediate.models import Proposal, ProposalResponse, ProposalStatus
from odr.outbox import OutboxMessage


@pytest.fixture(autouse=True)
def english(client):
    """Messages are asserted in English (Chinese is the default language)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def url(m, tail=""):
    return f"/mediate/{m.case.number}/proposals{tail}"


def propose(client, m, **form):
    data = {"terms": "Respondent pays for the repair of the ceiling.", "amount": "1200"}
    data.update(form)
    return client.post(url(m), data=data)


def proposals():
    return list(db.session.scalars(sa.select(Proposal).order_by(Proposal.id)))


def actions(case):
    return [ev.action for ev in audit.case_events(case)]


def test_proposal_counter_acceptance_chain(client, login, mediation, clock):
    m = mediation
    login(client, m.claimant)
    resp = propose(client, m, **{"schedule-0-due": "2026-12-01", "schedule-0-amount": "700",
                                 "schedule-1-due": "2027-01-01", "schedule-1-amount": "500",
                                 "respond_by": "2026-11-10"})
    assert resp.status_code == 303
    first = proposals()[0]
    assert (first.author_role, first.amount, first.status) == ("claimant", Decimal("1200.00"), ProposalStatus.open)
    assert first.schedule == [{"due": "2026-12-01", "amount": "700.00"}, {"due": "2027-01-01", "amount": "500.00"}]
    assert first.respond_by.date().isoformat() == "2026-11-10"
    # The respondent (the one it was put to) is told.
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == m.respondent.contact, OutboxMessage.body.contains("proposal"))) >= 1

    login(client, m.respondent)
    page = client.get(url(m, f"/{first.id}/counter"))
    assert page.status_code == 200 and "Respondent pays for the repair" in page.get_data(as_text=True)
    resp = client.post(url(m, f"/{first.id}/counter"), data={"terms": "I pay 800 in one go.", "amount": "800"})
    assert resp.status_code == 303
    first, counter = proposals()
    assert first.status is ProposalStatus.countered and first.closed_at is not None
    assert counter.answers_id == first.id and counter.author_role == "respondent"
    assert counter.status is ProposalStatus.open

    # The countered one cannot be answered any more.
    login(client, m.respondent)
    assert client.post(url(m, f"/{first.id}/answer"), data={"decision": "accept"}).status_code == 409

    login(client, m.claimant)
    resp = client.post(url(m, f"/{counter.id}/answer"), data={"decision": "accept", "comment": "Fine."})
    assert resp.status_code == 303
    db.session.refresh(counter)
    assert counter.status is ProposalStatus.accepted
    assert [(r.side, r.accepted, r.comment) for r in counter.responses] == [("claimant", True, "Fine.")]

    events = audit.case_events(m.case)
    made = [e for e in events if e.action == "proposal_made"]
    answered = [e for e in events if e.action == "proposal_answered"]
    assert [e.payload["proposal"] for e in made] == [first.id, counter.id]
    assert made[0].payload["amount"] == "1200"  # as entered (Decimal → str)
    assert made[1].payload["answers"] == first.id
    assert [(e.payload["proposal"], e.payload["answer"]) for e in answered] == \
        [(first.id, "countered"), (counter.id, "accepted")]
    assert answered[-1].payload["status"] == "accepted"
    assert audit.verify_chain(audit.chain_name(m.case)) is None

    page = client.get(url(m)).get_data(as_text=True)
    assert f"#{first.id}" in page and f"#{counter.id}" in page


def test_mediator_proposal_needs_both_parties(client, login, mediation):
    m = mediation
    login(client, m.mediator)
    assert propose(client, m, amount="", terms="Each side pays half of the repair.").status_code == 303
    p = proposals()[0]
    assert p.author_role == "mediator" and p.amount is None
    login(client, m.claimant)
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 303
    db.session.refresh(p)
    assert p.status is ProposalStatus.open  # the respondent has not answered yet
    login(client, m.respondent)
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 303
    db.session.refresh(p)
    assert p.status is ProposalStatus.accepted


def test_one_rejection_rejects(client, login, mediation):
    m = mediation
    login(client, m.mediator)
    propose(client, m)
    p = proposals()[0]
    login(client, m.respondent)
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "reject", "comment": "Too much."}).status_code == 303
    db.session.refresh(p)
    assert p.status is ProposalStatus.rejected
    login(client, m.claimant)  # closed: the other party can no longer accept it
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 409


@pytest.mark.parametrize("form, message", [
    ({"schedule-0-due": "2026-12-01", "schedule-0-amount": "500"}, "add up"),
    ({"amount": "-5"}, "negative"),
    ({"respond_by": "2026-11-01"}, "past"),
    ({"terms": "   "}, "terms"),
    ({"amount": "12abc"}, "1200.50"),
    ({"schedule-0-due": "2026-12-01"}, "both the date and the amount"),
    ({"schedule-0-due": "not a date", "schedule-0-amount": "1200"}, "date"),
    ({"amount": "", "schedule-0-due": "2026-12-01", "schedule-0-amount": "999999999999",
      "schedule-1-due": "2027-01-01", "schedule-1-amount": "999999999999"}, "too large"),
])
def test_invalid_proposals_are_400_and_nothing_is_stored(client, login, mediation, clock, form, message):
    login(client, mediation.claimant)
    resp = propose(client, mediation, **form)
    assert resp.status_code == 400
    assert message.lower() in resp.get_data(as_text=True).lower()
    assert proposals() == []
    assert "proposal_made" not in actions(mediation.case)


def test_the_author_cannot_answer_their_own(client, login, mediation):
    m = mediation
    login(client, m.claimant)
    propose(client, m)
    p = proposals()[0]
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 403
    assert client.get(url(m, f"/{p.id}/counter")).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProposalResponse)) == 0


def test_the_mediator_cannot_accept_for_a_party(client, login, mediation):
    m = mediation
    login(client, m.claimant)
    propose(client, m)
    p = proposals()[0]
    login(client, m.mediator)
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 403
    assert client.post(url(m, f"/{p.id}/counter"), data={"terms": "x"}).status_code == 403
    db.session.refresh(p)
    assert p.status is ProposalStatus.open and p.responses == []


def test_expired_proposal_cannot_be_accepted(client, login, mediation, clock):
    m = mediation
    login(client, m.claimant)
    assert propose(client, m, respond_by="2026-11-03").status_code == 303
    p = proposals()[0]
    clock.advance(days=1)  # 3 November, still standing (the date is inclusive)
    assert "expired" not in client.get(url(m)).get_data(as_text=True)
    clock.advance(days=1)  # 4 November in Beijing
    login(client, m.respondent)
    resp = client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"})
    assert resp.status_code == 409
    assert "2026-11-03" in resp.get_data(as_text=True)
    db.session.refresh(p)
    assert p.status is ProposalStatus.open and p.responses == []
    # Rejecting it, or countering it, is still possible.
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "reject"}).status_code == 303


def test_withdraw_only_by_the_author(client, login, mediation):
    m = mediation
    login(client, m.claimant)
    propose(client, m)
    p = proposals()[0]
    login(client, m.respondent)
    assert client.post(url(m, f"/{p.id}/withdraw")).status_code == 403
    login(client, m.claimant)
    assert client.post(url(m, f"/{p.id}/withdraw")).status_code == 303
    db.session.refresh(p)
    assert p.status is ProposalStatus.withdrawn
    assert "proposal_withdrawn" in actions(m.case)
    assert client.post(url(m, f"/{p.id}/withdraw")).status_code == 409


def test_invalid_answer_is_400(client, login, mediation):
    m = mediation
    login(client, m.claimant)
    propose(client, m)
    p = proposals()[0]
    login(client, m.respondent)
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "maybe"}).status_code == 400
    assert client.post(url(m, f"/{p.id}/answer"), data={}).status_code == 400
    assert p.responses == []


def test_who_may_see_and_act(client, login, mediation):
    m = mediation
    login(client, m.claimant)
    propose(client, m)
    p = proposals()[0]
    for user in (m.outsider, m.other_mediator):
        login(client, user)
        assert client.get(url(m)).status_code == 404
        assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 404
    login(client, m.staff)
    assert client.get(url(m)).status_code == 200
    assert propose(client, m).status_code == 403
    assert client.post(url(m, f"/{p.id}/answer"), data={"decision": "accept"}).status_code == 403
    assert client.get(url(m, "/999999/counter")).status_code == 403  # staff are read-only anyway
    login(client, m.respondent)
    assert client.get(url(m, "/999999/counter")).status_code == 404


def test_no_proposals_after_mediation(client, login, mediation):
    m = mediation
    workflow.move(m.case, Outcome.withdrawn, m.claimant)
    db.session.commit()
    login(client, m.claimant)
    assert propose(client, m).status_code == 409
    assert client.get(url(m)).status_code == 200
    assert proposals() == []
