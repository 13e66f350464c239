"""Signed documents on the web: read and sign on a phone, download, verify, and the CA certificate.

- ``/documents/<id>``: the exact PDF to be signed as page images (phones cannot show PDFs
  inline reliably), its SHA-256, who signed, and — for a signer — the signing panel driven by
  ``static/sign.js`` (one-time code, drawn signature, a WebCrypto key that never leaves the
  browser). The two signing steps are JSON endpoints the script calls.
- ``/verify``: anyone uploads a PDF and sees every signature checked (public, rate-limited).
- ``/documents/ca``: the platform CA certificate, for courts and PDF readers to trust.
- ``/cases/<number>/checkpoint``: the latest signed checkpoint of the case's audit trail
  (:mod:`odr.documents.checkpoints`), for whoever may see the case to keep;
  ``/checkpoints/<id or SHA-256>`` and ``/checkpoints?after=<id>``: the signed statements, public,
  for witnesses outside the platform (they name no case).

Who may see a document: whoever may see its case.
"""

from __future__ import annotations

import base64
import io
import logging

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.cases.access import get_case_or_404
from odr.documents import checkpoints
from odr.documents import operations as ops
from odr.documents import pages, storage
from odr.documents.ca import SEAL_NAME, fingerprint, platform_ca
from odr.documents.models import AuditCheckpoint, SignedDocument, SignerStatus, SigningStatus
from odr.errors import problem
from odr.extensions import db, limiter

logger = logging.getLogger(__name__)

bp = Blueprint("documents", __name__)

ROLE_LABELS = {
    "claimant": _l("Claimant"), "respondent": _l("Respondent"), "mediator": _l("Mediator"),
    "arbitrator": _l("Arbitrator"),
}
STATUS_LABELS = {
    SigningStatus.signing: _l("Collecting signatures"),
    SigningStatus.complete: _l("Signed by everyone and sealed"),
    SigningStatus.superseded: _l("Replaced by a newer version"),
}
#: The page's words for :data:`odr.documents.verify.PROBLEMS` (a test checks they cover them all).
PROBLEM_LABELS = {
    "not_intact": _l("The signed content was changed after signing."),
    "invalid": _l("The signature does not match the signed content and the certificate."),
    "untrusted": _l("The signer's certificate does not lead to a trusted authority, or was not valid when signing."),
    "modified_after": _l("The document was changed after this signature in a way signatures do not allow."),
    "unreadable": _l("The signature cannot be read."),
    "value_changed": _l("Bytes in the signature's value that no signature covers were changed after signing."),
    "changed_after_last": _l("The file was changed after its last signature."),
    "no_signatures": _l("The document has no signatures."),
}


#: The page's words for the levels of identity assurance a signer certificate states.
IDENTITY_LEVEL_LABELS = {
    "counter": _l("verified in person (ID card checked at a counter)"),
    "oidc": _l("verified by an identity provider"),
    "none": _l("not verified"),
    "in_person_field": _l("checked in person by %(worker)s, confirmed with a code to their phone"),
    "in_person_no_code": _l("checked in person by %(worker)s, no phone code (ID card checked)"),
}


def identity_label(result) -> str:
    """How a verified signature's identity reads on the verification page."""
    label = IDENTITY_LEVEL_LABELS.get(result.identity)
    if label is None:
        return result.identity
    return str(label) % {"worker": result.checked_by or "?"} if "%(worker)s" in str(label) else str(label)


@bp.app_context_processor
def _labels():
    return {"signer_role": ROLE_LABELS, "identity_label": identity_label, "signing_status": STATUS_LABELS,
            "problem_label": PROBLEM_LABELS, "latest_checkpoint": checkpoints.latest_head, "seal_name": SEAL_NAME}


def get_document_or_404(doc_id: int) -> SignedDocument:
    """The document, if the current user may see its case (404 otherwise: its existence is private)."""
    document = db.session.get(SignedDocument, doc_id)
    if document is None or not document.case.can_view(current_user):
        abort(404)
    return document


def _refusal(status: int, reason, **extra):
    """A refused signing step as JSON the page's script shows as is (in the page's language)."""
    body = {"type": "about:blank", "status": status, "title": str(reason), "detail": str(reason), **extra}
    resp = jsonify(body)
    resp.status_code = status
    resp.content_type = "application/problem+json"
    return resp


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(_refusal(400, _("Send the request as a JSON object.")))
    return data


@bp.get("/documents/<int:doc_id>")
@login_required
def view(doc_id: int):
    document = get_document_or_404(doc_id)
    signer = document.signer_for(current_user)
    page_count = pages.page_count(document.current_sha256)
    may_sign = (signer is not None and signer.status is not SignerStatus.signed
                and document.status is SigningStatus.signing and document.kind not in ops.ON_SITE_KINDS)
    identity = ops.signer_identity(document, current_user, signer.role) if may_sign else None
    return render_template("documents/pages/view.html", document=document, case=document.case, signer=signer,
                           page_count=page_count, may_sign=may_sign and identity.satisfies,
                           identity_needed=may_sign and not identity.satisfies)


@bp.get("/documents/<int:doc_id>/file.pdf")
@login_required
def download(doc_id: int):
    document = get_document_or_404(doc_id)
    data = storage.get(document.current_sha256)
    name = f"{document.case.number}-{document.kind}-v{document.version}.pdf"
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name,
                     etag=document.current_sha256, max_age=0)


@bp.get("/documents/<int:doc_id>/page-<int:number>.png")
@login_required
def page_image(doc_id: int, number: int):
    document = get_document_or_404(doc_id)
    sha = request.args.get("v", document.current_sha256)
    if sha not in document.known_files:
        abort(404)
    try:
        png = pages.page_png(sha, number)
    except IndexError:
        abort(404)
    resp = send_file(io.BytesIO(png), mimetype="image/png", etag=f"{sha}-{number}", max_age=86400 * 30)
    resp.headers["Cache-Control"] = "private, max-age=2592000, immutable"
    return resp


def _signing_step(doc_id: int, step):
    document = get_document_or_404(doc_id)
    try:
        result = step(document)
    except ops.BadSignatureInput as exc:
        db.session.rollback()
        return _refusal(422, exc.reason)
    except ops.StaleDocument as exc:
        db.session.rollback()
        return _refusal(409, exc.reason, retry=True)
    except ops.IdentityNeeded as exc:
        db.session.rollback()
        return _refusal(403, exc.reason, verify=url_for("identity.mine", next=url_for(".view", doc_id=doc_id)))
    except ops.SigningError as exc:
        db.session.rollback()
        return _refusal(409, exc.reason)
    return result


def _code_limit():
    return current_app.config["CODE_RATE_LIMIT"]


@bp.post("/documents/<int:doc_id>/code")
@login_required
@limiter.limit(_code_limit)
def send_code(doc_id: int):
    def step(document):
        where = ops.send_code(document, current_user)
        return jsonify(sent_to=_mask(where))
    return _signing_step(doc_id, step)


def _mask(contact: str) -> str:
    if "@" in contact:
        name, domain = contact.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return f"{contact[:-8]}****{contact[-4:]}" if len(contact) > 8 else "****"


@bp.post("/documents/<int:doc_id>/prepare")
@login_required
@limiter.limit("30/minute")
def prepare(doc_id: int):
    def step(document):
        data = _json_body()
        signer = ops.prepare(document, current_user, public_key=data.get("public_key"), stamp=data.get("stamp"),
                             viewed_sha256=str(data.get("sha256", ""))[:64], code=data.get("code") or None)
        return jsonify(to_be_signed=base64.b64encode(signer.to_be_signed).decode(),
                       algorithm="ECDSA-P256-SHA256")
    return _signing_step(doc_id, step)


@bp.post("/documents/<int:doc_id>/finish")
@login_required
@limiter.limit("30/minute")
def finish(doc_id: int):
    def step(document):
        data = _json_body()
        ops.finish(document, current_user, signature=data.get("signature"))
        return jsonify(status=document.status.value, sha256=document.current_sha256,
                       waiting_for=len(document.waiting_for))
    return _signing_step(doc_id, step)


# --- verification and the CA (public) ---------------------------------------------------------

def _verify_limit():
    return current_app.config["VERIFY_RATE_LIMIT"]


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def verify_page():
    if request.method == "GET":
        return render_template("documents/pages/verify.html")
    max_bytes = current_app.config["VERIFY_MAX_BYTES"]
    request.max_content_length = max_bytes + 64 * 1024
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _verify_error(_("Choose a PDF file to check."))
    data = upload.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        return _verify_error(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)), 413)
    if not data.startswith(b"%PDF-"):
        return _verify_error(_("This is not a PDF file."), 415)
    from odr.documents import pades
    from odr.documents.verify import verify
    try:
        report = verify(data, [platform_ca().ca.asn1_cert])
    except pades.TooComplex as exc:
        logger.info("Verification stopped at its limits: %s", exc)
        return _verify_error(_("The PDF has more signatures, revisions or compressed data than can be "
                               "checked here."), 422)
    except pades.NotAPdf as exc:
        logger.info("Verification refused a file: %s", exc)
        message = _("The PDF is encrypted; only unencrypted documents can be checked.") \
            if "encrypted" in str(exc) else _("The PDF is damaged or incomplete and cannot be checked.")
        return _verify_error(message, 422)
    return render_template("documents/pages/verify.html", report=report, filename=upload.filename[:100])


def _verify_error(message, status: int = 400):
    return render_template("documents/pages/verify.html", error=message), status


@bp.get("/documents/ca")
def ca_page():
    ca = platform_ca()
    return render_template("documents/pages/ca.html", cert=ca.cert, fingerprint=fingerprint(ca.cert))


@bp.get("/documents/ca.pem")
def ca_pem():
    return send_file(io.BytesIO(platform_ca().pem()), mimetype="application/x-pem-file", as_attachment=True,
                     download_name="odr-platform-ca.pem")


@bp.get("/documents/ca.cer")
def ca_der():
    return send_file(io.BytesIO(platform_ca().der()), mimetype="application/pkix-cert", as_attachment=True,
                     download_name="odr-platform-ca.cer")


# --- signed checkpoints of the audit trail ------------------------------------------------------

def _checkpoint_json(document: dict, filename: str):
    resp = jsonify(document)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.get("/cases/<number>/checkpoint")
@login_required
def case_checkpoint(number):
    """The case's latest signed checkpoint: the statement, its signature, the chain's head and its proof.

    :raise 404: the user may not see the case, or no checkpoint of it was signed yet.
    """
    case = get_case_or_404(number)
    head = checkpoints.latest_head(case)
    if head is None:
        return problem(404, _l("No checkpoint of this case's audit trail has been signed yet."))
    return _checkpoint_json(checkpoints.chain_document(head),
                            f"{case.number}-checkpoint-{head.checkpoint.sha256[:12]}.json")


@bp.get("/checkpoints/<reference>")
def public_checkpoint(reference):
    """A signed statement by its id or SHA-256, for anyone (it names no case).

    :raise 404: no such checkpoint.
    """
    checkpoint = checkpoints.find(reference)
    if checkpoint is None:
        return problem(404, _l("There is no checkpoint %(reference)s.", reference=reference[:64]))
    return _checkpoint_json(checkpoints.public_document(checkpoint), f"checkpoint-{checkpoint.sha256[:12]}.json")


@bp.get("/checkpoints")
def public_checkpoints():
    """The signed statements after the id ``after``, oldest first, a page at a time (``next``: the
    address of the following page), for witnesses that keep every one."""
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit()) or len(after) > 9:
        return problem(422, _l("after must be a checkpoint id (a whole number)."))
    size = current_app.config["AUDIT_CHECKPOINT_PAGE"]
    rows = db.session.scalars(db.select(AuditCheckpoint).where(AuditCheckpoint.id > int(after))
                              .order_by(AuditCheckpoint.id).limit(size + 1)).all()
    return {"items": [checkpoints.public_document(c) for c in rows[:size]],
            "next": url_for("documents.public_checkpoints", after=rows[size - 1].id, _external=True)
            if len(rows) > size else None}
