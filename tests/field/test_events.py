"""Socket.IO ``/field`` against the live server with real python-socketio clients: a transfer
reaches the phone of the worker it is dispatched to and the command room of its organisation,
and nobody else's, and so does its escalation when the acceptance target passes unanswered —
also from a process that serves no pages, through the live relay; signed-out connections are refused."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import requests
import socketio
import sqlalchemy as sa

from odr import create_app, jobs, realtime, relay

from odr.auth import operations as auth_ops
from odr.auth.models import Role, User
from odr.cases import operations as case_ops
from odr.cases.models import Organization, OrgType
from odr.extensions import db
from odr.field import operations as ops
from odr.field.models import Dispatch
from odr.relay import LiveEvent
from odr.timeutil import utcnow
from tests import conftest
from tests.conftest import PASSWORD
from tests.field.conftest import TRANSFER
from tests.listener import Listener as SocketListener


def Listener(server, user_id=None):  # noqa: N802 - the /field page's connection, hearing dispatches
    return SocketListener(server, "/field", "dispatch", user_id)


def _org(name):
    org = Organization(name=name, type=OrgType.peoples_mediation, district="朝阳区", takes_intake=True)
    db.session.add(org)
    db.session.flush()
    return org


def _world(server) -> tuple[dict, str]:
    """Two centers with a grid each, their command rooms and workers; the users' ids and the API token."""
    with server.app.app_context():
        center, elsewhere = _org("Center"), _org("Elsewhere")
        staff = auth_ops.create_user("staff@example.com", "Staff", PASSWORD)
        case_ops.grant_role(staff, Role.staff, center)
        other_staff = auth_ops.create_user("other@example.com", "Other staff", PASSWORD)
        case_ops.grant_role(other_staff, Role.staff, elsewhere)
        worker = auth_ops.create_user("+8613700137001", "Worker Wu", PASSWORD)
        colleague = auth_ops.create_user("+8613700137002", "Worker Sun", PASSWORD)
        far = auth_ops.create_user("+8613700137003", "Worker Far", PASSWORD)
        grid = ops.create_grid(center, "Wangjing West", ["望京西园三区"], [], staff)
        other_grid = ops.create_grid(elsewhere, "Far", ["远处"], [], other_staff)
        ops.add_worker(grid, worker, staff)
        ops.add_worker(grid, colleague, staff)
        ops.add_worker(other_grid, far, other_staff)
        ops.set_duty(worker, True)
        ops.set_duty(far, True)
        _client, token = case_ops.issue_api_token("police-110", center)
        db.session.commit()
        ids = {name: u.id for name, u in (("staff", staff), ("other_staff", other_staff), ("worker", worker),
                                          ("colleague", colleague), ("far", far))}
        db.session.remove()
    return ids, token


def test_a_new_dispatch_reaches_its_worker_and_command_room_only(server):
    ids, token = _world(server)
    listeners = {name: Listener(server, uid) for name, uid in ids.items()}
    try:
        resp = requests.post(f"{server.url}/api/v1/intake", json=TRANSFER, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 201, resp.text
        number = resp.json()["case_number"]
        got = {name: listener.got(0.2 if name != "staff" else 1.5) for name, listener in listeners.items()}
        assert [(d["case"], d["new"], d["status"]) for d in got["worker"]] == [(number, True, "dispatched")]
        assert [d["case"] for d in got["staff"]] == [number]
        assert got["colleague"] == got["far"] == got["other_staff"] == []
    finally:
        for listener in listeners.values():
            listener.close()


def test_an_escalation_reaches_the_command_room_and_the_workers_phone_live(server):
    """The periodic job, run for a moment past the acceptance target, raises the dispatch; the
    command room and the worker hear it at once (once), nobody else does."""
    ids, token = _world(server)
    listeners = {name: Listener(server, uid) for name, uid in ids.items()}
    try:
        resp = requests.post(f"{server.url}/api/v1/intake", json=TRANSFER, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 201, resp.text
        number = resp.json()["case_number"]
        for listener in listeners.values():
            listener.got(0.5 if listener is listeners["staff"] else 0)  # the arrival itself
        with server.app.app_context():
            dispatch = db.session.scalar(sa.select(Dispatch))
            received = dispatch.received_at
            db.session.remove()
            assert jobs.run_all(received + timedelta(seconds=59))["escalate_unanswered"] == 0
            assert listeners["staff"].got(0.5) == []
            assert jobs.run_all(received + timedelta(seconds=61))["escalate_unanswered"] == 1
            db.session.remove()
        got = {name: listener.got(1.0 if name == "staff" else 0.2) for name, listener in listeners.items()}
        for name in ("staff", "worker"):
            assert [(d["case"], d["escalated_now"], d["escalated"], d["status"]) for d in got[name]] == [
                (number, True, True, "dispatched")], name
        assert got["colleague"] == got["far"] == got["other_staff"] == []
        with server.app.app_context():
            assert jobs.run_all(received + timedelta(seconds=120))["escalate_unanswered"] == 0  # raised once
            db.session.remove()
        assert listeners["staff"].got(0.5) == []
    finally:
        for listener in listeners.values():
            listener.close()


def test_signed_out_connections_are_refused(server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(server)


def test_the_jobs_process_escalation_goes_through_the_relay_with_its_work(server, database_url):
    """Where the jobs run in a process that serves no pages (``odr jobs``, ``odr tick``: no Socket.IO
    server), the escalation's events are stored in the live relay in the job's own transaction — a
    job rolled back leaves none — and wait there, whenever the server reads them (a restart): the
    serving app's relay sends them to the command room and the worker, once, and deletes them; one
    past its age is dropped unsent."""
    ids, token = _world(server)
    listeners = {name: Listener(server, uid) for name, uid in ids.items()}
    jobs_app = create_app(conftest.test_config(database_url), sockets=False)  # as `odr jobs` makes it

    def failing(now):  # tells the pages, then its work is refused by the database at the commit
        jobs.tell(partial(realtime.emit, "dispatch", {"probe": True}, to="field-command", namespace="/field"))
        db.session.add(User(email="staff@example.com", name="Twice"))  # already someone's
        return 1

    stop = None
    try:
        resp = requests.post(f"{server.url}/api/v1/intake", json=TRANSFER, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 201, resp.text
        number = resp.json()["case_number"]
        for listener in listeners.values():
            listener.got(0.5 if listener is listeners["staff"] else 0)  # the arrival itself
        with jobs_app.app_context():
            received, center = db.session.execute(sa.select(Dispatch.received_at, Dispatch.organization_id)).one()
            jobs.register(failing)
            try:
                summary = jobs.run_all(received + timedelta(seconds=61))
            finally:
                jobs.JOBS.remove(failing)
            assert summary["failing"] == "failed" and summary["escalate_unanswered"] == 1
            rows = db.session.execute(sa.select(LiveEvent.namespace, LiveEvent.event, LiveEvent.room,
                                                LiveEvent.data).order_by(LiveEvent.id)).all()
            # The escalation's, in its committed transaction; nothing of the failed job.
            assert sorted(r.room for r in rows) == sorted(
                ["field-command", f"field-command-{center}", f"field-worker-{ids['worker']}"])
            assert {(r.namespace, r.event, r.data["case"], r.data["escalated_now"]) for r in rows} == {
                ("/field", "dispatch", number, True)}
            # Waiting a while (here: for a last one long past its age) until a server reads them.
            db.session.add(LiveEvent(namespace="/field", event="dispatch", room="field-command", data={"old": True},
                                     created_at=utcnow() - timedelta(hours=1)))
            db.session.commit()
            db.session.remove()
        assert listeners["staff"].got(0.3) == []  # nobody has sent them yet

        stop = relay.start(server.app)  # what each served worker runs
        got = {name: listener.got(1.5 if name == "staff" else 0.2) for name, listener in listeners.items()}
        for name in ("staff", "worker"):
            assert [(d["case"], d["escalated_now"], d["status"]) for d in got[name]] == [
                (number, True, "dispatched")], name
        assert got["colleague"] == got["far"] == got["other_staff"] == []
        with server.app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveEvent)) == 0
            db.session.remove()
        assert listeners["staff"].got(0.7) == []  # sent once
    finally:
        if stop is not None:
            stop.set()
        for listener in listeners.values():
            listener.close()
        with jobs_app.app_context():
            db.engine.dispose()
