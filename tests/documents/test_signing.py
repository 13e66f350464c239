"""Signing a mediation agreement: each party and the mediator with their own key through the
document page's endpoints, then the platform seal; pyHanko, ``odr verify`` and poppler's
``pdfsig`` agree on the result, and notice tampering. Refusals: who may sign, what a browser may
send, stale and superseded versions, and a crash halfway."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from odr.cases.models import Event, Outcome
from odr.documents import operations as signing_ops
from odr.documents import pades, storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument, SignerStatus, SigningStatus
from odr.documents.verify import verify
from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import signing as signing
from odr.mediate.models import OutcomeKind, OutcomeStatus
from tests.documents.signing import BrowserKey, agreement_texts, approved_agreement, drawing, last_code, pdfsig, sign_all, sign_via_http

AGREEMENT = OutcomeKind.agreement


def actions(case) -> list[str]:
    return list(db.session.scalars(sa.select(Event.action).where(Event.case_id == case.id).order_by(Event.seq)))


def roots():
    return [platform_ca().ca.asn1_cert]


def test_approval_puts_the_agreement_up_for_signing_and_the_case_waits(app, mediation):
    m = mediation
    document = approved_agreement(m)
    assert document is not None and document.status is SigningStatus.signing
    assert [(s.role, s.name) for s in document.signers] == [
        ("claimant", "Zhang San"), ("respondent", "Li Si"), ("mediator", "Mediator Li")]
    assert m.case.is_open  # approved, not yet signed: not settled
    assert storage.get(document.current_sha256).startswith(b"%PDF-")
    assert "document_put_up_for_signing" in actions(m.case)


def test_three_signatures_and_the_seal_verify_everywhere(app, client, login_en, mediation, runner, tmp_path):
    m = mediation
    document = sign_all(client, login_en, m, approved_agreement(m))
    assert document.status is SigningStatus.complete
    assert all(s.status is SignerStatus.signed for s in document.signers)
    # The sealed agreement settled the case, in the sealing transaction.
    assert m.case.outcome is Outcome.settled
    trail = actions(m.case)
    assert trail.count("signing_certificate_issued") == 3 and trail.count("document_signed") == 3
    assert trail.index("document_sealed") < trail.index("case_closed")

    pdf = storage.get(document.current_sha256)
    report = verify(pdf, roots())
    assert report.ok, report.lines()
    assert [(s.kind, s.signer) for s in report.signatures] == [
        ("signature", "Zhang San"), ("signature", "Li Si"), ("signature", "Mediator Li"),
        ("seal", "ODR Platform Seal")]
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert report.signatures[-1].whole_document and not report.signatures[0].whole_document

    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf)
    out = pdfsig(path, platform_ca().pem(), tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 4, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 4, out
    assert "Signer Certificate Common Name: Zhang San" in out and "Total document signed" in out

    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "RESULT: all signatures valid and trusted" in result.output


def test_tampering_is_reported_by_odr_verify_and_pdfsig(app, client, login_en, mediation, runner, tmp_path):
    m = mediation
    document = sign_all(client, login_en, m, approved_agreement(m))
    pdf = storage.get(document.current_sha256)

    # 1. One byte changed inside the signed range (in the first page's content).
    flipped = bytearray(pdf)
    at = pdf.index(b"stream", 2000) + 20
    flipped[at] ^= 0x01
    path = tmp_path / "flipped.pdf"
    path.write_bytes(bytes(flipped))
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 1 and "The signed bytes were changed after signing." in result.output
    assert "Digest Mismatch" in pdfsig(path, platform_ca().pem(), tmp_path)

    # 2. An unsigned incremental update that changes the content (a new page text object).
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    import io
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 700 Td (PAID IN FULL) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    path = tmp_path / "appended.pdf"
    path.write_bytes(out.getvalue())
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 1, result.output
    assert "The file was changed after its last signature." in result.output
    listed = pdfsig(path, platform_ca().pem(), tmp_path)
    assert listed.count("Not total document signed") == 4 and "Total document signed" not in listed


def test_a_signature_from_another_key_is_refused(app, client, login_en, mediation):
    m = mediation
    document = approved_agreement(m)
    login_en(client, m.claimant)
    client.post(f"/documents/{document.id}/code", json={})
    certified, other = BrowserKey(), BrowserKey()
    prepared = client.post(f"/documents/{document.id}/prepare", json={
        "code": last_code(m.claimant.contact), "public_key": certified.spki, "stamp": drawing(),
        "sha256": document.current_sha256}).get_json()
    resp = client.post(f"/documents/{document.id}/finish", json={"signature": other.sign(prepared["to_be_signed"])})
    assert resp.status_code == 422 and "does not match the key certified for you" in resp.get_json()["detail"]
    # Signing other bytes than the prepared ones with the right key is refused the same way.
    resp = client.post(f"/documents/{document.id}/finish",
                       json={"signature": certified.sign(base64.b64encode(b"something else").decode())})
    assert resp.status_code == 422
    db.session.expire_all()
    assert document.signers[0].status is SignerStatus.prepared
    assert document.current_sha256 == document.unsigned_sha256


@pytest.mark.parametrize("body, expected", [
    ({}, "Enter the code"),
    ({"code": "000000"}, "Wrong code"),
    ({"public_key": "not base64!"}, "not valid base64"),
    ({"public_key": base64.b64encode(b"\x30\x03\x02\x01\x01").decode()}, "not an ECDSA P-256 key"),
    ({"stamp": base64.b64encode(b"GIF89a....").decode()}, "must be a PNG image"),
    ({"stamp": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode()}, "cannot be read"),
    ({"stamp": "A" * 500_000}, "missing or too large"),
    ({"sha256": "0" * 64}, "changed since you opened it"),
])
def test_bad_prepare_requests_are_refused_with_a_reason(app, client, login_en, mediation, body, expected):
    """What was tried: no code, a wrong code, a key that is not base64, a key that is not P-256,
    a GIF instead of a PNG, a broken PNG, a 500 kB drawing, and a stale document hash."""
    m = mediation
    document = approved_agreement(m)
    login_en(client, m.claimant)
    assert client.post(f"/documents/{document.id}/code", json={}).status_code == 200
    request = {"public_key": BrowserKey().spki, "stamp": drawing(), "sha256": document.current_sha256,
               **({"code": last_code(m.claimant.contact)} if "code" not in body and body else {}), **body}
    if body == {}:
        request.pop("code", None)
    resp = client.post(f"/documents/{document.id}/prepare", json=request)
    assert resp.status_code in (409, 422) and expected in resp.get_json()["detail"], resp.get_json()
    assert resp.content_type == "application/problem+json"
    db.session.expire_all()
    assert document.signers[0].status is SignerStatus.pending and document.signers[0].cert_der is None


@pytest.mark.parametrize("payload", [None, "text", [], {"signature": 12}, {"signature": "x" * 5000}])
def test_malformed_json_is_refused(app, client, login_en, mediation, payload):
    m = mediation
    document = approved_agreement(m)
    login_en(client, m.claimant)
    for step in ("prepare", "finish"):
        if payload is None:
            resp = client.post(f"/documents/{document.id}/{step}", data="{not json", content_type="application/json")
        else:
            resp = client.post(f"/documents/{document.id}/{step}", json=payload)
        assert 400 <= resp.status_code < 500, (step, payload, resp.status_code)


def test_who_may_see_and_sign(app, client, login_en, mediation):
    m = mediation
    document = approved_agreement(m)
    path = f"/documents/{document.id}"
    for outsider in (m.outsider, m.other_mediator):
        login_en(client, outsider)
        assert client.get(path).status_code == 404
        assert client.get(f"{path}/file.pdf").status_code == 404
        assert client.get(f"{path}/page-1.png").status_code == 404
        assert client.post(f"{path}/code", json={}).status_code == 404
    login_en(client, m.staff)  # staff of the organisation may read it, not sign it
    assert client.get(path).status_code == 200
    resp = client.post(f"{path}/code", json={})
    assert resp.status_code == 409 and "not one of the signers" in resp.get_json()["detail"]
    client.post("/auth/logout")
    assert client.get(path).status_code in (302, 401)
    # A signer signs once.
    login_en(client, m.claimant)
    page = client.get(path).get_data(as_text=True)
    assert 'id="sign"' in page and document.current_sha256 in page
    assert client.get(f"{path}/page-1.png").content_type == "image/png"
    assert client.get(f"{path}/page-99.png").status_code == 404
    assert sign_via_http(client, document, m.claimant).status_code == 200
    again = client.post(f"{path}/code", json={})
    assert again.status_code == 409 and "already signed" in again.get_json()["detail"]
    assert 'id="sign"' not in client.get(path).get_data(as_text=True)


def test_the_second_of_two_concurrent_signers_signs_the_newer_file(app, client, login_en, mediation):
    m = mediation
    document = approved_agreement(m)
    path = f"/documents/{document.id}"
    # The respondent prepares first …
    login_en(client, m.respondent)
    client.post(f"{path}/code", json={})
    key = BrowserKey()
    stale = client.post(f"{path}/prepare", json={
        "code": last_code(m.respondent.contact), "public_key": key.spki, "stamp": drawing(),
        "sha256": document.current_sha256}).get_json()
    # … the claimant signs in between …
    login_en(client, m.claimant)
    assert sign_via_http(client, document, m.claimant).status_code == 200
    # … so the respondent's signature over the old file is refused with "retry".
    login_en(client, m.respondent)
    resp = client.post(f"{path}/finish", json={"signature": key.sign(stale["to_be_signed"])})
    assert resp.status_code == 409 and resp.get_json()["retry"] is True
    # The same key, already certified, prepares the newer file without a new code.
    fresh = client.post(f"{path}/prepare", json={"public_key": key.spki, "stamp": drawing(),
                                                 "sha256": document.unsigned_sha256}).get_json()
    assert client.post(f"{path}/finish", json={"signature": key.sign(fresh["to_be_signed"])}).status_code == 200
    # Another key without a code is not accepted.
    db.session.expire_all()
    assert [s.status for s in document.signers][:2] == [SignerStatus.signed, SignerStatus.signed]
    assert verify(storage.get(document.current_sha256), roots()).signatures[1].signer == "Li Si"


def test_an_expired_certificate_needs_a_new_code(app, client, login_en, mediation, clock):
    m = mediation
    document = approved_agreement(m)
    path = f"/documents/{document.id}"
    login_en(client, m.claimant)
    client.post(f"{path}/code", json={})
    key = BrowserKey()
    prepared = client.post(f"{path}/prepare", json={
        "code": last_code(m.claimant.contact), "public_key": key.spki, "stamp": drawing(),
        "sha256": document.current_sha256}).get_json()
    clock.advance(minutes=31)
    resp = client.post(f"{path}/finish", json={"signature": key.sign(prepared["to_be_signed"])})
    assert resp.status_code == 409 and "expired" in resp.get_json()["detail"]
    resp = client.post(f"{path}/prepare", json={"public_key": key.spki, "stamp": drawing(),
                                                "sha256": document.current_sha256})
    assert resp.status_code == 422 and "Enter the code" in resp.get_json()["detail"]


def test_changing_the_text_after_someone_signed_starts_a_new_version(app, client, login_en, mediation):
    m = mediation
    document = approved_agreement(m)
    login_en(client, m.claimant)
    assert sign_via_http(client, document, m.claimant).status_code == 200
    outcome = outcomes.current_document(m.case, AGREEMENT)
    with pytest.raises(outcomes.InvalidDocument):
        outcomes.save(m.case, AGREEMENT, m.mediator, agreement_texts(m))  # a reason is required
    db.session.rollback()
    new = outcomes.save(m.case, AGREEMENT, m.mediator, agreement_texts(m), reason="The payment date was wrong.")
    db.session.commit()
    db.session.expire_all()
    assert new.version == outcome.version + 1 and new.status is OutcomeStatus.draft
    assert outcome.status is OutcomeStatus.superseded
    old = db.session.get(SignedDocument, document.id)
    assert old.status is SigningStatus.superseded and "The payment date was wrong." in old.superseded_reason
    event = db.session.scalar(sa.select(Event).where(Event.action == "document_superseded"))
    assert event.payload["signed_by"] == ["claimant"] and "payment date" in event.payload["reason"]
    # Signing the superseded version is refused.
    login_en(client, m.respondent)
    resp = client.post(f"/documents/{document.id}/code", json={})
    assert resp.status_code == 409 and "replaced by a newer one" in resp.get_json()["detail"]
    # The new version is approved and signed from the start, as version 2.
    outcomes.send(new, m.case, m.mediator)
    outcomes.answer(new, m.case, m.claimant, approve=True)
    outcomes.answer(new, m.case, m.respondent, approve=True)
    db.session.commit()
    second = signing.signed_document(new)
    assert second.version == 2 and all(s.status is SignerStatus.pending for s in second.signers)


def test_a_complete_document_cannot_change(app, client, login_en, mediation):
    m = mediation
    document = sign_all(client, login_en, m, approved_agreement(m))
    with pytest.raises(signing_ops.SigningError):
        signing_ops.supersede(document, m.mediator, "try")
    login_en(client, m.mediator)
    assert client.get(f"/mediate/{m.case.number}/outcome/agreement/edit").status_code in (404, 409)


def test_a_crash_while_sealing_leaves_the_previous_file_current(app, client, login_en, mediation, monkeypatch):
    m = mediation
    document = approved_agreement(m)
    for user in (m.claimant, m.respondent):
        login_en(client, user)
        assert sign_via_http(client, document, user).status_code == 200
    db.session.expire_all()
    before = document.current_sha256

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")
    monkeypatch.setattr(pades, "seal", crash)
    login_en(client, m.mediator)
    resp = sign_via_http(client, document, m.mediator)
    assert resp.status_code == 500
    db.session.expire_all()
    assert document.current_sha256 == before and document.status is SigningStatus.signing
    assert document.signers[2].status is SignerStatus.prepared  # the mediator's signature did not land
    assert actions(m.case).count("document_signed") == 2
    report = verify(storage.get(before), roots())  # the two signatures that landed
    assert [s.signer for s in report.signatures] == ["Zhang San", "Li Si"] and report.ok
