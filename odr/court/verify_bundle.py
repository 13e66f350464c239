"""Check a court bundle (``odr verify-bundle FILE.zip``): every problem, by name.

- the manifest is valid JSON of the documented shape and its detached CMS signature is intact
  and made by a key certified by the platform CA;
- every file the manifest lists is there, with that size and SHA-256; nothing else is there;
- the audit trail is one unbroken chain (a changed, missing, added or reordered line is named);
- every signed checkpoint of it (``audit-checkpoints.json``, format 1.1) is the platform seal's and
  holds the chain's head, and the chain agrees with each: not shorter than a checkpoint counted
  (its end cut off), the same hash where it states one (not changed and hashed again);
- every PDF's signatures are intact and trusted, and nothing changed after the last one (the
  index is an unsigned PDF/A and only checked by its hash);
- the service records (``service/service.json``) are complete, each with the SHA-256 of what was
  served, and the sealed proof of service (``service/proof-of-service.pdf``) is there.

Files are read in chunks: checking a bundle of any size takes little memory. A ZIP is anyone's
to make, so nothing in it is trusted before it is checked, and every way it can be broken is a
problem line, never an exception: a member that cannot be read (a CRC error, damaged deflate
data, an unknown compression method, encryption), JSON that is not JSON or nests too deep, a
file that is not UTF-8. Its central directory is checked first against the limits below: the
number of members, the size each declares and all of them together, and whether a member could
hold what it declares (a deflated member cannot expand more than about 1,032 times; stored, it
holds exactly its size), so a ZIP bomb is refused before a byte of it is decompressed, and no
member is read past its declared size.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field

from odr.court.bundle import CHECKPOINTS, FORMAT, MANIFEST, SIGNATURE
from odr.json_provider import MAX_DEPTH, nesting_depth

#: PDFs smaller than this are checked for signatures (read whole: pyHanko needs random access).
MAX_PDF_CHECK_BYTES = 200 * 1024 * 1024
UNSIGNED = {"index.pdf"}
#: What a bundle may hold: members, their declared sizes together (recordings make bundles
#: large), and the manifest and its signature, which are read whole.
MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 64 * 1024**3
MAX_MANIFEST_BYTES = 16 * 1024**2
MAX_SIGNATURE_BYTES = 1024**2
#: An audit entry is a line of JSON of a few hundred bytes.
MAX_AUDIT_LINE_BYTES = 1024**2
#: Deflate's largest expansion is 1,032:1; a member declaring more lies about its size.
MAX_DEFLATE_RATIO = 1040
#: What reading a damaged or unusual member raises: a CRC or header error, damaged deflate data,
#: a stream ending early, an unsupported method (NotImplementedError), encryption (RuntimeError).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_of(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    """:raise READ_ERRORS: the member cannot be read to its end."""
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _directory_problems(infos: list[zipfile.ZipInfo], max_members: int, max_total_bytes: int) -> list[str]:
    """What the central directory declares that no bundle can be (checked before reading a member)."""
    if len(infos) > max_members:
        return [f"the ZIP has {len(infos)} members (a bundle has at most {max_members})"]
    problems = []
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(f"{info.filename}: compressed by a method bundles do not use ({info.compress_type})")
        elif info.flag_bits & 0x1:
            problems.append(f"{info.filename}: encrypted")
        elif info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            problems.append(f"{info.filename}: declares {info.file_size} bytes but holds {info.compress_size}")
        elif info.file_size > MAX_DEFLATE_RATIO * max(info.compress_size, 1):
            problems.append(f"{info.filename}: declares {info.file_size} bytes, more than its "
                            f"{info.compress_size} compressed bytes can hold")
    total = sum(info.file_size for info in infos)
    if total > max_total_bytes:
        problems.append(f"the ZIP declares {total} bytes in all (a bundle holds at most {max_total_bytes})")
    return problems


def _read_whole(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, report: BundleReport) -> bytes | None:
    """A small member's bytes (the manifest, its signature), or None with the problem noted."""
    if info.file_size > limit:
        report.problems.append(f"{info.filename}: {info.file_size} bytes (at most {limit})")
        return None
    try:
        return zf.read(info)
    except READ_ERRORS as exc:
        report.problems.append(f"{info.filename}: cannot be read ({str(exc)[:100]})")
        return None


def _json(text: bytes | str):
    """Parsed JSON nested at most ``MAX_DEPTH`` levels.

    :raise ValueError: not UTF-8 JSON, or nested deeper.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if nesting_depth(text) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return json.loads(text)


def _check_signature(manifest: bytes, signature: bytes, roots) -> str | None:
    """The manifest's detached signature must be the platform seal's, certified by a trusted root:
    a key the platform CA certified for one person's document signature (every signer holds one for
    minutes) cannot vouch for a bundle."""
    from odr.documents.cms import check_detached

    try:
        checked = check_detached(manifest, signature, roots)
    except Exception as exc:  # any bytes may be here: whatever fails to read is not a signature
        return f"{SIGNATURE}: not a readable CMS signature ({type(exc).__name__}: {str(exc)[:100]})"
    return {
        None: None,
        "unreadable": f"{SIGNATURE}: not a readable CMS signature",
        "changed": f"{SIGNATURE}: the manifest was changed after it was signed",
        "untrusted": f"{SIGNATURE}: the manifest's signer is not the platform seal certified by the platform CA",
        "bad_timestamp": f"{SIGNATURE}: its signature timestamp does not hold",
    }.get(checked.problem, f"{SIGNATURE}: {checked.problem}")


def _check_checkpoints(zf: zipfile.ZipFile, roots, report: BundleReport) -> list:
    """The signed checkpoints of the audit trail: ``[(chain, Witnessed)]`` of those that hold."""
    from odr.documents.checkpoints import check_chain_document, documents_in

    data = _read_whole(zf, zf.getinfo(CHECKPOINTS), MAX_MANIFEST_BYTES, report)
    if data is None:  # the problem is noted
        return []
    try:
        documents = documents_in(_json(data))
    except (ValueError, KeyError, TypeError, AttributeError):
        report.problems.append(f"{CHECKPOINTS}: not JSON")
        return []
    witnessed = []
    for number, document in enumerate(documents, 1):
        try:
            found = check_chain_document(document, roots)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # any JSON may be here
            found = f"not a checkpoint ({type(exc).__name__})"
        if isinstance(found, str):
            report.problems.append(f"{CHECKPOINTS}: checkpoint {number}: {found}")
        else:
            witnessed.append(found)
    report.checked.append(f"{CHECKPOINTS}: {len(witnessed)} of {len(documents)} checkpoints signed by the "
                          "platform seal, each holding the chain's head")
    return witnessed


def _check_audit(zf: zipfile.ZipFile, report: BundleReport, witnessed=()) -> None:
    from odr.cases.audit import verify_entries

    entries, number = [], 0
    try:
        with zf.open("audit.jsonl") as fh:
            while line := fh.readline(MAX_AUDIT_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_AUDIT_LINE_BYTES:
                    raise ValueError(f"longer than {MAX_AUDIT_LINE_BYTES} bytes")
                entries.append(_json(line))
    except ValueError as exc:  # not UTF-8, not JSON, nested too deep, too long
        report.problems.append(f"audit.jsonl line {number}: not an audit entry ({str(exc)[:100]})")
        return
    if not entries:
        report.problems.append("audit.jsonl: empty")
        return
    chain = entries[0].get("chain") if isinstance(entries[0], dict) else None
    for other, seen in witnessed:
        if other != chain:
            report.problems.append(f"{CHECKPOINTS}: {seen.source} is of another chain ({other})")
    try:
        broken = verify_entries(chain, entries, [seen for other, seen in witnessed if other == chain])
    except (ValueError, TypeError) as exc:  # a value canonical JSON cannot hold (NaN …)
        report.problems.append(f"audit.jsonl: not an audit chain ({str(exc)[:100]})")
        return
    if broken is not None:
        report.problems.append(f"audit.jsonl: {broken}")
    else:
        report.checked.append(f"audit.jsonl: {len(entries)} entries, chain intact"
                              + (f" and as its {len(witnessed)} checkpoints state" if witnessed else ""))


def _check_pdf(zf: zipfile.ZipFile, name: str, size: int, roots, report: BundleReport) -> None:
    from odr.documents.pades import NotAPdf, TooComplex
    from odr.documents.verify import PROBLEMS, verify

    if size > MAX_PDF_CHECK_BYTES:
        report.checked.append(f"{name}: too large to check its signatures here ({size} bytes); hash checked")
        return
    try:
        result = verify(zf.read(name), roots)
    except TooComplex as exc:
        report.problems.append(f"{name}: beyond what can be checked ({exc})")
        return
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


SERVICE_JSON = "service/service.json"
SERVICE_PDF = "service/proof-of-service.pdf"
_SERVICE_RECORD_KEYS = {"id", "side", "kind", "document_sha256", "channel", "address", "sent_at", "accepted_at",
                        "first_opened_at", "error"}


def _check_service(zf: zipfile.ZipFile, listed: dict, report: BundleReport) -> None:
    """The service records (schema ``docs/court-bundle-service.schema.json``) are readable, each
    complete, and the sealed proof of service that prints them is in the bundle."""
    import re

    try:
        data = _json(zf.read(SERVICE_JSON))
        if data.get("format") != "odr-service" or not isinstance(data.get("records"), list):
            raise ValueError("not the service records")
        for n, record in enumerate(data["records"], 1):
            if not isinstance(record, dict) or not _SERVICE_RECORD_KEYS <= record.keys():
                raise ValueError(f"record {n} is incomplete")
            if not re.fullmatch(r"[0-9a-f]{64}", str(record["document_sha256"])) \
                    or record["channel"] not in ("sms", "email"):
                raise ValueError(f"record {n}: no SHA-256 of what was served, or an unknown channel")
        ids = {record["id"] for record in data["records"]}
        for n, row in enumerate(data.get("attendance") or [], 1):  # a no-show's proof is among the records
            if not isinstance(row, dict) or not isinstance(row.get("served"), list) or not set(row["served"]) <= ids:
                raise ValueError(f"attendance {n}: names service records the bundle does not hold")
    except (ValueError, KeyError, TypeError, AttributeError, *READ_ERRORS) as exc:
        report.problems.append(f"{SERVICE_JSON}: {str(exc)[:100]}")
        return
    if SERVICE_PDF not in listed:
        report.problems.append(f"{SERVICE_PDF}: missing: the service records come with the sealed proof of service")
        return
    report.checked.append(f"{SERVICE_JSON}: {len(data['records'])} service records")


def verify_bundle(path_or_file, roots, *, max_members: int = MAX_MEMBERS,
                  max_total_bytes: int = MAX_TOTAL_BYTES) -> BundleReport:
    """Check the bundle at ``path_or_file`` against the trust ``roots`` (asn1crypto certificates)."""
    report = BundleReport()
    try:
        zf = zipfile.ZipFile(path_or_file)
    except Exception as exc:  # any bytes may be here: a directory zipfile cannot read is no ZIP
        report.problems.append(f"not a readable ZIP file ({type(exc).__name__}: {str(exc)[:100]})")
        return report
    with zf:
        infos = zf.infolist()
        report.problems += _directory_problems(infos, max_members, max_total_bytes)
        if report.problems:
            return report  # nothing is read from a ZIP that lies about its contents
        members = {i.filename: i for i in infos}
        names = Counter(i.filename for i in infos)
        for name in sorted(n for n, count in names.items() if count > 1):
            report.problems.append(f"{name}: appears more than once")
        if MANIFEST not in members or SIGNATURE not in members:
            report.problems.append(f"{MANIFEST} or {SIGNATURE} is missing")
            return report
        manifest_bytes = _read_whole(zf, members[MANIFEST], MAX_MANIFEST_BYTES, report)
        signature = _read_whole(zf, members[SIGNATURE], MAX_SIGNATURE_BYTES, report)
        if manifest_bytes is None:
            return report
        if signature is not None:
            problem = _check_signature(manifest_bytes, signature, roots)
            if problem:
                report.problems.append(problem)
        try:
            manifest = _json(manifest_bytes)
            listed = {f["name"]: f for f in manifest["files"]}
            if manifest.get("format") != FORMAT:
                raise ValueError("not an odr court bundle")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            report.problems.append(f"{MANIFEST}: not a bundle manifest ({str(exc)[:100]})")
            return report
        for name in sorted(set(names) - set(listed) - {MANIFEST, SIGNATURE}):
            report.problems.append(f"{name}: in the bundle but not in the manifest")
        witnessed = _check_checkpoints(zf, roots, report) if CHECKPOINTS in listed and CHECKPOINTS in names else []
        for name, entry in listed.items():
            if name not in members:
                report.problems.append(f"{str(name)[:200]}: listed in the manifest but missing")
                continue
            try:
                sha, size = _sha256_of(zf, name)
            except READ_ERRORS as exc:  # e.g. a CRC error from a changed byte, damaged deflate data
                report.problems.append(f"{name}: cannot be read ({str(exc)[:100]})")
                continue
            if size != members[name].file_size:
                report.problems.append(f"{name}: the ZIP declares {members[name].file_size} bytes but holds {size}")
                continue
            if not isinstance(entry, dict) or sha != entry.get("sha256") or size != entry.get("size"):
                report.problems.append(f"{name}: content does not match the manifest (SHA-256 or size differ)")
                continue
            report.checked.append(f"{name}: SHA-256 matches")
            if name == "audit.jsonl":
                _check_audit(zf, report, witnessed)
            elif name.endswith(".pdf") and name not in UNSIGNED:
                _check_pdf(zf, name, size, roots, report)
        if SERVICE_JSON in listed and SERVICE_JSON in members:
            _check_service(zf, listed, report)
        if "audit.jsonl" not in listed:
            report.problems.append("audit.jsonl: missing from the manifest")
        if CHECKPOINTS not in listed and manifest.get("format_version") != "1.0":
            report.problems.append(f"{CHECKPOINTS}: missing from the manifest")
    return report
