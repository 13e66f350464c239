"""Socket.IO namespace ``/video``: signalling for the mesh of a video room, lobby, caucus, controls, chat.

The server decides who exchanges media with whom (``rooms.group_of``): offers, answers and
ICE candidates are relayed only between admitted participants present in the same group;
when the groups change (caucus, the host leaving, a removal) both ends are told to hang up.

Every event is checked (signed in, in the room, admitted, the host for host controls,
well-formed payload, not a flood); a refusal is an ``{"ok": false, "error": …}``
acknowledgement plus a ``problem`` event, and is logged. Handlers never raise.

Presence (which connection sits in which seat right now) and the rest of the rooms' live
state are kept by ``odr.video.presence``: in this process's memory when it serves alone, in
Redis when several app processes serve behind a proxy (each connection stays with one
process; the Socket.IO message queue carries events to connections on the others).
"""

from __future__ import annotations

import logging
import re

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from odr import realtime
from odr.auth import sessions
from odr.extensions import db
from odr.video import presence, rooms
from odr.video.models import RoomStatus, SeatState, VideoRoom, VideoSeat
from odr.video.presence import Conn

logger = logging.getLogger(__name__)

NS = "/video"
#: Signalling is chatty (ICE candidates): at most this many events per connection in the window.
FLOOD_EVENTS, FLOOD_SECONDS = 150, 10
MAX_SDP = 32_000
MAX_CANDIDATE = 1_000
MAX_CHAT = 1_000
SDP_START = re.compile(r"^v=0\r?\n")
CANDIDATE = re.compile(r"^(a=)?candidate:[\x20-\x7e]+$")
SIGNAL_TYPES = ("offer", "answer", "candidate")


flood = realtime.FloodLimit(NS, FLOOD_EVENTS, FLOOD_SECONDS)


def _refuse(message: str, log: str | None = None):
    realtime.refuse(NS, message, log)


def _id(data: dict, key: str, *, optional: bool = False) -> int | None:
    return realtime.database_id(NS, data, key, optional=optional)


def _conn() -> Conn:
    conn = presence.current().conn(request.sid)
    if conn is None:  # connected before a restart of this module's state; treat as new
        _refuse(_("Malformed request."), "unknown connection")
    return conn


def _room(data) -> VideoRoom:
    if not isinstance(data, dict):
        _refuse(_("Malformed request."), "payload is not an object")
    room_id = _id(data, "room_id")
    room = db.session.get(VideoRoom, room_id)
    if room is None or rooms.role_in_room(room, current_user) is None:
        _refuse(_("You are not in this video room."), f"not allowed in room {room_id}")
    return room


def _here(conn: Conn, room: VideoRoom) -> VideoSeat:
    """The sender's seat, which must be the one this connection has joined."""
    if conn.room_id != room.id:
        _refuse(_("Join the room first."), f"event for room {room.id} without joining it")
    if room.status is not RoomStatus.open:
        _refuse(_("This video session has ended."))
    seat = rooms.seat_of(room, conn.user_id)
    if seat is None:
        _refuse(_("Join the room first."), "no seat")
    return seat


def _admitted(conn: Conn, room: VideoRoom) -> VideoSeat:
    seat = _here(conn, room)
    if seat.state is not SeatState.admitted:
        _refuse(_("You have not been admitted to this room."), f"not admitted to room {room.id}")
    return seat


def _host(conn: Conn, room: VideoRoom) -> VideoSeat:
    seat = _admitted(conn, room)
    if rooms.role_in_room(room, current_user) != rooms.HOST:
        _refuse(_("Only the mediator can do this."), f"host control in room {room.id} by a participant")
    return seat


#: Registered on each app's server by the feature's ``init_app``; each checked handler gets the
#: sender's connection before the payload.
namespace = realtime.Namespace(NS, flood, touch=sessions.touch, sender=sessions.event_sender,
                               args=lambda: (_conn(),))


# --- presence and the roster each person is sent ----------------------------------------------

def present(room_id: int) -> dict[int, Conn]:
    """Who is in the room now: user id → their connection (on whichever app process)."""
    return presence.current().present(room_id)


def _emit(event, data, conn: Conn):
    realtime.emit(event, data, to=conn.sid, namespace=NS)


def view(room: VideoRoom, user_id: int, here: dict[int, Conn] | None = None) -> dict:
    """What one person is told about the room: their state and group, and the peers they
    must exchange media with (everyone who can see and hear them now)."""
    from odr.video import bridge

    here = present(room.id) if here is None else here
    seats = {s.user_id: s for s in room.seats}
    me = seats.get(user_id)
    host_present = any(s.role == rooms.HOST and s.user_id in here for s in seats.values())
    admitted = {uid: s for uid, s in seats.items() if s.state is SeatState.admitted and uid in here}
    my_group = rooms.group_of(room, me.role, host_present) if me and me.state is SeatState.admitted else None
    peers = []
    if my_group and my_group != rooms.LOBBY:
        relay_users = presence.current().relayed(room.id) if bridge.bridge_sid() is not None else set()
        for uid, s in admitted.items():
            if uid != user_id and rooms.group_of(room, s.role, host_present) == my_group:
                c = here[uid]
                peers.append({"user_id": uid, "name": s.user.name, "role": s.role, "epoch": c.epoch,
                              "muted_by_host": s.muted_by_host, "audio": c.audio and not s.muted_by_host,
                              "video": c.video, "via": "relay" if {user_id, uid} & relay_users else "direct"})

    if my_group and my_group != rooms.LOBBY and bridge.recording_runs(room, set(here)):
        peers.append(bridge.peer_entry())
    out = {
        "room_id": room.id, "me": user_id, "role": me.role if me else None,
        "my_epoch": here[user_id].epoch if user_id in here else None,
        "state": me.state.value if me else None, "group": my_group, "caucus_side": room.caucus_side,
        "host_present": host_present, "status": room.status.value,
        "muted_by_host": bool(me and me.muted_by_host), "peers": peers,
        "seats": [{"user_id": uid, "name": s.user.name, "role": s.role, "state": s.state.value,
                   "present": uid in here, "muted_by_host": s.muted_by_host} for uid, s in seats.items()],
        "recording": {"on": room.recording, "running": bridge.recording_runs(room, set(here)),
                      "consents": {str(uid): s.consent for uid, s in admitted.items()}},
    }
    shown = presence.current().shown(room.id)
    host_group = rooms.group_of(room, rooms.HOST, host_present)
    if shown and my_group and my_group == host_group:
        from flask import url_for

        out["document"] = {**shown, "url": url_for("video.document_page", number=room.case.number, room_id=room.id,
                                                   evidence_id=shown["evidence_id"], page=shown["page"])}
    if me and me.role == rooms.HOST:
        from odr.video import documents

        out["documents"] = [{"evidence_id": e.id, "name": e.description or e.filename}
                            for e in documents.showable(room.case_id)]
        out["lobby"] = [{"user_id": uid, "name": s.user.name, "role": s.role}
                        for uid, s in seats.items() if s.state is SeatState.waiting and uid in here]
    return out


def relayed(room_id: int, x: int, y: int) -> bool:
    """Media between x and y goes through the media bridge (one of them asked for the relay)."""
    from odr.video import bridge

    marked = presence.current().relayed(room_id)
    return (x in marked or y in marked) and bridge.bridge_sid() is not None


def broadcast(room: VideoRoom):
    """Send everyone present their roster; tell pairs who are no longer together to hang up.

    One broadcast of a room at a time, across app processes: each works out the rosters from
    the room as it is once it holds the lock (a newer caucus or admission another process has
    committed meanwhile included), so the last roster anyone is sent is the current one.
    """
    store = presence.current()
    with store.room_lock(room.id):
        # The handler has committed its change; end its transaction so the room, its seats and
        # the presence are read as they are now, not as this transaction first saw them.
        db.session.commit()
        here = store.present(room.id)
        views = {uid: view(room, uid, here) for uid in here}
        groups = {uid: {p["user_id"] for p in v["peers"]} for uid, v in views.items()}
        told = store.told(room.id)
        for uid, conn in here.items():
            for gone in told.get(uid, set()) - groups[uid]:
                _emit("hangup", {"peer": gone}, conn)
        store.set_told(room.id, groups)
        for uid, conn in here.items():
            _emit("roster", views[uid], conn)
        from odr.video import bridge  # the media bridge follows the room too

        bridge.room_changed(room, views)


def _leave(conn: Conn) -> int | None:
    """Take the connection out of its room; the room id it left, if it sat there."""
    return presence.current().leave(conn.sid)


def _rebroadcast(room_id):
    room = db.session.get(VideoRoom, room_id)
    if room is not None:
        broadcast(room)


# --- connection -------------------------------------------------------------------------------

@namespace.on("connect")
def on_connect(auth=None):
    from odr.video import bridge

    if bridge.is_bridge_login(auth):
        bridge.connected(request.sid)
        return
    if not current_user.is_authenticated:
        logger.warning("Refused anonymous /video connection from %s", request.remote_addr)
        raise ConnectionRefusedError("sign in first")
    presence.current().connect(request.sid, current_user.id)
    join_room(sessions.room(sessions.current().id))  # closed when this session ends
    sessions.touch()


@namespace.on("disconnect")
def on_disconnect(reason=None):
    from odr.video import bridge

    if bridge.disconnected(request.sid):
        # Rooms that were recording: everyone hangs up on the recorder.
        try:
            for room in db.session.query(VideoRoom).filter(VideoRoom.recording.is_(True)).all():
                broadcast(room)
        except Exception:
            logger.exception("/video bridge disconnect")
        finally:
            db.session.remove()
        return
    flood.forget(request.sid)
    sessions.connection_closed()
    store = presence.current()
    conn = store.conn(request.sid)
    if conn is None:
        return
    room_id = _leave(conn)
    store.disconnect(request.sid)
    if room_id is not None:
        try:
            _rebroadcast(room_id)
        except Exception:
            logger.exception("/video disconnect of %s", conn.user_id)
        finally:
            db.session.remove()


# --- events -----------------------------------------------------------------------------------

@namespace.event("join")
def on_join(conn: Conn, data):
    room = _room(data)
    role = rooms.role_in_room(room, current_user)
    seat = rooms.take_seat(room, current_user, role)
    db.session.commit()
    if conn.room_id is not None and conn.room_id != room.id:
        left = _leave(conn)
        if left:
            _rebroadcast(left)
    # Sitting down is one atomic step: the same person joining on two processes at once ends
    # with one connection in the seat and the other told it was replaced.
    conn.epoch, old_sid = presence.current().sit(conn.sid, room.id)
    conn.room_id = room.id
    if old_sid is not None:
        realtime.emit("replaced", {"room_id": room.id}, to=old_sid, namespace=NS)
    broadcast(room)
    return {"seat": seat.state.value, "epoch": conn.epoch, "ice_servers": ice_servers(conn.user_id),
            "roster": view(room, conn.user_id)}


@namespace.event("leave")
def on_leave(conn: Conn, data):
    room = _room(data)
    _here(conn, room)
    if _leave(conn):
        broadcast(room)


def _target(data) -> int:
    return _id(data, "user_id")


@namespace.event("admit")
def on_admit(conn: Conn, data):
    room = _room(data)
    _host(conn, room)
    yes = data.get("admit", True)
    if not isinstance(yes, bool):
        _refuse(_("Malformed request."), "bad admit flag")
    seat = rooms.admit(room, current_user, _target(data), yes)
    db.session.commit()
    target = present(room.id).get(seat.user_id)
    if target is not None and not yes:
        _emit("refused", {"room_id": room.id}, target)
    broadcast(room)


@namespace.event("caucus")
def on_caucus(conn: Conn, data):
    room = _room(data)
    _host(conn, room)
    rooms.caucus(room, current_user, data.get("side"))
    db.session.commit()
    broadcast(room)


@namespace.event("mute")
def on_mute(conn: Conn, data):
    room = _room(data)
    _host(conn, room)
    muted = data.get("muted", True)
    if not isinstance(muted, bool):
        _refuse(_("Malformed request."), "bad muted flag")
    seat = rooms.mute(room, current_user, _target(data), muted)
    db.session.commit()
    target = present(room.id).get(seat.user_id)
    if target is not None:
        if muted:
            presence.current().set_media(target.sid, audio=False)
        _emit("muted", {"room_id": room.id, "muted": muted}, target)
    broadcast(room)


@namespace.event("remove")
def on_remove(conn: Conn, data):
    room = _room(data)
    _host(conn, room)
    seat = rooms.remove(room, current_user, _target(data))
    db.session.commit()
    target = present(room.id).get(seat.user_id)
    if target is not None:
        _emit("removed", {"room_id": room.id}, target)
        _leave(target)
    broadcast(room)


@namespace.event("end")
def on_end(conn: Conn, data):
    room = _room(data)
    _host(conn, room)
    rooms.end(room, current_user)
    db.session.commit()
    from odr.video import bridge

    bridge.room_ended(room)
    for target in present(room.id).values():
        _emit("ended", {"room_id": room.id}, target)
        _leave(target)
    presence.current().forget_room(room.id)


@namespace.event("media")
def on_media(conn: Conn, data):
    """The sender's own microphone / camera state, shown to the others."""
    room = _room(data)
    seat = _admitted(conn, room)
    audio, video = data.get("audio"), data.get("video")
    if not isinstance(audio, bool) or not isinstance(video, bool):
        _refuse(_("Malformed request."), "bad media flags")
    if audio and seat.muted_by_host:
        _refuse(_("The mediator has muted you."))
    presence.current().set_media(conn.sid, audio=audio, video=video)
    broadcast(room)


def _group_peer(conn: Conn, room: VideoRoom, seat: VideoSeat, to: int):
    """The connection (sid) of user ``to`` (or of the media bridge) if the sender may exchange
    media with them now."""
    from odr.video import bridge

    here = present(room.id)
    if to == bridge.BRIDGE_ID:
        if not bridge.recording_runs(room, set(here)):
            _emit("hangup", {"peer": to}, conn)
            _refuse(_("You cannot connect to this person now."), "signal to the recorder while not recording")
        return bridge.bridge_sid()
    target = here.get(to)
    target_seat = rooms.seat_of(room, to) if target is not None else None
    host_present = any(s.role == rooms.HOST and s.user_id in here for s in room.seats)
    if (target is None or target_seat is None or target_seat.state is not SeatState.admitted or to == conn.user_id
            or rooms.group_of(room, seat.role, host_present) == rooms.LOBBY
            or rooms.group_of(room, seat.role, host_present) != rooms.group_of(room, target_seat.role, host_present)):
        _emit("hangup", {"peer": to}, conn)
        _refuse(_("You cannot connect to this person now."), f"signal to {to} outside the sender's group")
    return target.sid


def _sdp(value):
    if not isinstance(value, str) or len(value) > MAX_SDP or not SDP_START.match(value):
        _refuse(_("Malformed request."), "malformed SDP")
    return value


def _candidate(value):
    if value is None:  # end of candidates
        return None
    if not isinstance(value, dict):
        _refuse(_("Malformed request."), "malformed candidate")
    cand, mid, index = value.get("candidate"), value.get("sdpMid"), value.get("sdpMLineIndex")
    if not isinstance(cand, str) or len(cand) > MAX_CANDIDATE or (cand and not CANDIDATE.match(cand)):
        _refuse(_("Malformed request."), "malformed candidate")
    if mid is not None and (not isinstance(mid, str) or len(mid) > 64):
        _refuse(_("Malformed request."), "malformed candidate mid")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64):
        _refuse(_("Malformed request."), "malformed candidate index")
    return {"candidate": cand, "sdpMid": mid, "sdpMLineIndex": index}


def valid_offer_tag(value) -> bool:
    """The offering side's number for one negotiation: the answer and the ICE candidates carry
    it back, so an answer to an offer that was since replaced is not taken for the new one."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def offer_tag(value):
    if value is not None and not valid_offer_tag(value):
        _refuse(_("Malformed request."), "malformed offer tag")
    return value


@namespace.event("signal")
def on_signal(conn: Conn, data):
    """Relay an offer, answer or ICE candidate to a peer in the sender's group."""
    room = _room(data)
    seat = _admitted(conn, room)
    kind = data.get("type")
    if kind not in SIGNAL_TYPES:
        _refuse(_("Malformed request."), "bad signal type")
    out = {"room_id": room.id, "from": conn.user_id, "epoch": conn.epoch, "type": kind}
    if kind == "candidate":
        out["candidate"] = _candidate(data.get("candidate"))
    else:
        out["sdp"] = _sdp(data.get("sdp"))
    if (tag := offer_tag(data.get("offer"))) is not None:
        out["offer"] = tag
    from odr.video import bridge

    to = data.get("to")
    if not (type(to) is int and to == bridge.BRIDGE_ID):  # the media bridge's own number, else a person
        to = _id(data, "to")
    sid = _group_peer(conn, room, seat, to)
    if to != bridge.BRIDGE_ID and relayed(room.id, conn.user_id, to):
        out["for"] = to  # the bridge's connection standing in for that peer
        sid = bridge.bridge_sid()
    realtime.emit("signal", out, to=sid, namespace=NS)


@namespace.event("documents")
def on_documents(conn: Conn, data):
    """The shared case documents the host can show (fresh: evidence may have arrived meanwhile)."""
    from odr.video import documents

    room = _room(data)
    _host(conn, room)
    return {"documents": [{"evidence_id": e.id, "name": e.description or e.filename}
                          for e in documents.showable(room.case_id)]}


@namespace.event("show")
def on_show(conn: Conn, data):
    """The host shows a page of a shared case document to their group (``evidence_id`` None: stop)."""
    from odr.video import documents

    room = _room(data)
    _host(conn, room)
    evidence_id, page = _id(data, "evidence_id", optional=True), data.get("page", 1)
    if evidence_id is None:
        presence.current().show(room.id, None)
    else:
        item = documents.get_showable(room.case_id, evidence_id)
        if item is None:
            _refuse(_("This document cannot be shown."), f"show of evidence {evidence_id!r}")
        pages = documents.page_count(item)
        if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= pages:
            _refuse(_("There is no such page."), f"page {page!r} of {pages}")
        presence.current().show(room.id, {"evidence_id": item.id, "name": item.description or item.filename,
                                           "page": page, "pages": pages})
    broadcast(room)


@namespace.event("relay")
def on_relay(conn: Conn, data):
    """The sender's direct connections fail: their media goes through the media bridge."""
    from odr.video import bridge

    room = _room(data)
    _admitted(conn, room)
    on = data.get("on")
    if not isinstance(on, bool):
        _refuse(_("Malformed request."), "bad relay flag")
    if on and bridge.bridge_sid() is None:
        _refuse(_("No relay is available now."), "relay asked without a media bridge")
    presence.current().set_relay(room.id, conn.user_id, on)
    broadcast(room)


@namespace.event("chat")
def on_chat(conn: Conn, data):
    """A text message to everyone who can hear the sender now (their group)."""
    room = _room(data)
    seat = _admitted(conn, room)
    body = data.get("body")
    if not isinstance(body, str) or not body.strip():
        _refuse(_("The message is empty."))
    body = body.strip()
    if len(body) > MAX_CHAT:
        _refuse(_("The message is too long (at most %(n)d characters).", n=MAX_CHAT))
    message = {"room_id": room.id, "from": conn.user_id, "name": seat.user.name, "body": body,
               "group": None}
    v = view(room, conn.user_id)
    message["group"] = v["group"]
    here = present(room.id)
    for peer in v["peers"]:
        _emit("chat", message, here[peer["user_id"]])
    return {"message": message}


@namespace.event("consent")
def on_consent(conn: Conn, data):
    """The sender's answer to the recording question."""
    room = _room(data)
    seat = _admitted(conn, room)
    consent = data.get("consent")
    if not isinstance(consent, bool):
        _refuse(_("Malformed request."), "bad consent")
    from odr.video import recording

    recording.set_consent(room, seat, consent, current_user)
    db.session.commit()
    broadcast(room)


@namespace.event("record")
def on_record(conn: Conn, data):
    """The host starts or stops recording; it runs only while everyone present has consented."""
    room = _room(data)
    _host(conn, room)
    on = data.get("on")
    if not isinstance(on, bool):
        _refuse(_("Malformed request."), "bad record flag")
    from odr.video import recording

    recording.set_wanted(room, on, current_user)
    db.session.commit()
    broadcast(room)


def ice_servers(user_id: int) -> list[dict]:
    from odr.video import ice

    return ice.servers_for(current_app.config, user_id)


def reset() -> None:
    """Forget every connection and room (tests start each from nothing)."""
    flood.reset()
    presence.MEMORY.reset()
    if presence.current() is not presence.MEMORY:
        presence.current().reset()
