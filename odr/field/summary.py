"""The command dashboard's period figures kept per day: what :mod:`odr.field.dashboard` reads.

Each dispatch counts on the day it was received (UTC), for its organisation, in three dimensions
(its grid, its worker, its sender): once as a dispatch, once more if resolved on site or referred,
and for each step it took (accept, reach the party, on the scene) once in the histogram of the
seconds that step took (:func:`bucket`: whole seconds up to an hour, whole minutes up to a day,
whole hours beyond). A period's share within each target and its median times are read from
these histograms, so they are exact — the same as over the dispatches themselves — wherever the
middle values and the targets are under an hour; beyond, to the minute (to the hour past a day).

Every step that changes what a dispatch counts in (its arrival, sending it to a worker, each step,
the referral, the on-site agreement sealed) calls :func:`move` with what the dispatch counted in
before it (:func:`counted`, read under the dispatch's row lock) in its own transaction, so the
rows are always those of the committed dispatches. :func:`recount` counts every dispatch afresh
(after a bulk load that bypassed the steps).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from odr import counters
from odr.extensions import db
from odr.field.models import Dispatch

#: The dimensions the dashboard breaks the figures down by, and the dispatch column of each.
DIMENSIONS = {"grid": "grid_id", "worker": "worker_id", "sender": "api_client_id"}
#: The steps timed from the dispatch's arrival, and the column of each.
STEPS = {"accept": "accepted_at", "contact": "contacted_at", "on_scene": "on_scene_at"}
#: ``DispatchDay.key_id`` of the dispatches with no grid, worker or sender.
NONE = 0
#: ``DispatchDay.measure`` of the dispatch count and of the outcomes (``value`` 0).
DISPATCHES, RESOLVED, REFERRED = "dispatches", "resolved", "referred"
KEYS = ("dimension", "day", "organization_id", "key_id", "measure", "value")


class DispatchDay(db.Model):
    """Dispatches received on one day by one organisation, per grid, worker or sender: their count,
    how many were resolved on site and referred (``value`` 0), and for each step a histogram of the
    seconds it took (``measure`` the step, ``value`` the bucket's lower bound, ``n`` how many)."""

    __tablename__ = "field_dispatch_day"

    #: ``grid``, ``worker`` or ``sender``.
    dimension: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The grid's, worker's or sender's id (``NONE``: none).
    key_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    measure: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    value: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        # A period's rows of one dimension, from the index alone.
        sa.Index("ix_field_dispatch_day_read", "dimension", "day", "organization_id", "key_id", "measure", "value",
                 "n"),
    )

    def __repr__(self):
        return f"<DispatchDay {self.dimension} {self.day} {self.key_id} {self.measure} {self.value}: {self.n}>"


def bucket(seconds: int) -> int:
    """The histogram bucket (its lower bound in seconds) of a step that took ``seconds``."""
    if seconds < 3600:
        return seconds
    if seconds < 86400:
        return seconds // 60 * 60
    return seconds // 3600 * 3600


def _seconds(start: datetime, end: datetime) -> int:
    # As ``odr.field.operations.seconds_between`` (the times the audit trail and the sender see).
    return max(0, round((end - start).total_seconds()))


def counted_row(row) -> Counter:
    """What a dispatch (or a row with its columns) counts in: {``KEYS`` tuple: 1}."""
    out: Counter = Counter()
    day, org = row.received_at.date(), row.organization_id
    status = getattr(row.status, "value", row.status)
    measures = [(DISPATCHES, 0)]
    if status in (RESOLVED, REFERRED):
        measures.append((status, 0))
    for step, column in STEPS.items():
        at = getattr(row, column)
        if at is not None:
            measures.append((step, bucket(_seconds(row.received_at, at))))
    for dimension, column in DIMENSIONS.items():
        key = getattr(row, column) or NONE
        for measure, value in measures:
            out[(dimension, day, org, key, measure, value)] += 1
    return out


def counted(dispatch: Dispatch | None) -> Counter:
    """What ``dispatch`` counts in now (``None``: nothing)."""
    return Counter() if dispatch is None else counted_row(dispatch)


def move(before: Counter, after: Counter) -> None:
    """Count a dispatch out of ``before`` and into ``after``: the difference added to the rows, in
    key order (two transactions moving the same rows lock them in the same order)."""
    deltas = Counter(after)
    deltas.subtract(before)
    _add(deltas)


def _add(deltas: Counter) -> None:
    rows = [dict(zip(KEYS, key), n=n) for key, n in sorted(deltas.items()) if n]
    counters.add(DispatchDay, rows, KEYS, ["n"])


def recount() -> None:
    """Count every dispatch afresh (after a bulk load that bypassed the steps)."""
    db.session.execute(sa.delete(DispatchDay))
    d = Dispatch
    totals: Counter = Counter()
    last = 0
    while True:
        rows = db.session.execute(
            sa.select(d.id, d.received_at, d.organization_id, d.status, d.grid_id, d.worker_id, d.api_client_id,
                      d.accepted_at, d.contacted_at, d.on_scene_at).where(d.id > last).order_by(d.id).limit(20000)
        ).all()
        if not rows:
            break
        for row in rows:
            totals.update(counted_row(row))
        last = rows[-1].id
    _add(totals)
    db.session.flush()


def read(dimension: str, organizations, first: date, last: date) -> list[tuple]:
    """The rows of ``dimension`` for the days ``first``..``last`` (organisations ``None``: all):
    (key id, measure, value, n), summed over the days and organisations."""
    d = DispatchDay.__table__.c
    where = [d.dimension == dimension, d.day.between(first, last)]
    if organizations is not None:
        where.append(d.organization_id.in_(sorted(organizations) or [-1]))
    # Core, on the session's connection: thousands of plain rows, without the ORM's per-row work.
    return db.session.connection().execute(
        sa.select(d.key_id, d.measure, d.value, sa.func.sum(d.n)).where(*where)
        .group_by(d.key_id, d.measure, d.value)).all()

