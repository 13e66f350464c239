"""Error answers: an HTML page for people, RFC 9457 problem details for the API.

Nothing unexpected reaches the client as a stack trace; the request's
transaction is rolled back so no half-written record stays behind.
"""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from odr.extensions import db
from odr.refusal import Refused

logger = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing here, or you are not allowed to see it."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This cannot be done in the current state."),
    413: _l("What you sent is too large."),
    415: _l("This kind of content is not accepted here."),
    422: _l("Some values are not valid."),
    429: _l("Too many attempts. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
    503: _l("The platform is very busy right now. Nothing was saved; please try again in a moment."),
}

#: Seconds a client is asked to wait (``Retry-After``) when the platform is too busy to answer.
BUSY_RETRY_AFTER_SECONDS = 5


def is_overload(exc: BaseException) -> bool:
    """The database could not be had in time: every connection of the pool busy past its wait
    (``pool_timeout``), or SQLite's write lock held by another process past ``busy_timeout``.
    Overload, not a fault: the request is refused whole and may be sent again."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig).lower()


def abort_with(status: int, detail) -> None:
    """Stop the request with ``status`` and a sentence saying why (shown on the page or in ``detail``)."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions[status]()
    exc.odr_detail = detail
    raise exc


def wants_json() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, detail=None, errors=None, title=None):
    """A problem-details (RFC 9457) response; in English, since the API talks to machines."""
    with force_locale("en"):
        return _problem(status, detail, errors, title)


def _problem(status, detail, errors, title):
    body = {
        "type": "about:blank",
        "title": str(title or MESSAGES.get(status, "Error")),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    resp.content_type = "application/problem+json"
    return resp


def error_page(status: int, detail=None):
    message = MESSAGES.get(status, MESSAGES[400])
    return render_template("error.html", status=status, message=message, detail=detail), status


def init_app(app):
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        detail = _l("The form expired or was sent from elsewhere. Reload the page and try again.")
        return problem(400, detail) if wants_json() else error_page(400, detail)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if isinstance(exc, InternalServerError):
            return _unexpected(exc)
        status = exc.code or 500
        detail = getattr(exc, "odr_detail", None)
        if wants_json():
            resp = problem(status, detail)
        else:
            resp = error_page(status, detail)
        if status == 405 and exc.valid_methods:
            resp = app.make_response(resp)
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @app.errorhandler(Refused)
    def _refused(exc: Refused):
        """A refusal no view answered with its own page: nothing of the request is kept, and the
        person reads why (409, or 422 for bad input)."""
        db.session.rollback()
        status = exc.status if exc.status in MESSAGES and 400 <= exc.status < 500 else 409
        return problem(status, exc.reason) if wants_json() else error_page(status, exc.reason)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        original = getattr(exc, "original_exception", None) or exc
        db.session.rollback()
        if is_overload(original):
            logger.warning("Too busy for %s %s: %s", request.method, request.path, type(original).__name__)
            resp = app.make_response(problem(503) if wants_json() else error_page(503))
            resp.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
            return resp
        logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=original)
        return problem(500) if wants_json() else error_page(500)
