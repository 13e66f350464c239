"""Field dispatch on the center's dashboard (``odr.cases.figures``): the open dispatches by grid
against the 1-3-8 clock, and per period, by grid, worker and sender, the share within each target,
the median times, the disputes resolved on site and those referred.

The period's figures read the whole days of the period from the daily summary of
:mod:`odr.field.summary` (counts and histograms of the seconds each step took) and only the odd
hours at its ends from the dispatches themselves: a period costs its days, not its dispatches.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from odr.auth.models import User
from odr.cases.figures import Figures
from odr.cases.models import ApiClient
from odr.extensions import db
from odr.field import operations as ops
from odr.field import summary
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


def _whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The first and last whole day (midnight to midnight, UTC) within [start, end); ``None``: none."""
    first = start.date() if start == datetime.combine(start.date(), time()) else start.date() + timedelta(days=1)
    last = end.date() - timedelta(days=1)
    return (first, last) if first <= last else None


def _group():
    return {"n": 0, "accept": Counter(), "contact": Counter(), "on_scene": Counter(), "resolved": 0, "referred": 0}


def _add_dispatches(groups, dimension, organizations, start: datetime, end: datetime) -> None:
    """Add the dispatches received in [start, end) to ``groups``, read one by one (the odd hours at
    the ends of a period; index on arrival)."""
    d = Dispatch.__table__.c
    query = sa.select(d.received_at, d.organization_id, d.status, d.grid_id, d.worker_id, d.api_client_id,
                      d.accepted_at, d.contacted_at, d.on_scene_at).where(d.received_at >= start, d.received_at < end)
    if organizations is not None:
        query = query.where(d.organization_id.in_(organizations))
    column = summary.DIMENSIONS[dimension]
    for row in db.session.connection().execute(query):
        g = groups[getattr(row, column) or summary.NONE]
        g["n"] += 1
        for name, at in summary.STEPS.items():
            if getattr(row, at) is not None:
                g[name][summary.bucket(ops.seconds_between(row.received_at, getattr(row, at)))] += 1
        g["resolved"] += row.status is DispatchStatus.resolved
        g["referred"] += row.status is DispatchStatus.referred


def _median(histogram: Counter) -> str:
    """The median of the seconds in ``histogram`` ({seconds: how many}), as ``statistics.median``
    gives it over the seconds themselves (the mean of the two middle ones for an even count)."""
    total = sum(histogram.values())
    if not total:
        return "—"
    middle, seen, low = ((total - 1) // 2, total // 2), 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > middle[0]:
            low = value
        if seen > middle[1]:
            return f"{value if low == value else (low + value) / 2:g}"
    return "—"  # not reached: the counts add up to ``total``


def period_by(dimension: str, organizations, start: datetime, end: datetime) -> list[list]:
    """Per grid, worker or sender: dispatches received in [start, end), the share within each
    target, median seconds to each step, resolved on site, referred, on-site resolution rate.

    The whole days of the period are read from the daily summary (``odr.field.summary``), the odd
    hours at its ends from the dispatches themselves."""
    goal = ops.targets()
    groups: dict = defaultdict(_group)
    days = _whole_days(start, end)
    if days is None:
        _add_dispatches(groups, dimension, organizations, start, end)
    else:
        first, last = days
        _add_dispatches(groups, dimension, organizations, start, datetime.combine(first, time()))
        _add_dispatches(groups, dimension, organizations, datetime.combine(last + timedelta(days=1), time()), end)
        for key, measure, value, n in summary.read(dimension, organizations, first, last):
            g = groups[key]
            if measure == summary.DISPATCHES:
                g["n"] += int(n)
            elif measure in (summary.RESOLVED, summary.REFERRED):
                g[measure] += int(n)
            else:
                g[measure][value] += int(n)
    names = _names(dimension, groups)
    out = []
    for key, g in groups.items():
        if not g["n"]:
            continue  # every dispatch it had went to another worker
        within = [f"{sum(n for s, n in g[name].items() if s <= goal[name])} / {g['n']}"
                  for name in ("accept", "contact", "on_scene")]
        medians = [_median(g[name]) for name in ("accept", "contact", "on_scene")]
        closed = g["resolved"] + g["referred"]
        rate = f"{g['resolved'] / closed * 100:.0f}%" if closed else "—"
        out.append([names.get(key, "—"), g["n"], *within, *medians, g["resolved"], g["referred"], rate])
    return sorted(out, key=lambda r: str(r[0]))


def _names(dimension, groups) -> dict:
    ids = [k for k in groups if k]
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
