"""Connections saying goodbye at once: the Socket.IO server's client manager, python-socketio's own
against the platform's (``odr.realtime.RoomIndex``, which keeps each connection's rooms).

Run by hand from the project root::

    .venv/bin/python bench/rooms.py                  # 1,000, 5,000 and 10,000 connections
    .venv/bin/python bench/rooms.py --sizes 20000

Each connection is in the rooms the app puts it in (its own, its user's, its session's, a chat of
two), then all of them disconnect one after another, as when a network drops or a proxy restarts:
the seconds that takes (the worker's core, during which it answers no one), per goodbye, and the
ratio. In-process, on the managers alone (no server, no sockets).
"""

import argparse
import itertools
import json
import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]  # see bench/_common.py

import socketio  # noqa: E402

from odr import realtime  # noqa: E402

NS = "/consult"


class _Engine:
    def __init__(self):
        self.ids = itertools.count()

    def generate_id(self):
        return f"sid-{next(self.ids)}"


class FakeServer:
    """What a client manager asks of its server here: fresh connection ids and the JSON module."""

    def __init__(self):
        self.eio = _Engine()

    class packet_class:
        json = json


def connect_as_the_app_does(manager, n: int) -> list[str]:
    """``n`` connections to ``manager`` (given a :class:`FakeServer`), each in the rooms the app puts
    it in: its own, its user's, its session's and a chat of two. Their ids."""
    manager.set_server(FakeServer())
    sids = []
    for i in range(n):
        sid = manager.connect(f"eio-{i}", NS)
        for room in (f"user-{i}", f"session-{i}", f"consult-{i // 2}"):
            manager.enter_room(sid, NS, room)
        sids.append(sid)
    return sids


def goodbyes(manager, n: int) -> float:
    sids = connect_as_the_app_does(manager, n)
    started = time.perf_counter()
    for sid in sids:
        manager.disconnect(sid, NS)
    took = time.perf_counter() - started
    assert manager.rooms.get(NS, {}) == {}
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,10000", help="connections, comma-separated")
    args = ap.parse_args()
    indexed = type(realtime.client_manager(None, "bench"))
    for n in (int(x) for x in args.sizes.split(",")):
        theirs, ours = goodbyes(socketio.Manager(), n), goodbyes(indexed(), n)
        print(f"{n:>6} connections closing: python-socketio {theirs:7.3f} s ({theirs / n * 1000:.3f} ms each), "
              f"RoomIndex {ours:6.3f} s ({ours / n * 1000:.4f} ms each), {theirs / ours:.0f}x", flush=True)


if __name__ == "__main__":
    main()
