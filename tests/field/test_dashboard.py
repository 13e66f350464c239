"""Field dispatch on the center's dashboard: open dispatches by grid against the 1-3-8 clock, and
per period the share within each target, medians, resolved and referred, by grid, worker and sender."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from odr.extensions import db
from odr.field import dashboard
from odr.field import operations as ops
from odr.field.models import Dispatch, DispatchStatus
from tests.field.conftest import transfer


def _walk(client, login, field_world, clock, reference, seconds):
    """A transfer whose worker takes the steps after ``seconds`` (accept, contact, on scene) each."""
    transfer(client, field_world.token, reference=reference)
    dispatch = db.session.scalar(sa.select(Dispatch).order_by(Dispatch.id.desc()))
    login(client, field_world.worker)
    start = clock.now
    for (url, data), s in zip((("accept", None), ("contact", {"how": "call"}), ("scene", {})), seconds):
        clock.now = start + timedelta(seconds=s)
        assert client.post(f"/field/d/{dispatch.id}/{url}", data=data).status_code == 303
    return dispatch


def test_period_figures_by_grid_worker_and_sender(client, login, field_world, clock):
    _walk(client, login, field_world, clock, "A", (30, 120, 400))   # all in time
    _walk(client, login, field_world, clock, "B", (90, 200, 600))   # all late
    _walk(client, login, field_world, clock, "C", (50,))            # accepted only
    transfer(client, field_world.token, reference="D", place="Nowhere")  # no grid: waiting
    db.session.commit()

    start, end = clock.now.replace(hour=0, minute=0), clock.now.replace(hour=23, minute=59)
    by_grid = dashboard.period_by("grid", {field_world.center.id}, start, end)
    assert by_grid == [
        ["Wangjing West", 3, "2 / 3", "1 / 3", "1 / 3", "50", "160", "500", 0, 0, "—"],
        ["—", 1, "0 / 1", "0 / 1", "0 / 1", "—", "—", "—", 0, 0, "—"],
    ]
    by_worker = dashboard.period_by("worker", {field_world.center.id}, start, end)
    assert by_worker[0][:3] == ["Worker Wu", 3, "2 / 3"]
    by_sender = dashboard.period_by("sender", None, start, end)
    assert by_sender[0][:2] == ["police-110", 4]
    # Another organisation's dashboard sees none of it.
    assert dashboard.period_by("grid", {field_world.other_grid.organization_id}, start, end) == []

    # Now, the open ones against the clock: C waits for contact and scene, D for a worker.
    clock.advance(minutes=10)
    live = dashboard.open_by_grid({field_world.center.id}, clock.now)
    assert ["Wangjing West", 3, 0, 0, 1, 1] in live  # A and B are on the scene: open, nothing past
    assert [1, 1, 1, 1, 1] in [row[1:] for row in live if row[0] != "Wangjing West"]  # "no grid matched"


def test_tables_and_csv_on_the_ops_dashboard(client, login, field_world, clock):
    _walk(client, login, field_world, clock, "A", (30, 120, 400))
    db.session.commit()
    login(client, field_world.staff)
    day = clock.now.date().isoformat()
    page = client.get(f"/ops/?start={day}&end={day}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in dashboard.NAMES:
        assert f'id="figure-{name}"' in html
    resp = client.get(f"/ops/export/field_by_worker.csv?start={day}&end={day}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][:6] == ["Worker Wu", "1", "1 / 1", "1 / 1", "1 / 1", "30"]
    assert client.get(f"/ops/export/field_open.csv?start={day}&end={day}").status_code == 200

    # Staff of another organisation: their dashboard has the tables, empty.
    login(client, field_world.other_staff)
    other = client.get(f"/ops/export/field_by_worker.csv?start={day}&end={day}")
    assert list(csv.reader(io.StringIO(other.get_data(as_text=True).lstrip("\ufeff"))))[1:] == []


def test_resolved_and_referred_count_in_the_rate(field_world, make_case, clock):
    # The on-site outcomes (resolved, referred) are counted from the dispatch's status.
    case_a, case_b, case_c = make_case(), make_case(), make_case()
    for case, status in ((case_a, DispatchStatus.resolved), (case_b, DispatchStatus.resolved),
                         (case_c, DispatchStatus.referred)):
        db.session.add(Dispatch(case_id=case.id, grid_id=field_world.grid.id, worker_id=field_world.worker.id,
                                organization_id=field_world.center.id, status=status, received_at=clock.now,
                                closed_at=clock.now))
    db.session.commit()
    rows = dashboard.period_by("grid", None, clock.now.replace(hour=0), clock.now.replace(hour=23))
    assert rows == [["Wangjing West", 3, "0 / 3", "0 / 3", "0 / 3", "—", "—", "—", 2, 1, "67%"]]
    assert ops.command_room({field_world.center.id}) == []
