"""What a signed PDF says about itself: every signature, who made it and when, whether it is
intact and trusted, what it covers, and whether anything changed after the last one.

Used by ``odr verify FILE.pdf`` and the public ``/verify`` page. The trust root is the platform
CA (and any further roots passed in).

Certificates are checked at the time each signature was made, not today: signer certificates
live for minutes on purpose. That time is the signature's timestamp when it has one (a timestamp
authority is configured), otherwise the time the signature itself states, which is also in the
visible stamp. Each result says which of the two it used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from odr.documents.pades import SEAL_FIELD, NotAPdf, read, run_sync

logger = logging.getLogger(__name__)

#: Problems a signature or a document can have: code → English sentence (the page translates).
PROBLEMS = {
    "not_intact": "The signed bytes were changed after signing.",
    "invalid": "The signature does not match the signed bytes and the certificate.",
    "untrusted": "The signer's certificate does not lead to a trusted authority (or was not valid when signing).",
    "modified_after": "The document was changed after this signature in a way signatures do not allow.",
    "unreadable": "The signature cannot be read.",
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
            out.append(f"   intact: {_yes(s.intact)}  valid: {_yes(s.valid)}  trusted: {_yes(s.trusted)}  "
                       f"covers: {'the whole document' if s.whole_document else 'an earlier revision'}")
            out += [f"   PROBLEM: {PROBLEMS[p]}" for p in s.problems]
        out += [f"PROBLEM: {PROBLEMS[p]}" for p in self.problems]
        out.append("RESULT: all signatures valid and trusted; nothing changed after the last signature"
                   if self.ok else "RESULT: FAILED")
        return out


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


def _context(roots, moment):
    return ValidationContext(trust_roots=list(roots), allow_fetching=False, moment=moment,
                             revocation_mode="soft-fail")


async def _check(reader, roots) -> Report:
    report = Report()
    sigs = list(reader.embedded_signatures)
    if not sigs:
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
        except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
            logger.info("Unreadable signature %r: %s", result.field, exc)
            result.problems.append("unreadable")
        report.signatures.append(result)
    if not report.signatures[-1].whole_document and "changed_after_last" not in report.problems:
        report.problems.append("changed_after_last")
    return report


def verify(pdf: bytes, roots) -> Report:
    """Check every signature of ``pdf`` against the trust ``roots`` (asn1crypto certificates).

    :raise NotAPdf: not a PDF, truncated beyond repair, or encrypted.
    """
    reader = read(pdf)
    try:
        return run_sync(_check(reader, roots))
    except NotAPdf:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # pyHanko reads lazily: a damaged file can fail only once its signatures are looked at.
        raise NotAPdf(str(exc)[:200]) from None
