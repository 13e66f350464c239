"""Field dispatch on the center's dashboard (``odr.cases.figures``): the open dispatches by grid
against the 1-3-8 clock, and per period, by grid, worker and sender, the share within each target,
the median times, the disputes resolved on site and those referred.

The period's figures read the dispatches received in the period (index on arrival): their cost
grows with the period's dispatches — which exact medians need — not with the table.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from odr.auth.models import User
from odr.cases.figures import Figures
from odr.cases.models import ApiClient
from odr.extensions import db
from odr.field import operations as ops
from odr.field.models import OPEN_STATUSES, Dispatch, DispatchStatus, Grid
from odr.timeutil import utcnow

NAMES = ("field_open", "field_by_grid", "field_by_worker", "field_by_sender")


def _where(query, organizations):
    return query if organizations is None else query.where(Dispatch.organization_id.in_(organizations))


def open_by_grid(organizations, now: datetime | None = None) -> list[list]:
    """Per grid: open dispatches, waiting for a worker, and past each target now (counted by the
    database over the open dispatches only: index on ``closed_at``)."""
    now = now or utcnow()
    goal = ops.targets()

    def past(column, target):
        return sa.func.sum(sa.case((sa.and_(column.is_(None), Dispatch.received_at < now - timedelta(seconds=target)),
                                    1), else_=0))

    query = _where(sa.select(Dispatch.grid_id, sa.func.count(),
                             sa.func.sum(sa.case((Dispatch.status == DispatchStatus.waiting, 1), else_=0)),
                             past(Dispatch.accepted_at, goal["accept"]), past(Dispatch.contacted_at, goal["contact"]),
                             past(Dispatch.on_scene_at, goal["on_scene"]))
                   .where(Dispatch.closed_at.is_(None), Dispatch.status.in_(OPEN_STATUSES))
                   .group_by(Dispatch.grid_id), organizations)
    rows = {grid_id: [int(v or 0) for v in values] for grid_id, *values in db.session.execute(query)}
    names = _grid_names(rows)
    return sorted([[names.get(k, str(_l("No grid matched"))), *v] for k, v in rows.items()], key=lambda r: str(r[0]))


def _grid_names(keys) -> dict:
    ids = [k for k in keys if k is not None]
    return {i: n for i, n in db.session.execute(sa.select(Grid.id, Grid.name).where(Grid.id.in_(ids)))} if ids else {}


def period_by(dimension: str, organizations, start: datetime, end: datetime) -> list[list]:
    """Per grid, worker or sender: dispatches received in [start, end), the share within each
    target, median seconds to each step, resolved on site, referred, on-site resolution rate."""
    goal = ops.targets()
    column = {"grid": Dispatch.grid_id, "worker": Dispatch.worker_id, "sender": Dispatch.api_client_id}[dimension]
    query = _where(sa.select(column, Dispatch.status, Dispatch.received_at, Dispatch.accepted_at,
                             Dispatch.contacted_at, Dispatch.on_scene_at)
                   .where(Dispatch.received_at >= start, Dispatch.received_at < end), organizations)
    groups: dict = defaultdict(lambda: {"n": 0, "accept": [], "contact": [], "on_scene": [], "resolved": 0,
                                        "referred": 0})
    for key, status, received, *steps in db.session.execute(query):
        g = groups[key]
        g["n"] += 1
        for name, at in zip(("accept", "contact", "on_scene"), steps):
            if at is not None:
                g[name].append(ops.seconds_between(received, at))
        g["resolved"] += status is DispatchStatus.resolved
        g["referred"] += status is DispatchStatus.referred
    names = _names(dimension, groups)
    out = []
    for key, g in groups.items():
        within = [f"{sum(s <= goal[name] for s in g[name])} / {g['n']}" for name in ("accept", "contact", "on_scene")]
        medians = [f"{statistics.median(g[name]):g}" if g[name] else "—" for name in ("accept", "contact", "on_scene")]
        closed = g["resolved"] + g["referred"]
        rate = f"{g['resolved'] / closed * 100:.0f}%" if closed else "—"
        out.append([names.get(key, "—"), g["n"], *within, *medians, g["resolved"], g["referred"], rate])
    return sorted(out, key=lambda r: str(r[0]))


def _names(dimension, groups) -> dict:
    ids = [k for k in groups if k is not None]
    if not ids:
        return {}
    if dimension == "grid":
        return _grid_names(ids)
    model = User if dimension == "worker" else ApiClient
    return {i: n for i, n in db.session.execute(sa.select(model.id, model.name).where(model.id.in_(ids)))}


HEADERS = [_l("Dispatches"), _l("Accepted within 1 min"), _l("Party reached within 3 min"),
           _l("On the scene within 8 min"), _l("Median seconds to accept"), _l("Median seconds to reach the party"),
           _l("Median seconds to the scene"), _l("Resolved on site"), _l("Referred"), _l("On-site resolution rate")]


def provide(organizations, start: datetime, end: datetime, names: set[str] | None = None) -> list[Figures]:
    """``odr.cases.figures`` provider: the field tables asked for."""
    want = (lambda n: True) if names is None else (lambda n: n in names)
    out = []
    if want("field_open"):
        out.append(Figures("field_open", _l("Field dispatch now: open dispatches by grid"),
                           [_l("Grid"), _l("Open"), _l("Waiting for a worker"), _l("Past the acceptance target"),
                            _l("Past the contact target"), _l("Past the on-scene target")],
                           open_by_grid(organizations)))
    for dimension, title, first in (("grid", _l("Field dispatch by grid"), _l("Grid")),
                                    ("worker", _l("Field dispatch by worker"), _l("Worker")),
                                    ("sender", _l("Field dispatch by sender"), _l("Sender"))):
        name = f"field_by_{dimension}"
        if want(name):
            out.append(Figures(name, title, [first, *HEADERS], period_by(dimension, organizations, start, end)))
    return out
