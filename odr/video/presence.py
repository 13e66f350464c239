"""Live state of the video rooms: which connection sits in which seat now, each connection's
microphone and camera, who was last told to exchange media with whom, who asked for the relay,
the document page the host shows, and the media bridge's connection.

The seats themselves (admitted, muted, caucus, recording consent) are database rows; this is
what exists only while people are connected. One app process (the embedded default) keeps it
in memory. Several app processes share it in Redis — by default the Redis they already share as
the Socket.IO message queue — so a host connected to one process admits, hears and takes into
a caucus parties connected to another; every change that two processes could race on is one
atomic Redis step, and a room's rosters are worked out under a lock held across processes.

A process that dies cannot say goodbye for its connections: each process keeps a heartbeat
key alive, and connections of a process whose heartbeat has expired count as gone.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass

from flask import current_app, has_app_context

logger = logging.getLogger(__name__)

EXTENSION = "odr.video.presence"
#: A process's heartbeat lives this long and is renewed three times in that time.
HEARTBEAT_SECONDS = 30
#: Longest a room's rosters may take to work out; a lock held longer (a stuck process) expires.
LOCK_SECONDS = 10


@dataclass
class Conn:
    """One Socket.IO connection on ``/video``: whose it is, the room it has joined, the epoch
    of that joining (a new one replaces the peer connections of an older one), its media."""

    sid: str
    user_id: int
    room_id: int | None = None
    epoch: int = 0
    audio: bool = True
    video: bool = True


class MemoryPresence:
    """The state of one process (the embedded default)."""

    def __init__(self):
        self._lock = threading.RLock()
        self.reset()
        self._bridge = {"sid": None, "epoch": 0}
        self._epochs = itertools.count(1)

    def reset(self) -> None:
        """Forget every connection and room (tests start each from nothing); the bridge stays."""
        with self._lock:
            self._conns: dict[str, Conn] = {}
            self._present: dict[int, dict[int, str]] = defaultdict(dict)
            self._told: dict[int, dict[int, set[int]]] = defaultdict(dict)
            self._relayed: dict[int, set[int]] = defaultdict(set)
            self._shown: dict[int, dict] = {}

    def room_lock(self, room_id: int):
        return self._lock

    # connections
    def connect(self, sid: str, user_id: int) -> None:
        with self._lock:
            self._conns[sid] = Conn(sid, user_id)

    def conn(self, sid: str) -> Conn | None:
        with self._lock:
            c = self._conns.get(sid)
            return Conn(**vars(c)) if c else None

    def disconnect(self, sid: str) -> None:
        with self._lock:
            self._conns.pop(sid, None)

    def sit(self, sid: str, room_id: int) -> tuple[int, str | None]:
        """Seat the connection in its user's seat of the room with a new epoch; the connection
        that sat there before (now seatless), if another."""
        with self._lock:
            c = self._conns[sid]
            epoch = next(self._epochs)
            old = self._present[room_id].get(c.user_id)
            self._present[room_id][c.user_id] = sid
            c.room_id, c.epoch = room_id, epoch
            if old is not None and old != sid:
                if old in self._conns:
                    self._conns[old].room_id = None
                return epoch, old
            return epoch, None

    def leave(self, sid: str) -> int | None:
        """Take the connection out of its room; the room id it left, if it sat there."""
        with self._lock:
            c = self._conns.get(sid)
            if c is None or c.room_id is None:
                return None
            room_id, c.room_id = c.room_id, None
            if self._present[room_id].get(c.user_id) == sid:
                del self._present[room_id][c.user_id]
                return room_id
            return None

    def present(self, room_id: int) -> dict[int, Conn]:
        with self._lock:
            return {uid: Conn(**vars(self._conns[sid])) for uid, sid in self._present.get(room_id, {}).items()
                    if sid in self._conns}

    def set_media(self, sid: str, audio: bool | None = None, video: bool | None = None) -> None:
        with self._lock:
            c = self._conns.get(sid)
            if c is not None:
                c.audio = c.audio if audio is None else audio
                c.video = c.video if video is None else video

    # rosters, relay, the shown document
    def told(self, room_id: int) -> dict[int, set[int]]:
        with self._lock:
            return {uid: set(peers) for uid, peers in self._told.get(room_id, {}).items()}

    def set_told(self, room_id: int, told: dict[int, set[int]]) -> None:
        with self._lock:
            self._told[room_id] = {uid: set(peers) for uid, peers in told.items()}

    def set_relay(self, room_id: int, user_id: int, on: bool) -> None:
        with self._lock:
            (self._relayed[room_id].add if on else self._relayed[room_id].discard)(user_id)

    def relayed(self, room_id: int) -> set[int]:
        with self._lock:
            return set(self._relayed.get(room_id, ()))

    def show(self, room_id: int, document: dict | None) -> None:
        with self._lock:
            if document is None:
                self._shown.pop(room_id, None)
            else:
                self._shown[room_id] = dict(document)

    def shown(self, room_id: int) -> dict | None:
        with self._lock:
            doc = self._shown.get(room_id)
            return dict(doc) if doc else None

    def forget_room(self, room_id: int) -> None:
        with self._lock:
            self._told.pop(room_id, None)
            self._shown.pop(room_id, None)
            self._relayed.pop(room_id, None)

    # the media bridge
    def bridge_connected(self, sid: str) -> int:
        with self._lock:
            self._bridge["sid"], self._bridge["epoch"] = sid, next(self._epochs)
            return self._bridge["epoch"]

    def bridge_disconnected(self, sid: str) -> bool:
        with self._lock:
            if self._bridge["sid"] != sid:
                return False
            self._bridge["sid"] = None
            return True

    def bridge(self) -> tuple[str | None, int]:
        with self._lock:
            return self._bridge["sid"], self._bridge["epoch"]


# Lua runs atomically in Redis: no other process's step can fall between its reads and writes.
_SIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local epoch = redis.call('INCR', KEYS[3])
local user = redis.call('HGET', KEYS[1], 'user')
local old = redis.call('HGET', KEYS[2], user)
redis.call('HSET', KEYS[2], user, ARGV[1])
redis.call('HSET', KEYS[1], 'room', ARGV[2], 'epoch', epoch)
if old and old ~= ARGV[1] then
  redis.call('HDEL', ARGV[3] .. 'conn:' .. old, 'room')
else
  old = ''
end
return {epoch, old}
"""
_LEAVE = """
local room = redis.call('HGET', KEYS[1], 'room')
if not room then return false end
redis.call('HDEL', KEYS[1], 'room')
local key = ARGV[2] .. 'room:' .. room .. ':present'
local user = redis.call('HGET', KEYS[1], 'user')
if redis.call('HGET', key, user) == ARGV[1] then
  redis.call('HDEL', key, user)
  return room
end
return false
"""
_DROP_IF = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""
_BRIDGE_GONE = """
if redis.call('HGET', KEYS[1], 'sid') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisPresence:
    """The state shared by several app processes, in Redis under ``prefix``."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.p = prefix
        self._pid = None
        self._sit = self.redis.register_script(_SIT)
        self._leave = self.redis.register_script(_LEAVE)
        self._drop_if = self.redis.register_script(_DROP_IF)
        self._bridge_gone = self.redis.register_script(_BRIDGE_GONE)

    # liveness of processes
    @property
    def process(self) -> str:
        """This process's id. The app may be made before the server forks its workers
        (gunicorn): each worker is a process of its own, with its own heartbeat."""
        if self._pid != os.getpid():
            self._pid, self._process = os.getpid(), uuid.uuid4().hex[:12]
            self._beating, self._stopped = threading.Event(), threading.Event()
        return self._process

    def _heartbeat(self) -> None:
        """Keep this process's heartbeat alive (started with its first connection)."""
        self.process
        if self._beating.is_set():
            return
        self._beating.set()
        self.redis.set(f"{self.p}proc:{self.process}", "1", ex=HEARTBEAT_SECONDS)

        def beat():
            while not self._stopped.wait(HEARTBEAT_SECONDS / 3):
                try:
                    self.redis.set(f"{self.p}proc:{self.process}", "1", ex=HEARTBEAT_SECONDS)
                except Exception:  # Redis away for a moment: try again at the next beat
                    logger.exception("Video presence heartbeat failed")

        threading.Thread(target=beat, name="odr-video-heartbeat", daemon=True).start()

    def _alive(self, processes) -> set[str]:
        processes = sorted(set(processes))
        if not processes:
            return set()
        pipe = self.redis.pipeline(transaction=False)
        for proc in processes:
            pipe.exists(f"{self.p}proc:{proc}")
        return {proc for proc, n in zip(processes, pipe.execute()) if n}

    def stop(self) -> None:
        self.process
        self._stopped.set()

    def reset(self) -> None:
        keys = [k for k in self.redis.scan_iter(match=f"{self.p}*", count=500)
                if not k.startswith(f"{self.p}proc:") and k != f"{self.p}bridge"]
        if keys:
            self.redis.delete(*keys)

    def room_lock(self, room_id: int):
        return self.redis.lock(f"{self.p}room:{room_id}:lock", timeout=LOCK_SECONDS,
                               blocking_timeout=LOCK_SECONDS)

    # connections
    def _ck(self, sid: str) -> str:
        return f"{self.p}conn:{sid}"

    def _pk(self, room_id) -> str:
        return f"{self.p}room:{room_id}:present"

    @staticmethod
    def _decode(sid: str, h: dict) -> Conn | None:
        if not h or "user" not in h:
            return None
        return Conn(sid, int(h["user"]), int(h["room"]) if h.get("room") else None, int(h.get("epoch", 0)),
                    h.get("audio", "1") == "1", h.get("video", "1") == "1")

    def connect(self, sid: str, user_id: int) -> None:
        self._heartbeat()
        self.redis.hset(self._ck(sid), mapping={"user": user_id, "proc": self.process, "audio": "1", "video": "1",
                                                "epoch": 0})

    def conn(self, sid: str) -> Conn | None:
        return self._decode(sid, self.redis.hgetall(self._ck(sid)))

    def disconnect(self, sid: str) -> None:
        self.redis.delete(self._ck(sid))

    def sit(self, sid: str, room_id: int) -> tuple[int, str | None]:
        got = self._sit(keys=[self._ck(sid), self._pk(room_id), f"{self.p}epoch"], args=[sid, room_id, self.p])
        if not got:
            raise KeyError(sid)
        return int(got[0]), got[1] or None

    def leave(self, sid: str) -> int | None:
        room = self._leave(keys=[self._ck(sid)], args=[sid, self.p])
        return int(room) if room else None

    def present(self, room_id: int) -> dict[int, Conn]:
        seats = self.redis.hgetall(self._pk(room_id))
        if not seats:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for sid in seats.values():
            pipe.hgetall(self._ck(sid))
        raw = dict(zip(seats.values(), pipe.execute()))
        alive = self._alive(h.get("proc") for h in raw.values() if h)
        out = {}
        for uid, sid in seats.items():
            h = raw[sid]
            c = self._decode(sid, h)
            if c is None or h.get("proc") not in alive or c.room_id != room_id:
                # A connection of a process that died, or one already gone: free the seat.
                self._drop_if(keys=[self._pk(room_id)], args=[uid, sid])
                if c is not None and h.get("proc") not in alive:
                    self.redis.delete(self._ck(sid))
                continue
            out[int(uid)] = c
        return out

    def set_media(self, sid: str, audio: bool | None = None, video: bool | None = None) -> None:
        change = {k: "1" if v else "0" for k, v in (("audio", audio), ("video", video)) if v is not None}
        if change and self.redis.exists(self._ck(sid)):
            self.redis.hset(self._ck(sid), mapping=change)

    # rosters, relay, the shown document
    def told(self, room_id: int) -> dict[int, set[int]]:
        return {int(uid): set(json.loads(peers)) for uid, peers in
                self.redis.hgetall(f"{self.p}room:{room_id}:told").items()}

    def set_told(self, room_id: int, told: dict[int, set[int]]) -> None:
        key = f"{self.p}room:{room_id}:told"
        pipe = self.redis.pipeline()
        pipe.delete(key)
        if told:
            pipe.hset(key, mapping={uid: json.dumps(sorted(peers)) for uid, peers in told.items()})
        pipe.execute()

    def set_relay(self, room_id: int, user_id: int, on: bool) -> None:
        key = f"{self.p}room:{room_id}:relayed"
        (self.redis.sadd if on else self.redis.srem)(key, user_id)

    def relayed(self, room_id: int) -> set[int]:
        return {int(uid) for uid in self.redis.smembers(f"{self.p}room:{room_id}:relayed")}

    def show(self, room_id: int, document: dict | None) -> None:
        key = f"{self.p}room:{room_id}:shown"
        if document is None:
            self.redis.delete(key)
        else:
            self.redis.set(key, json.dumps(document))

    def shown(self, room_id: int) -> dict | None:
        raw = self.redis.get(f"{self.p}room:{room_id}:shown")
        return json.loads(raw) if raw else None

    def forget_room(self, room_id: int) -> None:
        self.redis.delete(*(f"{self.p}room:{room_id}:{k}" for k in ("told", "shown", "relayed")))

    # the media bridge
    def bridge_connected(self, sid: str) -> int:
        self._heartbeat()
        epoch = self.redis.incr(f"{self.p}epoch")
        self.redis.hset(f"{self.p}bridge", mapping={"sid": sid, "epoch": epoch, "proc": self.process})
        return epoch

    def bridge_disconnected(self, sid: str) -> bool:
        return bool(self._bridge_gone(keys=[f"{self.p}bridge"], args=[sid]))

    def bridge(self) -> tuple[str | None, int]:
        h = self.redis.hgetall(f"{self.p}bridge")
        if not h or h.get("proc") not in self._alive([h.get("proc")]):
            return None, int(h.get("epoch", 0)) if h else 0
        return h["sid"], int(h["epoch"])


#: The state of a process that serves alone (the embedded default, and the test apps).
MEMORY = MemoryPresence()


def init_app(app) -> None:
    """Choose where this app keeps the rooms' live state: ``VIDEO_PRESENCE_URL`` if set
    (``memory://`` or ``redis://…``), else the Socket.IO message queue's Redis, else memory."""
    url = app.config.get("VIDEO_PRESENCE_URL") or app.config.get("SOCKETIO_MESSAGE_QUEUE") or "memory://"
    if url.startswith(("redis://", "rediss://", "unix://")):
        store = RedisPresence(url, f"{app.config.get('SOCKETIO_CHANNEL') or 'flask-socketio'}:video:")
    else:
        if url != "memory://":
            logger.warning("Video rooms keep their state in this process: %s is not a Redis URL", url)
        store = MEMORY
    app.extensions[EXTENSION] = store


def current() -> MemoryPresence | RedisPresence:
    """The state of the current app (outside an app: this process's)."""
    if has_app_context():
        return current_app.extensions.get(EXTENSION, MEMORY)
    return MEMORY
