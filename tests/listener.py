"""A signed-in (or signed-out) page's Socket.IO connection to the live server, for the tests of
what the server pushes: ``Listener(server, "/field", "dispatch", user_id)`` collects that event."""

from __future__ import annotations

import queue
import time

import socketio

from tests.conftest import sign_in_cookie


def session_cookie(server, user_id) -> str:
    """The value of a session cookie of ``user_id`` signed in on the live server."""
    client = server.app.test_client()
    with server.app.app_context(), client.session_transaction() as session:
        sign_in_cookie(session, user_id)
    return client.get_cookie("session").value


class Listener:
    def __init__(self, server, namespace: str, event: str, user_id=None):
        self.namespace = namespace
        self.events: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on(event, lambda data: self.events.put(data), namespace=namespace)
        headers = {"Cookie": f"session={session_cookie(server, user_id)}"} if user_id is not None else {}
        self.sio.connect(server.url, namespaces=[namespace], transports=["websocket"], headers=headers,
                         wait_timeout=5)

    def call(self, event: str, data):
        return self.sio.call(event, data, namespace=self.namespace, timeout=5)

    def got(self, wait=0.5) -> list:
        """The events that arrived within ``wait`` seconds from now (and before)."""
        time.sleep(wait)
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    def close(self):
        self.sio.disconnect()
