"""Fixtures of the document tests: a real RFC 3161 timestamp authority on loopback (``tsa_url``),
and a signed agreement's bytes (``signed``)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from asn1crypto import keys, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from odr.documents import storage
from odr.documents.ca import platform_ca, to_asn1
from odr.timeutil import utcnow
from tests.documents.signing import approved_agreement, sign_all


@pytest.fixture
def tsa_url(app):
    ca = platform_ca()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ODR Test TSA")]))
            .issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca.ca.key, hashes.SHA256()))
    stamper = DummyTimeStamper(
        tsa_cert=to_asn1(cert),
        tsa_key=keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        certs_to_embed=SimpleCertificateStore.from_certs([ca.ca.asn1_cert]))

    @Request.application
    def tsa(request):
        reply = stamper.request_tsa_response(tsp.TimeStampReq.load(request.get_data()))
        return Response(reply.dump(), content_type="application/timestamp-reply")

    server = make_server("127.0.0.1", 0, tsa, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["SIGNING_TSA_URL"] = f"http://127.0.0.1:{server.server_port}/tsa"
    yield app.config["SIGNING_TSA_URL"]
    app.config["SIGNING_TSA_URL"] = None
    server.shutdown()


@pytest.fixture
def signed(app, client, login, mediation):
    document = sign_all(client, login, mediation, approved_agreement(mediation))
    client.post("/auth/logout")
    return storage.get(document.current_sha256)
