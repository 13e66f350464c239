"""``POST /api/v1/intake``: outside systems (hotline, police dispatch, grid workers) transfer cases.

Authenticated by a bearer token issued per system (``odr api-token create``).
The sender's reference makes the call idempotent: sending the same reference
again returns the case already made from it. A transfer may say where the dispute is (``place``,
``location``); the case file hands that to whatever acts on arrivals (field dispatch), and adds
what those know to the sender's view (``field``) — this module knows none of them.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, request, url_for
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from odr.cases import operations as ops
from odr.cases.forms import TransferForm
from odr.cases.models import Channel, OrgType
from odr.cases.views import dispute_details, party_details
from odr.errors import problem
from odr.extensions import db, limiter
from odr.links import absolute_url
from odr.cases import transfers

bp = Blueprint("api_intake", __name__, url_prefix="/api/v1")

FIELDS = {
    "reference", "category", "description", "claim", "amount_claimed", "district",
    "claimant_name", "claimant_phone", "claimant_email",
    "respondent_name", "respondent_phone", "respondent_email",
}
#: Where the dispute is: not the case's own fields, handed to what acts on arrivals.
WHERE_FIELDS = {"place", "location"}
FIELDS |= WHERE_FIELDS


def _client():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    client = ops.api_client_for_token(token.strip())
    # A court's token is for the court API (``/api/court/v1``): a court receives hand-offs, it
    # does not transfer disputes in.
    if client is not None and client.organization is not None and client.organization.type is OrgType.court:
        return None
    return client


def _rate_limit():
    return current_app.config["INTAKE_RATE_LIMIT"]


def _rate_limit_key():
    # A sending system has its own budget; requests without a valid token share one per address,
    # so guessing tokens cannot use up a real client's budget.
    client = _client()
    return f"api-client:{client.id}" if client is not None else f"address:{request.remote_addr}"



@bp.errorhandler(413)
@bp.errorhandler(429)
def _refused(exc):
    # The site-wide handler answers in the visitor's language; this one stays in English.
    return problem(exc.code)


def _answer(case, status):
    body = _status(case)
    body["invitations"] = {p.side.value: ops.invitation_url(p) for p in case.parties if p.invite_token}
    return body, status, {"Location": url_for("cases.show", number=case.number)}


def _status(case):
    return {
        "case_number": case.number,
        "url": absolute_url("cases.show", number=case.number),
        "reference": case.external_ref,
        "stage": case.stage.value,
        "status": "closed" if case.outcome else "open",
        "outcome": case.outcome.value if case.outcome else None,
        "response": transfers.timings(transfers.response_of(case)),
    } | transfers.extra_status(case)


def _bad_fields(data):
    """Unknown fields and values of the wrong JSON type, before any value is read."""
    errors = []
    for key, value in data.items():
        if key not in FIELDS:
            errors.append({"field": key, "message": "unknown field"})
        elif key == "location":
            errors.extend(_bad_location(value))
        elif key == "place" and isinstance(value, str) and len(value.strip()) > 200:
            errors.append({"field": key, "message": "at most 200 characters"})
        elif key == "place" and isinstance(value, str) and any(ord(c) < 32 for c in value):
            errors.append({"field": key, "message": "must not hold control characters"})
        elif value is None or isinstance(value, str):
            continue
        elif key == "amount_claimed":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errors.append({"field": key, "message": "must be a string or a number"})
        else:
            errors.append({"field": key, "message": "must be a string"})
    return errors


def _bad_location(value):
    """``location`` is null or ``{"lat": number, "lng": number}`` on the globe."""
    if value is None:
        return []
    if not isinstance(value, dict) or set(value) != {"lat", "lng"}:
        return [{"field": "location", "message": "must be an object with lat and lng only"}]
    errors = []
    for key, bound in (("lat", 90), ("lng", 180)):
        v = value[key]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or abs(v) > bound:
            errors.append({"field": f"location.{key}", "message": f"must be a number from -{bound} to {bound}"})
    return errors


def _where(data) -> dict:
    location = data.get("location") or {}
    place = (data.get("place") or "").strip() or None
    return {"place": place, "lat": location.get("lat"), "lng": location.get("lng")}


def _unauthorized():
    resp = problem(401, "Send a valid bearer token in the Authorization header.")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="odr"'
    return resp


@bp.get("/intake/<reference>")
@limiter.limit(_rate_limit, key_func=_rate_limit_key)
def intake_status(reference):
    """What became of a case the sender transferred: stage, status and the center's response times.

    A sender sees only its own references; any other answers 404 like a reference never sent.
    """
    client = _client()
    if client is None:
        return _unauthorized()
    case = ops.find_transfer(client, reference.strip()[:64]) if len(reference) <= 64 else None
    if case is None:
        return problem(404, "No case was transferred by you with this reference.")
    return _status(case), 200


@bp.post("/intake")
@limiter.limit(_rate_limit, key_func=_rate_limit_key)
def intake():
    client = _client()
    if client is None:
        return _unauthorized()
    if not request.is_json:
        return problem(415, "Send the case as application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return problem(400, "The body must be a JSON object.")
    errors = _bad_fields(data)
    if errors:
        return problem(422, errors=errors)
    reference = data.get("reference")
    if isinstance(reference, str):
        existing = ops.find_transfer(client, reference.strip())
        if existing is not None:
            return _answer(existing, 200)
    formdata = MultiDict({k: str(v) for k, v in data.items() if v is not None and k not in WHERE_FIELDS})
    with force_locale("en"):
        form = TransferForm(formdata=formdata)
        if not form.validate():
            return problem(422, errors=[{"field": f, "message": str(m)} for f, ms in form.errors.items() for m in ms])
    try:
        case = ops.file_case(
            None, Channel.transfer,
            dispute_details(form), party_details(form, "claimant"), party_details(form, "respondent"),
            organization=client.organization, api_client=client, external_ref=form.reference.data,
        )
        transfers.received(case, _where(data))
        db.session.flush()  # a reference sent twice at once collides here, not at the commit
    except IntegrityError:
        # The same reference arrived twice at the same moment: answer with the first one's case.
        db.session.rollback()
        existing = ops.find_transfer(client, form.reference.data)
        if existing is None:
            raise
        return _answer(existing, 200)
    return _answer(case, 201)
