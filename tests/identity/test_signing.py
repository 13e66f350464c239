"""Documents that need verified parties: signing is refused until the party is verified, with a
link to verify; then the signing certificate carries the verified name and the level of assurance,
and pyHanko (``odr verify``, ``/verify``) and poppler's ``pdfsig`` read them from the PDF."""

import pytest
import sqlalchemy as sa

from odr.court.complaint import KIND as COMPLAINT
from odr.documents import operations as signing
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.extensions import db
from odr.identity import operations as identity
from tests.documents.signing import BrowserKey, approved_agreement, drawing, last_code, pdfsig, sign_via_http


@pytest.fixture
def enforced(app):
    app.config["IDENTITY_REQUIRED_FOR_SIGNING"] = True
    yield
    app.config["IDENTITY_REQUIRED_FOR_SIGNING"] = False


@pytest.fixture
def complaint(app, mediation, enforced):
    """A document of a kind that requires verified parties, to be signed by both of them."""
    pdf = storage.get(approved_agreement(mediation).unsigned_sha256)
    m = mediation
    document = signing.start(m.case, m.staff, kind=COMPLAINT, subject="", title="Complaint", lang="en", pdf=pdf,
                             signers=[(m.claimant, "claimant", m.claimant.name),
                                      (m.respondent, "respondent", m.respondent.name)])
    db.session.commit()
    return document


def test_the_kinds_state_what_they_require(app):
    assert signing.REQUIRED_IDENTITY[COMPLAINT] == "oidc"
    assert signing.REQUIRED_IDENTITY["arbitration_agreement"] == "oidc"
    assert signing.REQUIRED_IDENTITY["judicial_confirmation"] == "oidc"
    assert signing.REQUIRED_IDENTITY["arbitral_award"] == "oidc"


def test_an_unverified_party_is_refused_with_a_link_to_verify(app, client, login_en, mediation, complaint):
    login_en(client, mediation.claimant)
    page = client.get(f"/documents/{complaint.id}")
    assert page.status_code == 200
    assert 'id="identity-needed"' in page.text and 'id="sign"' not in page.text
    assert "/identity/?next=" in page.text
    resp = client.post(f"/documents/{complaint.id}/code", json={})
    assert resp.status_code == 403
    body = resp.get_json()
    assert "identity is verified" in body["detail"] and body["verify"].startswith("/identity/")
    key = BrowserKey()
    resp = client.post(f"/documents/{complaint.id}/prepare", json={
        "code": "123456", "public_key": key.spki, "stamp": drawing(), "sha256": complaint.current_sha256})
    assert resp.status_code == 403
    db.session.expire_all()
    assert all(s.cert_der is None for s in db.session.get(SignedDocument, complaint.id).signers)


def test_the_certificate_carries_the_verified_name_and_level(app, client, login_en, mediation, complaint,
                                                             tmp_path, runner):
    m = mediation
    identity.verify_at_counter(m.staff, m.case, m.case.claimant, legal_name="张三丰",
                               id_number="11010519491231002X", card_checked=True)
    db.session.commit()
    login_en(client, m.claimant)
    assert 'id="sign"' in client.get(f"/documents/{complaint.id}").text
    resp = sign_via_http(client, complaint, m.claimant)
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    document = db.session.get(SignedDocument, complaint.id)
    pdf = storage.get(document.current_sha256)

    from odr.documents.verify import verify
    report = verify(pdf, [platform_ca().ca.asn1_cert])
    signature = report.signatures[0]
    assert signature.signer == "张三丰" and signature.identity == "counter" and signature.trusted
    assert "identity:counter" in signature.subject

    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    out = runner.invoke(args=["verify", str(path)])
    assert "by 张三丰" in out.output
    assert "identity: verified in person (ID card checked at a counter) (counter)" in out.output

    page = client.post("/verify", data={"file": (path.open("rb"), "signed.pdf")}, content_type="multipart/form-data")
    assert page.status_code == 200
    assert "张三丰" in page.text and 'data-level="counter"' in page.text
    assert "verified in person (ID card checked at a counter)" in page.text

    text = pdfsig(path, platform_ca().pem(), tmp_path)
    assert "Signer Certificate Common Name: 张三丰" in text
    assert "OU=identity:counter" in text

    # the audit entry of the certificate names the level
    from odr.cases.models import Event
    event = db.session.scalar(sa.select(Event).where(Event.action == "signing_certificate_issued",
                                                     Event.case_id == m.case.id))
    assert event.payload["identity"] == "counter"


def test_an_unverified_signer_of_a_kind_without_requirement_is_stated_as_not_verified(app, client, login_en, mediation):
    document = approved_agreement(mediation)
    login_en(client, mediation.claimant)
    assert sign_via_http(client, document, mediation.claimant).status_code == 200
    db.session.expire_all()
    from odr.documents.verify import verify
    report = verify(storage.get(db.session.get(SignedDocument, document.id).current_sha256),
                    [platform_ca().ca.asn1_cert])
    assert report.signatures[0].signer == "Zhang San" and report.signatures[0].identity == "none"
