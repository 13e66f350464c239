"""Handing a failed mediation to a court, and the court's inbox: who sees what, what the clerk
records, what the parties are told, and bad reports refused with a reason."""

from __future__ import annotations

import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.cases.models import Event, OrgType, Outcome, Stage
from odr.court.models import CourtResult, Handoff, HandoffStatus
from odr.court.verify_bundle import verify_bundle
from odr.documents.ca import platform_ca
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.court.complaints import seal_complaint


def failed_case(make_user, make_org, make_case):
    staff_org = make_org(name="朝阳区人民调解委员会")
    staff = make_user(Role.staff, staff_org, name="Staff Wu")
    claimant, respondent = make_user(name="Zhang San"), make_user(name="Li Si")
    case = make_case(claimant=claimant, respondent=respondent, organization=staff_org,
                     stages=(Stage.assessment, Stage.mediation, Stage.litigation))
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    other_court = make_org(type=OrgType.court, name="海淀区人民法院")
    clerk, other_clerk = make_user(Role.court_clerk, court, name="Clerk Chen"), make_user(Role.court_clerk, other_court)
    db.session.commit()
    return case, staff, claimant, court, other_court, clerk, other_clerk


def actions(case):
    return list(db.session.scalars(sa.select(Event.action).where(Event.case_id == case.id).order_by(Event.seq)))


def test_staff_hand_off_and_the_clerk_records_what_the_court_did(client, login_en, make_user, make_org, make_case,
                                                                 tmp_path):
    case, staff, claimant, court, other_court, clerk, other_clerk = failed_case(make_user, make_org, make_case)
    login_en(client, claimant)  # a party may not hand over
    assert client.get(f"/court/{case.number}/handoff").status_code == 403
    login_en(client, staff)
    assert 'id="hand-off-link"' in client.get(f"/court/{case.number}").get_data(as_text=True)
    assert client.post(f"/court/{case.number}/handoff", data={"court": ""}).status_code == 400
    assert client.post(f"/court/{case.number}/handoff", data={"court": "99999"}).status_code == 400
    # No filing without the claimant's signed complaint; then only to the court it is addressed to.
    resp = client.post(f"/court/{case.number}/handoff", data={"court": str(court.id)})
    assert resp.status_code == 409 and "has not signed the complaint" in resp.get_data(as_text=True)
    seal_complaint(case, court)
    db.session.commit()
    assert client.post(f"/court/{case.number}/handoff", data={"court": str(other_court.id)}).status_code == 400
    assert client.post(f"/court/{case.number}/handoff", data={"court": str(court.id)}).status_code == 303
    db.session.expire_all()
    handoff = db.session.scalar(sa.select(Handoff))
    assert case.outcome is Outcome.handed_to_court and case.court_id == court.id
    assert handoff.status is HandoffStatus.sent and "court_handoff" in actions(case)
    assert "Handed to 朝阳区人民法院" in client.get(f"/court/{case.number}").get_data(as_text=True)
    # Handing over twice is refused.
    assert client.post(f"/court/{case.number}/handoff", data={"court": str(court.id)}).status_code in (400, 403, 409)

    # Another court's clerk learns nothing.
    login_en(client, other_clerk)
    assert "Nothing has been handed" in client.get("/court/inbox").get_data(as_text=True)
    for path in (f"/court/handoffs/{handoff.id}", f"/court/handoffs/{handoff.id}/bundle.zip"):
        assert client.get(path).status_code == 404
    assert client.post(f"/court/handoffs/{handoff.id}/receipt").status_code == 404
    assert client.get(f"/cases/{case.number}").status_code == 404
    login_en(client, claimant)
    assert client.get("/court/inbox").status_code == 403
    assert client.get(f"/court/handoffs/{handoff.id}").status_code == 404

    login_en(client, clerk)
    inbox = client.get("/court/inbox").get_data(as_text=True)
    assert case.number in inbox and "Sent" in inbox
    bundle = client.get(f"/court/handoffs/{handoff.id}/bundle.zip")
    assert bundle.status_code == 200
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle.data)
    bundle.close()
    report = verify_bundle(path, [platform_ca().ca.asn1_cert])
    assert report.ok, report.problems
    assert client.post(f"/court/handoffs/{handoff.id}/receipt").status_code == 303
    # A docket number: empty or with control characters refused, then recorded; the same again is fine.
    assert client.post(f"/court/handoffs/{handoff.id}/docket", data={"docket_number": " "}).status_code == 400
    assert client.post(f"/court/handoffs/{handoff.id}/docket",
                       data={"docket_number": "(2026)京0105民特1\x07"}).status_code == 400
    assert client.post(f"/court/handoffs/{handoff.id}/docket",
                       data={"docket_number": "(2026)京0105民初123号"}).status_code == 303
    assert client.post(f"/court/handoffs/{handoff.id}/docket",
                       data={"docket_number": "(2026)京0105民初123号"}).status_code == 303
    assert client.post(f"/court/handoffs/{handoff.id}/docket",
                       data={"docket_number": "other"}).status_code == 409
    assert client.post(f"/court/handoffs/{handoff.id}/result", data={"result": "nonsense"}).status_code == 400
    assert client.post(f"/court/handoffs/{handoff.id}/result",
                       data={"result": "judgment", "note": "Judgment for the claimant."}).status_code == 303
    assert client.post(f"/court/handoffs/{handoff.id}/result", data={"result": "withdrawn"}).status_code == 409
    db.session.expire_all()
    assert handoff.status is HandoffStatus.decided and handoff.result is CourtResult.judgment
    assert actions(case)[-3:] == ["court_received", "court_docketed", "court_result"]
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == claimant.contact))
    assert any("(2026)京0105民初123号" in body for body in told)
    page = client.get(f"/court/handoffs/{handoff.id}").get_data(as_text=True)
    assert "Judgment given" in page and "(2026)京0105民初123号" in page


def test_only_a_case_at_the_hand_off_stage_can_be_filed(app, make_user, make_org, make_case):
    from odr.court import operations as ops
    staff_org = make_org()
    staff = make_user(Role.staff, staff_org)
    case = make_case(organization=staff_org, stages=(Stage.assessment, Stage.mediation))
    court = make_org(type=OrgType.court)
    from flask_babel import force_locale
    try:
        ops.hand_off(case, court, staff)
    except ops.CourtError as exc:
        with force_locale("en"):
            assert "hand-off stage" in str(exc.reason)
    else:
        raise AssertionError("a case in mediation was filed with a court")
    db.session.rollback()
    try:
        ops.hand_off(case, staff_org, staff)
    except ops.CourtError:
        pass
    else:
        raise AssertionError("a mediation committee received a hand-off")
    assert case_ops  # (imported for the fixtures' operations)


def test_the_court_receives_the_checkpoints_of_the_case_and_no_others(client, login_en, make_user, make_org,
                                                                     make_case, tmp_path):
    """A hand-off signs a checkpoint of the case's chain as its bundle holds it; the clerk of the
    court sees it, downloads every checkpoint of the case, and so verifies the bundle against it;
    another court's clerk gets nothing."""
    import json
    import zipfile

    from odr.cases import audit
    from odr.court.bundle import CHECKPOINTS
    from odr.documents.checkpoints import check_chain_document
    from odr.documents.models import AuditCheckpoint, CheckpointReason

    case, staff, _claimant, court, _other_court, clerk, other_clerk = failed_case(make_user, make_org, make_case)
    seal_complaint(case, court)
    db.session.commit()
    login_en(client, staff)
    assert client.post(f"/court/{case.number}/handoff", data={"court": str(court.id)}).status_code == 303
    db.session.expire_all()
    handoff = db.session.scalar(sa.select(Handoff))
    checkpoint = db.session.scalar(sa.select(AuditCheckpoint))
    assert checkpoint.reason is CheckpointReason.handoff and checkpoint.heads == 1
    handed = db.session.scalar(sa.select(Event).where(Event.action == "court_handoff"))
    assert handed.payload["checkpoint"] == checkpoint.sha256
    # The bundle's chain ends just before the hand-off's own entry: the checkpoint states that head.
    with zipfile.ZipFile(ops_bundle_path(handoff)) as zf:
        documents = json.loads(zf.read(CHECKPOINTS))["checkpoints"]
    assert [d["sha256"] for d in documents] == [checkpoint.sha256]
    assert documents[0]["chain"]["seq"] == handed.seq - 1 and documents[0]["chain"]["case"] == case.number

    login_en(client, other_clerk)
    assert client.get(f"/court/handoffs/{handoff.id}/checkpoints.json").status_code == 404
    login_en(client, clerk)
    page = client.get(f"/court/handoffs/{handoff.id}").get_data(as_text=True)
    assert checkpoint.sha256 in page and 'id="download-checkpoints"' in page
    resp = client.get(f"/court/handoffs/{handoff.id}/checkpoints.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    data = resp.get_json()
    assert data["chain"] == audit.chain_name(case) and len(data["checkpoints"]) == 1
    chain, seen = check_chain_document(data["checkpoints"][0], [platform_ca().ca.asn1_cert])
    assert chain == audit.chain_name(case) and seen.seq == handed.seq - 1


def test_a_hand_off_waits_when_the_timestamp_authority_does_not_answer(app, client, login_en, make_user, make_org,
                                                                      make_case):
    from tests.documents.test_timestamps import _closed_port

    case, staff, _claimant, court, *_ = failed_case(make_user, make_org, make_case)
    seal_complaint(case, court)
    db.session.commit()
    login_en(client, staff)
    app.config["SIGNING_TSA_URL"] = f"http://127.0.0.1:{_closed_port()}/tsa"
    try:
        resp = client.post(f"/court/{case.number}/handoff", data={"court": str(court.id)})
    finally:
        app.config["SIGNING_TSA_URL"] = None
    assert resp.status_code == 409 and "The timestamp service did not answer" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Handoff)) is None and case.outcome is None


def ops_bundle_path(handoff):
    from odr.court.operations import bundle_path
    return bundle_path(handoff)
