"""The real ``odr run`` in its embedded default (no Redis): the periodic jobs run in a process of their
own, which serves no pages, yet the command room hears live that a dispatch went unanswered past the
acceptance target — the jobs process writes the event to the live relay with the escalation, and
the gunicorn worker sends it to the command room's connection (``odr.relay``).

On the suite's database kind: a SQLite file of its own, or a PostgreSQL database of its own when
``ODR_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
import queue
import time

import pytest
import requests
import socketio

from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.cases.models import Organization, OrgType
from odr.extensions import db
from odr.field import operations as field_ops
from tests.conftest import ensure_postgres_database, sign_in_cookie
from tests.field.conftest import TRANSFER
from tests.served import odr_run, prepared


@pytest.fixture
def served(tmp_path, worker_id):
    """``odr run`` with the jobs every second and a 1-second acceptance target, on a fresh database
    holding a center with a grid, its on-duty worker and its command room; the command room's
    session cookie and the sending system's token."""
    url = os.environ.get("ODR_TEST_DATABASE_URL")
    url = ensure_postgres_database(url, f"{worker_id}_served_relay") if url else f"sqlite:///{tmp_path / 'odr.sqlite'}"
    env = dict(os.environ, ODR_INSTANCE_PATH=str(tmp_path), ODR_SECRET_KEY="served-relay", ODR_DATABASE_URL=url,
               ODR_JOBS_INTERVAL_SECONDS="1", ODR_FIELD_ACCEPT_SECONDS="1")
    env.pop("ODR_TEST_DATABASE_URL", None)

    def command_room(app):
        center = Organization(name="Center", type=OrgType.peoples_mediation, district="朝阳区", takes_intake=True)
        db.session.add(center)
        db.session.flush()
        staff = auth_ops.create_user("staff@example.com", "Staff")
        case_ops.grant_role(staff, Role.staff, center)
        worker = auth_ops.create_user("+8613700137001", "Worker Wu")
        grid = field_ops.create_grid(center, "Wangjing West", ["望京西园三区"], [], staff)
        field_ops.add_worker(grid, worker, staff)
        field_ops.set_duty(worker, True)
        _client, token = case_ops.issue_api_token("police-110", center)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            sign_in_cookie(session, staff)
        return client.get_cookie("session").value, token

    cookie, token = prepared({"SECRET_KEY": "served-relay", "DATABASE_URL": url}, command_room)
    log = tmp_path / "served.log"
    with odr_run(env, "--no-media-bridge", log=log) as (server, _process):
        yield server, cookie, token, log


def test_the_jobs_process_escalation_reaches_the_command_room_live(served):
    server, cookie, token, log = served
    heard: queue.Queue = queue.Queue()
    command_room = socketio.Client(reconnection=False)
    command_room.on("dispatch", heard.put, namespace="/field")
    command_room.connect(server, namespaces=["/field"], transports=["websocket"],
                         headers={"Cookie": f"session={cookie}"}, wait_timeout=10)
    try:
        resp = requests.post(f"{server}/api/v1/intake", json=TRANSFER, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 201, resp.text
        number = resp.json()["case_number"]
        events, deadline = [], time.monotonic() + 15
        while time.monotonic() < deadline and not any(e["escalated_now"] for e in events):
            try:
                events.append(heard.get(timeout=0.5))
            except queue.Empty:
                pass
        tail = log.read_text(errors="replace")[-2000:]
        # The arrival, from the worker that took the request; the escalation, from the jobs process.
        assert [(e["case"], e["new"], e["escalated_now"]) for e in events] == [
            (number, True, False), (number, False, True)], tail
        assert events[-1]["escalated"] and events[-1]["status"] == "dispatched"
    finally:
        command_room.disconnect()
