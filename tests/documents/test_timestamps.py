"""With a timestamp authority configured, every signature and the seal is timestamped and the sealed file gets a
document timestamp (PAdES B-T, then a document timestamp over everything); ``odr verify`` trusts both through the platform CA.

The authority is a real RFC 3161 server over HTTP on loopback: pyHanko's test timestamper
(RSA, certificate issued by the platform CA with the timeStamping purpose) behind a tiny WSGI
app, reached by the same HTTP client production uses.
"""

from __future__ import annotations



from odr.cases.models import Event
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.verify import verify
from odr.extensions import db
from tests.documents.signing import sign_all, sign_via_http
from tests.documents.signing import approved_agreement


def test_the_seal_is_timestamped_and_the_file_gets_a_document_timestamp(app, client, login, mediation, tsa_url):
    document = sign_all(client, login, mediation, approved_agreement(mediation))
    report = verify(storage.get(document.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok, report.lines()
    kinds = [(s.kind, s.time_source) for s in report.signatures]
    assert kinds == [("signature", "timestamp")] * 3 + [("seal", "timestamp"), ("timestamp", "timestamp")]
    assert report.signatures[-1].trusted and report.signatures[-1].whole_document
    sealed = db.session.query(Event).filter_by(action="document_sealed").one()
    assert sealed.payload["level"] == "B-T + document timestamp"


def test_an_unreachable_authority_refuses_the_signature_and_changes_nothing(app, client, login_en, mediation):
    document = approved_agreement(mediation)
    app.config["SIGNING_TSA_URL"] = f"http://127.0.0.1:{_closed_port()}/tsa"
    try:
        login_en(client, mediation.claimant)
        resp = sign_via_http(client, document, mediation.claimant)
    finally:
        app.config["SIGNING_TSA_URL"] = None
    assert resp.status_code == 409 and "timestamp service did not answer" in resp.get_json()["detail"]
    db.session.expire_all()
    assert document.current_sha256 == document.unsigned_sha256
    assert db.session.query(Event).filter_by(action="document_signed").count() == 0


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there
