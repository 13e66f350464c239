"""Socket.IO namespace ``/case``: the open pages of a case hear at once when something in it changed
that the person is waiting for (the other side answered a proposal or an offer). The server only
sends; the page fetches its own address again, puts the changed part in place and says what
happened in its live region (``static/case-live.js``, ``static/announce.js``).

A page asks to follow a case (``watch`` with the case's number); it joins the room ``case-<id>``
only when its person may see the case (:meth:`Case.can_view`), so nobody else hears of it. The
features that change a case tell its room through :func:`tell_after_commit`, once the change is
stored; they do not import one another, and meet here.

Who may see a case changes (a party revokes their agent or helper, a mediator is replaced, the
case is routed to another organisation, an arbitrator stands down): the columns that decide it are
named in :data:`ACCESS_COLUMNS` (features add theirs with :func:`access_follows`), and a flush that
changes one notes the case. Once that transaction is committed, the case's room is told
``access_changed`` and then closed (:func:`recheck`): both go through the message queue, so every
server process empties its part of the room, whatever the pages do. Each page then asks to
``watch`` again and is let back in only if its person may still see the case; the one who may not
is refused, says so and stops updating. Nothing is sent to the room between the close and the new
``watch``; a page let back in fetches itself again, so it misses nothing.
"""

from __future__ import annotations

import logging
from functools import partial

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from odr import realtime, relay, transaction
from odr.auth import sessions
from odr.cases.models import Case
from odr.extensions import db

logger = logging.getLogger(__name__)

NS = "/case"
flood = realtime.FloodLimit(NS, 30, 10)
#: Registered on each app's server by the case file's ``init_app``.
namespace = realtime.Namespace(NS, flood, touch=sessions.touch, sender=sessions.event_sender)

#: What a page is told changed: ``answered`` — the other side answered a proposal (mediation) or an
#: offer (negotiation): ``{"kind": "proposal"|"offer", "id", "answer", "by"}``, ``answer`` being
#: ``accepted``, ``accepted_by_one`` (one of several addressees accepted), ``rejected`` or ``countered``.
ANSWERED = "answered"
ANSWERS = ("accepted", "accepted_by_one", "rejected", "countered")
#: Who may see the case changed: the page asks to ``watch`` again (it was taken out of the room).
ACCESS_CHANGED = "access_changed"
#: A case number is at most this long (``Case.number``).
NUMBER_MAX = 20
#: Per model, the attributes (columns or relationships) on which :meth:`Case.roles_of` depends,
#: and the attribute naming the row's case. Deleting such a row changes access too.
ACCESS_COLUMNS: dict[type, tuple[tuple[str, ...], str]] = {}
#: ``Session.info`` key of the cases whose access changed in the transaction under way.
_CHANGED = "odr_case_access_changed"


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


def recheck(case_id: int) -> None:
    """Take every page out of the case's room, on every server process, after telling them to ask
    again (:data:`ACCESS_CHANGED`). Called once the change is committed."""
    socketio = current_app.extensions.get("socketio")
    if socketio is None:
        return
    # In this order on every process: the message queue keeps one publisher's order, and the pages
    # can only answer once the room is closed.
    socketio.emit(ACCESS_CHANGED, {}, to=room(case_id), namespace=NS)
    socketio.close_room(room(case_id), namespace=NS)
    logger.info("Case %s: who may see it changed; its live pages asked to watch again", case_id)


def access_follows(model, attributes: tuple[str, ...], case_attribute: str = "case_id") -> None:
    """Changing one of ``model``'s ``attributes`` (or deleting a row) changes who may see the
    row's case (``case_attribute``): its live pages are checked again after the commit."""
    ACCESS_COLUMNS[model] = (attributes, case_attribute)


def _note_access_changes(session, _flush_context, _instances) -> None:
    changed = None
    for obj, deleted in [*((o, False) for o in session.dirty), *((o, True) for o in session.deleted)]:
        spec = ACCESS_COLUMNS.get(type(obj))
        if spec is None:
            continue
        attributes, case_attribute = spec
        state = sa.inspect(obj)
        if deleted or any(state.attrs[name].history.has_changes() for name in attributes):
            case_id = getattr(obj, case_attribute)
            if case_id is not None:
                changed = session.info.setdefault(_CHANGED, set()) if changed is None else changed
                if case_id not in changed and realtime.relaying():
                    _relay_recheck(case_id)
                changed.add(case_id)


def _relay_recheck(case_id: int) -> None:
    """:func:`recheck` from a process that serves no pages (the periodic jobs: an assignment offer
    expiring): handed to the live relay in this very transaction, and carried out by the serving
    process once it is committed — told, then the room emptied, in that order."""
    relay.keep(ACCESS_CHANGED, {}, to=room(case_id), namespace=NS)
    relay.keep(relay.EMPTY_ROOM, {}, to=room(case_id), namespace=NS)


def _recheck_committed(session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if not changed:
        return
    try:
        for case_id in sorted(changed):
            recheck(case_id)
    except Exception:  # the change is stored: a failed notice must not undo the answer
        logger.exception("Rechecking the live pages of cases %s failed", sorted(changed))


def _forget_changes(session, *_args) -> None:
    session.info.pop(_CHANGED, None)


def follow_access_changes() -> None:
    """Check the live pages of a case again whenever a committed transaction changed who may see
    it (once per process; the listeners are on every session of the app's session class)."""
    from odr.cases.models import CaseParty, Representation

    access_follows(Case, ("organization", "organization_id", "mediator", "mediator_id", "arbitrator_id", "court",
                          "court_id", "outcome"), "id")
    access_follows(CaseParty, ("user_id", "status"))
    access_follows(Representation, ("status", "user_id", "scope"))
    target = db.session
    if not sa.event.contains(target, "before_flush", _note_access_changes):
        sa.event.listen(target, "before_flush", _note_access_changes)
        sa.event.listen(target, "after_commit", _recheck_committed)
        sa.event.listen(target, "after_rollback", _forget_changes)
