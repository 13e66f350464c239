"""A video room served by two app processes sharing one database and one Redis (the message
queue and the rooms' live state), with real Socket.IO clients on each: admission, signalling,
caucus refusals, reconnecting on the other process, the media bridge's relay across them; and
the conditional writes that keep two processes from both changing a seat or the caucus.

Redis: ``ODR_TEST_REDIS_URL`` if set, else a private ``redis-server`` started for this module
(on a free port, nothing saved), so parallel test runs never share keys or channels.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import requests
import socketio
import sqlalchemy as sa

from flask import Flask
from odr.auth.models import User
from odr.cases.models import Event
from odr.extensions import db
from odr.video import bridge, presence, rooms
from odr.video.models import SeatState, VideoRoom
from tests import conftest as base
from tests.polling import eventually
from tests.video.conftest import NS, Peer, opened_video_room, peer_ids

ROOT = Path(__file__).resolve().parents[2]
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture(scope="module")
def processes(_schema, database_url, redis_url, instance_path):
    """Two app processes (A and B) on the test database, with Redis as message queue and state."""
    channel = f"odr-test-{uuid.uuid4().hex[:8]}"
    config = base.test_config(database_url, SOCKETIO_MESSAGE_QUEUE=redis_url, SOCKETIO_CHANNEL=channel)
    env = {**os.environ, "ODR_INSTANCE_PATH": str(instance_path)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.video.app_process", json.dumps(config), "2"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, text=True)
    try:
        urls = [f"http://127.0.0.1:{int(proc.stdout.readline())}" for _ in range(2)]
        yield SimpleNamespace(a=urls[0], b=urls[1], channel=channel)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{channel}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def room(app, mediation, processes):
    """The mediation's scheduled video session with its room opened by the mediator."""
    room = opened_video_room(mediation)
    db.session.commit()
    return SimpleNamespace(id=room.id, m=mediation)


@pytest.fixture
def on(app, processes):
    """``on("a"|"b", user)``: a client of that user connected to process A or B."""
    made = []

    def connect(which, user):
        peer = Peer(SimpleNamespace(app=app, url=getattr(processes, which)), user)
        made.append(peer)
        return peer.connect()

    yield connect
    for peer in made:
        peer.close()


def audit_actions(case_id):
    db.session.rollback()
    return [e.action for e in db.session.scalars(sa.select(Event).where(Event.case_id == case_id).order_by(Event.seq))]


def test_the_host_on_one_process_admits_and_caucuses_parties_on_the_other(app, room, on, processes):
    m, rid = room.m, room.id
    a = on("b", m.claimant)
    assert a.call("join", {"room_id": rid})["seat"] == "waiting"
    host = on("a", m.mediator)
    joined = host.call("join", {"room_id": rid})
    # Process A sees who waits in the lobby of process B.
    assert [w["user_id"] for w in joined["roster"]["lobby"]] == [m.claimant.id]
    assert host.call("admit", {"room_id": rid, "user_id": m.claimant.id})["ok"]
    assert peer_ids(a.roster(lambda r: r["state"] == "admitted")) == [m.mediator.id]
    # Offer, answer and ICE candidates across the processes.
    assert a.call("signal", {"room_id": rid, "to": m.mediator.id, "type": "offer", "sdp": SDP})["ok"]
    offer = host.wait_for("signal")
    assert offer["from"] == m.claimant.id and offer["type"] == "offer" and offer["epoch"] > 0
    assert host.call("signal", {"room_id": rid, "to": m.claimant.id, "type": "answer", "sdp": SDP})["ok"]
    assert a.wait_for("signal")["type"] == "answer"
    cand = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    assert a.call("signal", {"room_id": rid, "to": m.mediator.id, "type": "candidate", "candidate": cand})["ok"]
    assert host.wait_for("signal")["candidate"] == cand

    b = on("a", m.respondent)
    assert b.call("join", {"room_id": rid})["seat"] == "waiting"
    assert host.call("admit", {"room_id": rid, "user_id": m.respondent.id})["ok"]
    # The admission is one conditional write: a second one finds the seat no longer waiting.
    assert host.call("admit", {"room_id": rid, "user_id": m.respondent.id}) == {
        "ok": False, "error": "This person is not waiting in the lobby."}
    for p, others in ((host, [a, b]), (a, [host, b]), (b, [host, a])):
        p.roster(lambda r, o=others: peer_ids(r) == sorted(x.user_id for x in o))

    # A caucus with the claimant (on B): the respondent (on A) may signal neither of them.
    assert host.call("caucus", {"room_id": rid, "side": "claimant"})["ok"]
    assert b.roster(lambda r: r["caucus_side"] == "claimant")["group"] == "apart-respondent"
    assert peer_ids(a.roster(lambda r: r["caucus_side"] == "claimant")) == [m.mediator.id]
    a.wait_for("hangup", lambda d: d["peer"] == m.respondent.id)
    for to in (m.claimant.id, m.mediator.id):
        assert b.call("signal", {"room_id": rid, "to": to, "type": "offer", "sdp": SDP}) == {
            "ok": False, "error": "You cannot connect to this person now."}
    assert a.call("chat", {"room_id": rid, "body": "just between us"})["message"]["group"] == "caucus"
    assert host.wait_for("chat")["body"] == "just between us"
    assert a.call("signal", {"room_id": rid, "to": m.respondent.id, "type": "offer", "sdp": SDP})["ok"] is False
    assert not [e for e in b.history + list(b.events.queue) if e[0] in ("signal", "chat")]

    # The claimant's connection drops from B; they come back through A, into the same seat and caucus.
    a.disconnect()
    host.roster(lambda r: not any(s["present"] for s in r["seats"] if s["user_id"] == m.claimant.id))
    a2 = on("a", m.claimant)
    again = a2.call("join", {"room_id": rid})
    assert again["seat"] == "admitted" and again["roster"]["group"] == "caucus"
    # The same person opening the room on B as well: one seat, the connection on A is replaced.
    a3 = on("b", m.claimant)
    assert a3.call("join", {"room_id": rid})["roster"]["group"] == "caucus"
    a2.wait_for("replaced")
    assert a2.call("chat", {"room_id": rid, "body": "old tab"}) == {"ok": False, "error": "Join the room first."}
    assert host.call("caucus", {"room_id": rid, "side": None})["ok"]
    for p, others in ((host, [a3, b]), (a3, [host, b]), (b, [host, a3])):
        p.roster(lambda r, o=others: peer_ids(r) == sorted(x.user_id for x in o) and r["group"] == "joint")

    # The media bridge connected to A relays for the claimant, who is connected to B.
    relay = socketio.Client(reconnection=False)
    got = []
    relay.on("bridge_room", lambda d: got.append(("room", d)), namespace=NS)
    relay.on("signal", lambda d: got.append(("signal", d)), namespace=NS)
    token = bridge.service_token(app)  # the processes read it from the same instance folder
    relay.connect(processes.a, namespaces=[NS], transports=["websocket"], auth={"bridge_token": token},
                  wait_timeout=5)
    try:
        assert a3.call("relay", {"room_id": rid, "on": True})["ok"]
        a3.roster(lambda r: all(p["via"] == "relay" for p in r["peers"]))
        eventually(lambda: any(k == "room" and d["relay"] for k, d in got), "the bridge is told to relay")
        assert a3.call("signal", {"room_id": rid, "to": m.respondent.id, "type": "offer", "sdp": SDP})["ok"]
        eventually(lambda: any(k == "signal" and d.get("for") == m.respondent.id and d["from"] == m.claimant.id
                          for k, d in got), "the claimant's offer reaches the bridge")
        # The bridge answers as the respondent; the answer reaches the claimant on B.
        answer = {"room_id": rid, "to": m.claimant.id, "as": m.respondent.id, "type": "answer", "sdp": SDP}
        assert relay.call("bridge_signal", answer, namespace=NS, timeout=5)["ok"]
        assert a3.wait_for("signal", lambda d: d["from"] == m.respondent.id)["type"] == "answer"
    finally:
        relay.eio.ws.shutdown()  # a dropped connection; a polite goodbye waits for the server's close
    actions = audit_actions(m.case.id)
    assert actions.count("video_admitted") == 2 and actions.count("video_caucus_started") == 1


def test_signing_out_on_one_process_closes_the_sessions_connections_on_the_other(app, mediation, processes):
    """A connection's events are not checked against the database one by one: its session ending
    anywhere must reach the process holding it, which marks it ended and closes it at once."""
    user = mediation.claimant
    web = requests.Session()
    web.cookies.set("session", Peer(SimpleNamespace(app=app, url=processes.a), user).cookie(), domain="127.0.0.1")
    account = web.get(f"{processes.a}/auth/account", allow_redirects=False)
    assert account.status_code == 200
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', account.text).group(1)
    told = []
    live = socketio.Client(reconnection=False)
    live.on("signed_out", told.append, namespace="/consult")
    live.connect(processes.b, namespaces=["/consult", NS], transports=["websocket"],
                 headers={"Cookie": f"session={web.cookies['session']}"}, wait_timeout=5)
    try:
        answer = live.call("typing", {"consultation_id": 1, "typing": True}, namespace="/consult", timeout=5)
        assert answer["error"] != "You were signed out. Sign in again."  # signed in on B

        out = web.post(f"{processes.a}/auth/logout", data={"csrf_token": token}, allow_redirects=False)
        assert out.status_code == 303
        eventually(lambda: not live.connected, "the connection on the other process closed", timeout=5)
        assert told == [{}]
        assert web.get(f"{processes.b}/auth/account", allow_redirects=False).status_code == 302
    finally:
        live.disconnect()


def test_of_two_processes_changing_a_seat_or_the_caucus_at_once_one_does_it(app, mediation):
    """Each process decided from its own copy of the seat (waiting); the database decides."""
    room = opened_video_room(mediation)
    rooms.take_seat(room, mediation.claimant, "claimant")
    db.session.commit()
    rid, uid = room.id, mediation.claimant.id
    assert rooms.seat_of(room, uid).state is SeatState.waiting and room.caucus_side is None  # this process's copy
    with app.app_context():  # the other process: its own session
        other = db.session.get(VideoRoom, rid)
        mediator = db.session.get(User, mediation.mediator.id)
        rooms.admit(other, mediator, uid, yes=False)
        rooms.caucus(other, mediator, "claimant")
        db.session.commit()
    with pytest.raises(rooms.RoomError):  # "This person is not waiting in the lobby."
        rooms.admit(room, mediation.mediator, uid)
    rooms.caucus(room, mediation.mediator, "claimant")  # the same move again: nothing to record
    db.session.commit()
    assert rooms.seat_of(room, uid).state is SeatState.refused and room.caucus_side == "claimant"
    actions = audit_actions(mediation.case.id)
    assert actions.count("video_refused") == 1 and "video_admitted" not in actions
    assert actions.count("video_caucus_started") == 1


def test_the_embedded_default_keeps_rooms_in_the_process_and_a_queue_shares_them(redis_url):
    def store(**config):
        app = Flask(__name__)
        app.config.update(config)
        presence.init_app(app)
        return app.extensions[presence.EXTENSION]

    assert store() is presence.MEMORY
    assert store(SOCKETIO_MESSAGE_QUEUE=None, VIDEO_PRESENCE_URL="memory://") is presence.MEMORY
    shared = store(SOCKETIO_MESSAGE_QUEUE=redis_url, SOCKETIO_CHANNEL="odr-t")
    assert isinstance(shared, presence.RedisPresence) and shared.p == "odr-t:video:"
    shared.redis.close()


def test_connections_of_a_process_that_died_count_as_gone(redis_url):
    prefix = f"odr-test-{uuid.uuid4().hex[:8]}:video:"
    one, two = presence.RedisPresence(redis_url, prefix), presence.RedisPresence(redis_url, prefix)
    try:
        one.connect("sid-1", 1)
        two.connect("sid-2", 2)
        one.sit("sid-1", 7)
        two.sit("sid-2", 7)
        assert sorted(one.present(7)) == [1, 2]
        # The same person sitting down on the other process takes the seat over.
        two.connect("sid-1b", 1)
        assert two.sit("sid-1b", 7)[1] == "sid-1"
        assert one.conn("sid-1").room_id is None and one.present(7)[1].sid == "sid-1b"
        two.redis.delete(f"{prefix}proc:{two.process}")  # its heartbeat expired: the process died
        assert one.present(7) == {}
        assert one.redis.hgetall(f"{prefix}room:7:present") == {}
    finally:
        for store in (one, two):
            store.stop()
            keys = list(store.redis.scan_iter(match=f"{prefix}*"))
            if keys:
                store.redis.delete(*keys)
            store.redis.close()
