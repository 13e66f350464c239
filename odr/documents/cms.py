"""Detached CMS signatures by the platform seal: what the court bundle's manifest and the audit
checkpoints are signed with, and how such a signature is checked.

Signing needs only asn1crypto and cryptography (``odr export`` must not load pyHanko's signers,
with their PDF and HTTP machinery, for one signature); a signature timestamp, when a timestamp
authority is configured, and checking use pyHanko.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timezone

#: The serialNumber prefix of the certificates the CA issues for one person's one signature
#: (:meth:`odr.documents.ca.PlatformCA.issue_signer`): trusted for documents, never for the seal's statements.
SIGNER_SERIAL_PREFIX = "odr-user-"


def sign_detached(data: bytes, timestamper=None) -> bytes:
    """A detached CMS (PKCS #7) signature of ``data`` by the platform seal, DER.

    The SignedData pyHanko's generic signer makes — signed attributes content type, algorithm
    protection (RFC 6211), message digest and ESS signing certificate v2; the seal's and the CA's
    certificates — built here with asn1crypto and signed with cryptography. The seal's key is
    ECDSA P-256 (:mod:`odr.documents.ca`). With a pyHanko ``timestamper`` the signature gets an
    RFC 3161 signature timestamp (unsigned attribute ``signature-time-stamp-token``, as CAdES-T).

    :raise OSError: the timestamp authority did not answer (pyHanko's ``TimestampRequestError``).
    """
    from asn1crypto import algos, cms
    from asn1crypto import tsp  # noqa: F401  (registers the signing_certificate_v2 attribute)
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from odr.documents.ca import platform_ca

    ca = platform_ca()
    seal = ca.seal.asn1_cert
    digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
    signature_algorithm = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "cms_algorithm_protection",
                          "values": [{"digest_algorithm": digest_algorithm,
                                      "signature_algorithm": signature_algorithm}]}),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(data).digest()]}),
        cms.CMSAttribute({"type": "signing_certificate_v2", "values": [{"certs": [{
            "cert_hash": hashlib.sha256(seal.dump()).digest(),
            "issuer_serial": {"issuer": [asn1_x509.GeneralName({"directory_name": seal.issuer})],
                              "serial_number": seal.serial_number}}]}]}),
    ])
    signature = ca.seal.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer = {
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {"issuer": seal.issuer,
                                                                  "serial_number": seal.serial_number}}),
        "digest_algorithm": digest_algorithm, "signed_attrs": signed_attrs,
        "signature_algorithm": signature_algorithm, "signature": signature,
    }
    if timestamper is not None:
        from odr.documents.pades import run_sync

        token = run_sync(timestamper.async_timestamp(hashlib.sha256(signature).digest(), "sha256"))
        signer["unsigned_attrs"] = cms.CMSAttributes([
            cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})])
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData({
        "version": "v1", "digest_algorithms": [digest_algorithm],
        "encap_content_info": {"content_type": "data"},
        "certificates": [seal, ca.ca.asn1_cert], "signer_infos": [cms.SignerInfo(signer)],
    })}).dump()


@dataclass
class Checked:
    """What checking a detached signature found: ``problem`` is ``None`` when it holds."""

    #: ``unreadable``, ``changed`` (the data or the signature), ``untrusted`` (not the platform
    #: seal certified by a trusted root), ``bad_timestamp`` (a timestamp that does not hold).
    problem: str | None
    #: The timestamp authority's time, when the signature carries a timestamp that holds.
    timestamp: datetime | None = None


def check_detached(data: bytes, signature: bytes, roots, *, seal_only: bool = True) -> Checked:
    """Check a detached CMS ``signature`` of ``data`` against the trust ``roots`` (asn1crypto
    certificates), and its signature timestamp if it has one. ``seal_only``: a certificate the CA
    issued for one person's signature (the parties hold such keys) is not the platform seal."""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    from odr.documents.pades import run_sync

    try:
        signed_data = cms.ContentInfo.load(signature)["content"]
        status = run_sync(async_validate_detached_cms(
            io.BytesIO(data), signed_data,
            signer_validation_context=ValidationContext(trust_roots=list(roots), allow_fetching=False)))
    except (ValueError, KeyError, TypeError, AttributeError):
        return Checked("unreadable")
    if not status.intact or not status.valid:
        return Checked("changed")
    if not status.trusted:
        return Checked("untrusted")
    if seal_only and _issued_for_a_signature(status.signing_cert):
        return Checked("untrusted")
    stamp = status.timestamp_validity
    if stamp is not None:
        if not (stamp.intact and stamp.valid and stamp.trusted):
            return Checked("bad_timestamp")
        return Checked(None, stamp.timestamp.astimezone(timezone.utc).replace(tzinfo=None))
    return Checked(None)


def _issued_for_a_signature(cert) -> bool:
    serial = cert.subject.native.get("serial_number") or ""
    return str(serial).startswith(SIGNER_SERIAL_PREFIX)


def timestamp_of(signature: bytes) -> datetime | None:
    """The time the signature timestamp in a detached CMS ``signature`` states (read, not checked)."""
    from asn1crypto import cms

    try:
        signer = cms.ContentInfo.load(signature)["content"]["signer_infos"][0]
        for attr in signer["unsigned_attrs"] or []:
            if attr["type"].native == "signature_time_stamp_token":
                info = attr["values"][0]["content"]["encap_content_info"]["content"].parsed
                return info["gen_time"].native.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    return None
