"""The command dashboard's daily summary of dispatches stays equal to a recount of the dispatches
after every kind of change — a seeded random sequence of transfers arriving (to a grid, or to none),
sent to another worker, accepted, the party reached, on the scene, referred, settled on site by an
agreement both parties sign, and the clock moving across days — and the period figures read from it
equal those counted over the dispatches themselves, for whole days and for periods with odd hours
at their ends. The migration's filling is checked the same way."""

from __future__ import annotations

import os
import random
import statistics
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from odr.extensions import db
from odr.field import dashboard, summary
from odr.field import operations as ops
from odr.field.models import Dispatch, DispatchStatus
from odr.field.summary import DispatchDay
from tests import conftest
from tests.field.conftest import transfer
from tests.field.test_onsite import _agreement, _draw_up, _sign


def recounted() -> Counter:
    """{(dimension, day, organisation, key, measure, value): n} counted here from the dispatches."""
    counts = Counter()
    for d in db.session.scalars(sa.select(Dispatch)):
        measures = [("dispatches", 0)]
        if d.status in (DispatchStatus.resolved, DispatchStatus.referred):
            measures.append((d.status.value, 0))
        for step, at in (("accept", d.accepted_at), ("contact", d.contacted_at), ("on_scene", d.on_scene_at)):
            if at is not None:
                measures.append((step, summary.bucket(ops.seconds_between(d.received_at, at))))
        for dimension, key in (("grid", d.grid_id), ("worker", d.worker_id), ("sender", d.api_client_id)):
            for measure, value in measures:
                counts[(dimension, d.received_at.date(), d.organization_id, key or 0, measure, value)] += 1
    return counts


def kept() -> Counter:
    rows = db.session.scalars(sa.select(DispatchDay)).all()
    assert all(r.n >= 0 for r in rows), rows
    return Counter({(r.dimension, r.day, r.organization_id, r.key_id, r.measure, r.value): r.n for r in rows if r.n})


def direct_period_by(dimension, organizations, start, end) -> list[list]:
    """The period's figures counted over its dispatches one by one (as the dashboard did before it had
    the summary); the seconds at the summary's precision (``summary.bucket``: the seconds themselves
    under an hour)."""
    goal = ops.targets()
    column = {"grid": "grid_id", "worker": "worker_id", "sender": "api_client_id"}[dimension]
    groups = defaultdict(lambda: {"n": 0, "accept": [], "contact": [], "on_scene": [], "resolved": 0, "referred": 0})
    for d in db.session.scalars(sa.select(Dispatch)):
        if not start <= d.received_at < end or (organizations is not None and d.organization_id not in organizations):
            continue
        g = groups[getattr(d, column)]
        g["n"] += 1
        for name, at in (("accept", d.accepted_at), ("contact", d.contacted_at), ("on_scene", d.on_scene_at)):
            if at is not None:
                g[name].append(summary.bucket(ops.seconds_between(d.received_at, at)))
        g["resolved"] += d.status is DispatchStatus.resolved
        g["referred"] += d.status is DispatchStatus.referred
    names = dashboard._names(dimension, {k: g for k, g in groups.items() if k is not None})
    out = []
    for key, g in groups.items():
        within = [f"{sum(s <= goal[n] for s in g[n])} / {g['n']}" for n in ("accept", "contact", "on_scene")]
        medians = [f"{statistics.median(g[n]):g}" if g[n] else "—" for n in ("accept", "contact", "on_scene")]
        closed = g["resolved"] + g["referred"]
        rate = f"{g['resolved'] / closed * 100:.0f}%" if closed else "—"
        out.append([names.get(key, "—"), g["n"], *within, *medians, g["resolved"], g["referred"], rate])
    return sorted(out, key=lambda r: str(r[0]))


def check(field_world, first_day, now):
    db.session.expire_all()
    assert kept() == recounted()
    midnight = datetime.combine(first_day, time())
    periods = [(midnight, datetime.combine(now.date() + timedelta(days=1), time())),  # whole days only
               (midnight + timedelta(hours=3, minutes=17), now + timedelta(seconds=1)),  # odd hours at both ends
               (now - timedelta(hours=5), now + timedelta(hours=1))]  # within a day or two
    for start, end in periods:
        for dimension in ("grid", "worker", "sender"):
            for organizations in (None, {field_world.center.id}):
                assert dashboard.period_by(dimension, organizations, start, end) == \
                    direct_period_by(dimension, organizations, start, end), (dimension, start, end)


def test_the_summary_equals_a_recount_after_every_kind_of_change(client, login, field_world, clock):
    rng = random.Random(7)
    first_day = clock.now.date()
    workers = (field_world.worker, field_world.second_worker)
    arrived = 0

    def dispatches(*statuses):
        return list(db.session.scalars(sa.select(Dispatch).where(Dispatch.status.in_(statuses)).order_by(Dispatch.id)))

    def arrive():
        nonlocal arrived
        arrived += 1
        place = "Nowhere" if rng.random() < 0.2 else "望京西园三区 5号楼"
        assert transfer(client, field_world.token, reference=f"S-{arrived}", place=place).status_code == 201

    def send_elsewhere():
        waiting = dispatches(DispatchStatus.waiting, DispatchStatus.dispatched)
        if waiting:
            dispatch = rng.choice(waiting)
            worker = next(w for w in workers if w.id != dispatch.worker_id)
            ops.assign(dispatch, worker, field_world.staff)

    def take_step():
        going = dispatches(DispatchStatus.dispatched, DispatchStatus.accepted, DispatchStatus.contacted)
        if going:
            dispatch = rng.choice(going)
            clock.advance(seconds=rng.randint(0, 400))
            to = {DispatchStatus.dispatched: DispatchStatus.accepted, DispatchStatus.accepted: DispatchStatus.contacted,
                  DispatchStatus.contacted: DispatchStatus.on_scene}[dispatch.status]
            ops.step(dispatch, dispatch.worker, to, how="call")

    def refer():  # the even ones; the odd ones may be settled
        on_scene = [d for d in dispatches(DispatchStatus.on_scene) if d.id % 2 == 0]
        if on_scene:
            dispatch = rng.choice(on_scene)
            ops.refer(dispatch, dispatch.worker, "Both parties", "They would not agree.")

    def settle_on_site():
        on_scene = [d for d in dispatches(DispatchStatus.on_scene) if d.id % 2]
        if on_scene and not settled:
            dispatch = on_scene[0]
            login(client, dispatch.worker)
            assert _draw_up(client, dispatch).status_code == 303
            document = _agreement(dispatch)
            assert _sign(client, dispatch, document, 0).status_code == 200
            assert _sign(client, dispatch, document, 1).get_json()["status"] == "complete"
            return True
        return False

    def time_passes():
        clock.advance(minutes=rng.randint(1, 600))

    done, settled = Counter(), 0
    steps = [arrive, arrive, send_elsewhere, take_step, take_step, take_step, refer, refer, settle_on_site, time_passes]
    for k in range(90):
        step = rng.choice(steps)
        if step() is True:
            settled += 1
        db.session.commit()
        done[step.__name__] += 1
        if k % 5 == 4:
            check(field_world, first_day, clock.now)
    check(field_world, first_day, clock.now)
    assert set(done) == {s.__name__ for s in steps}, done
    statuses = {d.status for d in db.session.scalars(sa.select(Dispatch))}
    assert {DispatchStatus.resolved, DispatchStatus.referred, DispatchStatus.waiting} <= statuses, statuses
    assert len({day for (_dim, day, *_rest) in kept()}) > 1  # the clock crossed days
    # Someone's dispatch went to another worker after it had been counted for the first.
    assert any(e == "field_dispatched" for e in _actions()) and done["send_elsewhere"]

    # A recount (after a bulk load) gives the same rows.
    before = kept()
    summary.recount()
    db.session.commit()
    assert kept() == before


def _actions():
    from odr.cases.models import Event

    return list(db.session.scalars(sa.select(Event.action)))


def test_medians_and_targets_from_the_histograms():
    """Exact to the second under an hour (a median between two seconds is their mean), to the minute
    up to a day; the share within a target counts the seconds at or under it."""
    assert [summary.bucket(s) for s in (0, 59, 3599, 3600, 3659, 86399, 86400, 90061)] == \
        [0, 59, 3599, 3600, 3600, 86340, 86400, 90000]
    assert dashboard._median(Counter({50: 1})) == "50"
    assert dashboard._median(Counter({50: 1, 61: 1})) == "55.5"
    assert dashboard._median(Counter({10: 2, 20: 1, 400: 1})) == f"{statistics.median([10, 10, 20, 400]):g}" == "15"
    assert dashboard._median(Counter({7: 3, 9: 1})) == "7"
    assert dashboard._median(Counter()) == "—"


@pytest.fixture
def own_database(tmp_path, worker_id):
    """An app on a database of this test's own, at the newest migration."""
    from tests.test_migrations import _migrate

    url = os.environ.get("ODR_TEST_DATABASE_URL")
    url = conftest.ensure_postgres_database(url, f"{worker_id}_field_days") if url else \
        f"sqlite:///{tmp_path / 'field_days.sqlite'}"
    app = conftest.new_app(conftest.test_config(url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        _migrate(app, "head")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_migration_fills_the_summary_from_the_existing_dispatches(own_database, app, make_org, make_user, clock):
    """Dispatches made before the summary existed are counted by the migration."""
    from odr.auth.models import Role
    from odr.cases import operations as case_ops
    from tests.test_migrations import _migrate

    with own_database.app_context():
        center = make_org(takes_intake=True, name="Center")
        staff = make_user(Role.staff, center)
        grid = ops.create_grid(center, "Grid", ["望京西园三区"], [], staff)
        worker = make_user(name="Worker", contact="+8613700137009")
        ops.add_worker(grid, worker, staff)
        ops.set_duty(worker, True)
        _client, token = case_ops.issue_api_token("sender", center)
        db.session.commit()
        client = own_database.test_client()
        for k in range(4):
            assert transfer(client, token, reference=f"M-{k}", place="望京西园三区" if k else "Nowhere").status_code == 201
            dispatch = db.session.scalar(sa.select(Dispatch).order_by(Dispatch.id.desc()))
            for to in (DispatchStatus.accepted, DispatchStatus.contacted, DispatchStatus.on_scene)[:k]:
                clock.advance(seconds=40 + 3000 * (k == 3))
                ops.step(dispatch, worker, to, how="call")
            if k == 3:
                ops.refer(dispatch, worker, "Both", "No agreement.")
            clock.advance(hours=9)
            db.session.commit()
        expected = recounted()
        assert expected == kept() and any(key[4] == "referred" for key in expected)
        _migrate(own_database, "c5e8f2a4d7b6", down=True)
        _migrate(own_database, "head")
        assert kept() == expected
