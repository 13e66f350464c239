"""The platform's certificate authority: it vouches for each signer's key and seals finished documents.

Each signer's key is made in their own browser and never leaves it. After the signer confirms
their identity with a one-time code, the CA issues a **short-lived certificate** for that key
naming the signer and the case (``SIGNING_CERT_MINUTES``, default 30): long enough to sign, too
short to be worth stealing. The CA also issues the platform's **seal** certificate, with which the
platform adds the last signature to a finished document.

Where the keys come from:

- embedded default: created on first use under ``<instance>/signing/`` (private keys readable by
  the owner only) and kept there;
- production: ``SIGNING_CA_PKCS12`` (+ ``SIGNING_CA_PASSWORD``) names the CA's key and certificate,
  and ``SIGNING_SEAL_PKCS12`` (+ ``SIGNING_SEAL_PASSWORD``) may name the seal's; without it a seal
  key is made and kept in the instance folder as above.

Courts trust documents by trusting the CA certificate, which ``/documents/ca`` publishes.
Everything is ECDSA P-256 with SHA-256: what WebCrypto offers on every phone browser.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import current_app

from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

CA_NAME = "ODR Platform Signing CA"
SEAL_NAME = "ODR Platform Seal"
#: How far back a certificate's validity starts, for clocks that run a little behind ours.
CLOCK_SKEW = timedelta(minutes=5)


class KeyMismatch(ValueError):
    """A public key that is not an ECDSA P-256 key, or a signature its key did not make."""


@dataclass(frozen=True)
class KeyPair:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return to_asn1(self.cert)

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The certificate as pyHanko's ASN.1 library wants it."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


#: How a signer certificate's subject states the signer's level of identity assurance (an OU).
ASSURANCE_PREFIX = "identity:"
#: How it names the person who checked the signer's identity in person (a grid worker on site).
CHECKED_BY_PREFIX = "checked in person by:"


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, as colon-separated hex (how browsers and Acrobat show it)."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _name(common_name: str, **extra) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
    if extra.get("serial"):
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, extra["serial"][:64]))
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, extra.get("organization") or "ODR"))
    if extra.get("unit"):
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, extra["unit"][:64]))
    if extra.get("assurance"):
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{ASSURANCE_PREFIX}{extra['assurance']}"))
    if extra.get("checked_by"):
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                                        f"{CHECKED_BY_PREFIX}{extra['checked_by']}"[:64]))
    return x509.Name(attrs)


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only the owner can read, atomically (a half-written key is never found)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _load_pkcs12(path: str, password: str | None) -> KeyPair:
    key, cert, _extra = pkcs12.load_key_and_certificates(
        Path(path).read_bytes(), password.encode() if password else None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert is None:
        raise ValueError(f"{path}: expected an ECDSA key with its certificate")
    return KeyPair(key, cert)


def _load_pem(folder: Path, stem: str) -> KeyPair | None:
    key_path, cert_path = folder / f"{stem}.key.pem", folder / f"{stem}.cert.pem"
    if not (key_path.exists() and cert_path.exists()):
        return None
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return KeyPair(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))


def _save_pem(folder: Path, stem: str, pair: KeyPair) -> None:
    _write_private(folder / f"{stem}.key.pem", pair.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / f"{stem}.cert.pem").write_bytes(pair.cert.public_bytes(serialization.Encoding.PEM))


class PlatformCA:
    """The CA key pair and the seal key pair, and the certificates the CA issues."""

    def __init__(self, ca: KeyPair, seal: KeyPair):
        self.ca = ca
        self.seal = seal

    @property
    def cert(self) -> x509.Certificate:
        return self.ca.cert

    def pem(self) -> bytes:
        return self.ca.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.ca.cert.public_bytes(serialization.Encoding.DER)

    def _builder(self, subject: x509.Name, public_key, not_before: datetime, not_after: datetime):
        return (x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(self.ca.cert.subject)
                .public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(not_before)
                .not_valid_after(not_after)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca.key.public_key()),
                               critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))

    def issue_signer(self, public_key_der: bytes, *, name: str, user_ref: str, case_number: str,
                     minutes: int, verified_name: str | None = None,
                     assurance: str | None = None, checked_by: str | None = None) -> x509.Certificate:
        """A short-lived certificate for a browser's public key (DER SubjectPublicKeyInfo).

        The subject names the signer (CN), their account (serialNumber) and the case (OU), so a
        reader shows who signed and for which case. When the signer's identity is verified, the
        CN is their verified legal name (``verified_name``) and a second OU states the level of
        assurance (``identity:counter``); ``identity:none`` says nobody checked. ``checked_by``
        names who checked it in person (a third OU, ``checked by: <name>``).

        :raise KeyMismatch: not an ECDSA P-256 public key.
        """
        public_key = load_public_key(public_key_der)
        now = utcnow()
        common_name = verified_name if verified_name and assurance not in (None, "none") else name
        return (self._builder(_name(common_name, serial=user_ref, unit=case_number, assurance=assurance,
                                    checked_by=checked_by), public_key,
                              now - CLOCK_SKEW, now + timedelta(minutes=minutes))
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=False, crl_sign=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(self.ca.key, hashes.SHA256()))


def load_public_key(public_key_der: bytes) -> ec.EllipticCurvePublicKey:
    """An ECDSA P-256 public key from DER SubjectPublicKeyInfo (what WebCrypto exports as "spki").

    :raise KeyMismatch: anything else.
    """
    try:
        key = serialization.load_der_public_key(public_key_der)
    except (ValueError, TypeError):
        raise KeyMismatch("not a public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyMismatch("not an ECDSA P-256 public key")
    return key


def check_signature(cert: x509.Certificate, signature_der: bytes, data: bytes) -> None:
    """Whether the key in ``cert`` signed ``data`` (ECDSA with SHA-256).

    :raise KeyMismatch: it did not (another key, other data, or not a signature at all).
    """
    try:
        cert.public_key().verify(signature_der, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise KeyMismatch("the signature was not made with the certified key") from None


def _make_ca() -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(CA_NAME)
    now = utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + timedelta(days=365 * 20))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return KeyPair(key, cert)


def _make_seal(ca: PlatformCA) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    now = utcnow()
    cert = (ca._builder(_name(SEAL_NAME), key.public_key(), now - CLOCK_SKEW, now + timedelta(days=365 * 5))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(ca.ca.key, hashes.SHA256()))
    return KeyPair(key, cert)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


_lock = threading.Lock()


def platform_ca(app=None) -> PlatformCA:
    """The app's CA, loaded (or, in the embedded default, created) once per process."""
    app = app or current_app._get_current_object()
    cached = app.extensions.get("odr_ca")
    if cached is not None:
        return cached
    with _lock:
        cached = app.extensions.get("odr_ca")
        if cached is None:
            cached = app.extensions["odr_ca"] = _load(app)
    return cached


def _load(app) -> PlatformCA:
    cfg = app.config
    folder = Path(app.instance_path) / "signing"
    folder.mkdir(parents=True, exist_ok=True)
    if cfg.get("SIGNING_CA_PKCS12"):
        ca_pair = _load_pkcs12(cfg["SIGNING_CA_PKCS12"], cfg.get("SIGNING_CA_PASSWORD"))
    else:
        ca_pair = _load_pem(folder, "ca")
        if ca_pair is None:
            ca_pair = _make_ca()
            _save_pem(folder, "ca", ca_pair)
            logger.warning("Created the platform signing CA in %s (fingerprint %s); configure "
                           "SIGNING_CA_PKCS12 in production", folder, fingerprint(ca_pair.cert))
    ca = PlatformCA(ca_pair, None)  # type: ignore[arg-type]
    if cfg.get("SIGNING_SEAL_PKCS12"):
        seal = _load_pkcs12(cfg["SIGNING_SEAL_PKCS12"], cfg.get("SIGNING_SEAL_PASSWORD"))
    else:
        seal = _load_pem(folder, "seal")
        if seal is None or not _issued_by(seal.cert, ca_pair.cert) or \
                seal.cert.not_valid_after_utc.replace(tzinfo=None) < utcnow() + timedelta(days=30):
            seal = _make_seal(ca)
            _save_pem(folder, "seal", seal)
    ca.seal = seal
    return ca
