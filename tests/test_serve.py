"""``odr run`` as deployed: many open chat pages must not lock everyone else out.

Each Socket.IO websocket holds one of the server's worker threads for as long as the page is
open. With too few threads (gunicorn's default, or the 16 ``odr run`` once had) a handful of
open chats made every other page hang. This starts the real server in a subprocess, opens 40
signed-in websockets and checks that a page still answers at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import socketio

from odr import create_app
from odr.auth import operations as auth_ops
from odr.cli import upgrade_database
from odr.extensions import db
from tests.conftest import sign_in_cookie

OPEN_CHATS = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"odr run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("odr run did not start")


@pytest.fixture
def served(tmp_path):
    """``odr run`` on a fresh SQLite instance, and a session cookie of a user in it."""
    env = dict(os.environ, ODR_INSTANCE_PATH=str(tmp_path), ODR_SECRET_KEY="serve-test",
               ODR_JOBS_INTERVAL_SECONDS="0", ODR_DATABASE_URL=f"sqlite:///{tmp_path / 'odr.sqlite'}")
    config = {"SECRET_KEY": "serve-test", "DATABASE_URL": env["ODR_DATABASE_URL"], "JOBS_INTERVAL_SECONDS": 0,
              "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}}
    app = create_app(config)
    with app.app_context():
        upgrade_database()
        user = auth_ops.create_user("reader@example.com", "Reader")
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            sign_in_cookie(session, user)
        cookie = client.get_cookie("session").value
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    odr = Path(sys.executable).with_name("odr")
    process = subprocess.Popen([str(odr), "run", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, cookie
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: stop it hard, and reap it
            process.kill()
            process.wait(timeout=10)


def test_many_open_chats_leave_pages_answering(served):
    url, cookie = served
    clients = []
    try:
        for _ in range(OPEN_CHATS):
            sio = socketio.Client(reconnection=False)
            sio.connect(url, namespaces=["/consult"], transports=["websocket"],
                        headers={"Cookie": f"session={cookie}"}, wait_timeout=5)
            clients.append(sio)
        assert all(c.connected for c in clients)
        started = time.monotonic()
        with urllib.request.urlopen(url + "/auth/login", timeout=5) as resp:
            assert resp.status == 200
        assert time.monotonic() - started < 2.0, "a page took seconds to answer while chats were open"
    finally:
        for c in clients:
            c.disconnect()
