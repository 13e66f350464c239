"""Summary tables the dashboard reads, early-warning signals per case, transfer response times.

The summaries are maintained from the audit trail by :mod:`odr.ops.summary` (a periodic job that
reads the events appended since its last run), so a dashboard query reads a few hundred summary
rows whatever the size of the case and event tables. ``organization_id`` 0 stands for "not routed
to any organisation" (a key column cannot be NULL).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.cases.models import Case
from odr.extensions import db

NO_ORG = 0
#: Lower bounds (in whole days) of the stage-duration histogram: exact to four weeks, then weekly to
#: thirteen weeks, then coarser.
DAY_BUCKETS = tuple(range(29)) + (35, 42, 49, 56, 63, 70, 77, 84, 91, 120, 150, 180, 270, 365)

# The summary tables' keys start with category and district: a query names both (a value, or
# ``ANY`` for its grain), so it reads one grain's rows for its days and nothing else.


class Watermark(db.Model):
    """How far a summary has read a source (the id of the last audit event it counted)."""

    __tablename__ = "ops_watermark"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class DailyFlow(db.Model):
    """Cases filed and closed per day, by the dimensions the dashboard filters on.

    Only as many keys as the charts need: a day has at most organisations × categories ×
    districts × (1 + stages × 2) rows, however many cases there are.
    """

    __tablename__ = "ops_daily_flow"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: The stage the case was filed in or ended in.
    stage: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: ``filed``; or, for a closed case, ``resolved`` (settled, award) or ``unresolved``.
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class StageDays(db.Model):
    """Cases that left a stage on ``day``, as a histogram of the days spent in it: column ``b<i>``
    counts stays of ``DAY_BUCKETS[i]`` days up to the next bucket. One row per day, organisation
    and stage (per grain), so a median over a period reads a few rows per day."""

    __tablename__ = "ops_stage_days"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    for _i in range(len(DAY_BUCKETS)):
        locals()[f"b{_i}"] = mapped_column(sa.Integer, default=0, nullable=False)
    del _i


class MediatorClosed(db.Model):
    """Cases a mediator handled that closed within a span of days, and how many of them settled.

    Each closure is counted in the span of every length (1, 2, 4 … 256 days, aligned on
    ``date.toordinal()``) that holds its day, so a period reads at most two spans of each length
    (``odr.dayspans.spans``): a handful of rows per mediator however long the period and however
    many cases closed in it. ``block`` is the span's first day as ``date.toordinal()``, times 16,
    plus log2 of its length in days.
    """

    __tablename__ = "ops_mediator_closed"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    mediator_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    closed: Mapped[int] = mapped_column(default=0)
    settled: Mapped[int] = mapped_column(default=0)


class OpenCount(db.Model):
    """Open cases now, by dimension (kept from ``OpenCase`` by the summary job)."""

    __tablename__ = "ops_open_count"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class MediatorLoad(db.Model):
    """Open cases per mediator now (kept from ``OpenCase`` by the summary job)."""

    __tablename__ = "ops_mediator_load"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    mediator_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)


class OpenCase(db.Model):
    """Where an open case is counted in ``OpenCount`` and ``MediatorLoad``: the summary job compares
    it with the case row when the case has new events, and moves the counts by the difference, so a
    run costs the cases that changed, not the open ones."""

    __tablename__ = "ops_open_case"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    organization_id: Mapped[int] = mapped_column(autoincrement=False)
    stage: Mapped[str] = mapped_column(sa.String(32))
    category: Mapped[str] = mapped_column(sa.String(32))
    channel: Mapped[str] = mapped_column(sa.String(32))
    district: Mapped[str] = mapped_column(sa.String(64))
    mediator_id: Mapped[int | None] = mapped_column(autoincrement=False)


class CaseSignal(db.Model):
    """What the early-warning rules need beyond the case row; a row only for cases with a signal."""

    __tablename__ = "ops_case_signal"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    #: Parties recorded absent from held mediation sessions.
    no_shows: Mapped[int] = mapped_column(default=0)
    #: A party answered yes to the safety question of the assessment.
    safety_concern: Mapped[bool] = mapped_column(default=False)
    #: Times the case was sent on from one organisation to another.
    reroutes: Mapped[int] = mapped_column(default=0)

    case: Mapped[Case] = relationship()
