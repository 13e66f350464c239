"""A case in mediation with a scheduled video session and its open room, and real Socket.IO
clients on ``/video`` signed in as its people, against the live server."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import pytest
import socketio

from odr.auth.models import User
from odr.extensions import db
from odr.mediate.models import MediationSession, SessionMode, SessionStatus
from odr.timeutil import utcnow
from odr.video import events, rooms
from tests.conftest import sign_in_cookie
from tests.fixtures.mediation import Mediation

NS = "/video"
EVENTS = ("roster", "signal", "hangup", "chat", "problem", "refused", "removed", "muted", "ended", "replaced")


class Peer:
    """A signed-in Socket.IO client on ``/video`` that records every event it receives."""

    def __init__(self, server, user: User):
        self.server, self.user_id, self.name = server, user.id, user.name
        self.events: queue.Queue = queue.Queue()
        self.history: list = []
        self.latest: dict = {}
        self.sio = socketio.Client(reconnection=False)
        self.listeners = []  # extra callbacks (event, data), e.g. an aiortc peer's signalling
        for name in EVENTS:
            self.sio.on(name, self._recorder(name), namespace=NS)

    def _recorder(self, name):
        def record(data):
            self.latest[name] = data
            self.events.put((name, data))
            for listener in self.listeners:
                listener(name, data)
        return record

    def cookie(self):
        client = self.server.app.test_client()
        with self.server.app.app_context(), client.session_transaction() as session:
            sign_in_cookie(session, self.user_id)
            session["lang"] = "en"
        return client.get_cookie("session").value

    def connect(self):
        self.sio.connect(self.server.url, namespaces=[NS], transports=["websocket"],
                         headers={"Cookie": f"session={self.cookie()}"}, wait_timeout=5)
        return self

    def call(self, event, data):
        return self.sio.call(event, data, namespace=NS, timeout=5)

    def emit(self, event, data):
        self.sio.emit(event, data, namespace=NS)

    def wait_for(self, name, predicate=lambda d: True, timeout=5.0):
        """The first not yet consumed ``name`` event matching ``predicate`` (others stay for later waits)."""
        deadline = time.monotonic() + timeout
        while True:
            while True:  # move what has arrived into the history
                try:
                    self.history.append(self.events.get_nowait())
                except queue.Empty:
                    break
            for i, (got, data) in enumerate(self.history):
                if got == name and predicate(data):
                    del self.history[i]
                    return data
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no {name!r} event within {timeout}s")
            try:
                self.history.append(self.events.get(timeout=min(left, 0.05)))
            except queue.Empty:
                pass

    def roster(self, predicate=lambda r: True, timeout=5.0):
        """Wait until the newest roster this person was sent satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            latest = self.latest.get("roster")
            if latest is not None and predicate(latest):
                return latest
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: the roster never matched; last one: {latest}")
            time.sleep(0.02)

    def disconnect(self):
        """Leave the way a closed tab does: the server hears the goodbye at once. The client's
        closing handshake waits up to 3 s for the test server's answer, so it goes on aside."""
        threading.Thread(target=self.sio.disconnect, name="video-peer-goodbye", daemon=True).start()

    def close(self):
        if not self.sio.connected:
            return
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.shutdown()
        else:
            self.sio.disconnect()


@dataclass
class VideoWorld:
    m: Mediation
    session_id: int
    room_id: int


def peer_ids(roster):
    return sorted(p["user_id"] for p in roster["peers"])


def opened_video_room(mediation):
    """A scheduled video session of the mediation, its room opened by the mediator (not committed)."""
    session = MediationSession(case_id=mediation.case.id, mediator_id=mediation.mediator.id, mode=SessionMode.video,
                               status=SessionStatus.scheduled, starts_at=utcnow(), minutes=60)
    db.session.add(session)
    db.session.commit()
    return rooms.open_room(session.case, mediation.mediator, "mediation", session_id=session.id)


@pytest.fixture
def video(server, mediation):  # server first: it empties the tables
    """The mediation case with a scheduled video session whose room the mediator has opened."""
    events.reset()
    room = opened_video_room(mediation)
    db.session.commit()
    yield VideoWorld(mediation, room.session_id, room.id)
    events.reset()


@pytest.fixture
def peers(server, video):
    """``peers(user)`` makes a connected client for a user; all are closed afterwards."""
    made = []

    def make(user, connect=True):
        peer = Peer(server, user)
        made.append(peer)
        return peer.connect() if connect else peer

    yield make
    for peer in made:
        peer.close()


@pytest.fixture
def joint(video, peers):
    """Mediator, claimant and respondent all admitted into the joint session."""
    m, rid = video.m, video.room_id
    host, a, b = peers(m.mediator), peers(m.claimant), peers(m.respondent)
    assert host.call("join", {"room_id": rid})["ok"]
    for p in (a, b):
        assert p.call("join", {"room_id": rid})["seat"] == "waiting"
        assert host.call("admit", {"room_id": rid, "user_id": p.user_id})["ok"]
    for p, others in ((host, [a, b]), (a, [host, b]), (b, [host, a])):
        p.roster(lambda r, o=others: peer_ids(r) == sorted(x.user_id for x in o))
    return host, a, b
