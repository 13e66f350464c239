"""Application for enforcement: when the side that pays has missed an item of a confirmed agreement
(or an award), the entitled side prepares the application, signs it, and the court receives it with
a bundle that verifies; before a default, by anyone else, or twice, it is refused."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from odr.auth.models import Role
from odr.cases import audit, performance
from odr.cases.models import OrgType
from odr.cases.performance import ItemStatus
from odr.court import enforcement
from odr.court import operations as ops
from odr.court.models import CourtResult, Handoff, HandoffKind
from odr.court.verify_bundle import verify_bundle
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.extensions import db
from odr.outbox import OutboxMessage
from odr.timeutil import utcnow
from tests.documents.signing import sign_via_http
from tests.pdf_text import text_of
from tests.test_bad_input import FUZZ, VALUES, _post


def confirmed_by(case, court):
    """The court confirmed the case's agreement (as its clerk would record through the inbox or API)."""
    handoff = Handoff(case_id=case.id, court_id=court.id, kind=HandoffKind.confirmation, bundle_sha256="0" * 64,
                      bundle_size=0, docket_number="（2026）京0105民特123号", result=CourtResult.confirmed,
                      created_at=utcnow(), decided_at=utcnow())
    db.session.add(handoff)
    db.session.commit()
    return handoff


def schedule_for(case, today: date):
    """Three instalments: one paid and confirmed, one ten days late, one not yet due."""
    plan = [performance.PlannedItem(today - timedelta(days=40), "Instalment 1", Decimal("1000")),
            performance.PlannedItem(today - timedelta(days=10), "Instalment 2", Decimal("1000")),
            performance.PlannedItem(today + timedelta(days=20), "Instalment 3", Decimal("1500"))]
    schedule = performance.create_schedule(case, plan, payer_side="respondent", source="test:1")
    first = schedule.items[0]
    first.status, first.reported_at = ItemStatus.confirmed, utcnow()
    performance.refresh(schedule)
    db.session.commit()
    return schedule


@pytest.fixture
def court(make_org, make_user):
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    clerk = make_user(Role.court_clerk, court, name="Clerk Zhao")
    db.session.commit()
    return court, clerk


def test_the_payee_applies_after_a_default_and_the_court_receives_it(app, client, login_en, parties, court, tmp_path):
    p = parties
    court, clerk = court
    schedule = schedule_for(p.case, performance.local_today())
    url = f"/court/{p.case.number}/enforcement"
    login_en(client, p.claimant)
    assert client.get(url).status_code == 409  # no court confirmed the agreement
    confirmed_by(p.case, court)
    for user, status in ((p.respondent, 409), (p.mediator, 404), (p.outsider, 404)):
        login_en(client, user)
        assert client.get(url).status_code == status, user.name
    login_en(client, p.claimant)
    assert 'id="apply-enforcement"' in client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    page = client.get(url)
    assert page.status_code == 200
    assert "¥2500" in page.get_data(as_text=True) and "¥1000" in page.get_data(as_text=True)
    assert client.post(url, data={"court": ""}).status_code == 400
    assert client.post(url, data={"court": str(p.org.id)}).status_code == 400  # a mediation committee
    assert client.post(url, data={"court": "99999"}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignedDocument)) == 0
    resp = client.post(url, data={"court": str(court.id)})
    assert resp.status_code == 303
    application = db.session.scalar(sa.select(SignedDocument).where(SignedDocument.kind == enforcement.KIND))
    assert resp.location.endswith(f"/documents/{application.id}")
    assert [s.role for s in application.signers] == ["applicant"]
    text = text_of(storage.get(application.current_sha256), tmp_path)
    assert "Application for Enforcement" in text and "朝阳区人民法院" in text and "民特123号" in text
    assert "3,500.00" in text and "1,000.00" in text and "2,500.00" in text and "Overdue" in text

    assert sign_via_http(client, application, p.claimant).status_code == 200
    db.session.expire_all()
    handoff = enforcement.enforcement_handoff(p.case)
    assert handoff is not None and handoff.court_id == court.id and handoff.kind is HandoffKind.enforcement
    assert schedule.enforcement_requested_at is not None
    assert "court_handoff" in [ev.action for ev in audit.case_events(p.case)]
    with zipfile.ZipFile(ops.bundle_path(handoff)) as zf:
        assert "documents/enforcement_application-v1.pdf" in zf.namelist()
    report = verify_bundle(ops.bundle_path(handoff), [platform_ca().ca.asn1_cert])
    assert report.ok, report.problems
    assert client.get(url).status_code in (303, 409)  # applied for once
    assert client.post(url, data={"court": str(court.id)}).status_code == 409

    # The court's own system sees it through the API, with the kind the OpenAPI document lists.
    from odr.cases import operations as case_ops

    _api_client, token = case_ops.issue_api_token("court-system", court)
    db.session.commit()
    listed = client.get("/api/court/v1/handoffs", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [h["kind"] for h in listed["items"]] == ["confirmation", "enforcement"]  # confirmed first, then this

    login_en(client, clerk)
    inbox = client.get("/court/inbox").get_data(as_text=True)
    assert p.case.number in inbox and "Application for enforcement" in inbox
    with client.get(f"/court/handoffs/{handoff.id}/bundle.zip") as download:
        assert download.status_code == 200 and download.data.startswith(b"PK")
    # Performance after an application for enforcement is not voluntary.
    for item in schedule.items:
        item.status, item.reported_at = ItemStatus.confirmed, utcnow()
    performance.refresh(schedule)
    db.session.commit()
    figures = performance.figures(period=(schedule.last_due_on, schedule.last_due_on))
    assert (figures.due, figures.performed_when_due) == (1, 0)


def test_nothing_to_enforce_before_the_due_date_passes(app, clock, client, login_en, parties, court):
    """The clock reads 2 November; the first instalment is due 10 November (yellow from the 11th)."""
    p = parties
    court, _clerk = court
    plan = [performance.PlannedItem(date(2026, 11, 10), "Instalment 1", Decimal("1200")),
            performance.PlannedItem(date(2026, 12, 10), "Instalment 2", Decimal("1200"))]
    performance.create_schedule(p.case, plan, payer_side="respondent", source="test:1")
    confirmed_by(p.case, court)
    url = f"/court/{p.case.number}/enforcement"
    login_en(client, p.claimant)
    assert client.get(url).status_code == 409
    assert 'id="apply-enforcement"' not in client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    clock.advance(days=8)  # due today: not late yet
    assert client.get(url).status_code == 409
    clock.advance(days=1)
    assert client.get(url).status_code == 200
    assert 'id="apply-enforcement"' in client.get(f"/perform/{p.case.number}").get_data(as_text=True)


def test_an_award_is_a_basis_for_enforcement(app, client, login_en, parties, court):
    """A case that ended with a sealed award is enforceable without a court's confirmation."""
    from odr.cases.models import Outcome
    from odr.documents.models import SigningStatus

    p = parties
    schedule_for(p.case, performance.local_today())
    login_en(client, p.claimant)
    assert client.get(f"/court/{p.case.number}/enforcement").status_code == 409
    p.case.outcome, p.case.closed_at = Outcome.award_issued, utcnow()
    db.session.add(SignedDocument(case_id=p.case.id, kind=enforcement.AWARD_KIND, subject="arbitration:1", version=1,
                                  title="Arbitral award", lang="en", unsigned_sha256="1" * 64, current_sha256="1" * 64,
                                  status=SigningStatus.complete, created_at=utcnow(), completed_at=utcnow()))
    db.session.commit()
    basis = enforcement.basis_of(p.case)
    assert basis is not None and basis.kind == "award"
    assert "Arbitral award" in client.get(f"/court/{p.case.number}/enforcement").get_data(as_text=True)


@FUZZ
@given(data=st.data())
def test_the_application_form_answers_hostile_input_without_500_or_partial_records(app, enforceable, data):
    """Whatever is posted as the court (or beside it), no 500, and a refusal writes nothing."""
    world = enforceable
    payload = {field: data.draw(VALUES, label=field)
               for field in data.draw(st.lists(st.sampled_from(["court", "csrf_token", "lang"]), unique=True))}
    _post(app, world, "/court/{number}/enforcement", "claimant", data=payload)


@pytest.fixture
def enforceable(parties, court):
    """A confirmed case in default, for the fuzzed form: ``_post``'s world."""
    p = parties
    schedule_for(p.case, performance.local_today())
    confirmed_by(p.case, court[0])
    return {"claimant": p.claimant, "number": p.case.number}


def enforcement_handed(case, court):
    """An application for enforcement the platform handed to ``court`` (as the signing hook would)."""
    handoff = Handoff(case_id=case.id, court_id=court.id, kind=HandoffKind.enforcement, bundle_sha256="2" * 64,
                      bundle_size=0, created_at=utcnow())
    db.session.add(handoff)
    db.session.commit()
    return handoff


def test_the_clerk_records_the_enforcement_outcome_and_the_parties_see_it(app, client, login_en, parties, court):
    """Accepted for enforcement, then executed; an enforcement result on another kind of hand-off, a
    confirmation's result on this one, or a refusal without its reason are refused and write nothing."""
    from odr.court.models import HandoffStatus

    p = parties
    court, clerk = court
    schedule_for(p.case, performance.local_today())
    confirmation = confirmed_by(p.case, court)
    handoff = enforcement_handed(p.case, court)
    url = f"/court/handoffs/{handoff.id}/result"
    login_en(client, clerk)
    page = client.get(f"/court/handoffs/{handoff.id}").get_data(as_text=True)
    assert "Accepted for enforcement" in page and "Enforcement refused" in page and ">Judgment given<" not in page
    events = len(audit.case_events(p.case))
    assert client.post(url, data={"result": "judgment"}).status_code == 400  # not a choice for enforcement
    assert client.post(url, data={"result": "enforcement_refused", "note": " "}).status_code == 422
    assert client.post(f"/court/handoffs/{confirmation.id}/result",
                       data={"result": "executed"}).status_code in (400, 409)
    db.session.expire_all()
    assert handoff.result is None and len(audit.case_events(p.case)) == events
    assert client.post(url, data={"result": "enforcement_accepted"}).status_code == 303
    db.session.expire_all()
    assert handoff.result is CourtResult.enforcement_accepted and handoff.status is HandoffStatus.received
    assert handoff.decided_at is None
    assert 'id="result-form"' in client.get(f"/court/handoffs/{handoff.id}").get_data(as_text=True)

    login_en(client, p.claimant)
    page = client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    assert 'id="enforcement-status"' in page and "Accepted for enforcement" in page and "朝阳区人民法院" in page
    login_en(client, p.respondent)
    assert "Accepted for enforcement" in client.get(f"/perform/{p.case.number}").get_data(as_text=True)

    login_en(client, clerk)
    assert client.post(url, data={"result": "executed", "note": "Paid through the court."}).status_code == 303
    assert client.post(url, data={"result": "withdrawn"}).status_code == 409  # final now
    db.session.expire_all()
    assert handoff.result is CourtResult.executed and handoff.status is HandoffStatus.decided
    assert 'id="result-form"' not in client.get(f"/court/handoffs/{handoff.id}").get_data(as_text=True)
    results = [ev.payload["result"] for ev in audit.case_events(p.case) if ev.action == "court_result"]
    assert results == ["enforcement_accepted", "executed"]
    login_en(client, p.claimant)
    page = client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    assert "Enforced in full" in page and "Paid through the court." in page


def test_the_court_api_reports_a_refusal_of_enforcement_with_its_reason(app, client, parties, court):
    from odr.cases import operations as case_ops

    p = parties
    court, _clerk = court
    schedule_for(p.case, performance.local_today())
    confirmed_by(p.case, court)
    handoff = enforcement_handed(p.case, court)
    _api_client, token = case_ops.issue_api_token("court-system", court)
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/court/v1/handoffs/{handoff.id}/result"
    for body in ({"result": "confirmed"}, {"result": "enforcement_refused"},
                 {"result": "enforcement_refused", "note": "   "}, {"result": "executed", "note": "a\x00b"}):
        resp = client.post(url, json=body, headers=auth)
        assert resp.status_code == 422, (body, resp.get_json())
        assert resp.get_json()["status"] == 422
    db.session.expire_all()
    assert handoff.result is None
    resp = client.post(url, json={"result": "enforcement_refused", "note": "无可供执行的财产"}, headers=auth)
    assert resp.status_code == 201
    assert resp.get_json()["result"] == "enforcement_refused" and resp.get_json()["result_note"] == "无可供执行的财产"
    assert client.post(url, json={"result": "enforcement_refused", "note": "无可供执行的财产"},
                       headers=auth).status_code == 200
    assert client.post(url, json={"result": "executed"}, headers=auth).status_code == 409
    told = [m.body for m in db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == p.claimant.contact))]
    assert any("refused the application for enforcement" in body for body in told)


@FUZZ
@given(data=st.data())
def test_the_enforcement_result_form_answers_hostile_input_without_500_or_partial_records(app, enforcement_world,
                                                                                          data):
    """Whatever the clerk's form posts as the result and the note, no 500, and a refusal writes nothing."""
    payload = {field: data.draw(st.one_of(VALUES, st.sampled_from(["enforcement_refused", "executed", "judgment"])),
                                label=field)
               for field in data.draw(st.lists(st.sampled_from(["result", "note", "csrf_token"]), unique=True))}
    _post(app, enforcement_world, "/court/handoffs/{handoff}/result", "clerk", data=payload)


@pytest.fixture
def enforcement_world(parties, court):
    p = parties
    schedule_for(p.case, performance.local_today())
    confirmed_by(p.case, court[0])
    handoff = enforcement_handed(p.case, court[0])
    return {"clerk": court[1], "handoff": handoff.id}
