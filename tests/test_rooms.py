"""The Socket.IO server's client manager (odr.realtime.RoomIndex): the same rooms as python-socketio's
own manager after any sequence of connections, rooms and goodbyes, found without looking through
every room; and a goodbye that no longer costs the time of every room there is."""

import importlib.util
from pathlib import Path

import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from odr import realtime

# The benchmark's fake server and its connections as the app makes them (bench/rooms.py).
_spec = importlib.util.spec_from_file_location("odr_bench_rooms", Path(__file__).parent.parent / "bench" / "rooms.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

NS = bench.NS


def _manager(cls):
    manager = cls()
    manager.set_server(bench.FakeServer())
    return manager


def indexed():
    return _manager(type(realtime.client_manager(None, "odr")))


def plain():
    return _manager(socketio.Manager)


operations = st.lists(st.tuples(st.sampled_from(["connect", "enter", "leave", "close", "disconnect"]),
                                st.integers(0, 5), st.integers(0, 3)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_the_same_rooms_as_python_socketio_after_any_sequence(ops):
    ours, theirs = indexed(), plain()
    connected: list[str] = []
    for op, who, room in ops:
        live = [sid for sid in connected if theirs.is_connected(sid, NS)]
        sid = live[who % len(live)] if live else None
        for manager in (ours, theirs):
            if op == "connect":
                manager.connect(f"eio-{len(connected)}", NS)
            elif sid is None:
                continue
            elif op == "enter":
                manager.enter_room(sid, NS, f"room-{room}")
            elif op == "leave":
                manager.leave_room(sid, NS, f"room-{room}")
            elif op == "close":
                manager.close_room(f"room-{room}", NS)
            elif op == "disconnect":
                manager.disconnect(sid, NS)
        if op == "connect":
            connected.append(f"sid-{len(connected)}")
        assert ours.rooms == theirs.rooms
        for each in connected:
            assert sorted(ours.get_rooms(each, NS)) == sorted(theirs.get_rooms(each, NS))
    for sid in connected:  # everyone says goodbye: nothing is left behind, in the rooms or the index
        if ours.is_connected(sid, NS):
            ours.disconnect(sid, NS)
    assert ours.rooms.get(NS, {}) == {} and ours._rooms_of == {}


def test_the_message_queues_manager_keeps_the_index_too():
    manager = realtime.client_manager("redis://127.0.0.1:6379/0", "odr-test-rooms")
    assert isinstance(manager, realtime.RoomIndex) and isinstance(manager, realtime.EndingRooms)


class _Watched(dict):
    """A namespace's rooms that note whoever looks through all of them."""

    looked = 0

    def copy(self):
        _Watched.looked += 1
        return super().copy()

    def items(self):
        _Watched.looked += 1
        return super().items()

    def __iter__(self):
        _Watched.looked += 1
        return super().__iter__()


def _goodbyes(manager, n: int) -> int:
    """How many times ``n`` connections in the rooms the app puts them in, saying goodbye one
    after another, looked through all the rooms."""
    sids = bench.connect_as_the_app_does(manager, n)
    assert sorted(manager.get_rooms(sids[3], NS)) == sorted([sids[3], "user-3", "session-3", "consult-1"])
    manager.rooms[NS] = _Watched(manager.rooms[NS])
    _Watched.looked = 0
    for sid in sids:
        manager.disconnect(sid, NS)
    assert manager.rooms.get(NS, {}) == {}
    return _Watched.looked


def test_a_goodbye_looks_only_at_its_own_rooms():
    """python-socketio's manager looks through every room of the namespace at each goodbye (each
    connection has one of its own): n connections closing at once cost O(n²) of the worker's core
    (bench/rooms.py: 5,000 took 3.7 s). Ours looks only at the connection's own rooms."""
    assert _goodbyes(socketio.Manager(), 50) >= 50  # what the index spares
    assert _goodbyes(indexed(), 50) == 0
