"""An overloaded process refuses chat messages with a retryable answer, before they cost anything;
what it acknowledged is stored, once; the video's signalling and joining are never shed."""

import threading
import time

import pytest
import sqlalchemy as sa

from odr import realtime
from odr.consult.models import ConsultMessage
from odr.extensions import db


@pytest.fixture
def busy(server):
    """Set ``busy(in_flight=…, lag_ms=…)`` on the live server's process; restored afterwards."""
    config = server.app.config
    before = config["SOCKET_MAX_IN_FLIGHT"], config["SOCKET_MAX_LAG_MS"]
    hold = config["SOCKET_SHED_HOLD_SECONDS"]
    config["SOCKET_SHED_HOLD_SECONDS"] = 0.05

    def set_limits(in_flight=before[0], lag_ms=before[1]):
        config["SOCKET_MAX_IN_FLIGHT"], config["SOCKET_MAX_LAG_MS"] = in_flight, lag_ms

    yield set_limits
    config["SOCKET_MAX_IN_FLIGHT"], config["SOCKET_MAX_LAG_MS"] = before
    config["SOCKET_SHED_HOLD_SECONDS"] = hold


def stored(server, client_id):
    with server.app.app_context():
        return db.session.scalars(sa.select(ConsultMessage).where(ConsultMessage.client_id == client_id)).all()


def test_a_message_past_the_in_flight_limit_is_refused_to_be_sent_again_and_not_stored(pair, busy, server):
    asker, consultant, cid = pair
    busy(in_flight=0)  # every event counts as one too many
    ack = asker.call("send", {"consultation_id": cid, "client_id": "busy-1", "body": "are you there?"})
    assert ack["ok"] is False and ack["retry"] is True and ack["retry_after"] >= 1
    assert "again" in ack["error"]
    assert stored(server, "busy-1") == []
    assert consultant.drain("message") == [] and asker.drain("problem") == []  # nothing sent on, no error shown

    busy()  # the load passed: the page sends it again, with the same client id
    again = asker.call("send", {"consultation_id": cid, "client_id": "busy-1", "body": "are you there?"})
    assert again["ok"] is True
    assert consultant.wait_for("message", lambda m: m["client_id"] == "busy-1")["body"] == "are you there?"
    assert [m.body for m in stored(server, "busy-1")] == ["are you there?"]


def test_a_late_event_loop_sheds_messages_typing_and_read_marks_but_not_joining(pair, busy, server):
    asker, consultant, cid = pair
    busy(lag_ms=-1)  # any lag, even none, is too much
    for event, data in (("send", {"client_id": "late-1", "body": "x"}), ("typing", {"typing": True}),
                        ("mark", {"up_to_id": 1, "what": "read"})):
        answer = asker.call(event, {"consultation_id": cid, **data})
        assert answer["ok"] is False and answer["retry"] is True, event
    assert consultant.drain("typing") == []
    assert asker.call("join", {"consultation_id": cid})["ok"] is True  # history and status still load
    assert stored(server, "late-1") == []


def test_a_refused_connection_is_held_before_its_answer_while_another_is_answered_meanwhile(pair, busy, server):
    asker, consultant, cid = pair
    busy(in_flight=0)
    server.app.config["SOCKET_SHED_HOLD_SECONDS"] = 2.0
    answered = {}

    def flood():
        started = time.monotonic()
        answered["ack"] = asker.call("send", {"consultation_id": cid, "client_id": "held-1", "body": "flood"})
        answered["seconds"] = time.monotonic() - started

    sender = threading.Thread(target=flood)
    sender.start()
    time.sleep(0.3)  # the refused send is being held now
    # Joining is never shed nor held: the other member is answered meanwhile.
    started = time.monotonic()
    assert consultant.call("join", {"consultation_id": cid})["ok"] is True
    assert time.monotonic() - started < 1.0 and "ack" not in answered
    sender.join(10)
    assert answered["ack"]["retry"] is True and answered["seconds"] >= 2.0
    assert stored(server, "held-1") == []


def test_the_load_counts_the_events_being_handled():
    load = realtime.Load()
    with load.handling():
        with load.handling():
            assert load.in_flight == 2
        assert load.in_flight == 1
    assert load.in_flight == 0
    with pytest.raises(RuntimeError):
        with load.handling():
            raise RuntimeError("a failing handler still leaves")
    assert load.in_flight == 0


def test_a_connection_is_held_once_per_period_and_what_came_meanwhile_is_answered_at_once(pair, busy, server):
    """A client that sends again without waiting (a script) must not pile up unread frames behind
    each hold: its answer to the server's ping would be read too late and its connection closed."""
    asker, consultant, cid = pair
    busy(in_flight=0)
    server.app.config["SOCKET_SHED_HOLD_SECONDS"] = 1.0
    timings = []
    for i in range(4):
        started = time.monotonic()
        ack = asker.call("send", {"consultation_id": cid, "client_id": f"again-{i}", "body": "x"})
        timings.append(time.monotonic() - started)
        assert ack["retry"] is True
    assert timings[0] >= 1.0  # held
    assert all(t < 0.5 for t in timings[1:]), timings  # within the period after it: answered at once
    time.sleep(1.0)
    started = time.monotonic()
    assert asker.call("send", {"consultation_id": cid, "client_id": "again-late", "body": "x"})["retry"] is True
    assert time.monotonic() - started >= 1.0  # a new period: held again
    assert asker.sio.connected


def test_the_log_says_how_many_events_each_limit_refused(pair, busy, caplog):
    """An operator sees overload in the log, with the limit that refused (at most once per
    ``Load.REPORT_SECONDS``; the watcher may report part of it before the test asks)."""
    import re

    asker, _consultant, cid = pair
    caplog.set_level("WARNING", logger="odr.realtime")
    realtime.load.report(0)  # start counting from here (what the tests before refused is said now)
    caplog.clear()
    busy(in_flight=0)
    for k in range(2):
        assert asker.call("send", {"consultation_id": cid, "client_id": f"log-{k}", "body": "x"})["retry"] is True
    busy(lag_ms=-1)
    assert asker.call("typing", {"consultation_id": cid, "typing": True})["retry"] is True
    realtime.load.report(10)
    counts = [tuple(map(int, re.search(r"(\d+) events refused .*\((\d+) at the in-flight limit, (\d+) at the "
                                       r"loop-lag limit\)", r.getMessage()).groups()))
              for r in caplog.records if r.getMessage().startswith("Overloaded:")]
    assert [sum(c[i] for c in counts) for i in range(3)] == [3, 2, 1], counts
    caplog.clear()
    realtime.load.report(10)  # nothing refused since: nothing said
    assert not [r for r in caplog.records if r.getMessage().startswith("Overloaded:")]
