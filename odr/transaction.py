"""One transaction per request.

Operations never commit; neither do views. A request that is answered with success (a page, a
redirect, a JSON body: status below 400) commits everything it did, once, after the view returned
and before the answer leaves — so a person never reads "saved" for a write the database refused:
a failing commit becomes the error page instead. A request answered with a refusal or an error
(4xx, 5xx, or an exception) is rolled back whole: nothing half-written is kept.

What must happen only once the data is stored (telling other people's open pages over Socket.IO,
sending the outbox, closing the connections of ended sessions) is handed to ``after_commit``.

The one exception is a refusal that must still leave a trace (a failed sign-in counts towards the
lock-out): that view commits the count itself before answering.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, g, has_request_context

from odr.extensions import db

logger = logging.getLogger(__name__)


def after_commit(callback: Callable[[], object], *, once: bool = False) -> None:
    """Run ``callback`` after this request's transaction committed (not at all if it is rolled
    back). ``once``: the same callback queued several times in a request runs once.

    Only within a request: jobs, socket events and commands commit themselves and then act.
    """
    if not has_request_context():
        raise RuntimeError("after_commit needs a request; outside one, commit and then act")
    queued = g.setdefault("odr_after_commit", [])
    if once and callback in queued:
        return
    queued.append(callback)


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response):
        callbacks = g.pop("odr_after_commit", [])
        if response.status_code >= 400:
            db.session.rollback()
            return response
        db.session.commit()  # a failure here is the request's error: the person is not told "saved"
        for callback in callbacks:
            try:
                callback()
            except Exception:  # the data is stored; a failed notification must not turn it into an error page
                logger.exception("After-commit step %r failed", callback)
        return response
