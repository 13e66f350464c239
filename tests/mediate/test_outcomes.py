"""Outcome documents: the agreement (drafted, edited, approved → settled) and the record of
undisputed facts (approved → arbitration by consent, or court)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from odr.cases import audit, performance
from odr.cases.models import ArbitrationBasis, Category, Outcome, Stage
from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import proposals as props
from odr.mediate.outcomes import signing as signing
from odr.mediate.models import OutcomeDocument, OutcomeKind, OutcomeStatus
from odr.outbox import OutboxMessage
from tests.documents.signing import sign_all

AGREEMENT, FACTS = OutcomeKind.agreement, OutcomeKind.undisputed_facts


@pytest.fixture(autouse=True)
def english(client):
    """Messages are asserted in English (Chinese is the default language)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def url(m, tail=""):
    return f"/mediate/{m.case.number}/outcome{tail}"


def documents(kind=None):
    query = sa.select(OutcomeDocument).order_by(OutcomeDocument.kind, OutcomeDocument.version)
    if kind is not None:
        query = query.where(OutcomeDocument.kind == kind)
    return list(db.session.scalars(query))


def actions(case):
    return [ev.action for ev in audit.case_events(case)]


def accepted_proposal(m):
    """The respondent offers 1,000 yuan in two instalments; the claimant accepts."""
    p = props.make_proposal(m.case, m.respondent, amount=Decimal("1000"), terms="Respondent fixes the leak and pays.",
                            schedule=[props.Instalment(date(2026, 12, 1), Decimal("600")),
                                      props.Instalment(date(2027, 1, 1), Decimal("400"))],
                            respond_by=None)
    props.answer(p, m.case, m.claimant, accept=True)
    db.session.commit()
    return p


def form_of(doc_or_content, **changes):
    content = doc_or_content.content if isinstance(doc_or_content, OutcomeDocument) else doc_or_content
    data = {f"s_{s['id']}": s["text"] or "—" for s in content["sections"]}
    if content.get("amount"):
        data["amount"] = content["amount"]
    data.update(changes)
    return data


def draft_and_send(client, login, m, kind=AGREEMENT, **changes):
    login(client, m.mediator)
    page = client.get(url(m, f"/{kind.value}/edit"))
    assert page.status_code == 200
    content = outcomes.draft_content(m.case, kind, "en")
    assert client.post(url(m, f"/{kind.value}/edit"), data=form_of(content, **changes)).status_code == 303
    assert client.post(url(m, f"/{kind.value}/send")).status_code == 303
    return outcomes.current_document(m.case, kind)


def approve(client, login, user, m, kind=AGREEMENT):
    login(client, user)
    return client.post(url(m, f"/{kind.value}/answer"), data={"decision": "approve"})


def test_every_category_has_a_template_in_both_languages(app, mediation):
    for category in Category:
        mediation.case.category = category
        for lang in ("zh", "en"):
            content = outcomes.draft_content(mediation.case, AGREEMENT, lang)
            ids = [s["id"] for s in content["sections"]]
            assert ids == ["parties", "facts", "terms", "payment", "default", "effect"]
            assert all(s["heading"] and s["text"] for s in content["sections"]), (category, lang)
            assert "{" not in "".join(s["text"] for s in content["sections"])
    zh = outcomes.draft_content(mediation.case, AGREEMENT, "zh")
    assert zh["title"] == "人民调解协议书"
    assert "Zhang San" in zh["sections"][0]["text"] and "Li Si" in zh["sections"][0]["text"]
    mediation.case.category = Category.labour
    labour = outcomes.draft_content(mediation.case, AGREEMENT, "zh")
    assert "支付令" in labour["sections"][4]["text"]


def test_agreement_drafted_from_template_with_accepted_proposal(client, login, mediation):
    m = mediation
    p = accepted_proposal(m)
    login(client, m.mediator)
    page = client.get(url(m, "/agreement/edit")).get_data(as_text=True)
    assert "Mediation agreement" in page and "Respondent fixes the leak and pays." in page
    assert m.case.description in page
    assert "1,000.00" in page and "2026-12-01" in page and "600.00" in page
    assert 'value="1000.00"' in page  # the settlement amount field
    assert documents() == []  # nothing stored by looking at the draft

    content = outcomes.draft_content(m.case, AGREEMENT, "en")
    resp = client.post(url(m, "/agreement/edit"), data=form_of(content, s_terms="1. Respondent fixes the leak."))
    assert resp.status_code == 303
    (doc,) = documents()
    assert (doc.version, doc.status, doc.proposal_id) == (1, OutcomeStatus.draft, p.id)
    assert [s["id"] for s in doc.content["sections"]] == ["parties", "facts", "terms", "payment", "default", "effect"]
    assert doc.content["amount"] == "1000.00"
    assert doc.content["sections"][2]["text"] == "1. Respondent fixes the leak."
    # Saving again while a draft changes it in place.
    assert client.post(url(m, "/agreement/edit"), data=form_of(doc, s_terms="1. Fixed.")).status_code == 303
    assert [d.version for d in documents()] == [1]
    assert documents()[0].content["sections"][2]["text"] == "1. Fixed."
    assert actions(m.case).count("outcome_saved") == 2


def test_empty_section_is_400_and_nothing_stored(client, login, mediation):
    m = mediation
    login(client, m.mediator)
    content = outcomes.draft_content(m.case, AGREEMENT, "en")
    resp = client.post(url(m, "/agreement/edit"), data=form_of(content, s_terms="  "))
    assert resp.status_code == 400 and "Fill in this section." in resp.get_data(as_text=True)
    resp = client.post(url(m, "/agreement/edit"), data=form_of(content, amount="-3"))
    assert resp.status_code == 400 and "negative" in resp.get_data(as_text=True)
    assert client.post(url(m, "/undisputed_facts/edit"), data={}).status_code == 400
    assert documents() == [] and "outcome_saved" not in actions(m.case)
    assert client.get(url(m, "/verdict/edit")).status_code == 404


def test_edit_after_sending_supersedes_and_resets_approvals(client, login, mediation):
    m = mediation
    accepted_proposal(m)
    v1 = draft_and_send(client, login, m)
    assert v1.status is OutcomeStatus.approval and v1.sent_at is not None
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == m.claimant.contact, OutboxMessage.body.contains("agreement"))) == 1
    assert approve(client, login, m.claimant, m).status_code == 303
    db.session.refresh(v1)
    assert [a.approved for a in v1.approvals] == [True]

    login(client, m.mediator)
    assert client.post(url(m, "/agreement/edit"), data=form_of(v1, s_terms="1. Changed.")).status_code == 303
    old, new = documents()
    assert (old.version, old.status) == (1, OutcomeStatus.superseded)
    assert (new.version, new.status, new.approvals) == (2, OutcomeStatus.draft, [])
    # The new version must be sent before anyone can answer; the old one is closed.
    assert approve(client, login, m.respondent, m).status_code == 409
    login(client, m.mediator)
    assert client.post(url(m, "/agreement/send")).status_code == 303
    assert client.post(url(m, "/agreement/send")).status_code == 409  # already sent
    assert approve(client, login, m.respondent, m).status_code == 303
    db.session.refresh(new)
    assert new.status is OutcomeStatus.approval  # the claimant's approval of v1 does not count
    assert m.case.is_open
    saved = [e for e in audit.case_events(m.case) if e.action == "outcome_saved"]
    assert saved[-1].payload["superseded"] == 1 and saved[-1].payload["version"] == 2


def test_both_approve_and_everyone_signs_settles_the_case(client, login, mediation):
    m = mediation
    accepted_proposal(m)
    draft_and_send(client, login, m)
    assert approve(client, login, m.claimant, m).status_code == 303
    assert approve(client, login, m.claimant, m).status_code == 409  # answered already
    db.session.refresh(m.case)
    assert m.case.is_open
    assert approve(client, login, m.respondent, m).status_code == 303
    db.session.refresh(m.case)
    doc = outcomes.current_document(m.case, AGREEMENT)
    assert doc.status is OutcomeStatus.approved and doc.approved_at is not None
    # Approved, then signed by both parties and the mediator and sealed: only then settled.
    assert m.case.is_open and not outcomes.ready_to_settle(doc)
    page = client.get(url(m)).get_data(as_text=True)
    assert 'id="sign-agreement"' in page and "Read and sign" in page
    sign_all(client, login, m, signing.signed_document(doc))
    db.session.refresh(m.case)
    assert m.case.outcome is Outcome.settled and m.case.closed_at is not None
    assert m.case.settlement_amount == Decimal("1000.00")
    events = audit.case_events(m.case)
    tail = [e.action for e in events][-5:]
    assert tail == ["document_signed", "document_sealed", "case_closed", "settlement_amount_recorded",
                    "performance_schedule_created"]
    # The accepted proposal's instalments (they add up to the agreed amount) are the schedule to follow.
    schedule = performance.schedule_of(m.case)
    assert schedule.payer_side == "respondent"
    assert [(i.due_on, i.amount) for i in schedule.items] == [(date(2026, 12, 1), Decimal("600.00")),
                                                              (date(2027, 1, 1), Decimal("400.00"))]
    closed = next(e for e in events if e.action == "case_closed")
    assert closed.payload["outcome"] == "settled" and closed.actor.startswith(f"user:{m.mediator.id} ")
    assert audit.verify_chain(audit.chain_name(m.case)) is None
    login(client, m.respondent)  # a party may now ask a court to confirm it (tests/court/test_confirmation.py)
    page = client.get(url(m)).get_data(as_text=True)
    assert 'id="request-confirmation-link"' in page
    # Closed: nothing more can be changed.
    login(client, m.mediator)
    assert client.get(url(m, "/agreement/edit")).status_code == 409


def test_changes_asked_does_not_settle(client, login, mediation):
    m = mediation
    draft_and_send(client, login, m)
    login(client, m.respondent)
    resp = client.post(url(m, "/agreement/answer"), data={"decision": "changes"})
    assert resp.status_code == 400 and "Say what should be changed." in resp.get_data(as_text=True)
    resp = client.post(url(m, "/agreement/answer"), data={"decision": "changes", "comment": "Pay by March."})
    assert resp.status_code == 303
    assert approve(client, login, m.claimant, m).status_code == 303
    doc = outcomes.current_document(m.case, AGREEMENT)
    db.session.refresh(m.case)
    assert doc.status is OutcomeStatus.approval and m.case.is_open and m.case.settlement_amount is None
    answered = [e for e in audit.case_events(m.case) if e.action == "outcome_answered"]
    assert answered[0].payload["answer"] == "changes_requested" and answered[0].payload["comment"] == "Pay by March."
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient == m.mediator.contact, OutboxMessage.body.contains("Pay by March."))) == 1


def test_ready_to_settle_is_the_signing_hook(app, mediation, monkeypatch):
    """An approved agreement waits (case open) while ``ready_to_settle`` says no."""
    m = mediation
    monkeypatch.setattr(outcomes, "ready_to_settle", lambda document: False)
    texts = {s["id"]: s["text"] or "x" for s in outcomes.draft_content(m.case, AGREEMENT)["sections"]}
    doc = outcomes.save(m.case, AGREEMENT, m.mediator, texts, Decimal("5"))
    outcomes.send(doc, m.case, m.mediator)
    outcomes.answer(doc, m.case, m.claimant, approve=True)
    outcomes.answer(doc, m.case, m.respondent, approve=True)
    assert doc.status is OutcomeStatus.approved and m.case.is_open and m.case.settlement_amount is None


def test_undisputed_facts_then_court(client, login, mediation):
    m = mediation
    doc = draft_and_send(client, login, m, FACTS, s_agreed="The ceiling leaked in May.\nThe repair cost 1,000 yuan.",
                         s_disputed="Who caused the leak.")
    assert doc.content["sections"][1]["text"].splitlines() == ["The ceiling leaked in May.",
                                                                "The repair cost 1,000 yuan."]
    page = client.get(url(m)).get_data(as_text=True)
    assert "<li class=\"pre\">The repair cost 1,000 yuan.</li>" in page
    # No next step before both parties approved the record.
    login(client, m.claimant)
    assert 'id="next-step"' not in client.get(url(m)).get_data(as_text=True)
    assert approve(client, login, m.claimant, m, FACTS).status_code == 303
    assert approve(client, login, m.respondent, m, FACTS).status_code == 303
    db.session.refresh(doc)
    assert doc.status is OutcomeStatus.approved
    db.session.refresh(m.case)
    assert m.case.is_open and m.case.stage is Stage.mediation  # a record does not close the case
    page = client.get(url(m)).get_data(as_text=True)
    assert 'id="next-step"' in page and 'id="to-court"' in page
    # An approved record that is being signed changes only with a reason (signatures then lapse;
    # see tests/documents/test_signing.py).
    login(client, m.mediator)
    resp = client.post(url(m, "/undisputed_facts/edit"), data=form_of(doc))
    assert resp.status_code == 400 and "signatures given so far will no longer count" in resp.get_data(as_text=True)
    # Staff may move it on, but the parties are the ones who go to court here.
    login(client, m.respondent)
    for step in ("arbitration", "consent", "sideways"):  # arbitration is asked for at /arbitrate
        assert client.post(url(m, "/next"), data={"step": step}).status_code == 400
    resp = client.post(url(m, "/next"), data={"step": "court"})
    assert resp.status_code == 303
    db.session.refresh(m.case)
    assert m.case.stage is Stage.litigation
    assert "stage_changed" in actions(m.case)
    assert client.post(url(m, "/next"), data={"step": "court"}).status_code == 409  # no longer in mediation


def test_after_a_failed_mediation_the_parties_sign_an_arbitration_agreement(client, login, mediation, make_org):
    from odr.arbitrate import common
    from odr.cases.models import OrgType
    from tests.documents.signing import sign_via_http

    m = mediation
    commission = make_org(OrgType.arbitration_commission, name="Commission")
    draft_and_send(client, login, m, FACTS, s_agreed="A.", s_disputed="B.")
    login(client, m.claimant)
    assert 'id="ask-arbitration"' not in client.get(url(m)).get_data(as_text=True)  # the record comes first
    approve(client, login, m.claimant, m, FACTS)
    approve(client, login, m.respondent, m, FACTS)
    login(client, m.mediator)
    assert 'id="ask-arbitration"' not in client.get(url(m)).get_data(as_text=True)  # the parties agree, not the mediator
    login(client, m.claimant)
    assert 'id="ask-arbitration"' in client.get(url(m)).get_data(as_text=True)
    resp = client.post(f"/arbitrate/{m.case.number}/request", data={"commission": str(commission.id),
                                                                     "route": "agreement"})
    assert resp.status_code == 303
    document = common.agreement(m.case)
    for user in (m.claimant, m.respondent):
        login(client, user)
        assert sign_via_http(client, document, user).status_code == 200
    db.session.refresh(m.case)
    assert (m.case.stage, m.case.arbitration_basis, m.case.organization_id) == \
        (Stage.arbitration, ArbitrationBasis.agreement, commission.id)
    acts = actions(m.case)
    assert acts.index("document_sealed") < acts.index("arbitration_basis_recorded") < acts.index("arbitration_filed")
    assert audit.verify_chain(audit.chain_name(m.case)) is None


def test_who_may_see_and_change(client, login, mediation):
    m = mediation
    draft_and_send(client, login, m)
    for user in (m.outsider, m.other_mediator):
        login(client, user)
        assert client.get(url(m)).status_code == 404
        assert client.get(url(m, "/agreement/edit")).status_code == 404
        assert client.post(url(m, "/agreement/answer"), data={"decision": "approve"}).status_code == 404
        assert client.post(url(m, "/next"), data={"step": "court"}).status_code == 404
    login(client, m.staff)
    assert client.get(url(m)).status_code == 200
    assert client.get(url(m, "/agreement/edit")).status_code == 403
    assert client.post(url(m, "/agreement/send")).status_code == 403
    assert client.post(url(m, "/agreement/answer"), data={"decision": "approve"}).status_code == 403
    login(client, m.claimant)
    assert client.get(url(m, "/agreement/edit")).status_code == 403
    assert client.post(url(m, "/agreement/send")).status_code == 403
    login(client, m.mediator)  # the mediator cannot approve for a party
    assert client.post(url(m, "/agreement/answer"), data={"decision": "approve"}).status_code == 403
    assert outcomes.current_document(m.case, AGREEMENT).approvals == []


def test_stage_page_shows_the_outcome_card(client, login, mediation):
    m = mediation
    login(client, m.claimant)
    page = client.get(f"/mediate/{m.case.number}").get_data(as_text=True)
    assert 'id="outcome"' in page and 'id="proposals-link"' in page
    assert "Not written yet." in page


def test_an_agreement_whose_amount_differs_from_the_instalments_gets_no_schedule(client, login, mediation):
    m = mediation
    accepted_proposal(m)
    draft_and_send(client, login, m, amount="900")  # the mediator settled on another sum than 600 + 400
    for party in (m.claimant, m.respondent):
        assert approve(client, login, party, m).status_code == 303
    sign_all(client, login, m, signing.signed_document(outcomes.current_document(m.case, AGREEMENT)))
    db.session.refresh(m.case)
    assert m.case.outcome is Outcome.settled and performance.schedule_of(m.case) is None
