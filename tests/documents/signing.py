"""Signing as a browser would, from the tests: a fresh ECDSA P-256 key per signature, the public
key as SPKI, a drawn signature as PNG, the signature as WebCrypto returns it (r ‖ s) — through
the real HTTP endpoints of the document page."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from odr.documents.models import SignedDocument
from odr.extensions import db
from odr.mediate.models import OutcomeKind
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import signing as outcome_signing
from odr.outbox import OutboxMessage


def drawing() -> str:
    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 100), (80, 20), (150, 90), (220, 30), (290, 80)], fill="navy", width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


class BrowserKey:
    """A signer's key as the browser holds it."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())

    @property
    def spki(self) -> str:
        return base64.b64encode(self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()

    def sign(self, to_be_signed_b64: str) -> str:
        der = self.key.sign(base64.b64decode(to_be_signed_b64), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def last_code(contact: str) -> str:
    body = db.session.scalar(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == contact)
                             .order_by(OutboxMessage.id.desc()).limit(1))
    return re.findall(r"(?<![\d-])(\d{6})(?!\d)", body)[-1]  # not the case number (ODR-2026-000001)



def sign_via_http(client, document, user, key: BrowserKey | None = None, stamp: str | None = None):
    """Code → prepare → sign → finish, as static/sign.js does; returns the finish response."""
    key = key or BrowserKey()
    url = f"/documents/{document.id}"
    resp = client.post(f"{url}/code", json={})
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    prepared = client.post(f"{url}/prepare", json={
        "code": last_code(user.contact), "public_key": key.spki, "stamp": stamp or drawing(),
        "sha256": document.current_sha256})
    assert prepared.status_code == 200, prepared.get_json()
    return client.post(f"{url}/finish", json={"signature": key.sign(prepared.get_json()["to_be_signed"])})


def pdfsig(path, ca_pem: bytes, tmp_path) -> str:
    """poppler's pdfsig output for ``path``, with the platform CA trusted through an NSS database."""
    nss = tmp_path / "nss"
    if not nss.exists():
        nss.mkdir()
        (tmp_path / "ca.pem").write_bytes(ca_pem)
        subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
        subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "odr", "-t", "C,C,C", "-i",
                        str(tmp_path / "ca.pem")], check=True)
    assert shutil.which("pdfsig"), "poppler-utils is installed by scripts/install-system-deps"
    return subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True).stdout


def sign_all(client, login, m, document):
    """Every signer of a mediation document signs it (claimant, respondent, mediator); returns it fresh."""
    from odr.documents.models import SignedDocument
    users = {u.id: u for u in (m.claimant, m.respondent, m.mediator)}
    for signer in document.signers:
        user = users[signer.user_id]
        login(client, user)
        resp = sign_via_http(client, document, user)
        assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    return db.session.get(SignedDocument, document.id)


def sign_in_process(document, user, key: BrowserKey | None = None):
    """``user`` signs ``document`` through the operations the signing endpoints call (no HTTP), in the
    caller's transaction: for tests whose subject is what comes after a signature."""
    from odr.documents import operations as signing
    key = key or BrowserKey()
    signing.send_code(document, user)
    db.session.flush()
    prepared = signing.prepare(document, user, public_key=key.spki, stamp=drawing(),
                               viewed_sha256=document.current_sha256, code=last_code(user.contact))
    return signing.finish(document, user, signature=key.sign(base64.b64encode(prepared.to_be_signed).decode()))


def approved_agreement(m) -> SignedDocument:
    """Draft, send and approve the agreement in operations; return its signing version."""
    doc = outcomes.save(m.case, OutcomeKind.agreement, m.mediator, agreement_texts(m), amount=None)
    outcomes.send(doc, m.case, m.mediator)
    outcomes.answer(doc, m.case, m.claimant, approve=True)
    outcomes.answer(doc, m.case, m.respondent, approve=True)
    db.session.commit()
    return outcome_signing.signed_document(doc)


def agreement_texts(m):
    content = outcomes.draft_content(m.case, OutcomeKind.agreement, "en")
    return {s["id"]: s["text"] or "Agreed." for s in content["sections"]}
