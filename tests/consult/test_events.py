"""Live chat over real Socket.IO connections to a live server: delivery, queue, reconnects, refusals."""

import logging

import pytest
import socketio
import sqlalchemy as sa

from odr.auth.models import Role, User
from odr.consult import operations as ops
from odr.consult.models import ConsultMessage, Consultation
from odr.extensions import db
from tests.conftest import sign_in_cookie
from tests.consult.conftest import start, take


def test_anonymous_connection_is_refused(server):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, namespaces=["/consult"], transports=["websocket"], wait_timeout=3)


def test_two_people_chat_with_acks_receipts_and_typing(pair, in_app):
    asker, consultant, cid = pair
    ack = asker.call("send", {"consultation_id": cid, "client_id": "a-1", "body": "房东扣了我全部押金"})
    assert ack["ok"] and ack["message"]["id"] and ack["message"]["client_id"] == "a-1"
    got = consultant.wait_for("message", lambda m: m["client_id"] == "a-1")
    assert got["body"] == "房东扣了我全部押金" and got["sender_id"] == asker.user_id
    consultant.emit("typing", {"consultation_id": cid, "typing": True})
    assert asker.wait_for("typing")["typing"] is True
    assert consultant.call("mark", {"consultation_id": cid, "up_to_id": got["id"], "what": "read"})["ids"] == [got["id"]]
    receipt = asker.wait_for("receipt")
    assert receipt == {"ids": [got["id"]], "what": "read"}
    msg = in_app(lambda: db.session.get(ConsultMessage, got["id"]))
    assert msg is not None
    with server_app(asker):
        stored = db.session.get(ConsultMessage, got["id"])
        assert stored.read_at is not None and stored.delivered_at is not None


def server_app(person):
    return person.server.app.app_context()


def test_resent_message_is_stored_and_shown_once(pair):
    asker, consultant, cid = pair
    first = asker.call("send", {"consultation_id": cid, "client_id": "dup-1", "body": "hello"})
    again = asker.call("send", {"consultation_id": cid, "client_id": "dup-1", "body": "hello"})
    assert first["message"]["id"] == again["message"]["id"]
    received = consultant.drain("message", wait=0.5)
    assert [m["client_id"] for m in received] == ["dup-1"]
    with server_app(asker):
        assert db.session.scalar(sa.select(sa.func.count(ConsultMessage.id))) == 1


def test_dropped_connection_loses_and_duplicates_nothing(pair):
    asker, consultant, cid = pair
    asker.call("send", {"consultation_id": cid, "client_id": "m1", "body": "one"})
    seen = consultant.wait_for("message")["id"]
    asker.close()  # the phone loses its connection
    consultant.call("send", {"consultation_id": cid, "client_id": "c1", "body": "while you were away 1"})
    consultant.call("send", {"consultation_id": cid, "client_id": "c2", "body": "while you were away 2"})
    # Back online: the page joins again from the last message it had, and resends what was never acked.
    asker.sio = socketio.Client(reconnection=False)
    asker.__init__(asker.server, asker.user_id)
    asker.connect()
    joined = asker.call("join", {"consultation_id": cid, "after_id": seen})
    assert [m["body"] for m in joined["messages"]] == ["while you were away 1", "while you were away 2"]
    asker.call("send", {"consultation_id": cid, "client_id": "m1", "body": "one"})  # unacked resend
    asker.call("send", {"consultation_id": cid, "client_id": "m2", "body": "two"})
    full = asker.call("join", {"consultation_id": cid})["messages"]
    assert [m["body"] for m in full] == ["one", "while you were away 1", "while you were away 2", "two"]
    assert len({m["id"] for m in full}) == 4


def test_long_polling_transport_works_too(people, in_app):
    asker, consultant = people(), people(Role.consultant)
    cid = in_app(start, asker.user_id)
    in_app(take, consultant.user_id, cid)
    asker.connect(transport="polling")
    consultant.connect()
    for p in (asker, consultant):
        p.call("join", {"consultation_id": cid})
    asker.call("send", {"consultation_id": cid, "client_id": "p1", "body": "over polling"})
    assert consultant.wait_for("message")["body"] == "over polling"


def test_a_third_person_cannot_join_send_or_read(pair, people):
    asker, consultant, cid = pair
    outsider = people().connect()
    joined = outsider.call("join", {"consultation_id": cid})
    assert joined["ok"] is False and "not in this consultation" in joined["error"]
    assert outsider.wait_for("problem")["event"] == "join"
    sent = outsider.call("send", {"consultation_id": cid, "client_id": "x1", "body": "let me in"})
    assert sent["ok"] is False
    asker.call("send", {"consultation_id": cid, "client_id": "secret", "body": "private"})
    assert outsider.drain("message", wait=0.5) == []
    assert consultant.drain("message", wait=0.1)[0]["body"] == "private"
    for event, data in (("typing", {"consultation_id": cid, "typing": True}),
                        ("mark", {"consultation_id": cid, "up_to_id": 10**6, "what": "read"})):
        assert outsider.call(event, data)["ok"] is False
    assert asker.drain("typing", wait=0.3) == []


@pytest.mark.parametrize("payload, error", [
    ("not an object", "Malformed"),
    ({"consultation_id": "1", "client_id": "a", "body": "x"}, "Malformed"),
    ({"consultation_id": True, "client_id": "a", "body": "x"}, "Malformed"),
    ({"client_id": "a", "body": "x"}, "Malformed"),
    ({"consultation_id": 0, "client_id": "bad id!", "body": "x"}, "Malformed"),
    ({"consultation_id": 0, "client_id": "a", "body": ["list"]}, "Malformed"),
    ({"consultation_id": 0, "client_id": "a", "body": "x" * 5000}, "too long"),
    ({"consultation_id": 0, "client_id": "a", "body": "   "}, "empty"),
    ({"consultation_id": 0, "client_id": "a", "body": "x", "attachment_id": "7"}, "Malformed"),
    ({"consultation_id": 0, "client_id": "a", "body": "x", "attachment_id": 999999}, "attachment"),
])
def test_malformed_events_get_an_error_and_the_connection_survives(pair, payload, error):
    asker, consultant, cid = pair
    if isinstance(payload, dict) and payload.get("consultation_id") == 0:
        payload = payload | {"consultation_id": cid}
    asker.emit("typing", "garbage")  # must not break anything either
    ack = asker.call("send", payload)
    assert ack["ok"] is False and error in ack["error"]
    ok = asker.call("send", {"consultation_id": cid, "client_id": "after", "body": "still here"})
    assert ok["ok"]


def test_floods_are_refused(pair):
    asker, _consultant, cid = pair
    results = [asker.call("send", {"consultation_id": cid, "client_id": f"f{i}", "body": "spam"})["ok"]
               for i in range(40)]
    assert results.count(False) >= 5 and all(results[:20])


def test_queue_positions_update_live(people, in_app):
    consultant = people(Role.consultant)
    askers = [people() for _ in range(3)]
    for a in askers:
        a.connect()
    cids = [in_app(start, a.user_id, f"question {i}") for i, a in enumerate(askers)]
    for a, cid in zip(askers, cids):
        place = a.call("join", {"consultation_id": cid})["queue"]
        assert place["position"] == cids.index(cid) + 1
    # The consultant takes the longest waiting; the others move up, live.
    client = consultant.server.app.test_client()
    with consultant.server.app.app_context(), client.session_transaction() as s:
        sign_in_cookie(s, consultant.user_id)
    page = client.get("/consult/desk").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/consult/desk/take", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.location.endswith(f"/consult/c/{cids[0]}")
    assert askers[0].wait_for("status")["status"] == "active"
    assert askers[1].wait_for("queue", lambda q: q["position"] == 1)["consultation_id"] == cids[1]
    assert askers[2].wait_for("queue", lambda q: q["position"] == 2)["consultation_id"] == cids[2]


def test_messages_after_the_end_are_refused(pair, in_app):
    asker, consultant, cid = pair

    def end():
        c = db.session.get(Consultation, cid)
        ops.end(c, db.session.get(User, asker.user_id))

    in_app(end)
    ack = asker.call("send", {"consultation_id": cid, "client_id": "late", "body": "one more thing"})
    assert ack["ok"] is False and "ended" in ack["error"]


#: Ids a client can send that no row can have: beyond a 64-bit integer, beyond the database's
#: 32-bit columns, and a bool (``True == 1`` in Python).
BAD_IDS = [2**70, 2**31, True]


@pytest.mark.parametrize("event, key", [("join", "consultation_id"), ("join", "after_id"),
                                        ("send", "consultation_id"), ("send", "attachment_id"),
                                        ("typing", "consultation_id"), ("mark", "consultation_id"),
                                        ("mark", "up_to_id")])
def test_ids_no_row_can_have_are_refused_without_a_traceback(pair, caplog, event, key):
    asker, _consultant, cid = pair
    valid = {"join": {"consultation_id": cid}, "send": {"consultation_id": cid, "client_id": "x", "body": "hi"},
             "typing": {"consultation_id": cid, "typing": True},
             "mark": {"consultation_id": cid, "up_to_id": 1, "what": "read"}}[event]
    for bad in BAD_IDS:
        ack = asker.call(event, {**valid, key: bad})
        assert ack == {"ok": False, "error": "Malformed request."}, (key, bad)
    # The server logged no error (the test's own clients may log theirs: a closed earlier client's queue).
    assert [r.getMessage() for r in caplog.records
            if r.levelno >= logging.ERROR and not r.name.startswith(("engineio.client", "socketio.client"))] == []
    assert asker.call("send", {"consultation_id": cid, "client_id": "after", "body": "still here"})["ok"]
