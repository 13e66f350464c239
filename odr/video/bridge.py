"""The web side of the media bridge (``odr media-bridge``, its own process): authenticating
its Socket.IO connection with the service token, telling it which participants to record,
relaying its signalling, and storing the files it reports (SHA-256 into the audit trail).

The bridge is a peer with user id 0 (role ``recorder``): while a room's recording runs —
the host asked, and every admitted participant present has consented — each of them is told
(in their roster) to accept a connection from it; the bridge offers, receives their audio and
video, and writes one file per participant. When consent is missing (someone declines, or a
new participant has not answered yet) the recorder leaves the rosters and everyone hangs up
on it, which ends its files.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime
from pathlib import Path

from flask import current_app, request
from flask_babel import gettext as _

from odr import realtime
from odr.cases import audit
from odr.extensions import db
from odr.validation import is_database_id
from odr.video import presence
from odr.video.models import SeatState, VideoRecording, VideoRoom
from odr.video.recording import recordings_dir

logger = logging.getLogger(__name__)

NS = "/video"
BRIDGE_ID = 0
TOKEN_FILE = "video-bridge.token"


# --- the service token ----------------------------------------------------------------------

def service_token(app=None) -> str:
    """``VIDEO_BRIDGE_TOKEN`` from the configuration, or a random one kept in the instance folder."""
    app = app or current_app
    token = app.config.get("VIDEO_BRIDGE_TOKEN")
    if token:
        return token
    path = Path(app.instance_path) / TOKEN_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd_path = path.with_suffix(".tmp")
        fd_path.write_text(secrets.token_urlsafe(32))
        fd_path.chmod(0o600)
        fd_path.replace(path)
    return path.read_text().strip()


def is_bridge_login(auth) -> bool:
    if not isinstance(auth, dict) or "bridge_token" not in auth:
        return False
    given = auth.get("bridge_token")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), service_token().encode()):
        logger.warning("Refused media bridge login with a wrong token from %s", request.remote_addr)
        raise ConnectionRefusedError("bad bridge token")
    return True


def connected(sid: str) -> None:
    presence.current().bridge_connected(sid)
    logger.info("Media bridge connected")
    # Rooms already recording get the bridge now.
    from odr.video.events import broadcast

    try:
        for room in db.session.query(VideoRoom).filter(VideoRoom.recording.is_(True)).all():
            broadcast(room)
    except Exception:  # e.g. a database not set up yet: the bridge stays connected all the same
        db.session.rollback()
        logger.exception("Telling the media bridge about recording rooms failed")


def disconnected(sid: str) -> bool:
    if not presence.current().bridge_disconnected(sid):
        return False
    logger.warning("Media bridge disconnected")
    return True


def bridge_sid() -> str | None:
    """The media bridge's connection (on whichever app process it is connected to), if any."""
    return presence.current().bridge()[0]


def is_bridge(sid) -> bool:
    return sid is not None and sid == bridge_sid()


def epoch() -> int:
    return presence.current().bridge()[1]


# --- what the bridge is told ------------------------------------------------------------------

def recording_runs(room: VideoRoom, present_ids) -> bool:
    from odr.video.recording import may_record

    return bridge_sid() is not None and may_record(room, present_ids)


def peer_entry() -> dict:
    return {"user_id": BRIDGE_ID, "name": _("Recorder"), "role": "recorder", "epoch": epoch(),
            "muted_by_host": False, "audio": False, "video": False}


def room_changed(room: VideoRoom, views: dict) -> None:
    """Tell the bridge whom to record in this room now (nobody when recording does not run)."""
    sid = bridge_sid()
    if sid is None:
        return
    recorded = [{"user_id": uid, "epoch": v["my_epoch"]} for uid, v in views.items()
                if any(p["user_id"] == BRIDGE_ID for p in v["peers"])]
    # Relayed pairs: the bridge stands in for each side toward the other.
    relay = [{"a": uid, "a_epoch": v["my_epoch"], "b": p["user_id"], "b_epoch": p["epoch"]}
             for uid, v in views.items() for p in v["peers"] if p.get("via") == "relay" and uid < p["user_id"]]
    # The bridge offers every relayed connection, so it also starts again one that does not come up.
    from odr.video.views import DEFAULT_MEDIA, media_config

    stall_ms = media_config().get("stall_ms", DEFAULT_MEDIA["stall_ms"])
    realtime.emit("bridge_room", {"room_id": room.id, "case_id": room.case_id, "peers": recorded, "relay": relay,
                                  "stall_ms": stall_ms}, to=sid, namespace=NS)


def room_ended(room: VideoRoom) -> None:
    sid = bridge_sid()
    if sid is not None:
        realtime.emit("bridge_room", {"room_id": room.id, "case_id": room.case_id, "peers": []},
                      to=sid, namespace=NS)


# --- events from the bridge -------------------------------------------------------------------

def _bridge_only(fn):
    def wrapped(data=None):
        if not is_bridge(request.sid):
            logger.warning("Refused bridge event from a connection that is not the bridge")
            return {"ok": False, "error": "not the media bridge"}
        try:
            return {"ok": True, **(fn(data) or {})}
        except ValueError as exc:
            db.session.rollback()
            logger.warning("Refused bridge event: %s", exc)
            return {"ok": False, "error": str(exc)}
        except Exception:
            db.session.rollback()
            logger.exception("bridge event failed")
            return {"ok": False, "error": "server error"}

    wrapped.__name__ = f"on_{fn.__name__}"
    return wrapped


@_bridge_only
def bridge_signal(data):
    """The bridge's offer or ICE candidate for a participant it records."""
    from odr.video import events

    if not isinstance(data, dict) or data.get("type") not in events.SIGNAL_TYPES:
        raise ValueError("malformed signal")
    room_id, to, as_ = data.get("room_id"), data.get("to"), data.get("as")
    room = db.session.get(VideoRoom, room_id) if is_database_id(room_id) else None
    if room is None:
        raise ValueError("no such room")
    here = events.present(room.id)
    target = here.get(to) if is_database_id(to) else None
    if as_ is not None:  # standing in for a peer of a relayed pair
        if target is None or not is_database_id(as_) or as_ not in here or not events.relayed(room.id, to, as_):
            raise ValueError("not relaying this pair")
        sender, sender_epoch = as_, here[as_].epoch
    else:
        if target is None or not recording_runs(room, set(here)):
            raise ValueError("not recording this participant")
        sender, sender_epoch = BRIDGE_ID, epoch()
    out = {"room_id": room.id, "from": sender, "epoch": sender_epoch, "type": data["type"]}
    if data["type"] == "candidate":
        out["candidate"] = data.get("candidate")
    else:
        out["sdp"] = data.get("sdp")
    if events.valid_offer_tag(data.get("offer")):
        out["offer"] = data["offer"]
    realtime.emit("signal", out, to=target.sid, namespace=NS)


@_bridge_only
def bridge_recorded(data):
    """A finished file: checked (inside the recordings folder, hash recomputed), stored with
    the case and its SHA-256 written into the audit trail."""
    if not isinstance(data, dict):
        raise ValueError("malformed report")
    room = db.session.get(VideoRoom, data.get("room_id")) if is_database_id(data.get("room_id")) else None
    user_id, name = data.get("user_id"), data.get("filename")
    if room is None or not is_database_id(user_id) or not isinstance(name, str):
        raise ValueError("malformed report")
    seat = next((s for s in room.seats if s.user_id == user_id and s.state is not SeatState.waiting), None)
    if seat is None:
        raise ValueError("no such participant")
    base = recordings_dir().resolve()
    path = (base / name).resolve()
    if base not in path.parents or not path.is_file():
        raise ValueError("no such file")
    sha = hashlib.sha256()
    with open(path, "rb") as fh:  # in chunks: an hour of video is not read into memory
        while chunk := fh.read(1024 * 1024):
            sha.update(chunk)
    digest = sha.hexdigest()
    if digest != data.get("sha256"):
        raise ValueError("hash mismatch")
    started, stopped = (datetime.fromisoformat(data[k]) for k in ("started_at", "stopped_at"))
    rec = VideoRecording(room_id=room.id, user_id=user_id, filename=name, sha256=digest,
                         size=path.stat().st_size, started_at=started, stopped_at=stopped)
    db.session.add(rec)
    db.session.flush()
    audit.record(room.case, None, "video_recording_stored",
                 {"room": room.id, "user": user_id, "recording": rec.id, "file": name, "sha256": digest,
                  "started": data["started_at"], "stopped": data["stopped_at"]})
    db.session.commit()
    return {"recording": rec.id}


def register(app) -> None:
    """The bridge's events on ``app``'s server (none when the app serves no sockets)."""
    if (server := app.extensions.get("socketio")) is not None:
        server.on_event("bridge_signal", bridge_signal, namespace=NS)
        server.on_event("bridge_recorded", bridge_recorded, namespace=NS)
