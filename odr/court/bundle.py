"""The case file a court receives: one ZIP that proves itself.

Layout (format ``odr-court-bundle`` 1.1; JSON Schemas in ``docs/court-bundle-*.schema.json``)::

    manifest.json            format, case summary, every other file with SHA-256, size, type
    manifest.json.p7s        detached CMS signature of manifest.json by the platform seal
    case.json                the case's data
    index.pdf                cover and table of contents (PDF/A-3b, odr.documents.case_index)
    audit.jsonl              the case's audit chain, one entry per line, each with its hash
    audit-checkpoints.json   every signed checkpoint of that chain (odr.documents.checkpoints),
                             oldest first: the chain must agree with each (format 1.1)
    documents/…pdf           the signed documents (agreement, record of undisputed facts, …)
    evidence/…               evidence originals the parties shared with everyone
    recordings/…             (added by features that record: odr.documents.case_file)
    service/proof-of-service.pdf  the proof of service (送达回证), sealed (odr.documents.proof_of_service)
    service/service.json     every served notice and each party's addresses for service

Written by streaming: each file is copied into the ZIP in chunks while its hash is computed
and compared with the hash the platform stored for it, so memory does not grow with the size of
the evidence and a file changed on disk stops the export. Media that is already compressed is
stored as is; JSON and text are deflated. :mod:`odr.court.verify_bundle` checks a bundle.

Evidence the mediator alone was shown (a private caucus) stays out; ``case.json`` says how
many items were withheld. The audit chain is complete: a chain with gaps could not be checked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Iterator

import sqlalchemy as sa

from odr.cases import audit
from odr.cases.models import Case
from odr.documents.case_file import CONTRIBUTORS, BundleFile, chunks_of_bytes, chunks_of_path
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

FORMAT = "odr-court-bundle"
FORMAT_VERSION = "1.1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"
CHECKPOINTS = "audit-checkpoints.json"
#: Media types kept as they are in the ZIP (already compressed: deflating costs time for nothing).
STORED = ("image/", "audio/", "video/", "application/pdf", "application/zip")


class ExportError(RuntimeError):
    """The bundle cannot be written (a stored file is missing or changed)."""


# --- what goes in ---------------------------------------------------------------------------

def _signed_documents(case: Case) -> list[BundleFile]:
    from odr.documents import storage
    from odr.documents.models import SignedDocument, SigningStatus

    rows = db.session.scalars(sa.select(SignedDocument).where(
        SignedDocument.case_id == case.id, SignedDocument.status == SigningStatus.complete)
        .order_by(SignedDocument.kind, SignedDocument.version))
    return [BundleFile(name=f"documents/{doc.kind}-v{doc.version}.pdf",
                       description=f"{doc.title} ({doc.kind}, version {doc.version}, signed and sealed)",
                       media_type="application/pdf", open=chunks_of_path(storage.path_for(doc.current_sha256)),
                       expected_sha256=doc.current_sha256,
                       extra={"document": doc.id, "kind": doc.kind, "version": doc.version,
                              "signers": [{"role": s.role, "name": s.name,
                                           "signed_at": _iso(s.signed_at)} for s in doc.signers]})
            for doc in rows]


def _evidence(case: Case) -> tuple[list[BundleFile], int]:
    from odr import uploads
    from odr.cases.evidence import Evidence, Visibility

    shared, withheld = [], 0
    for ev in db.session.scalars(sa.select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)):
        if ev.visibility is not Visibility.all:
            withheld += 1
            continue
        shared.append(BundleFile(
            name=f"evidence/{ev.id:05d}-{ev.filename}", description=ev.description or ev.filename,
            media_type=ev.mimetype, open=chunks_of_path(uploads.path_for(ev.sha256)), expected_sha256=ev.sha256,
            extra={"evidence": ev.id, "uploaded_at": _iso(ev.created_at)}))
    return shared, withheld


def audit_lines(case: Case) -> Iterator[bytes]:
    """The case's chain as JSON lines: each entry's hashed fields plus its hash.

    :raise ExportError: an entry cannot be read (its payload is not JSON, its time no time).
    """
    events = audit.stored_events(audit.chain_name(case))
    try:
        for number, ev in enumerate(events, 1):
            if isinstance(ev, str):
                raise ExportError(f"audit.jsonl: entry {number} of the case's audit trail cannot be read: {ev}")
            yield audit.canonical_json({**audit.entry_fields(ev), "hash": ev.hash}) + b"\n"
    finally:
        events.close()


def checkpoint_data(case: Case) -> dict:
    """``audit-checkpoints.json``: every signed checkpoint of the case's chain, oldest first, each
    with the chain's head and its proof (as :func:`odr.documents.checkpoints.chain_document`)."""
    from odr.documents import checkpoints

    return {"format": "odr-audit-checkpoints", "chain": audit.chain_name(case),
            "checkpoints": checkpoints.chain_documents(checkpoints.case_heads(case))}


def _iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment is not None else None


def case_data(case: Case, files: list[BundleFile], withheld: int) -> dict:
    """``case.json``: what the case is, who is in it, how it went, what the bundle holds."""
    def person(user):
        return None if user is None else {"name": user.name}

    return {
        "number": case.number,
        "category": case.category.value,
        "channel": case.channel.value,
        "district": case.district,
        "description": case.description,
        "claim": case.claim,
        "amount_claimed": str(case.amount_claimed) if case.amount_claimed is not None else None,
        "settlement_amount": str(case.settlement_amount) if case.settlement_amount is not None else None,
        "stage": case.stage.value,
        "outcome": case.outcome.value if case.outcome is not None else None,
        "filed_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
        "organization": case.organization.name if case.organization is not None else None,
        "court": case.court.name if case.court is not None else None,
        "mediator": person(case.mediator),
        "arbitrator": person(case.arbitrator),
        "parties": [{"side": p.side.value, "name": (p.user.name if p.user is not None else p.name),
                     "status": p.status.value} for p in case.parties],
        "documents": [f.extra | {"file": f.name} for f in files if f.name.startswith("documents/")],
        "evidence": [f.extra | {"file": f.name, "description": f.description} for f in files
                     if f.name.startswith("evidence/")],
        "evidence_withheld": withheld,
        "service": service_summary(case),
    }


def service_summary(case: Case) -> dict:
    """How the respondent was served (the proof is ``service/proof-of-service.pdf``), and whether
    they let the deadline pass without answering."""
    from odr.cases.service import operations as service

    respondent = case.respondent
    served = service.how_served(respondent) if respondent is not None else []
    silent = service.no_response(case)
    from odr.court.complaint import respondent_no_show

    no_show = respondent_no_show(case)
    return {
        "respondent_served": [{"kind": r["kind"], "channel": r["channel"], "address": r["address"],
                               "document_sha256": r["document_sha256"], "sent_at": _iso(r["sent_at"]),
                               "accepted_at": _iso(r["accepted_at"]), "first_opened_at": _iso(r["first_opened_at"])}
                              for r in served],
        "respondent_did_not_respond_at": _iso(silent.no_response_at) if silent is not None else None,
        "respondent_response_due_at": _iso(silent.response_due_at) if silent is not None else None,
        # The mediation ended for the respondent's non-attendance: each missed session with the
        # served notices (their records are in the proof of service).
        "mediation_ended_for_non_attendance_at": _iso(no_show.created_at) if no_show is not None else None,
        "respondent_missed_sessions": [
            {"starts_at": s.get("starts_at"), "served_records": [r["record"] for r in s.get("served") or []]}
            for s in no_show.payload.get("no_shows") or []] if no_show is not None else [],
        "proof_of_service": "service/proof-of-service.pdf",
    }


# --- writing --------------------------------------------------------------------------------

def _compression(media_type: str) -> int:
    return zipfile.ZIP_STORED if media_type.startswith(STORED) else zipfile.ZIP_DEFLATED


def _copy(zf: zipfile.ZipFile, item: BundleFile) -> None:
    info = zipfile.ZipInfo(item.name, date_time=utcnow().timetuple()[:6])
    info.compress_type = _compression(item.media_type)
    info.external_attr = 0o644 << 16
    digest, size = hashlib.sha256(), 0
    try:
        with zf.open(info, "w", force_zip64=True) as out:
            for chunk in item.open():
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except OSError as exc:
        raise ExportError(f"{item.name}: cannot be read ({exc.strerror or exc})") from None
    item.sha256, item.size = digest.hexdigest(), size
    if item.expected_sha256 is not None and item.sha256 != item.expected_sha256:
        raise ExportError(f"{item.name}: its content changed on disk since it was stored")


def export(case: Case, out) -> dict:
    """Write the bundle of ``case`` to the binary file ``out``; return the manifest.

    :raise ExportError: a stored file is missing or changed, or an entry of the audit trail cannot be read.
    """
    from odr.documents.case_index import FileEntry, render_case_index
    from odr.documents.layout import document_lang

    # The proof of service and other contributors read the audit trail's entries as data: an entry
    # that cannot be read is named before any of them trips over it.
    for _line in audit_lines(case):
        pass
    files: list[BundleFile] = _signed_documents(case)
    evidence, withheld = _evidence(case)
    files += evidence
    for contributor in CONTRIBUTORS:
        files += contributor(case)
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        for item in files:
            _copy(zf, item)
        audit_file = BundleFile("audit.jsonl", "The case's audit trail: one entry per line, hash-chained",
                                "application/jsonl", lambda: audit_lines(case))
        _copy(zf, audit_file)
        checkpoints_file = BundleFile(CHECKPOINTS, "Signed checkpoints of the audit trail: the chain agrees with each",
                                      "application/json", chunks_of_bytes(_json(checkpoint_data(case))))
        _copy(zf, checkpoints_file)
        case_file = BundleFile("case.json", "The case's data", "application/json",
                               chunks_of_bytes(_json(case_data(case, files, withheld))))
        _copy(zf, case_file)
        files += [audit_file, checkpoints_file, case_file]
        lang = document_lang(None)
        entries = [FileEntry(f.name, f.description, f.size, f.sha256, f.pages) for f in files]
        index_pdf = render_case_index(case, entries, lang)
        index_file = BundleFile("index.pdf", "Cover and table of contents", "application/pdf",
                                chunks_of_bytes(index_pdf))
        _copy(zf, index_file)
        files.append(index_file)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": _iso(utcnow()),
            "case": {"number": case.number, "stage": case.stage.value,
                     "outcome": case.outcome.value if case.outcome is not None else None,
                     "court": case.court.name if case.court is not None else None},
            "files": [{"name": f.name, "sha256": f.sha256, "size": f.size, "media_type": f.media_type,
                       "description": f.description} for f in files],
        }
        manifest_bytes = _json(manifest)
        zf.writestr(_info(MANIFEST, zipfile.ZIP_DEFLATED), manifest_bytes)
        zf.writestr(_info(SIGNATURE, zipfile.ZIP_STORED), sign_manifest(manifest_bytes))
    logger.info("Case %s exported: %d files, %d bytes of content", case, len(files), sum(f.size for f in files))
    return manifest


def _info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6])
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    return info


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def sign_manifest(manifest: bytes) -> bytes:
    """A detached CMS (PKCS #7) signature of the manifest by the platform seal, DER
    (:func:`odr.documents.cms.sign_detached`, built without loading pyHanko's signers)."""
    from odr.documents.cms import sign_detached

    return sign_detached(manifest)
