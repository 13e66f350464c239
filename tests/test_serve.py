"""``odr run`` as deployed: many open chat pages must not lock everyone else out, nor cost a thread each.

The served process is gunicorn with a gevent worker: an open websocket is a greenlet waiting on
the event loop. (The threaded worker it replaced held one OS thread per open websocket, plus
python-socketio's own; with too few threads a handful of open chats made every other page hang,
and past its ceiling the worker missed its heartbeat and was killed with everyone on it.) This
starts the real server in a subprocess, opens 40 signed-in websockets, checks that a page still
answers at once and that the worker holds a handful of threads, not one per connection.
"""

from __future__ import annotations

import http.client
import os
import re
import select
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import socketio

from odr.auth import operations as auth_ops
from odr.extensions import db
from odr.serve import KEEPALIVE_SECONDS
from tests.conftest import sign_in_cookie
from tests.served import odr_run, prepared

OPEN_CHATS = 40
#: Longer than gunicorn's default keep-alive (2 s), which the platform's server no longer uses.
IDLE_SECONDS = 2.5


def worker_of(master: int) -> int:
    """The gunicorn worker process of the server whose master is ``master``."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == master and b"served_main" in cmdline:
                return int(entry)
    raise AssertionError(f"no worker of {master}")


@pytest.fixture
def served(tmp_path):
    """``odr run`` on a fresh SQLite instance, and a session cookie of a user in it."""
    env = dict(os.environ, ODR_INSTANCE_PATH=str(tmp_path), ODR_SECRET_KEY="serve-test",
               ODR_JOBS_INTERVAL_SECONDS="0", ODR_DATABASE_URL=f"sqlite:///{tmp_path / 'odr.sqlite'}")

    def reader(app):
        user = auth_ops.create_user("reader@example.com", "Reader")
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            sign_in_cookie(session, user)
        return client.get_cookie("session").value

    cookie = prepared({"SECRET_KEY": "serve-test", "DATABASE_URL": env["ODR_DATABASE_URL"]}, reader)
    with odr_run(env) as (url, process):
        yield url, cookie, process.pid


@pytest.mark.served_sqlite
def test_many_open_chats_leave_pages_answering(served):
    url, cookie, master = served
    clients = []
    # A keep-alive connection, left idle while the chats open, then used again (below).
    kept = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
    kept.request("GET", "/healthz")
    assert kept.getresponse().read() is not None
    idle_since = time.monotonic()
    try:
        for _ in range(OPEN_CHATS):
            sio = socketio.Client(reconnection=False)
            sio.connect(url, namespaces=["/consult"], transports=["websocket"],
                        headers={"Cookie": f"session={cookie}"}, wait_timeout=5)
            clients.append(sio)
        assert all(c.connected for c in clients)
        worker = worker_of(master)
        assert len(os.listdir(f"/proc/{worker}/task")) < 12, "the server holds a thread per open connection"
        started = time.monotonic()
        with urllib.request.urlopen(url + "/auth/login", timeout=5) as resp:
            assert resp.status == 200
        assert time.monotonic() - started < 2.0, "a page took seconds to answer while chats were open"

        # The server keeps an idle connection open longer than its clients do (KEEPALIVE_SECONDS):
        # gunicorn's default closed it after 2 s, and a request sent on it at that moment (a browser
        # or nginx reusing it) was answered with a connection reset.
        time.sleep(max(0.0, IDLE_SECONDS - (time.monotonic() - idle_since)))
        sock = kept.sock
        assert not select.select([sock], [], [], 0)[0], "the server closed an idle keep-alive connection"
        kept.request("POST", "/auth/login", body=b"contact=x", headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        answer = kept.getresponse()
        answer.read()
        assert answer.status == 400 and kept.sock is sock  # answered (no CSRF token) on the same connection
    finally:
        kept.close()
        for c in clients:
            c.disconnect()


def test_the_proxy_closes_idle_upstream_connections_before_the_server_does():
    """nginx reuses its idle connections to the platform for ``keepalive_timeout`` (deploy/nginx/odr.conf):
    the server must keep them open longer, or a POST nginx sends on one as the server closes it is a 502."""
    conf = (Path(__file__).parent.parent / "deploy" / "nginx" / "odr.conf").read_text()
    upstream = re.search(r"upstream odr \{(.*?)\}", conf, re.S).group(1)
    proxy_idle = int(re.search(r"^\s*keepalive_timeout (\d+)s;", upstream, re.M).group(1))
    assert proxy_idle + 30 <= KEEPALIVE_SECONDS
    assert KEEPALIVE_SECONDS > 300  # Chromium reuses an idle connection for up to 300 s, Firefox 115 s


def test_the_served_processes_freeze_their_start_and_collect_young_objects_less_often():
    """run_gunicorn calls freeze_heap() in the master before it forks (its workers inherit both)."""
    check = ("import gc; from odr.serve import GC_THRESHOLDS, freeze_heap; import odr; odr.create_app; "
             "before = gc.get_threshold(); freeze_heap(); "
             "print(before, gc.get_threshold() == GC_THRESHOLDS, gc.get_freeze_count() > 10000)")
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["(700,", "10,", "10)", "True", "True"], out.stdout + out.stderr
