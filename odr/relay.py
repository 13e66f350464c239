"""The live relay: what a process that serves no connections says to the open pages (the periodic
jobs of ``odr jobs`` beside the server, ``odr tick`` from cron) goes through the database.

Such a process has no Socket.IO server of its own to reach the pages with (``odr.cli``:
``SOCKET_COMMANDS``), and in the embedded default no message queue either. So
:func:`odr.realtime.emit` there calls :func:`keep`, which adds the event to the ``live_relay``
table in the caller's transaction: it is stored with the change it tells of, or not at all (a job
that fails and is rolled back has told nobody anything).

A command that ends sessions (``odr end-sessions``, ``odr revoke-role``) closes their connections
the same way: a :data:`CLOSE_ROOM` row, which the serving process carries out.

Each serving process runs :func:`deliver_forever` (gunicorn's ``post_worker_init``,
:func:`odr.serve.served_main`): every ``LIVE_RELAY_POLL_SECONDS`` it reads the oldest waiting
events, claims them by deleting them, sends each to its room and namespace through its own
server, and commits. Sending comes before the commit: a server that stops meanwhile leaves the
rows in place for the next one (an event may then arrive twice; pages reload what they are told
changed, so twice costs a reload, while never would leave the command room unaware). Rows waiting
while no server runs (a restart, cron ticking beside a stopped server) are sent when one is up
again, unless they are older than ``LIVE_RELAY_MAX_AGE_SECONDS``: those are dropped unsent, being
no longer news to a page that has since loaded.

One deliverer per serving process. Without a message queue there is only one (``odr run
--workers`` above 1 needs Redis); with several processes and Redis each claims what it read — the
delete decides, so an event goes out once — and its emit reaches the other processes' pages
through the queue.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Events read and sent in one transaction, at most.
BATCH = 200
#: Not an event: close every connection in the room, on every namespace, and tell each it was
#: signed out (:func:`odr.realtime.close_rooms`: a session ended by a command).
CLOSE_ROOM = "odr:close-room"
#: Not an event: take every connection out of the room in the row's namespace, leaving them open
#: (:func:`odr.cases.live.recheck`: who may see a case changed, its pages ask to follow it again).
EMPTY_ROOM = "odr:empty-room"


class LiveEvent(db.Model):
    """A Socket.IO event a process without connections emitted, waiting to be sent on."""

    __tablename__ = "live_relay"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The namespace (``/field``), the event's name, and where it goes (a room, or one connection's sid).
    namespace: Mapped[str] = mapped_column(sa.String(64))
    event: Mapped[str] = mapped_column(sa.String(64))
    room: Mapped[str] = mapped_column(sa.String(200))
    #: The payload, as the pages receive it.
    data: Mapped[Any] = mapped_column(sa.JSON, nullable=False)
    #: When it was emitted: older than ``LIVE_RELAY_MAX_AGE_SECONDS``, it is dropped unsent.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<LiveEvent {self.id} {self.namespace} {self.event} to {self.room}>"


def keep(event: str, data, *, to: str, namespace: str) -> None:
    """Add ``event`` for the serving processes to send on, in the caller's transaction (flushed
    with it; the caller commits)."""
    db.session.add(LiveEvent(namespace=namespace, event=event, room=to, data=data))


def deliver_pending(batch: int = BATCH) -> int:
    """Send on the oldest waiting events through this app's Socket.IO server, at most ``batch``,
    and delete them; those too old are deleted unsent. Commits.

    :return: how many rows were read (``batch``: there may be more).
    """
    rows = db.session.execute(
        sa.select(LiveEvent.id, LiveEvent.namespace, LiveEvent.event, LiveEvent.room, LiveEvent.data,
                  LiveEvent.created_at).order_by(LiveEvent.id).limit(batch)).all()
    if not rows:
        db.session.rollback()  # end the read: no snapshot or connection held between polls
        return 0
    # Claimed by the delete: another process that read the same rows deletes none of them (it
    # waits for this transaction, then finds them gone) and sends none.
    claimed = set(db.session.scalars(
        sa.delete(LiveEvent).where(LiveEvent.id.in_([row.id for row in rows])).returning(LiveEvent.id)))
    cutoff = utcnow() - timedelta(seconds=current_app.config["LIVE_RELAY_MAX_AGE_SECONDS"])
    socketio = current_app.extensions["socketio"]
    stale = 0
    for row in rows:
        if row.id not in claimed:
            continue
        if row.created_at < cutoff:
            stale += 1
            continue
        if row.event == CLOSE_ROOM:
            from odr.realtime import close_rooms  # realtime hands events to this module

            close_rooms([row.room])
        elif row.event == EMPTY_ROOM:
            socketio.close_room(row.room, namespace=row.namespace)
        else:
            socketio.emit(row.event, row.data, to=row.room, namespace=row.namespace)
    db.session.commit()
    if stale:
        logger.warning("Dropped %s live events older than %s s, unsent", stale,
                       current_app.config["LIVE_RELAY_MAX_AGE_SECONDS"])
    return len(rows)


def deliver_forever(app: Flask, stop: threading.Event) -> None:
    """Send on what the relay holds every ``LIVE_RELAY_POLL_SECONDS`` until ``stop`` is set (a
    greenlet of the served worker; a thread in tests)."""
    poll = float(app.config["LIVE_RELAY_POLL_SECONDS"])
    while not stop.is_set():
        try:
            with app.app_context():
                try:
                    while deliver_pending() == BATCH and not stop.is_set():
                        pass
                finally:
                    db.session.remove()
        except Exception:  # the database is away (restarting): try again at the next poll
            logger.exception("Sending on the live relay's events failed")
        stop.wait(poll)  # gevent's wait in a served process (patched)


def start(app: Flask) -> threading.Event | None:
    """Run :func:`deliver_forever` in the background of this serving process; set the returned
    event to stop it. Nothing when the app has no Socket.IO server or the poll is 0."""
    socketio = app.extensions.get("socketio")
    if socketio is None or float(app.config.get("LIVE_RELAY_POLL_SECONDS") or 0) <= 0:
        return None
    stop = threading.Event()
    socketio.start_background_task(deliver_forever, app, stop)
    return stop
