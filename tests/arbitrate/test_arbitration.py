"""The arbitration from the parties' request to the sealed award, through the real pages and real
signatures made as a browser makes them (tests/documents/signing.py)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from odr.arbitrate import common, proceedings
from odr.arbitrate.models import ArbitrationStatus, SeatStatus
from odr.cases import audit, performance
from odr.cases.models import ArbitrationBasis, Event, Outcome, Stage
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SigningStatus
from odr.documents.verify import verify
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.documents.signing import pdfsig, sign_via_http
from tests.pdf_text import text_of

PDF = b"%PDF-1.4\n% a contract\n" + b"0" * 200


def page(client, w):
    return client.get(f"/arbitrate/{w.case.number}")


def post(client, w, path, **data):
    return client.post(f"/arbitrate/{w.case.number}/{path}", data=data)


def actions(case):
    return [e.action for e in db.session.scalars(sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq))]


def sign(client, login, document, user):
    login(client, user)
    resp = sign_via_http(client, document, user)
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()


def test_agreement_to_signed_award_on_the_documents(client, login_en, world, tmp_path):
    w = world
    arbitrator = w.arbitrators[0]
    # The claimant asks; both sign the arbitration agreement naming the commission.
    login_en(client, w.claimant)
    assert client.get(f"/arbitrate/{w.case.number}/request").status_code == 200
    resp = client.post(f"/arbitrate/{w.case.number}/request",
                       data={"commission": str(w.commission.id), "route": "agreement"})
    assert resp.status_code == 303 and "/documents/" in resp.location
    agreement = common.agreement(w.case)
    assert [s.role for s in agreement.signers] == ["claimant", "respondent"]
    assert common.of(w.case).status is ArbitrationStatus.requested
    assert w.case.stage is Stage.assessment  # nothing moves before both signed
    sign(client, login_en, agreement, w.claimant)
    assert w.case.stage is Stage.assessment
    sign(client, login_en, agreement, w.respondent)
    arb = common.of(w.case)
    assert agreement.status is SigningStatus.complete
    assert arb.status is ArbitrationStatus.filed
    assert (w.case.stage, w.case.arbitration_basis, w.case.organization_id) == \
        (Stage.arbitration, ArbitrationBasis.agreement, w.commission.id)

    # The commission accepts, on the documents (a small claim): fee from the schedule, one arbitrator.
    login_en(client, w.claimant)
    assert post(client, w, "acceptance", procedure="documents_only").status_code == 409  # not the commission
    login_en(client, w.staff)
    page_text = page(client, w).get_data(as_text=True)
    assert "430.00" in page_text  # 8,000 yuan claimed
    assert post(client, w, "acceptance", procedure="documents_only").status_code == 303
    assert (arb.fee, arb.tribunal_size, arb.procedure.value) == (430, 1, "documents_only")
    assert post(client, w, "appoint", choice=str(arbitrator.id)).status_code == 409  # parties may still name

    # Both parties name the same arbitrator: jointly chosen.
    for party in (w.claimant, w.respondent):
        login_en(client, party)
        assert post(client, w, "nominate", choice=str(arbitrator.id)).status_code == 303
    assert post(client, w, "nominate", choice=str(arbitrator.id)).status_code == 409  # once
    login_en(client, w.staff)
    assert post(client, w, "appoint", choice=str(w.arbitrators[1].id)).status_code == 303
    [seat] = arb.active_seats
    assert (seat.user_id, seat.chosen_by, seat.role.value) == (arbitrator.id, "parties", "sole")
    assert w.case.arbitrator_id == arbitrator.id

    # The award cannot be drafted before the declaration and the statements.
    login_en(client, arbitrator)
    assert post(client, w, "award", facts="f", reasoning="r", decision="d", costs="c", lang="en").status_code == 409
    assert post(client, w, "declare", independent="yes", disclosure="").status_code == 303
    assert seat.status is SeatStatus.serving and arb.tribunal_formed()

    # Statements and evidence.
    login_en(client, w.respondent)
    assert post(client, w, "statement", text="I owe nothing.").status_code == 409  # the claim comes first
    login_en(client, w.claimant)
    assert post(client, w, "statement", text="Li Si borrowed 8,000 yuan on 1 March 2026.").status_code == 303
    resp = client.post(f"/arbitrate/{w.case.number}/evidence", data={
        "file": (io.BytesIO(PDF), "iou.pdf"), "description": "The IOU"}, content_type="multipart/form-data")
    assert resp.status_code == 303
    login_en(client, w.respondent)
    assert post(client, w, "statement", text="I paid back 3,000 yuan in cash.").status_code == 303
    [item] = proceedings.evidence(w.case)
    with client.get(f"/arbitrate/{w.case.number}/evidence/{item.id}") as resp:
        assert resp.data == PDF

    # The arbitrator drafts the award, signs it; the platform seals it and the case ends.
    # It orders the 5,000 yuan paid in two instalments, which become the schedule the parties follow.
    login_en(client, arbitrator)
    today = performance.local_today()
    words = dict(facts="Li Si borrowed 8,000 yuan and repaid 3,000.",
                 reasoning="The IOU is genuine; the repayment is admitted.",
                 decision="Li Si pays Zhang San 5,000 yuan.\nOther claims are dismissed.",
                 costs="The fee of 430 yuan is borne by Li Si.", lang="en", payer="respondent")
    for bad, status in (({"schedule-0-due": (today - timedelta(days=1)).isoformat(), "schedule-0-amount": "100"}, 422),
                        ({"schedule-0-due": today.isoformat()}, 400),  # a date without its amount
                        ({"schedule-0-due": "2026-02-30", "schedule-0-amount": "100"}, 400),
                        ({"schedule-0-due": today.isoformat(), "schedule-0-amount": "-5"}, 400),
                        ({"payer": "mediator"}, 400)):
        assert post(client, w, "award", **(words | bad)).status_code == status, bad
        assert common.award(w.case) is None
    resp = post(client, w, "award", **words, **{
        "schedule-0-due": (today + timedelta(days=15)).isoformat(), "schedule-0-amount": "2000",
        "schedule-1-due": (today + timedelta(days=45)).isoformat(), "schedule-1-amount": "3000"})
    assert resp.status_code == 303 and "/documents/" in resp.location
    award = common.award(w.case)
    assert [s.user_id for s in award.signers] == [arbitrator.id]
    assert w.case.outcome is None
    assert performance.schedule_of(w.case) is None  # not before it is sealed
    sign(client, login_en, award, arbitrator)
    assert award.status is SigningStatus.complete
    assert (w.case.outcome, arb.status) == (Outcome.award_issued, ArbitrationStatus.awarded)
    schedule = performance.schedule_of(w.case)
    assert schedule.payer_side == "respondent" and schedule.source == f"arbitral_award:{award.id}"
    assert [(i.due_on, i.amount) for i in schedule.items] == [(today + timedelta(days=15), 2000),
                                                              (today + timedelta(days=45), 3000)]
    assert schedule.items[0].description.startswith("The respondent shall pay the claimant CNY 2,000.00 by")
    assert "The respondent shall pay the claimant CNY 3,000.00" in text_of(storage.get(award.current_sha256), tmp_path)
    login_en(client, w.respondent)
    assert "CNY 2,000.00" in client.get(f"/perform/{w.case.number}").get_data(as_text=True)

    # The sealed award verifies with pyHanko and with poppler; the audit chain holds.
    pdf_path = tmp_path / "award.pdf"
    pdf_path.write_bytes(storage.get(award.current_sha256))
    report = verify(pdf_path.read_bytes(), [platform_ca().ca.asn1_cert])
    assert report.ok, report.lines()
    assert [(s.kind, s.signer) for s in report.signatures] == [("signature", "Arbitrator Zhou"),
                                                               ("seal", "ODR Platform Seal")]
    out = pdfsig(pdf_path, platform_ca().pem(), tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out  # arbitrator + seal
    assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
    assert audit.verify_chain(f"case:{w.case.id}") is None
    acts = actions(w.case)
    for action in ("arbitration_requested", "arbitration_filed", "arbitration_accepted", "arbitrator_nominated",
                   "arbitrator_appointed", "arbitrator_declared", "arbitration_statement_submitted",
                   "evidence_added", "arbitration_award_drafted", "arbitration_award_issued", "case_closed"):
        assert action in acts, action
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == w.respondent.contact))
    assert any("award" in body and "issued" in body for body in told)


def test_clause_three_arbitrators_challenge_hearing_and_award(client, login_en, make_world, clock):
    w = make_world(amount="2500000")  # a large claim: three arbitrators, a hearing
    a = w.arbitrators
    # The claimant uploads the contract; staff of another commission learn nothing of it.
    login_en(client, w.claimant)
    resp = client.post(f"/arbitrate/{w.case.number}/request", data={
        "commission": str(w.commission.id), "route": "clause", "contract": (io.BytesIO(PDF), "contract.pdf"),
        "clause_text": "Article 12: disputes go to the Beijing Arbitration Commission."},
        content_type="multipart/form-data")
    assert resp.status_code == 303
    arb = common.of(w.case)
    assert (arb.status, arb.basis, w.case.stage) == (ArbitrationStatus.requested, ArbitrationBasis.clause,
                                                     Stage.assessment)
    login_en(client, w.other_staff)
    assert page(client, w).status_code == 404
    assert post(client, w, "clause", decision="confirm").status_code == 404
    login_en(client, w.staff)  # not the case's organisation yet, but the commission asked: it sees the request
    assert "Article 12" in page(client, w).get_data(as_text=True)
    with client.get(f"/arbitrate/{w.case.number}/contract") as resp:
        assert resp.data == PDF
    assert post(client, w, "clause", decision="reject").status_code == 422  # a rejection needs a reason
    assert arb.status is ArbitrationStatus.requested
    assert post(client, w, "clause", decision="confirm").status_code == 303
    assert (arb.status, w.case.stage, w.case.organization_id) == (ArbitrationStatus.filed, Stage.arbitration,
                                                                  w.commission.id)
    assert post(client, w, "acceptance", procedure="documents_only").status_code == 422  # too large a claim
    assert post(client, w, "acceptance", procedure="hearing").status_code == 303
    assert (arb.tribunal_size, arb.fee) == (3, 22360)

    # The claimant names its arbitrator; the respondent lets the time pass; the commission appoints.
    login_en(client, w.claimant)
    assert post(client, w, "nominate", choice=str(w.other_staff.id)).status_code == 400  # not on the roster
    assert post(client, w, "nominate", choice=str(a[0].id)).status_code == 303
    login_en(client, w.staff)
    assert post(client, w, "appoint", choice=str(a[1].id)).status_code == 409  # the respondent may still name
    clock.advance(days=6)
    login_en(client, w.respondent)
    assert post(client, w, "nominate", choice=str(a[2].id)).status_code == 409  # too late
    login_en(client, w.staff)
    assert post(client, w, "appoint", choice=str(a[0].id)).status_code == 422  # a[0] sits already as a member
    assert post(client, w, "appoint", choice=str(a[1].id)).status_code == 303
    seats = {(s.role.value, s.side): s for s in arb.active_seats}
    assert seats[("presiding", None)].user_id == a[1].id and seats[("member", "claimant")].user_id == a[0].id
    assert seats[("member", "respondent")].chosen_by == "commission"
    assert w.case.arbitrator_id == a[1].id
    respondent_member = seats[("member", "respondent")]

    # A member sees the case through the seat; one who sits nowhere does not.
    login_en(client, db.session.get(type(w.staff), respondent_member.user_id))
    assert page(client, w).status_code == 200
    assert post(client, w, "declare", independent="no", disclosure="I advised the claimant in 2024.").status_code == 303
    assert respondent_member.status is SeatStatus.recused
    assert page(client, w).status_code == 404
    login_en(client, w.staff)
    assert post(client, w, "appoint").status_code == 303  # the commission fills the seat for the respondent
    [new_member] = [s for s in arb.active_seats if s.side == "respondent"]
    assert new_member.user_id not in (respondent_member.user_id, a[0].id, a[1].id)
    for seat in arb.active_seats:
        login_en(client, seat.user)
        assert post(client, w, "declare", independent="yes", disclosure="").status_code == 303

    # The respondent challenges the claimant's arbitrator; the commission upholds it; the seat is refilled.
    login_en(client, w.respondent)
    claimant_member = next(s for s in arb.active_seats if s.side == "claimant")
    assert post(client, w, "challenge", choice=str(claimant_member.id), reason="").status_code == 400
    assert post(client, w, "challenge", choice=str(claimant_member.id),
                reason="He is the claimant's brother-in-law.").status_code == 303
    assert not arb.tribunal_formed()
    assert post(client, w, "challenges/1", upheld="yes", reason="x").status_code == 409  # not the commission
    challenge_id = claimant_member.challenges[0].id
    login_en(client, w.staff)
    assert post(client, w, f"challenges/{challenge_id}", upheld="yes", reason="A close relative.").status_code == 303
    assert claimant_member.status is SeatStatus.removed
    assert post(client, w, f"challenges/{challenge_id}", upheld="no", reason="again").status_code == 409
    assert post(client, w, "appoint").status_code == 303
    replacement = next(s for s in arb.active_seats if s.side == "claimant")
    assert replacement.user_id not in (a[0].id, respondent_member.user_id)
    login_en(client, replacement.user)
    assert post(client, w, "declare", independent="yes", disclosure="").status_code == 303
    assert arb.tribunal_formed()

    # Statements with deadlines the presiding arbitrator extends.
    clock.advance(days=5)  # 11 days after acceptance: the claim is late
    login_en(client, w.claimant)
    assert post(client, w, "statement", text="Pay 2,500,000 yuan.").status_code == 409
    login_en(client, replacement.user)
    assert post(client, w, "deadline", which="claim", days="5", reason="ill").status_code == 409  # not presiding
    login_en(client, a[1])
    assert post(client, w, "deadline", which="claim", days="5", reason="The claimant was ill.").status_code == 303
    login_en(client, w.claimant)
    assert post(client, w, "statement", text="Pay 2,500,000 yuan.").status_code == 303
    clock.advance(days=16)  # no defence came
    login_en(client, w.respondent)
    assert post(client, w, "statement", text="Late.").status_code == 409

    # The hearing by video, then the award signed by all three.
    login_en(client, a[1])
    assert "The hearing has not been held yet." in page(client, w).get_data(as_text=True)
    assert post(client, w, "hearing", when="2020-01-01T10:00").status_code == 422  # in the past
    assert post(client, w, "hearing", when="not a time").status_code == 400
    assert post(client, w, "hearing", when="2026-12-01T10:00").status_code == 303
    resp = post(client, w, "hearing/room")
    assert resp.status_code == 303 and "/video/" in resp.location
    room = proceedings.hearing_room(arb)
    assert room.host_id == a[1].id
    login_en(client, w.respondent)
    assert 'id="join-hearing"' in page(client, w).get_data(as_text=True)
    assert client.get(f"/video/{w.case.number}/rooms/{room.id}").status_code == 200
    from odr.video import rooms
    from odr.video.models import VideoRoom
    rooms.end(db.session.get(VideoRoom, room.id), a[1])
    db.session.commit()
    login_en(client, a[1])
    resp = post(client, w, "award", facts="The loan was made.", reasoning="The contract binds.",
                decision="The respondent pays 2,500,000 yuan.", costs="The respondent bears the fee.", lang="zh")
    assert resp.status_code == 303
    award = common.award(w.case)
    assert [s.user_id for s in award.signers][0] == a[1].id and len(award.signers) == 3
    # Signing certificates are issued at the platform's time; the platform CA (made once per test
    # run, perhaps by another test) dates from the real now, so the signatures are made at it.
    clock.now = datetime.now(timezone.utc).replace(tzinfo=None)
    for signer in award.signers:
        sign(client, login_en, award, signer.user)
    assert award.status is SigningStatus.complete and w.case.outcome is Outcome.award_issued
    report = verify(storage.get(award.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok and len(report.signatures) == 4
    assert audit.verify_chain(f"case:{w.case.id}") is None
