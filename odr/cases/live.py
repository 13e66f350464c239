"""Socket.IO namespace ``/case``: the open pages of a case hear at once when something in it changed
that the person is waiting for (the other side answered a proposal or an offer). The server only
sends; the page fetches its own address again, puts the changed part in place and says what
happened in its live region (``static/case-live.js``, ``static/announce.js``).

A page asks to follow a case (``watch`` with the case's number); it joins the room ``case-<id>``
only when its person may see the case (:meth:`Case.can_view`), so nobody else hears of it. The
features that change a case tell its room through :func:`tell_after_commit`, once the change is
stored; they do not import one another, and meet here.
"""

from __future__ import annotations

import logging
from functools import partial

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from odr import realtime, transaction
from odr.auth import sessions
from odr.cases.models import Case
from odr.extensions import db

logger = logging.getLogger(__name__)

NS = "/case"
flood = realtime.FloodLimit(NS, 30, 10)
#: Registered on each app's server by the case file's ``init_app``.
namespace = realtime.Namespace(NS, flood, touch=sessions.touch)

#: What a page is told changed: ``answered`` — the other side answered a proposal (mediation) or an
#: offer (negotiation): ``{"kind": "proposal"|"offer", "id", "answer", "by"}``, ``answer`` being
#: ``accepted``, ``accepted_by_one`` (one of several addressees accepted), ``rejected`` or ``countered``.
ANSWERED = "answered"
ANSWERS = ("accepted", "accepted_by_one", "rejected", "countered")
#: A case number is at most this long (``Case.number``).
NUMBER_MAX = 20


def room(case_id: int) -> str:
    return f"case-{case_id}"


@namespace.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated:
        logger.warning("Refused anonymous /case connection from %s", request.remote_addr)
        raise ConnectionRefusedError("sign in first")
    from flask_socketio import join_room  # here: the features import this module, commands need no Socket.IO

    join_room(sessions.room(sessions.current().id))  # closed when this session ends
    sessions.touch()


@namespace.on("disconnect")
def on_disconnect(reason=None):
    flood.forget(request.sid)
    sessions.connection_closed()


@namespace.event("watch")
def on_watch(data):
    """Follow the case ``data["case"]`` (its number) — only who may see the case."""
    number = data.get("case") if isinstance(data, dict) else None
    if not isinstance(number, str) or not 0 < len(number) <= NUMBER_MAX:
        realtime.refuse(NS, _("Malformed request."), "bad case number")
    case = db.session.scalar(sa.select(Case).where(Case.number == number))
    if case is None or not case.can_view(current_user):
        # The same answer whether the case exists or not: who may not see it may not learn of it.
        realtime.refuse(NS, _("You cannot follow this case."), f"may not watch case {number!r}")
    from flask_socketio import join_room

    join_room(room(case.id))
    return {"case": case.number}


def tell(case_id: int, event: str, data: dict) -> None:
    """Send ``event`` to the open pages following the case (nothing where the app serves no sockets)."""
    if "socketio" not in current_app.extensions:
        return
    realtime.emit(event, data, to=room(case_id), namespace=NS)


def tell_after_commit(case: Case, event: str, data: dict) -> None:
    """:func:`tell` the case's pages, once this request's transaction is stored."""
    transaction.after_commit(partial(tell, case.id, event, data))


def answered(case: Case, kind: str, item_id: int, answer: str, by) -> None:
    """The other side answered the proposal or offer ``item_id``: its pages hear it after the commit."""
    if answer not in ANSWERS:
        raise ValueError(answer)
    tell_after_commit(case, ANSWERED, {"kind": kind, "id": item_id, "answer": answer, "by": by.id})
