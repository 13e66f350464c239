"""``/api/court/v1``: a court's own case system takes hand-offs and reports back, without a clerk
clicking through pages. Documented in ``docs/openapi.yaml``.

Authenticated by a bearer token issued to the court (``odr api-token create --org COURT_ID``):
a token of any other kind of organisation is refused, and a court's token sees only the
hand-offs to that court (another court's hand-off is "not found"). Answers and problems are JSON
in English (RFC 9457 problem details); reports are idempotent.

The court is a witness of the audit trail of each case handed to it: it receives every signed
checkpoint of the case's chain (:mod:`odr.documents.checkpoints`) — those of one hand-off, and a
feed of those signed since it last asked, of its own cases only.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, request, send_file, url_for
from flask_babel import force_locale

from odr.cases import operations as case_ops
from odr.cases.models import OrgType
from odr.court import operations as ops
from odr.court.models import Handoff, HandoffStatus
from odr.documents import checkpoints
from odr.documents.models import CheckpointHead
from odr.errors import problem
from odr.extensions import db

bp = Blueprint("api_court", __name__, url_prefix="/api/court/v1")
PER_PAGE = 50



def _court_client():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    client = case_ops.api_client_for_token(token.strip())
    if client is None or client.organization.type is not OrgType.court:
        return None
    return client


@bp.before_request
def _authenticate():
    client = _court_client()
    if client is None:
        resp = problem(401, "A valid court API token is required (Authorization: Bearer …).")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="odr-court"'
        return resp
    request.court_client = client
    return None


@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(413)
def _refused(exc):
    return problem(exc.code)


def _handoff(handoff_id: int) -> Handoff | None:
    handoff = db.session.get(Handoff, handoff_id)
    if handoff is None or handoff.court_id != request.court_client.organization_id:
        return None
    return handoff


def _json(h: Handoff) -> dict:
    case = h.case
    return {
        "id": h.id,
        "case_number": case.number,
        "kind": h.kind.value,
        "status": h.status.value,
        "handed_over_at": h.created_at.isoformat(timespec="seconds") + "Z",
        "bundle": {"url": url_for("api_court.bundle", handoff_id=h.id, _external=True),
                   "sha256": h.bundle_sha256, "size": h.bundle_size},
        "parties": [{"side": p.side.value, "name": p.user.name if p.user is not None else p.name}
                    for p in case.parties],
        "docket_number": h.docket_number,
        "result": h.result.value if h.result is not None else None,
        "result_note": h.result_note or None,
        "checkpoints": {"url": url_for("api_court.handoff_checkpoints", handoff_id=h.id, _external=True),
                        "latest": _latest_checkpoint(case)},
    }


def _latest_checkpoint(case) -> dict | None:
    head = checkpoints.latest_head(case)
    if head is None:
        return None
    return {"id": head.checkpoint_id, "sha256": head.checkpoint.sha256, "entries": head.seq,
            "created_at": head.checkpoint.created_at.isoformat(timespec="seconds") + "Z"}


@bp.get("/handoffs")
def handoffs():
    query = db.select(Handoff).where(Handoff.court_id == request.court_client.organization_id)
    status = request.args.get("status")
    if status is not None:
        if status not in HandoffStatus.__members__:
            return problem(422, "Unknown status.", errors=[{"field": "status",
                                                            "message": f"one of {', '.join(HandoffStatus.__members__)}"}])
        query = query.where(Handoff.status == HandoffStatus(status))
    page = db.paginate(query.order_by(Handoff.id), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    return {"items": [_json(h) for h in page.items], "page": page.page, "pages": page.pages, "total": page.total}


@bp.get("/handoffs/<int:handoff_id>")
def show(handoff_id):
    handoff = _handoff(handoff_id)
    return _json(handoff) if handoff is not None else problem(404)


@bp.get("/handoffs/<int:handoff_id>/bundle")
def bundle(handoff_id):
    handoff = _handoff(handoff_id)
    if handoff is None:
        return problem(404)
    return send_file(ops.bundle_path(handoff), mimetype="application/zip", as_attachment=True,
                     download_name=f"{handoff.case.number}.zip", etag=handoff.bundle_sha256)


@bp.get("/handoffs/<int:handoff_id>/checkpoints")
def handoff_checkpoints(handoff_id):
    """Every signed checkpoint of the case's audit trail so far, oldest first (as in the bundle)."""
    from odr.court.bundle import checkpoint_data

    handoff = _handoff(handoff_id)
    return checkpoint_data(handoff.case) if handoff is not None else problem(404)


@bp.get("/checkpoints")
def checkpoint_feed():
    """The checkpoints signed of this court's cases after ``after`` (each item's ``cursor``), oldest
    first, a page at a time: what a court keeps as the witness of its cases' audit trails."""
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit()) or len(after) > 9:
        return problem(422, "Some fields are not valid.", errors=[{"field": "after",
                                                                   "message": "a cursor: a whole number"}])
    size = current_app.config["AUDIT_CHECKPOINT_PAGE"]
    court_cases = sa.select(Handoff.case_id).where(Handoff.court_id == request.court_client.organization_id)
    rows = db.session.scalars(sa.select(CheckpointHead).where(CheckpointHead.id > int(after),
                                                              CheckpointHead.case_id.in_(court_cases))
                              .order_by(CheckpointHead.id).limit(size + 1)).all()
    return {"items": [{"cursor": row.id, **document}
                      for row, document in zip(rows, checkpoints.chain_documents(rows[:size]))],
            "next": url_for("api_court.checkpoint_feed", after=rows[size - 1].id, _external=True)
            if len(rows) > size else None}


def _body(allowed: dict) -> tuple[dict | None, object]:
    """The JSON object of a report, or a 422 naming each unknown field and wrong type."""
    data = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(data, dict):
        return None, problem(422, "The body must be a JSON object.")
    errors = [{"field": k, "message": "unknown field"} for k in data if k not in allowed]
    errors += [{"field": k, "message": f"must be {kind.__name__.replace('str', 'a string')}"}
               for k, kind in allowed.items() if k in data and not isinstance(data[k], kind)]
    if errors:
        return None, problem(422, "Some fields are not valid.", errors=errors)
    return data, None


def _report(handoff_id, allowed, step):
    handoff = _handoff(handoff_id)
    if handoff is None:
        return problem(404)
    data, refusal = _body(allowed)
    if refusal is not None:
        return refusal
    try:
        with force_locale("en"):
            changed = step(handoff, data)
    except ops.InvalidReport as exc:
        db.session.rollback()
        with force_locale("en"):
            return problem(422, str(exc.reason))
    except ops.CourtError as exc:
        db.session.rollback()
        with force_locale("en"):
            return problem(409, str(exc.reason))
    return _json(handoff), 200 if not changed else 201


@bp.post("/handoffs/<int:handoff_id>/receipt")
def receipt(handoff_id):
    return _report(handoff_id, {}, lambda h, data: ops.record_receipt(h, request.court_client))


@bp.post("/handoffs/<int:handoff_id>/docket")
def docket(handoff_id):
    return _report(handoff_id, {"docket_number": str},
                   lambda h, data: ops.record_docket(h, request.court_client, data.get("docket_number", "")))


@bp.post("/handoffs/<int:handoff_id>/result")
def result(handoff_id):
    return _report(handoff_id, {"result": str, "note": str},
                   lambda h, data: ops.record_result(h, request.court_client, data.get("result", ""),
                                                     data.get("note", "")))
