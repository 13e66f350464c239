"""Check a court bundle (``odr verify-bundle FILE.zip``): every problem, by name.

- the manifest is valid JSON of the documented shape and its detached CMS signature is intact
  and made by a key certified by the platform CA;
- every file the manifest lists is there, with that size and SHA-256; nothing else is there;
- the audit trail is one unbroken chain (a changed, missing, added or reordered line is named);
- every signed checkpoint of it (``audit-checkpoints.json``, format 1.1) is the platform seal's and
  holds the chain's head, and the chain agrees with each: not shorter than a checkpoint counted
  (its end cut off), the same hash where it states one (not changed and hashed again);
- every PDF's signatures are intact and trusted, and nothing changed after the last one (the
  index is an unsigned PDF/A and only checked by its hash).

Files are read in chunks: checking a bundle of any size takes little memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from odr.court.bundle import CHECKPOINTS, FORMAT, MANIFEST, SIGNATURE

#: PDFs smaller than this are checked for signatures (read whole: pyHanko needs random access).
MAX_PDF_CHECK_BYTES = 200 * 1024 * 1024
UNSIGNED = {"index.pdf"}


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_of(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_signature(manifest: bytes, signature: bytes, roots) -> str | None:
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext

    from odr.documents.pades import run_sync

    try:
        signed_data = cms.ContentInfo.load(signature)["content"]
        status = run_sync(async_validate_detached_cms(
            io.BytesIO(manifest), signed_data,
            signer_validation_context=ValidationContext(trust_roots=list(roots), allow_fetching=False)))
    except (ValueError, KeyError, TypeError) as exc:
        return f"{SIGNATURE}: not a readable CMS signature ({str(exc)[:100]})"
    if not status.intact or not status.valid:
        return f"{SIGNATURE}: the manifest was changed after it was signed"
    if not status.trusted:
        return f"{SIGNATURE}: the manifest's signer is not certified by the platform CA"
    return None


def _check_checkpoints(zf: zipfile.ZipFile, roots, report: BundleReport) -> list:
    """The signed checkpoints of the audit trail: ``[(chain, Witnessed)]`` of those that hold."""
    from odr.documents.checkpoints import check_chain_document, documents_in

    try:
        documents = documents_in(json.loads(zf.read(CHECKPOINTS)))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        report.problems.append(f"{CHECKPOINTS}: cannot be read ({str(exc)[:100]})")
        return []
    except ValueError:
        report.problems.append(f"{CHECKPOINTS}: not JSON")
        return []
    witnessed = []
    for number, document in enumerate(documents, 1):
        found = check_chain_document(document, roots)
        if isinstance(found, str):
            report.problems.append(f"{CHECKPOINTS}: checkpoint {number}: {found}")
        else:
            witnessed.append(found)
    report.checked.append(f"{CHECKPOINTS}: {len(witnessed)} of {len(documents)} checkpoints signed by the "
                          "platform seal, each holding the chain's head")
    return witnessed


def _check_audit(zf: zipfile.ZipFile, report: BundleReport, witnessed=()) -> None:
    from odr.cases.audit import verify_entries

    entries = []
    with zf.open("audit.jsonl") as fh:
        for number, line in enumerate(io.TextIOWrapper(fh, encoding="utf-8"), 1):
            try:
                entries.append(json.loads(line))
            except ValueError:
                report.problems.append(f"audit.jsonl line {number}: not JSON")
                return
    if not entries:
        report.problems.append("audit.jsonl: empty")
        return
    chain = entries[0].get("chain") if isinstance(entries[0], dict) else None
    for other, seen in witnessed:
        if other != chain:
            report.problems.append(f"{CHECKPOINTS}: {seen.source} is of another chain ({other})")
    broken = verify_entries(chain, entries, [seen for other, seen in witnessed if other == chain])
    if broken is not None:
        report.problems.append(f"audit.jsonl: {broken}")
    else:
        report.checked.append(f"audit.jsonl: {len(entries)} entries, chain intact"
                              + (f" and as its {len(witnessed)} checkpoints state" if witnessed else ""))


def _check_pdf(zf: zipfile.ZipFile, name: str, size: int, roots, report: BundleReport) -> None:
    from odr.documents.pades import NotAPdf
    from odr.documents.verify import PROBLEMS, verify

    if size > MAX_PDF_CHECK_BYTES:
        report.checked.append(f"{name}: too large to check its signatures here ({size} bytes); hash checked")
        return
    try:
        result = verify(zf.read(name), roots)
    except NotAPdf as exc:
        report.problems.append(f"{name}: not a readable PDF ({exc})")
        return
    for problem in result.problems:
        report.problems.append(f"{name}: {PROBLEMS[problem]}")
    for sig in result.signatures:
        for problem in sig.problems:
            report.problems.append(f"{name}: signature {sig.field!r} by {sig.signer or 'unknown'}: {PROBLEMS[problem]}")
    if result.ok:
        report.checked.append(f"{name}: {len(result.signatures)} signatures intact and trusted")


def verify_bundle(path_or_file, roots) -> BundleReport:
    """Check the bundle at ``path_or_file`` against the trust ``roots`` (asn1crypto certificates)."""
    report = BundleReport()
    try:
        zf = zipfile.ZipFile(path_or_file)
    except (zipfile.BadZipFile, OSError) as exc:
        report.problems.append(f"not a readable ZIP file ({exc})")
        return report
    with zf:
        names = [i.filename for i in zf.infolist()]
        duplicates = {n for n in names if names.count(n) > 1}
        for name in sorted(duplicates):
            report.problems.append(f"{name}: appears more than once")
        if MANIFEST not in names or SIGNATURE not in names:
            report.problems.append(f"{MANIFEST} or {SIGNATURE} is missing")
            return report
        manifest_bytes = zf.read(MANIFEST)
        problem = _check_signature(manifest_bytes, zf.read(SIGNATURE), roots)
        if problem:
            report.problems.append(problem)
        try:
            manifest = json.loads(manifest_bytes)
            listed = {f["name"]: f for f in manifest["files"]}
            if manifest.get("format") != FORMAT:
                raise ValueError("not an odr court bundle")
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"{MANIFEST}: not a bundle manifest ({str(exc)[:100]})")
            return report
        for name in sorted(set(names) - set(listed) - {MANIFEST, SIGNATURE}):
            report.problems.append(f"{name}: in the bundle but not in the manifest")
        witnessed = _check_checkpoints(zf, roots, report) if CHECKPOINTS in listed and CHECKPOINTS in names else []
        for name, entry in listed.items():
            if name not in names:
                report.problems.append(f"{name}: listed in the manifest but missing")
                continue
            try:
                sha, size = _sha256_of(zf, name)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # e.g. a CRC error from a changed byte
                report.problems.append(f"{name}: cannot be read ({str(exc)[:100]})")
                continue
            if sha != entry.get("sha256") or size != entry.get("size"):
                report.problems.append(f"{name}: content does not match the manifest (SHA-256 or size differ)")
                continue
            report.checked.append(f"{name}: SHA-256 matches")
            if name == "audit.jsonl":
                _check_audit(zf, report, witnessed)
            elif name.endswith(".pdf") and name not in UNSIGNED:
                _check_pdf(zf, name, size, roots, report)
        if "audit.jsonl" not in listed:
            report.problems.append("audit.jsonl: missing from the manifest")
        if CHECKPOINTS not in listed and manifest.get("format_version") != "1.0":
            report.problems.append(f"{CHECKPOINTS}: missing from the manifest")
    return report
