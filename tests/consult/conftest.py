"""Real Socket.IO clients (python-socketio) signed in as a user, against the live server."""

from __future__ import annotations

import queue
import time

import pytest
import socketio

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role, User
from odr.cases.models import Category
from odr.consult import operations as ops
from odr.consult.models import Consultation
from odr.extensions import db
from tests.conftest import sign_in_cookie


class Person:
    """A signed-in Socket.IO client on ``/consult`` that records every event it receives."""

    def __init__(self, server, user_id):
        self.server, self.user_id = server, user_id
        self.events: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in ("message", "typing", "receipt", "queue", "queue_size", "status", "problem"):
            self.sio.on(name, self._recorder(name), namespace="/consult")

    def _recorder(self, name):
        return lambda data: self.events.put((name, data))

    def cookie(self):
        client = self.server.app.test_client()
        with self.server.app.app_context(), client.session_transaction() as session:
            sign_in_cookie(session, self.user_id)
            session["lang"] = "en"  # error messages are asserted in English
        return client.get_cookie("session").value

    def connect(self, transport="websocket"):
        self.sio.connect(self.server.url, namespaces=["/consult"], transports=[transport],
                         headers={"Cookie": f"session={self.cookie()}"}, wait_timeout=5)
        return self

    def call(self, event, data):
        return self.sio.call(event, data, namespace="/consult", timeout=5)

    def emit(self, event, data):
        self.sio.emit(event, data, namespace="/consult")

    def wait_for(self, name, predicate=lambda d: True, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} event within {timeout}s")
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if got == name and predicate(data):
                return data

    def drain(self, name, wait=0.3):
        """Events of this kind that arrive within ``wait`` seconds."""
        time.sleep(wait)
        out = []
        while not self.events.empty():
            got, data = self.events.get_nowait()
            if got == name:
                out.append(data)
        return out

    def close(self):
        """Drop the connection (as a phone losing its network does) without waiting for a goodbye."""
        if not self.sio.connected:
            return
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.shutdown()  # the socket just goes away; the client's read loop ends by itself
        else:
            self.sio.disconnect()



@pytest.fixture
def people(server):
    """``people(role=None)`` creates a user and a Socket.IO client for them (connected on demand)."""
    made = []
    counter = iter(range(1, 1000))

    def make(role: Role | None = None, name=None):
        with server.app.app_context():
            n = next(counter)
            user = auth_ops.create_user(f"person{n}@example.com", name or f"Person {n}", "correct horse 42")
            if role:
                grant_role(user, role)
            db.session.commit()
            person = Person(server, user.id)
        made.append(person)
        return person

    yield make
    for person in made:
        person.close()


@pytest.fixture
def in_app(server):
    """Run a function inside the live server's app context and commit."""

    def run(fn, *args, **kwargs):
        with server.app.app_context():
            result = fn(*args, **kwargs)
            db.session.commit()
            return result

    return run


def start(user_id, topic="My deposit was not returned"):
    user = db.session.get(User, user_id)
    return ops.start(user, topic, Category.property).id


def take(consultant_id, cid):
    ops.take(db.session.get(Consultation, cid), db.session.get(User, consultant_id))


@pytest.fixture
def pair(people, in_app):
    """An asker and a consultant in an active consultation, both connected and joined."""
    asker, consultant = people(name="Asker"), people(Role.consultant, name="Consultant")
    cid = in_app(start, asker.user_id)
    in_app(take, consultant.user_id, cid)
    for p in (asker, consultant):
        p.connect()
        assert p.call("join", {"consultation_id": cid})["ok"]
    return asker, consultant, cid
