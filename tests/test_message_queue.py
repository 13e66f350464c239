"""Publishing through Redis (odr.realtime.QueuedPublish), with a real Redis and python-socketio's
server: many emits at once go out in order on one connection, and a publishing connection that
breaks neither loses the messages nor the process's subscription to the others'."""

from __future__ import annotations

import json
import threading
import time

import pytest
import redis
import socketio

from odr import realtime
from tests.polling import eventually

CHANNEL = "odr-test-publish"


@pytest.fixture(scope="module")
def manager(lasting_redis_url):
    """The Redis client manager the app makes, on a real Socket.IO server, listening as a served
    process does. One for the module, on a Redis that lasts the session: python-socketio's listener
    cannot be stopped."""
    manager = realtime.client_manager(lasting_redis_url, CHANNEL)
    socketio.Server(async_mode="threading", client_manager=manager)
    manager.initialize()
    control = redis.Redis.from_url(lasting_redis_url)
    eventually(lambda: control.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 1)], timeout=10,
               what="the manager subscribed to its channel")
    yield manager
    control.close()


@pytest.fixture
def heard(lasting_redis_url):
    """What another process hears on the channel: the decoded messages, in the order they came."""
    client = redis.Redis.from_url(lasting_redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    messages: list[dict] = []
    stop = threading.Event()

    def listen():
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.1)
            if message is not None:
                messages.append(json.loads(message["data"]))

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    yield messages
    stop.set()
    thread.join(timeout=5)
    pubsub.close()
    client.close()


def _emit_at_once(manager, numbers) -> None:
    barrier = threading.Barrier(len(numbers))

    def emit(n):
        barrier.wait()
        manager.emit("message", {"n": n}, room="consultation-1", namespace="/consult")

    threads = [threading.Thread(target=emit, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


def _numbers(messages) -> list[int]:
    return [m["data"][0]["n"] for m in messages if m.get("method") == "emit"]


def _publishing_connections(url) -> int:
    """Connections whose last command was a publish (each emit's own, in python-socketio's way)."""
    control = redis.Redis.from_url(url)
    try:
        return sum(1 for c in control.client_list() if c.get("cmd") == "publish")
    finally:
        control.close()


def test_three_hundred_emits_at_once_all_reach_the_others_on_one_connection(manager, heard, lasting_redis_url, caplog):
    # python-socketio's own publishing opened a connection per waiting emit and failed past redis-py's
    # 100 (MaxConnectionsError), dropping the subscription as it made a new client.
    _emit_at_once(manager, range(300))
    eventually(lambda: len(_numbers(heard)) >= 300, timeout=15, what="every emit heard by the other process")
    assert sorted(_numbers(heard)) == list(range(300))
    assert _publishing_connections(lasting_redis_url) == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR" and r.name == "odr.realtime"]
    control = redis.Redis.from_url(lasting_redis_url)
    assert control.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 2)]  # the manager's listener and ours
    control.close()


def test_emits_of_one_sender_go_out_in_the_order_they_were_made(manager, heard):
    for n in range(200):
        manager.emit("message", {"n": n}, room="consultation-1", namespace="/consult")
    eventually(lambda: len(_numbers(heard)) >= 200, timeout=15, what="every emit heard")
    assert _numbers(heard) == list(range(200))


def test_a_broken_publishing_connection_loses_no_message_nor_the_subscription(manager, heard, lasting_redis_url,
                                                                             caplog):
    manager.emit("message", {"n": 0}, room="consultation-1", namespace="/consult")
    eventually(lambda: _numbers(heard) == [0], timeout=10, what="the first emit heard")
    control = redis.Redis.from_url(lasting_redis_url)
    killed = control.client_kill_filter(_type="normal", skipme=True)  # the publisher's connection
    assert killed >= 1
    for n in range(1, 51):
        manager.emit("message", {"n": n}, room="consultation-1", namespace="/consult")
    eventually(lambda: len(_numbers(heard)) >= 51, timeout=15, what="the emits after the break heard")
    assert _numbers(heard) == list(range(51))
    time.sleep(0.2)
    assert control.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 2)]  # still subscribed: nothing missed from others
    assert not any("given up" in r.getMessage() for r in caplog.records)
    control.close()
