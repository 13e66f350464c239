"""Socket.IO namespace ``/field``: the worker's phone and the command room hear of new and
changed dispatches at once. The server only sends; a page reloads what it is told changed.

Rooms: ``field-worker-<user id>`` (a worker's own dispatches) and ``field-command-<organisation
id>`` (the command room of the grids an organisation answers for); admins join ``field-command``.
"""

from __future__ import annotations

import logging

from flask import request
from flask_login import current_user

from odr import realtime
from odr.auth import sessions
from odr.auth.models import Role
from odr.extensions import db
from odr.field.models import Dispatch

logger = logging.getLogger(__name__)

NS = "/field"
flood = realtime.FloodLimit(NS, 30, 10)
namespace = realtime.Namespace(NS, flood, touch=sessions.touch, sender=sessions.event_sender)


@namespace.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated:
        logger.warning("Refused anonymous /field connection from %s", request.remote_addr)
        raise ConnectionRefusedError("sign in first")
    from flask_socketio import join_room  # here: the jobs process announces, and loads no Socket.IO

    join_room(sessions.room(sessions.current().id))  # closed when this session ends
    if current_user.organizations_for(Role.grid_worker):
        join_room(f"field-worker-{current_user.id}")
    for org_id in current_user.organizations_for(Role.staff):
        join_room(f"field-command-{org_id}")
    if current_user.is_admin:
        join_room("field-command")
    sessions.touch()


@namespace.on("disconnect")
def on_disconnect(reason=None):
    flood.forget(request.sid)
    sessions.connection_closed()


def announce(dispatch_id: int, *, new: bool = False, escalated: bool = False) -> None:
    """Tell the worker and the command room that a dispatch arrived, changed, or was just raised as
    unanswered past the acceptance target (``escalated``; after the commit).

    The escalation job runs in a process of its own (``odr jobs``, ``odr tick``), which serves no
    pages: its word goes through the live relay, in the job's transaction (:func:`odr.realtime.emit`,
    :func:`odr.jobs.tell`), and the serving process sends it on.
    """
    dispatch = db.session.get(Dispatch, dispatch_id)
    if dispatch is None:
        return
    data = {"id": dispatch.id, "status": dispatch.status.value, "case": dispatch.case.number, "new": new,
            "place": dispatch.place, "escalated": dispatch.escalated_at is not None,
            "escalated_now": escalated}
    rooms = [f"field-command-{dispatch.organization_id}", "field-command"]
    if dispatch.worker_id:
        rooms.append(f"field-worker-{dispatch.worker_id}")
    for room in rooms:
        realtime.emit("dispatch", data, to=room, namespace=NS)
