"""Signing a document version: who signs, the two steps of each signature, the seal, new versions.

The rules:

- A version is signed by everyone listed when it is put up for signing, each with a key made in
  their own browser for this one signature, after confirming a one-time code; then the platform
  seals it and it is **complete** and immutable.
- Everyone signs the same version. A change to the text after someone signed starts a new
  version; the old one is **superseded** with the reason in the audit trail and its signatures
  count for nothing.
- Signatures are incremental updates of one file. Two people signing at the same moment cannot
  both build on the same file: the second to finish is asked to sign the newer file (their
  certificate still holds, so the browser does this without a new code).
- Each completed step — a certificate issued, a signature added, the seal — is one transaction
  with its audit entry.

Features register the kinds of document they put up (:func:`register_kind`, from their
``init_app``) with what happens when one is complete, and put one up with :func:`start`; this
package does not depend on them. pyHanko (:mod:`.pades`) is
imported when a signature is first made, not when the app starts.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.auth import operations as auth_ops
from odr.cases import audit
from odr.cases.models import Case
from odr.documents import storage
from odr.documents.ca import KeyMismatch, load_public_key, platform_ca
from odr.documents.cms import SIGNER_SERIAL_PREFIX
from odr.documents.models import DocumentSigner, SignedDocument, SignerStatus, SigningStatus
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Largest drawn signature accepted, in bytes of PNG.
STAMP_MAX_BYTES = 300 * 1024
STAMP_MAX_PIXELS = 2000 * 2000


class SigningError(Refused):
    """A signing step refused with a reason (403/409-type: not yours, not now)."""


class BadSignatureInput(SigningError):
    """What the browser sent is malformed or does not match (422)."""

    status = 422


class StaleDocument(SigningError):
    """Someone else signed first; the signer must sign the newer file (409, retry)."""


class IdentityNeeded(SigningError):
    """The signer is not verified to the level this kind of document requires (403); the page
    links to where they verify."""

    status = 403


@dataclass(frozen=True)
class SignerIdentity:
    """Who a signer is, as the identity feature knows it: the level of assurance (``none``,
    ``oidc``, ``counter`` …), whether it meets what was asked, and the verified legal name."""

    level: str
    satisfies: bool
    legal_name: str | None = None


#: The signer roles an identity requirement applies to: the parties (a mediator or an arbitrator
#: signs as the centre's appointee, known to it).
PARTY_ROLES = frozenset({"claimant", "respondent"})
#: What each kind of document requires of its parties' identity (a level name; ``none``: nothing).
REQUIRED_IDENTITY: dict[str, str] = {}
#: ``identity_of(user, required_level) -> SignerIdentity``: handed in by ``odr.identity`` when it
#: plugs in (it is a feature, above this package).
_identity_of: Callable[[object, str], SignerIdentity] | None = None


def set_identity_source(identity_of: Callable[[object, str], SignerIdentity]) -> None:
    global _identity_of
    _identity_of = identity_of


def has_identity_source() -> bool:
    return _identity_of is not None


@dataclass(frozen=True)
class IdNumber:
    """A resident ID number checked in person, as it is kept: shown masked, stored encrypted, found
    again by its keyed digest (how ``odr.identity`` keeps the numbers of verified accounts)."""

    masked: str
    encrypted: str
    digest: str


#: ``protect(raw) -> IdNumber``, refusing an invalid number (:class:`odr.refusal.Refused` with the
#: reason): handed in by ``odr.identity`` when it plugs in, so a feature that checks an ID card on
#: the spot (``odr.field``) validates and stores the number as identity does without importing it.
_protect_id_number: Callable[[str], IdNumber] | None = None


def set_id_number_source(protect: Callable[[str], IdNumber]) -> None:
    global _protect_id_number
    _protect_id_number = protect


def protect_id_number(raw: str) -> IdNumber:
    """The ID number a signer showed in person, validated and ready to keep.

    :raise BadSignatureInput: not a valid resident ID number (the reason says what is wrong).
    :raise SigningError: no identity feature to check numbers with.
    """
    if _protect_id_number is None:
        raise SigningError(_l("ID numbers cannot be checked on this platform."))
    try:
        return _protect_id_number(str(raw or "")[:40])
    except Refused as exc:
        raise BadSignatureInput(exc.reason) from None


def signer_identity(document: SignedDocument, user, role: str | None = None) -> SignerIdentity:
    """The signer's identity against what ``document``'s kind requires of them."""
    required = REQUIRED_IDENTITY.get(document.kind, "none") if role in PARTY_ROLES else "none"
    if _identity_of is None:
        return SignerIdentity("none", required == "none")
    found = _identity_of(user, required)
    if not current_app.config.get("IDENTITY_REQUIRED_FOR_SIGNING", True):
        return SignerIdentity(found.level, True, found.legal_name)
    return found


#: The kinds of document that may be put up for signing, each with what happens, in the sealing
#: transaction, when one is complete (``None``: nothing more than the seal). Features register
#: theirs from their ``init_app`` (:func:`register_kind`); :func:`start` refuses any other kind.
KINDS: dict[str, Callable[[SignedDocument], None] | None] = {}
#: Kinds signed only on one device by people present, through their feature's own steps
#: (:func:`prepare_signer`, :func:`finish_signer`): never through the ordinary signing page.
ON_SITE_KINDS: set[str] = set()


def register_kind(kind: str, on_complete: Callable[[SignedDocument], None] | None, *,
                  identity: str = "none", on_site: bool = False) -> None:
    """Allow documents of ``kind``, and run ``on_complete(document)`` when one is sealed.

    ``identity``: the level of assurance the parties who sign it must be verified to
    (``oidc``: by an identity provider or better; ``counter``: in person). ``on_site``: signed
    on the device of the person who checked each signer's identity in person (``odr.field``),
    which authorises each signature itself; the ordinary signing steps refuse it.
    """
    KINDS[kind] = on_complete
    REQUIRED_IDENTITY[kind] = identity
    if on_site:
        ON_SITE_KINDS.add(kind)
    else:
        ON_SITE_KINDS.discard(kind)


def signing_purpose(document: SignedDocument) -> str:
    return f"sign:{document.id}"


# --- putting a version up for signing -------------------------------------------------------

def current(case: Case, kind: str) -> SignedDocument | None:
    """The newest version of this kind of document that is not superseded."""
    return db.session.scalar(
        sa.select(SignedDocument).where(SignedDocument.case_id == case.id, SignedDocument.kind == kind,
                                        SignedDocument.status != SigningStatus.superseded)
        .order_by(SignedDocument.version.desc()).limit(1))


def start(case: Case, actor, *, kind: str, subject: str, title: str, lang: str, pdf: bytes,
          signers: list[tuple], reason: str = "") -> SignedDocument:
    """Put ``pdf`` up for signing by ``signers`` — ``(user, role, printed name)`` in stamp order.

    A version of the same kind still collecting signatures is superseded (``reason`` says why);
    a complete one cannot be replaced.

    :raise SigningError: a complete version exists, or nobody is to sign.
    :raise LookupError: no feature registered ``kind`` (a wiring mistake, not a person's).
    """
    if kind not in KINDS:
        raise LookupError(f"no feature registered the document kind {kind!r}")
    if not signers:
        raise SigningError(_l("Nobody is listed to sign this document."))
    previous = current(case, kind)
    if previous is not None and previous.status is SigningStatus.complete:
        raise SigningError(_l("This document is already signed by everyone; a signed version cannot be replaced."))
    if previous is not None:
        supersede(previous, actor, reason or _("A new version was drawn up."))
    last_version = db.session.scalar(sa.select(sa.func.max(SignedDocument.version)).where(
        SignedDocument.case_id == case.id, SignedDocument.kind == kind)) or 0
    sha = storage.put(pdf)
    document = SignedDocument(case_id=case.id, kind=kind, subject=subject, version=last_version + 1,
                              title=title[:200], lang=lang, unsigned_sha256=sha, current_sha256=sha,
                              created_at=utcnow())
    for position, (user, role, name) in enumerate(signers):
        document.signers.append(DocumentSigner(position=position, user_id=user.id, role=role, name=name[:200]))
    db.session.add(document)
    db.session.flush()
    audit.record(case, actor, "document_put_up_for_signing", {
        "document": document.id, "kind": kind, "version": document.version, "sha256": sha,
        "signers": [{"user": user.id, "role": role} for user, role, _name in signers]})
    logger.info("Case %s: %s v%s put up for signing by %d people", case, kind, document.version, len(signers))
    return document


def supersede(document: SignedDocument, actor, reason: str) -> None:
    """Retire a version that is still collecting signatures, saying why.

    :raise SigningError: the version is complete (immutable).
    """
    if document.status is SigningStatus.complete:
        raise SigningError(_l("This document is already signed by everyone; a signed version cannot be replaced."))
    if document.status is SigningStatus.superseded:
        return
    document.status = SigningStatus.superseded
    document.superseded_reason = reason[:1000]
    audit.record(document.case, actor, "document_superseded", {
        "document": document.id, "kind": document.kind, "version": document.version,
        "signed_by": [s.role for s in document.signers if s.status is SignerStatus.signed],
        "reason": reason[:1000]})


# --- one person's signature -----------------------------------------------------------------

def _signer(document: SignedDocument, user) -> DocumentSigner:
    if document.status is SigningStatus.superseded:
        raise SigningError(_l("This version was replaced by a newer one; sign the newer version."))
    if document.status is SigningStatus.complete:
        raise SigningError(_l("This document is already signed by everyone."))
    if document.kind in ON_SITE_KINDS:
        raise SigningError(_l("This document is signed on site, on the device of the worker who checked each "
                              "signer's identity."))
    signer = document.signer_for(user)
    if signer is None:
        raise SigningError(_l("You are not one of the signers of this document."))
    if signer.status is SignerStatus.signed:
        raise SigningError(_l("You have already signed this document."))
    if not signer_identity(document, user, signer.role).satisfies:
        raise IdentityNeeded(_l("This document may only be signed by a party whose identity is verified. "
                                "Verify your identity first, then sign."))
    return signer


def _signing_inputs(document: SignedDocument, viewed_sha256: str, public_key: str, stamp: str) -> tuple[bytes, bytes]:
    """The browser's public key (DER) and drawn stamp (PNG), checked, for the version it viewed.

    :raise SigningError: the document changed since it was viewed.
    :raise BadSignatureInput: the key or the stamp is not acceptable.
    """
    if viewed_sha256 not in document.known_files:
        raise SigningError(_l("The document changed since you opened it. Reload the page and read it again."))
    key_der = _b64(public_key, _("The public key"), 1024)
    try:
        load_public_key(key_der)
    except KeyMismatch:
        raise BadSignatureInput(_l("The public key is not an ECDSA P-256 key.")) from None
    return key_der, _check_stamp(_b64(stamp, _("The drawn signature"), STAMP_MAX_BYTES))


def signed_name(signer: DocumentSigner, user) -> str:
    """The name a signature certifies and shows: the signer's, or "agent for party" when the party's
    agent signs for them: "王律师（代张三）" (the agent's own key, certificate and one-time code)."""
    if signer.user_id == user.id:
        return signer.name
    return f"{user.name}（代{signer.name}）"[:200]


def send_code(document: SignedDocument, user) -> str:
    """Send the signer a one-time code that confirms it is them; returns where it went."""
    _signer(document, user)
    if not user.contact:
        raise SigningError(_l("Your account has no phone number or e-mail address for the code."))
    try:
        auth_ops.send_code(user.contact, signing_purpose(document),
                           subject=_("Code to sign %(title)s", title=document.title),
                           reason=_("You asked to sign %(title)s of case %(number)s.",
                                    title=document.title, number=document.case.number))
    except auth_ops.AuthError as exc:
        raise SigningError(exc.reason) from None
    audit.record(document.case, user, "signing_code_sent", {"document": document.id, "version": document.version})
    return user.contact


def _b64(value, what: str, max_bytes: int) -> bytes:
    if not isinstance(value, str) or not value or len(value) > max_bytes * 4 // 3 + 8:
        raise BadSignatureInput(_l("%(what)s is missing or too large.", what=what))
    if value.startswith("data:"):
        value = value.split(",", 1)[-1]
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise BadSignatureInput(_l("%(what)s is not valid base64.", what=what)) from None


def _check_stamp(png: bytes) -> bytes:
    """The drawn signature: a PNG of sane size that decodes."""
    from PIL import Image, UnidentifiedImageError
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise BadSignatureInput(_l("The drawn signature must be a PNG image."))
    try:
        image = Image.open(io.BytesIO(png))
        if image.width * image.height > STAMP_MAX_PIXELS or image.width < 10 or image.height < 10:
            raise BadSignatureInput(_l("The drawn signature image has an unusable size."))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise BadSignatureInput(_l("The drawn signature image cannot be read.")) from None
    return png


def prepare(document: SignedDocument, user, *, public_key: str, stamp: str, viewed_sha256: str,
            code: str | None = None) -> DocumentSigner:
    """Step 1: certify the browser's key and prepare the document for its signature.

    ``code`` is the one-time code; without one, the browser may only continue with the key
    certified earlier (after another signer got in first), while that certificate is valid.

    :raise BadSignatureInput: malformed key or drawing, wrong code.
    :raise SigningError: not a signer, already signed, document changed since viewed.
    """
    from odr.documents import pades

    signer = _signer(document, user)
    key_der, png = _signing_inputs(document, viewed_sha256, public_key, stamp)
    ca = platform_ca()
    now = utcnow()
    if code:
        try:
            auth_ops.check_code(user.contact, str(code)[:12], signing_purpose(document))
        except auth_ops.AuthError as exc:
            # The attempt counts even though the request is refused.
            db.session.commit()
            raise BadSignatureInput(exc.reason) from None
        minutes = current_app.config["SIGNING_CERT_MINUTES"]
        identity = signer_identity(document, user, signer.role)
        cert = ca.issue_signer(key_der, name=signed_name(signer, user), user_ref=f"{SIGNER_SERIAL_PREFIX}{user.id}",
                               case_number=document.case.number, minutes=minutes,
                               verified_name=identity.legal_name, assurance=identity.level)
        signer.public_key = key_der
        signer.cert_der = cert.public_bytes(Encoding.DER)
        signer.cert_expires_at = now + timedelta(minutes=minutes)
        audit.record(document.case, user, "signing_certificate_issued", {
            "document": document.id, "version": document.version, "role": signer.role,
            "serial": format(cert.serial_number, "x"), "expires_at": signer.cert_expires_at.isoformat(),
            "identity": identity.level})
    elif signer.public_key != key_der or signer.cert_der is None or signer.cert_expires_at is None \
            or signer.cert_expires_at <= now + timedelta(minutes=1):
        raise BadSignatureInput(_l("Enter the code we sent you to confirm it is you."))
    else:
        cert = x509.load_der_x509_certificate(signer.cert_der)
    return _prepare_pdf(document, signer, cert, png, signed_name(signer, user))


def _prepare_pdf(document: SignedDocument, signer: DocumentSigner, cert, png: bytes, shown_name: str) -> DocumentSigner:
    from odr.documents import pades

    ca = platform_ca()
    try:
        prepared = pades.prepare(storage.get(document.current_sha256), cert, ca,
                                 field_name=f"Signer{signer.position + 1}",
                                 stamp=pades.Stamp(png, shown_name,
                                                   current_app.config["BABEL_DEFAULT_TIMEZONE"]),
                                 slot=signer.position)
    except pades.NotAPdf as exc:
        logger.error("Document %s cannot be prepared for signing: %s", document.id, exc)
        raise SigningError(_l("This document cannot be signed; the centre has been told.")) from None
    signer.base_sha256 = document.current_sha256
    signer.prepared_sha256 = storage.put(prepared.pdf)
    signer.to_be_signed = prepared.to_be_signed
    signer.document_digest = prepared.document_digest
    signer.reserved_start, signer.reserved_end = prepared.reserved_start, prepared.reserved_end
    signer.prepared_at = prepared.signed_at
    signer.status = SignerStatus.prepared
    return signer


def finish(document: SignedDocument, user, *, signature: str) -> SignedDocument:
    """Step 2: embed the browser's signature; when it is the last, seal the document.

    :raise BadSignatureInput: not a signature of the certified key over the prepared bytes.
    :raise StaleDocument: another signature was added since this one was prepared.
    :raise SigningError: not prepared, or the certificate expired meanwhile.
    """
    from odr.documents import pades

    # One signature at a time per document (PostgreSQL; SQLite serialises all writers).
    db.session.execute(sa.select(SignedDocument.id).where(SignedDocument.id == document.id).with_for_update())
    db.session.refresh(document)
    signer = _signer(document, user)
    return _finish_signature(document, signer, user, signature)


def _finish_signature(document: SignedDocument, signer: DocumentSigner, actor, signature: str) -> SignedDocument:
    from odr.documents import pades

    if signer.status is not SignerStatus.prepared or signer.to_be_signed is None:
        raise SigningError(_l("Start signing again: the document was not prepared for your signature."))
    if signer.base_sha256 != document.current_sha256:
        raise StaleDocument(_l("Someone else signed a moment ago; your signature is being added to the newer file."))
    if signer.cert_expires_at is None or signer.cert_expires_at <= utcnow():
        raise SigningError(_l("Your signing certificate has expired. Ask for a new code and sign again."))
    raw = _b64(signature, _("The signature"), 512)
    try:
        der = pades.raw_to_der(raw) if len(raw) == 64 else raw
        cert = x509.load_der_x509_certificate(signer.cert_der)
        prepared = pades.Prepared(pdf=storage.get(signer.prepared_sha256), to_be_signed=signer.to_be_signed,
                                  document_digest=signer.document_digest, reserved_start=signer.reserved_start,
                                  reserved_end=signer.reserved_end, signed_at=signer.prepared_at)
        signed = pades.finish(prepared, cert, platform_ca(), der, timestamper=timestamper())
    except (KeyMismatch, ValueError):
        raise BadSignatureInput(_l("The signature does not match the key certified for you. Start again.")) from None
    except OSError as exc:  # the timestamp authority did not answer (pyHanko's TimestampRequestError)
        logger.error("Timestamp authority failed while signing document %s: %s", document.id, exc)
        raise SigningError(_l("The timestamp service did not answer. Please try again in a minute.")) from None
    before = document.current_sha256
    sha = storage.put(signed)
    signer.status = SignerStatus.signed
    signer.signed_at = signer.prepared_at
    signer.signed_sha256 = sha
    signer.to_be_signed = signer.document_digest = None
    document.current_sha256 = sha
    audit.record(document.case, actor, "document_signed", {
        "document": document.id, "kind": document.kind, "version": document.version, "role": signer.role,
        "serial": format(cert.serial_number, "x"), "before_sha256": before, "sha256": sha})
    logger.info("Case %s: %s v%s signed by %s", document.case, document.kind, document.version, signer.role)
    if not document.waiting_for:
        _seal(document)
    return document


# --- signatures taken on site, on one device -------------------------------------------------

def _on_site_signer(document: SignedDocument, signer: DocumentSigner) -> DocumentSigner:
    if document.kind not in ON_SITE_KINDS or signer.document_id != document.id:
        raise SigningError(_l("You are not one of the signers of this document."))
    if document.status is SigningStatus.superseded:
        raise SigningError(_l("This version was replaced by a newer one; sign the newer version."))
    if document.status is SigningStatus.complete:
        raise SigningError(_l("This document is already signed by everyone."))
    if signer.status is SignerStatus.signed:
        raise SigningError(_l("This person has already signed this document."))
    return signer


def prepare_on_site(document: SignedDocument, signer: DocumentSigner, actor, *, public_key: str, stamp: str,
                    viewed_sha256: str, confirmed: bool, certified_name: str, user_ref: str,
                    assurance: str, checked_by: str) -> DocumentSigner:
    """Step 1 of a signature taken on the device of ``actor``, who checked the signer's identity
    in person and whose feature authorised this signature (``confirmed``: the signer's one-time
    confirmation was checked just now; without it only the key certified earlier may go on).

    The certificate names the signer (``certified_name``) and states how and by whom their identity
    was checked (``assurance``, ``checked_by``).
    """
    _on_site_signer(document, signer)
    key_der, png = _signing_inputs(document, viewed_sha256, public_key, stamp)
    now = utcnow()
    if confirmed:
        minutes = current_app.config["SIGNING_CERT_MINUTES"]
        cert = platform_ca().issue_signer(key_der, name=certified_name, user_ref=user_ref,
                                          case_number=document.case.number, minutes=minutes,
                                          verified_name=certified_name, assurance=assurance, checked_by=checked_by)
        signer.public_key = key_der
        signer.cert_der = cert.public_bytes(Encoding.DER)
        signer.cert_expires_at = now + timedelta(minutes=minutes)
        audit.record(document.case, actor, "signing_certificate_issued", {
            "document": document.id, "version": document.version, "role": signer.role,
            "serial": format(cert.serial_number, "x"), "expires_at": signer.cert_expires_at.isoformat(),
            "identity": assurance, "checked_by": checked_by})
    elif signer.public_key != key_der or signer.cert_der is None or signer.cert_expires_at is None \
            or signer.cert_expires_at <= now + timedelta(minutes=1):
        raise BadSignatureInput(_l("Enter the signer's one-time code."))
    else:
        cert = x509.load_der_x509_certificate(signer.cert_der)
    return _prepare_pdf(document, signer, cert, png, signer.name)


def finish_on_site(document: SignedDocument, signer: DocumentSigner, actor, *, signature: str) -> SignedDocument:
    """Step 2 of a signature taken on site (see :func:`finish`)."""
    db.session.execute(sa.select(SignedDocument.id).where(SignedDocument.id == document.id).with_for_update())
    db.session.refresh(document)
    db.session.refresh(signer)
    _on_site_signer(document, signer)
    return _finish_signature(document, signer, actor, signature)


def _seal(document: SignedDocument) -> None:
    from odr.documents import pades

    ca = platform_ca()
    stamper = timestamper()
    try:
        sealed = pades.seal(storage.get(document.current_sha256), ca.seal, ca, timestamper=stamper)
    except pades.NotAPdf as exc:
        raise SigningError(_l("The document could not be sealed; the centre has been told.")) from exc
    except OSError as exc:
        logger.error("Timestamp authority failed while sealing document %s: %s", document.id, exc)
        raise SigningError(_l("The timestamp service did not answer. Please try again in a minute.")) from None
    before = document.current_sha256
    document.current_sha256 = storage.put(sealed)
    document.status = SigningStatus.complete
    document.completed_at = utcnow()
    audit.record(document.case, None, "document_sealed", {
        "document": document.id, "kind": document.kind, "version": document.version,
        "before_sha256": before, "sha256": document.current_sha256,
        "level": "B-T + document timestamp" if stamper else "B-B"})
    on_complete = KINDS.get(document.kind)
    if on_complete is not None:
        on_complete(document)


def timestamper():
    """pyHanko's client of the configured RFC 3161 timestamp authority (``SIGNING_TSA_URL``), or ``None``."""
    url = current_app.config.get("SIGNING_TSA_URL")
    if not url:
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper
    return HTTPTimeStamper(url, timeout=10)
