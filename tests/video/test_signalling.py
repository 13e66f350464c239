"""The ``/video`` signalling server with real Socket.IO clients against a live server: lobby,
admission, relay only within a group, caucus, the host away, rejoining, controls, chat, refusals."""

import pytest
import socketio
import sqlalchemy as sa

from odr.cases.models import Event
from odr.extensions import db
from odr.video import events
from odr.video.models import SeatState, VideoSeat
from tests.video.conftest import peer_ids

SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def audit_actions(server, case_id):
    with server.app.app_context():
        return [e.action for e in db.session.scalars(sa.select(Event).where(Event.case_id == case_id)
                                                      .order_by(Event.seq))]


def test_anonymous_connection_is_refused(server, video):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, namespaces=["/video"], transports=["websocket"], wait_timeout=1)


def test_lobby_admit_and_refuse(video, peers):
    m, rid = video.m, video.room_id
    a = peers(m.claimant)
    first = a.call("join", {"room_id": rid})
    assert first["ok"] and first["seat"] == "waiting" and first["roster"]["peers"] == []
    assert first["ice_servers"] == []  # nothing configured: loopback only, no public STUN
    host = peers(m.mediator)
    joined = host.call("join", {"room_id": rid})
    assert joined["seat"] == "admitted"
    assert [w["user_id"] for w in joined["roster"]["lobby"]] == [m.claimant.id]
    # Waiting people may not signal anyone.
    refused = a.call("signal", {"room_id": rid, "to": m.mediator.id, "type": "offer", "sdp": SDP})
    assert refused == {"ok": False, "error": "You have not been admitted to this room."}
    assert host.call("admit", {"room_id": rid, "user_id": m.claimant.id})["ok"]
    assert peer_ids(a.roster(lambda r: r["state"] == "admitted")) == [m.mediator.id]
    b = peers(m.respondent)
    b.call("join", {"room_id": rid})
    host.roster(lambda r: [w["user_id"] for w in r.get("lobby", [])] == [m.respondent.id])
    assert host.call("admit", {"room_id": rid, "user_id": m.respondent.id, "admit": False})["ok"]
    b.wait_for("refused")
    assert b.call("chat", {"room_id": rid, "body": "hello?"})["ok"] is False
    # Asking again puts them back in the lobby.
    assert b.call("join", {"room_id": rid})["seat"] == "waiting"
    assert "video_admitted" in audit_actions(video_server(peers, a), m.case.id)


def video_server(peers, peer):
    return peer.server


def test_offer_answer_and_candidates_are_relayed_within_the_group(joint, video):
    host, a, b = joint
    rid = video.room_id
    assert a.call("signal", {"room_id": rid, "to": b.user_id, "type": "offer", "sdp": SDP})["ok"]
    got = b.wait_for("signal")
    assert got["from"] == a.user_id and got["type"] == "offer" and got["sdp"] == SDP and got["epoch"] > 0
    cand = {"candidate": "candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host", "sdpMid": "0",
            "sdpMLineIndex": 0}
    assert b.call("signal", {"room_id": rid, "to": a.user_id, "type": "candidate", "candidate": cand})["ok"]
    assert a.wait_for("signal")["candidate"] == cand
    assert b.call("signal", {"room_id": rid, "to": a.user_id, "type": "candidate", "candidate": None})["ok"]


def test_the_offer_number_goes_with_the_offer_the_answer_and_the_candidates(joint, video):
    host, a, b = joint
    rid = video.room_id
    a.emit("signal", {"room_id": rid, "to": b.user_id, "type": "offer", "offer": 7, "sdp": SDP})
    assert b.wait_for("signal")["offer"] == 7
    b.emit("signal", {"room_id": rid, "to": a.user_id, "type": "answer", "offer": 7, "sdp": SDP})
    assert a.wait_for("signal")["offer"] == 7
    a.emit("signal", {"room_id": rid, "to": b.user_id, "type": "candidate", "candidate": None})
    assert "offer" not in b.wait_for("signal")  # a signal without a number passes without one


def test_one_persons_signals_arrive_in_the_order_they_were_sent(joint, video):
    # An ICE candidate that overtakes the answer it follows is lost (there is no remote
    # description to add it to yet): the server must keep each sender's order.
    host, a, b = joint
    rid = video.room_id
    a.emit("signal", {"room_id": rid, "to": b.user_id, "type": "answer", "sdp": SDP})
    for port in range(50000, 50060):
        cand = {"candidate": f"candidate:1 1 udp 2122260223 192.0.2.2 {port} typ host", "sdpMid": "0",
                "sdpMLineIndex": 0}
        a.emit("signal", {"room_id": rid, "to": b.user_id, "type": "candidate", "candidate": cand})
    got = [b.wait_for("signal") for _ in range(61)]
    assert got[0]["type"] == "answer"
    assert [int(g["candidate"]["candidate"].split()[5]) for g in got[1:]] == list(range(50000, 50060))


MALFORMED = [
    ("not an object", "Malformed request."),
    ({}, "Malformed request."),
    ({"room_id": "1"}, "Malformed request."),
    ({"room_id": True}, "Malformed request."),
    ({"type": "offer", "sdp": "hello", "to": "B"}, "Malformed request."),
    ({"type": "offer", "sdp": "v=0\r\n" + "a" * 40_000, "to": "B"}, "Malformed request."),
    ({"type": "offer", "sdp": None, "to": "B"}, "Malformed request."),
    ({"type": "sing", "sdp": SDP, "to": "B"}, "Malformed request."),
    ({"type": "candidate", "candidate": "candidate:1", "to": "B"}, "Malformed request."),
    ({"type": "candidate", "candidate": {"candidate": "rm -rf /"}, "to": "B"}, "Malformed request."),
    ({"type": "candidate", "candidate": {"candidate": "candidate:1 1 udp", "sdpMLineIndex": -1}, "to": "B"},
     "Malformed request."),
    ({"type": "offer", "sdp": SDP, "to": "B-string"}, "Malformed request."),
    ({"type": "offer", "sdp": SDP, "to": "B", "offer": "1"}, "Malformed request."),
    ({"type": "offer", "sdp": SDP, "to": "B", "offer": 0}, "Malformed request."),
    ({"type": "offer", "sdp": SDP, "to": "B", "offer": 2**40}, "Malformed request."),
    ({"type": "answer", "sdp": SDP, "to": "B", "offer": True}, "Malformed request."),
    ({"type": "offer", "sdp": SDP, "to": 99999}, "You cannot connect to this person now."),
]


def test_malformed_signals_are_refused_with_an_error_event(joint, video):
    host, a, b = joint
    for payload, error in MALFORMED:
        if isinstance(payload, dict) and payload:
            payload = {"room_id": video.room_id, **payload}
            if payload.get("to") == "B":
                payload["to"] = b.user_id
        answer = a.call("signal", payload)
        assert answer == {"ok": False, "error": error}, payload
        assert a.wait_for("problem")["error"] == error
    # The connection still works afterwards, and nothing reached the other side.
    assert a.call("chat", {"room_id": video.room_id, "body": "still here"})["ok"]
    assert b.wait_for("chat")["body"] == "still here"
    assert not [e for e in b.history if e[0] == "signal"] and b.events.empty()


def test_caucus_separates_the_sides_and_joint_session_restores(joint, video, server):
    host, a, b = joint
    rid = video.room_id
    assert a.call("caucus", {"room_id": rid, "side": "claimant"}) == {
        "ok": False, "error": "Only the mediator can do this."}
    assert host.call("caucus", {"room_id": rid, "side": "claimant"})["ok"]
    ra = a.roster(lambda r: r["caucus_side"] == "claimant")
    rb = b.roster(lambda r: r["caucus_side"] == "claimant")
    assert peer_ids(ra) == [host.user_id] and ra["group"] == "caucus"
    assert peer_ids(rb) == [] and rb["group"] == "apart-respondent"
    assert a.wait_for("hangup")["peer"] == b.user_id
    assert b.wait_for("hangup", lambda d: d["peer"] == a.user_id)
    b.wait_for("hangup", lambda d: d["peer"] == host.user_id)
    # Signalling across the groups is refused, and the sender is told to hang up.
    assert b.call("signal", {"room_id": rid, "to": a.user_id, "type": "offer", "sdp": SDP}) == {
        "ok": False, "error": "You cannot connect to this person now."}
    assert b.wait_for("hangup")["peer"] == a.user_id
    assert b.call("signal", {"room_id": rid, "to": host.user_id, "type": "offer", "sdp": SDP})["ok"] is False
    # Chat reaches only who can hear the sender.
    assert a.call("chat", {"room_id": rid, "body": "just between us"})["message"]["group"] == "caucus"
    assert host.wait_for("chat")["body"] == "just between us"
    # Reconnecting keeps the seat and the caucus: no new admission.
    a.disconnect()
    host.roster(lambda r: r["caucus_side"] and not any(s["present"] for s in r["seats"] if s["user_id"] == a.user_id))
    a2 = type(a)(server, video.m.claimant).connect()
    try:
        again = a2.call("join", {"room_id": rid})
        assert again["seat"] == "admitted" and peer_ids(again["roster"]) == [host.user_id]
        assert again["roster"]["group"] == "caucus"
        host.roster(lambda r: peer_ids(r) == [a2.user_id])
        assert host.call("caucus", {"room_id": rid, "side": None})["ok"]
        for p, others in ((host, [a2, b]), (a2, [host, b]), (b, [host, a2])):
            p.roster(lambda r, o=others: r["group"] == "joint" and peer_ids(r) == sorted(x.user_id for x in o))
        assert b.call("signal", {"room_id": rid, "to": a2.user_id, "type": "offer", "sdp": SDP})["ok"]
    finally:
        a2.close()
    actions = audit_actions(server, video.m.case.id)
    assert "video_caucus_started" in actions and "video_caucus_ended" in actions
    # Nobody was admitted twice: reconnecting is not a new admission.
    assert actions.count("video_admitted") == 2


def test_when_the_host_drops_out_everyone_waits_until_they_return(joint, video, server):
    host, a, b = joint
    rid = video.room_id
    host.disconnect()
    ra = a.roster(lambda r: not r["host_present"])
    assert ra["group"] == "lobby" and ra["peers"] == []
    a.wait_for("hangup", lambda d: d["peer"] == b.user_id)
    assert a.call("signal", {"room_id": rid, "to": b.user_id, "type": "offer", "sdp": SDP})["ok"] is False
    host2 = type(host)(server, video.m.mediator).connect()
    try:
        assert host2.call("join", {"room_id": rid})["ok"]
        assert peer_ids(a.roster(lambda r: r["host_present"])) == sorted([host.user_id, b.user_id])
    finally:
        host2.close()


def test_mute_is_enforced_and_only_the_host_lifts_it(joint, video):
    host, a, b = joint
    rid = video.room_id
    assert b.call("mute", {"room_id": rid, "user_id": a.user_id})["ok"] is False
    assert host.call("mute", {"room_id": rid, "user_id": a.user_id, "muted": True})["ok"]
    assert a.wait_for("muted")["muted"] is True
    seen = b.roster(lambda r: any(p["user_id"] == a.user_id and p["muted_by_host"] for p in r["peers"]))
    assert [p["audio"] for p in seen["peers"] if p["user_id"] == a.user_id] == [False]
    assert a.call("media", {"room_id": rid, "audio": True, "video": True}) == {
        "ok": False, "error": "The mediator has muted you."}
    assert a.call("media", {"room_id": rid, "audio": False, "video": False})["ok"]
    assert host.call("mute", {"room_id": rid, "user_id": a.user_id, "muted": False})["ok"]
    assert a.call("media", {"room_id": rid, "audio": True, "video": True})["ok"]


def test_removed_participant_is_cut_off_and_must_be_admitted_again(joint, video, server):
    host, a, b = joint
    rid = video.room_id
    assert a.call("remove", {"room_id": rid, "user_id": b.user_id})["ok"] is False
    assert host.call("remove", {"room_id": rid, "user_id": host.user_id})["ok"] is False
    assert host.call("remove", {"room_id": rid, "user_id": b.user_id})["ok"]
    b.wait_for("removed")
    a.wait_for("hangup", lambda d: d["peer"] == b.user_id)
    assert b.call("signal", {"room_id": rid, "to": a.user_id, "type": "offer", "sdp": SDP}) == {
        "ok": False, "error": "Join the room first."}
    assert b.call("join", {"room_id": rid})["seat"] == "waiting"
    assert b.call("signal", {"room_id": rid, "to": a.user_id, "type": "offer", "sdp": SDP}) == {
        "ok": False, "error": "You have not been admitted to this room."}
    with server.app.app_context():
        assert db.session.get(VideoSeat, (rid, b.user_id)).state is SeatState.waiting
    assert "video_removed" in audit_actions(server, video.m.case.id)


def test_people_outside_the_case_cannot_join(video, peers):
    m, rid = video.m, video.room_id
    for user in (m.outsider, m.other_mediator, m.staff):
        p = peers(user)
        assert p.call("join", {"room_id": rid}) == {"ok": False, "error": "You are not in this video room."}
        assert p.call("join", {"room_id": rid + 1000})["ok"] is False


def test_events_for_a_room_not_joined_are_refused(video, peers):
    a = peers(video.m.claimant)
    for event in ("chat", "signal", "media", "consent", "leave"):
        assert a.call(event, {"room_id": video.room_id, "body": "x"}) == {"ok": False, "error": "Join the room first."}


def test_floods_are_refused(joint, video):
    host, a, b = joint
    for _ in range(events.FLOOD_EVENTS):
        a.emit("chat", {"room_id": video.room_id, "body": ""})
    answer = a.call("chat", {"room_id": video.room_id, "body": "one more"})
    assert answer == {"ok": False, "error": "Too many messages at once. Wait a moment."}
    assert not [e for e in b.history if e[0] == "chat"]


def test_chat_and_end(joint, video, server):
    host, a, b = joint
    rid = video.room_id
    assert a.call("chat", {"room_id": rid, "body": "  "})["error"] == "The message is empty."
    assert a.call("chat", {"room_id": rid, "body": "x" * 1001})["ok"] is False
    a.call("chat", {"room_id": rid, "body": "大家好"})
    assert b.wait_for("chat")["body"] == "大家好" and host.wait_for("chat")["name"] == video.m.claimant.name
    assert a.call("end", {"room_id": rid}) == {"ok": False, "error": "Only the mediator can do this."}
    assert host.call("end", {"room_id": rid})["ok"]
    a.wait_for("ended")
    b.wait_for("ended")
    assert a.call("join", {"room_id": rid}) == {"ok": False, "error": "This video session has ended."}
    assert "video_room_ended" in audit_actions(server, video.m.case.id)
