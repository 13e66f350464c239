"""Socket.IO namespace ``/consult``: live chat between a person and a consultant, and queue updates.

Every event is checked against the consultation's participants; bad input is
answered with ``{"ok": false, "error": …}`` in the acknowledgement and a
``problem`` event, never with an exception out of the handler.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import emit, join_room

from odr import realtime
from odr.auth import sessions
from odr.auth.models import Role
from odr.consult import operations as ops
from odr.consult.models import ConsultMessage, Consultation, ConsultationStatus
from odr.extensions import db
from odr.validation import is_database_id

logger = logging.getLogger(__name__)

NS = "/consult"
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: At most this many events per connection in the window below (floods are refused).
FLOOD_EVENTS, FLOOD_SECONDS = 30, 10
flood = realtime.FloodLimit(NS, FLOOD_EVENTS, FLOOD_SECONDS)
#: Registered on each app's server by the feature's ``init_app``.
namespace = realtime.Namespace(NS, flood, touch=sessions.touch, sender=sessions.event_sender,
                               quick_sender=sessions.quick_sender)
#: Chat messages arriving together are written in one transaction (group commit).
writer = realtime.GroupCommit("consult-messages")


def room(consultation_id: int) -> str:
    return f"consult-{consultation_id}"


def _refuse(message: str, log: str | None = None):
    realtime.refuse(NS, message, log)


def _id(data: dict, key: str, *, optional: bool = False) -> int | None:
    return realtime.database_id(NS, data, key, optional=optional)




def _consultation(data) -> Consultation:
    if not isinstance(data, dict):
        _refuse(_("Malformed request."), "payload is not an object")
    cid = _id(data, "consultation_id")
    consultation = db.session.get(Consultation, cid)
    if consultation is None or not consultation.is_participant(current_user):
        _refuse(_("You are not in this consultation."), f"not a participant of consultation {cid}")
    return consultation


@namespace.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated:
        logger.warning("Refused anonymous /consult connection from %s", request.remote_addr)
        raise ConnectionRefusedError("sign in first")
    join_room(f"user-{current_user.id}")
    join_room(sessions.room(sessions.current().id))  # closed when this session ends
    if current_user.has_role(Role.consultant):
        join_room("consultants")
    sessions.touch()


@namespace.on("disconnect")
def on_disconnect(reason=None):
    flood.forget(request.sid)
    sessions.connection_closed()


@namespace.event("join")
def on_join(data):
    consultation = _consultation(data)
    after = data.get("after_id", 0)
    if not (type(after) is int and after == 0):  # 0: from the start
        after = _id(data, "after_id")
    join_room(room(consultation.id))
    place = ops.queue_place(consultation)
    return {
        "me": current_user.id,
        "status": consultation.status.value,
        "consultant": consultation.consultant.name if consultation.consultant else None,
        "messages": [m.to_json() for m in ops.history(consultation, after_id=after)],
        "queue": place.__dict__ if place else None,
    }


class _Message(NamedTuple):
    consultation_id: int
    client_id: str
    body: str  # stripped
    attachment_id: int | None


class _Bad(NamedTuple):
    reason: object  # for the sender, in their language
    log: str | None  # for the log; None: the sender's own mistake


def _message(data, max_chars: int) -> _Message | _Bad:
    """What a ``send`` carries, or why it is refused."""
    if not isinstance(data, dict):
        return _Bad(_l("Malformed request."), "payload is not an object")
    cid, client_id, body = data.get("consultation_id"), data.get("client_id"), data.get("body", "")
    attachment_id = data.get("attachment_id")
    if not is_database_id(cid):
        return _Bad(_l("Malformed request."), "bad consultation_id")
    if attachment_id is not None and not is_database_id(attachment_id):
        return _Bad(_l("Malformed request."), "bad attachment_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        return _Bad(_l("Malformed request."), "bad client_id")
    if not isinstance(body, str):
        return _Bad(_l("Malformed request."), "body is not text")
    body = body.strip()
    if len(body) > max_chars:
        return _Bad(_l("The message is too long (at most %(n)d characters).", n=max_chars), None)
    if not body and attachment_id is None:
        return _Bad(_l("The message is empty."), None)
    return _Message(cid, client_id, body, attachment_id)


def _write_text(app: Flask | None, sender_id: int, cid: int, client_id: str, body: str) -> tuple[dict | None, bool, object]:
    """The usual message: membership and the consultation's state are checked by the insert itself,
    with the other messages of the writer's batch (one statement for them all; see
    ops.write_messages_of_members). The message as sent to the room, whether it is new (then sent
    to the room), or the reason it was refused."""
    payload, new, refusal = writer.write_in_bulk(ops.write_messages_of_members, (cid, sender_id, client_id, body),
                                                 app=app)
    if new:
        realtime.emit("message", payload, to=room(cid), namespace=NS, app=app)
    return payload, new, refusal


def quick_send(app: Flask, sid: str, sender_id: int, data) -> dict | None:
    """``send``'s usual case without Flask's request context (see :meth:`realtime.Namespace.event`):
    a text message that :func:`_message` takes, stored or found stored. Anything else goes to
    :func:`on_send`: a payload it refuses, an attachment, a refusal by the insert (nothing was
    written), which then gives its reason in the sender's language."""
    message = _message(data, app.config["CONSULT_MESSAGE_MAX_CHARS"])
    if isinstance(message, _Bad) or message.attachment_id is not None:
        return None
    payload, new, refusal = _write_text(app, sender_id, message.consultation_id, message.client_id, message.body)
    return None if refusal is not None else {"message": payload}


@namespace.event("send", shed=True, quick=quick_send)
def on_send(data):
    message = _message(data, current_app.config["CONSULT_MESSAGE_MAX_CHARS"])
    if isinstance(message, _Bad):
        _refuse(message.reason, message.log)
    cid, client_id, body, attachment_id = message
    sender_id = realtime.sender_id()
    if attachment_id is None:
        realtime.end_transaction()  # it wrote nothing: the writer writes
        payload, new, refusal = _write_text(None, sender_id, cid, client_id, body)
    else:
        checked = ops.check_message(_consultation(data), current_user, client_id, body, attachment_id)
        if isinstance(checked, ConsultMessage):  # a resend of a message saved before the end
            return {"message": checked.to_json()}
        values, attachment = checked
        attachment_json = attachment.to_json()
        realtime.end_transaction()
        payload, new, refusal = writer.write(lambda: _write(values, attachment_json))
    if refusal is not None:
        _refuse(refusal, f"send to consultation {cid} refused: {refusal}")
    if new and attachment_id is not None:
        emit("message", payload, to=room(cid))
    return {"message": payload}


def _write(values: dict, attachment_json: dict) -> tuple[dict, bool, None]:
    """In the writer's batch: a message with its attachment (checked by the handler), as sent to the
    room, and whether it is new."""
    message, new = ops.write_message(values)
    payload = message.to_json()
    if new:
        payload["attachment"] = attachment_json
    return payload, new, None


@namespace.event("typing", shed=True)
def on_typing(data):
    consultation = _consultation(data)
    emit("typing", {"user_id": current_user.id, "typing": bool(data.get("typing"))},
         to=room(consultation.id), include_self=False)


@namespace.event("mark", shed=True)
def on_mark(data):
    consultation = _consultation(data)
    up_to, what = _id(data, "up_to_id"), data.get("what")
    if what not in ("delivered", "read"):
        _refuse(_("Malformed request."), "bad mark")
    ids = ops.mark(consultation, current_user, up_to, what)
    db.session.commit()
    if ids:
        emit("receipt", {"ids": ids, "what": what}, to=room(consultation.id))
    return {"ids": ids}


def broadcast_status(consultation: Consultation):
    """Tell both sides the consultation's state changed (taken, ended)."""
    realtime.emit("status", {
        "consultation_id": consultation.id, "status": consultation.status.value,
        "consultant": consultation.consultant.name if consultation.consultant else None,
    }, to=room(consultation.id), namespace=NS)
    if consultation.status is not ConsultationStatus.waiting:
        realtime.emit("status", {"consultation_id": consultation.id, "status": consultation.status.value},
                      to=f"user-{consultation.user_id}", namespace=NS)


def broadcast_queue():
    """Send each waiting person their new place and wait; tell consultants how many wait."""
    waiting = ops.waiting_queue()
    if waiting:
        minutes = ops.typical_minutes()
        on_duty = len(ops.consultants_on_duty())
        for position, c in enumerate(waiting, start=1):
            realtime.emit("queue", {"consultation_id": c.id, "position": position,
                                    "eta_minutes": ops.eta_minutes(position, minutes, on_duty)},
                          to=f"user-{c.user_id}", namespace=NS)
    realtime.emit("queue_size", {"waiting": len(waiting)}, to="consultants", namespace=NS)
