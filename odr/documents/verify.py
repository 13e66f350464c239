"""What a signed PDF says about itself: every signature, who made it and when, whether it is
intact and trusted, what it covers, and whether anything changed after the last one.

Used by ``odr verify FILE.pdf``, ``odr verify-bundle`` and the public ``/verify`` page. The trust
root is the platform CA (and any further roots passed in).

Anyone can hand in any bytes, so every input gets an answer: a report (each signature that
cannot be read is named as such, which fails the check), :class:`NotAPdf` for a file whose
structure cannot be read, or :class:`TooComplex` for one beyond the limits below. Decoding is
bounded by pyHanko's decode limits (no stream expands past them, nor the whole document's
streams together), and the work by the number of signatures and revisions checked, so a file
of at most ``VERIFY_MAX_BYTES`` is answered in bounded time and memory. Nothing else escapes:
whatever goes wrong while a signature is checked counts against that signature, never for it.

Certificates are checked at the time each signature was made, not today: signer certificates
live for minutes on purpose. That time is the signature's timestamp when it has one (a timestamp
authority is configured), otherwise the time the signature itself states, which is also in the
visible stamp. Each result says which of the two it used.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from asn1crypto import parser as asn1_parser
from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits
from pyhanko.pdf_utils.misc import PdfDecodeLimitError
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.validation import (EmbeddedPdfSignature, async_validate_pdf_signature,
                                     async_validate_pdf_timestamp)
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from odr.documents.ca import ASSURANCE_PREFIX, CHECKED_BY_PREFIX
from odr.documents.pades import SEAL_FIELD, NotAPdf, TooComplex, read, run_sync

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
#: How far a file's compressed streams may expand: pyHanko's limits for untrusted input, tighter
#: (a signed agreement's largest stream, a page image, decodes to a few MiB).
DECODE_LIMITS = DecodeLimits(per_stream=StreamDecodeLimits(max_output_size=64 * MiB),
                             document_budget=DocumentDecodeBudget(base_allowance=128 * MiB, max_ratio=20))
#: Checking a signature reads the file's later revisions; a platform document has one revision
#: per signature (and one for the seal and its timestamp).
MAX_SIGNATURES = 50
MAX_REVISIONS = 200

#: Problems a signature or a document can have: code → English sentence (the page translates).
PROBLEMS = {
    "not_intact": "The signed bytes were changed after signing.",
    "invalid": "The signature does not match the signed bytes and the certificate.",
    "untrusted": "The signer's certificate does not lead to a trusted authority (or was not valid when signing).",
    "modified_after": "The document was changed after this signature in a way signatures do not allow.",
    "unreadable": "The signature cannot be read.",
    "value_changed": "Bytes in the signature's value that no signature covers were changed after signing.",
    "changed_after_last": "The file was changed after its last signature.",
    "no_signatures": "The document has no signatures.",
}


@dataclass
class SignatureResult:
    field: str
    kind: str  # "signature", "seal" or "timestamp"
    signer: str = ""
    subject: str = ""
    signed_at: datetime | None = None
    time_source: str = ""  # "timestamp" or "claimed"
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    whole_document: bool = False
    #: The signer's level of identity assurance the certificate states (``counter``, ``oidc``,
    #: ``none``; empty when it states none, as the seal's and older certificates do).
    identity: str = ""
    #: Who checked the signer's identity in person, when the certificate names them (on site).
    checked_by: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    signatures: list[SignatureResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.signatures)

    def lines(self) -> list[str]:
        """The report as text for a terminal (English)."""
        out = []
        for i, s in enumerate(self.signatures, 1):
            when = s.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if s.signed_at else "unknown time"
            source = {"timestamp": "timestamped", "claimed": "time stated by the signature"}.get(s.time_source, "")
            out.append(f"{i}. {s.kind} {s.field!r} by {s.signer or 'unknown'} at {when} ({source})")
            if s.identity:
                level = IDENTITY_LEVELS.get(s.identity, s.identity).format(worker=s.checked_by or "unknown")
                out.append(f"   identity: {level} ({s.identity})")
            out.append(f"   intact: {_yes(s.intact)}  valid: {_yes(s.valid)}  trusted: {_yes(s.trusted)}  "
                       f"covers: {'the whole document' if s.whole_document else 'an earlier revision'}")
            out += [f"   PROBLEM: {PROBLEMS[p]}" for p in s.problems]
        out += [f"PROBLEM: {PROBLEMS[p]}" for p in self.problems]
        out.append("RESULT: all signatures valid and trusted; nothing changed after the last signature"
                   if self.ok else "RESULT: FAILED")
        return out


#: What each level of identity assurance a signer certificate states means (terminal, English).
IDENTITY_LEVELS = {
    "counter": "verified in person (ID card checked at a counter)",
    "oidc": "verified by an identity provider (OpenID Connect)",
    "none": "not verified",
    "in_person_field": "identity checked in person by {worker}, confirmed with a code to their phone",
    "in_person_no_code": "identity checked in person by {worker}, no phone code (ID card checked)",
}


def _assurance(units) -> str:
    """The level an ``identity:<level>`` OU of a subject states ("" without one)."""
    for unit in [units] if isinstance(units, str) else (units or []):
        if isinstance(unit, str) and unit.startswith(ASSURANCE_PREFIX):
            return unit[len(ASSURANCE_PREFIX):][:32]
    return ""


def _checked_by(units) -> str:
    """Who a ``checked in person by:<name>`` OU of a subject names ("" without one)."""
    for unit in [units] if isinstance(units, str) else (units or []):
        if isinstance(unit, str) and unit.startswith(CHECKED_BY_PREFIX):
            return unit[len(CHECKED_BY_PREFIX):][:64]
    return ""


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _signing_time(sig) -> tuple[datetime | None, str]:
    for tst in extract_tst_data_iter(sig.signer_info, signed=False):
        try:
            info = tst["encap_content_info"]["content"].parsed
            return _aware(info["gen_time"].native), "timestamp"
        except (KeyError, ValueError, AttributeError):
            pass
    return _aware(sig.self_reported_timestamp), "claimed"


_HEX_STRING = re.compile(rb"<[0-9A-Fa-f]*>")


def _value_intact(sig: EmbeddedPdfSignature, pdf: bytes) -> bool:
    """The bytes a signature's own byte range leaves out are its value alone: a hex string of
    the CMS signature followed by zeros (the room reserved for it).

    No signature covers these bytes, not even its own, so a change in the padding (or spaces
    slipped into the hex digits, which readers skip) passes every cryptographic check; the
    platform writes nothing else there, so anything else is a change after signing.
    """
    start, covered, resumes, _ = (int(n) for n in sig.byte_range)
    gap = pdf[start + covered:resumes]
    if not _HEX_STRING.fullmatch(gap) or len(gap) % 2:
        return False
    value = bytes.fromhex(gap[1:-1].decode("ascii"))
    _class, _method, _tag, header, contents, trailer = asn1_parser.parse(value)
    return not value[len(header) + len(contents) + len(trailer):].strip(b"\0")


def _readable_signatures(reader) -> tuple[list[EmbeddedPdfSignature], list[str]]:
    """The filled signature fields that can be read, in signing order, and the names of those
    that cannot (a damaged signature dictionary, an unknown kind of signature).

    pyHanko's own list (``reader.embedded_signatures``) stops at the first damaged signature
    and leaves out those of an unknown kind: here each is kept, to be reported.
    """
    fields = list(enumerate_sig_fields(reader, filled_status=True))
    if len(fields) > MAX_SIGNATURES:
        raise TooComplex(f"{len(fields)} signatures (at most {MAX_SIGNATURES} are checked)")
    readable, unreadable = [], []
    for name, sig_object, sig_field in fields:
        try:
            SigSeedSubFilter(sig_object.get_object().get("/SubFilter"))
            signature = EmbeddedPdfSignature(reader, sig_field, name)
            revision = signature.signed_revision  # found from the byte range, which may be damaged
        except PdfDecodeLimitError as exc:
            raise TooComplex(str(exc)[:200]) from None
        except Exception as exc:  # damage of any kind makes this signature unreadable
            logger.info("Unreadable signature field %r: %s: %s", name, type(exc).__name__, str(exc)[:200])
            unreadable.append(name or "")
        else:
            readable.append((revision, signature))
    return [signature for _, signature in sorted(readable, key=lambda pair: pair[0])], unreadable


def _context(roots, moment):
    return ValidationContext(trust_roots=list(roots), allow_fetching=False, moment=moment,
                             revocation_mode="soft-fail")


async def _check(reader, pdf: bytes, roots) -> Report:
    report = Report()
    sigs, unreadable = _readable_signatures(reader)
    if not sigs and not unreadable:
        report.problems.append("no_signatures")
        return report
    for sig in sigs:
        is_timestamp = sig.sig_object.get("/Type") == "/DocTimeStamp"
        result = SignatureResult(field=sig.field_name or "",
                                 kind="timestamp" if is_timestamp else
                                 "seal" if sig.field_name == SEAL_FIELD else "signature")
        try:
            result.signed_at, result.time_source = _signing_time(sig)
            if is_timestamp:
                status = await async_validate_pdf_timestamp(sig, validation_context=_context(roots, None))
                result.signed_at, result.time_source = _aware(status.timestamp), "timestamp"
            else:
                status = await async_validate_pdf_signature(
                    sig, signer_validation_context=_context(roots, result.signed_at),
                    ts_validation_context=_context(roots, None))
            cert = status.signing_cert
            result.subject = cert.subject.human_friendly
            result.signer = cert.subject.native.get("common_name", "")
            result.identity = _assurance(cert.subject.native.get("organizational_unit_name"))
            result.checked_by = _checked_by(cert.subject.native.get("organizational_unit_name"))
            result.intact, result.valid, result.trusted = status.intact, status.valid, status.trusted
            result.whole_document = status.coverage is SignatureCoverageLevel.ENTIRE_FILE
            if not status.intact:
                result.problems.append("not_intact")
            elif not status.valid:
                result.problems.append("invalid")
            if status.intact and status.valid and not status.trusted:
                result.problems.append("untrusted")
            if getattr(status, "docmdp_ok", True) is False or (
                    not is_timestamp and status.coverage is SignatureCoverageLevel.UNCLEAR):
                result.problems.append("modified_after")
            if not _value_intact(sig, pdf):
                result.problems.append("value_changed")
        except PdfDecodeLimitError as exc:
            raise TooComplex(str(exc)[:200]) from None
        except Exception as exc:  # whatever fails counts against the signature, never for it
            logger.info("Unreadable signature %r: %s: %s", result.field, type(exc).__name__, str(exc)[:200])
            result.problems.append("unreadable")
        report.signatures.append(result)
    report.signatures += [SignatureResult(field=name, kind="seal" if name == SEAL_FIELD else "signature",
                                          problems=["unreadable"]) for name in unreadable]
    if sigs and not report.signatures[len(sigs) - 1].whole_document:
        report.problems.append("changed_after_last")
    return report


def verify(pdf: bytes, roots) -> Report:
    """Check every signature of ``pdf`` against the trust ``roots`` (asn1crypto certificates).

    :raise TooComplex: checking it would go past the decoding, signature or revision limits.
    :raise NotAPdf: not a PDF, damaged beyond reading its structure, or encrypted.
    """
    try:
        reader = read(pdf, decode_limits=DECODE_LIMITS)
        if reader.xrefs.total_revisions > MAX_REVISIONS:
            raise TooComplex(f"{reader.xrefs.total_revisions} revisions (at most {MAX_REVISIONS} are checked)")
        return run_sync(_check(reader, pdf, roots))
    except NotAPdf:
        raise
    except PdfDecodeLimitError as exc:
        raise TooComplex(str(exc)[:200]) from None
    except Exception as exc:  # the file's structure: pyHanko reads lazily, any part may be broken
        raise NotAPdf(f"{type(exc).__name__}: {exc}"[:200]) from None
