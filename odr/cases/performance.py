"""Performance of what a case ended with: the payment plan of a sealed agreement (or award) as a
schedule of items the parties follow until everything is confirmed.

The schedule belongs to the case file because several features share it: the feature whose
document is sealed creates it (:func:`create_schedule`, the direct negotiation today), the
performance pages (``odr.perform``) let the payer report an item done with a receipt and the payee
confirm or dispute it, and the dashboard counts schedules by their alert without knowing any feature.

An item is due on its date; one not confirmed by then turns its schedule **yellow**, and
``PERFORMANCE_RED_DAYS`` later **red** (:func:`alert_of`, kept up to date by the performance job
and after every step). The case is **performed** when every item is confirmed.

The dashboard's "late now" reads :class:`OpenScheduleCount`, the open schedules counted by
organisation, district, category and alert, which the three steps that can change what a schedule
counts in keep in step in their own transaction: :func:`create_schedule`, :func:`refresh` (the only
place an alert or the performed time changes) and :func:`follow_routing` (the case went to another
organisation).
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr import counters
from odr.auth.models import User, enum_column
from odr.cases import audit
from odr.cases.models import Case, Category
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: The audit actions of performance (registered by the ``odr.perform`` feature with its own).
ACTIONS = {
    "performance_schedule_created": _l("Performance schedule drawn up"),
    "case_performed": _l("Everything agreed has been done"),
}


#: Stands for "every district" / "every category" in the coarser grains of :class:`OpenScheduleCount`.
ANY = "*"
#: ``OpenScheduleCount.organization_id`` of the schedules of cases not routed to any organisation.
NO_ORG = 0


class ItemStatus(enum.Enum):
    #: Not yet reported done.
    pending = "pending"
    #: The payer reported it done (with a receipt); waiting for the payee.
    reported = "reported"
    confirmed = "confirmed"
    #: The payee says it was not done as reported; the payer may report it again.
    disputed = "disputed"


class Alert(enum.Enum):
    ok = "ok"
    yellow = "yellow"
    red = "red"


class PerformanceSchedule(db.Model):
    """What a case's sealed agreement or award obliges a side to do, item by item."""

    __tablename__ = "performance_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    #: Which document the plan comes from, e.g. ``negotiated_agreement:12`` (a signed document id).
    source: Mapped[str] = mapped_column(sa.String(64))
    #: ``claimant`` or ``respondent``: the side that pays or performs.
    payer_side: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Kept up to date by the performance job and every step (what the dashboard counts).
    alert: Mapped[Alert] = mapped_column(enum_column(Alert), default=Alert.ok)
    #: When the last item was confirmed.
    performed_at: Mapped[datetime | None]
    #: The last item's due date: from then on the schedule counts in the voluntary performance rate.
    last_due_on: Mapped[date] = mapped_column(sa.Date)
    #: When the entitled side's application for enforcement went to a court: performance after
    #: that is no longer voluntary.
    enforcement_requested_at: Mapped[datetime | None]
    #: The case's organisation, district and category (its value), copied when the schedule is made and
    #: kept with the case's routing (``odr.cases.operations.route_case``): the dashboard's scope,
    #: filters and breakdowns read them here, without joining a million cases.
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"))
    district: Mapped[str | None] = mapped_column(sa.String(64))
    category: Mapped[str | None] = mapped_column(sa.String(32))

    case: Mapped[Case] = relationship()
    items: Mapped[list[PerformanceItem]] = relationship(back_populates="schedule", order_by="PerformanceItem.position",
                                                        cascade="all, delete-orphan")

    __table_args__ = (
        # Dashboard counts of open schedules by alert, and the figures of those due in a period: both
        # answered from the index alone, scope and filters included.
        sa.Index("ix_performance_schedule_alert", "performed_at", "organization_id", "alert", "district", "category"),
        sa.Index("ix_performance_schedule_last_due", "last_due_on", "organization_id", "category", "district",
                 "performed_at", "enforcement_requested_at", "created_at"),
    )

    @property
    def payee_side(self) -> str:
        return "claimant" if self.payer_side == "respondent" else "respondent"

    def __repr__(self):
        return f"<PerformanceSchedule {self.id} case {self.case_id} {self.alert.value}>"


class PerformanceItem(db.Model):
    """One thing to do by a date: a sum of money, or another obligation described in words."""

    __tablename__ = "performance_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("performance_schedule.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    description: Mapped[str] = mapped_column(sa.Text)
    #: Yuan, for a payment; ``None`` for another obligation.
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus), default=ItemStatus.pending)
    #: The receipt the payer sent (stored by ``odr.uploads`` under its hash).
    receipt_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    receipt_mimetype: Mapped[str | None] = mapped_column(sa.String(64))
    receipt_filename: Mapped[str | None] = mapped_column(sa.String(120))
    reported_at: Mapped[datetime | None]
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: Why the payee disputes the report.
    dispute_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: When the payer was reminded of the coming due date.
    reminded_at: Mapped[datetime | None]

    schedule: Mapped[PerformanceSchedule] = relationship(back_populates="items")
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    __table_args__ = (
        # The reminder job reads unconfirmed items by due date.
        sa.Index("ix_performance_item_status_due", "status", "due_on"),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        sa.CheckConstraint("status = 'pending' OR reported_at IS NOT NULL", name="reported_has_time"),
    )

    def __repr__(self):
        return f"<PerformanceItem {self.id} {self.due_on} {self.status.value}>"


class OpenScheduleCount(db.Model):
    """Open schedules (not yet performed) now, by the case's organisation, district and category and
    by alert: a few rows per organisation however many schedules there are.

    Each open schedule counts four times, as the dashboard's other summaries do (``odr.ops.summary``):
    by district and category, by district only (category ``ANY``), by category only and by neither,
    so a query reads the one grain its filters name. Kept by :func:`_move_open`; a row whose schedules
    all moved on stays with ``n`` 0.
    """

    __tablename__ = "performance_open_count"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: ``NO_ORG`` (0): the case is not routed (a key column cannot be NULL).
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    alert: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)

    def __repr__(self):
        return f"<OpenScheduleCount {self.organization_id} {self.district} {self.category} {self.alert}: {self.n}>"


class DueDayCount(db.Model):
    """Schedules by the day their last item falls due (what the voluntary performance rate of a
    period counts), the case's organisation, district and category: how many, how many of them were
    performed voluntarily (before any application for enforcement), and the seconds those took from
    the schedule to the last confirmation (each rounded to the second), so a period's rate and mean
    days are sums over its days. In four grains, as :class:`OpenScheduleCount`; kept by
    :func:`_move_due` in the transaction of every step that changes what a schedule counts in."""

    __tablename__ = "performance_due_day"

    category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    #: ``NO_ORG`` (0): the case is not routed.
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    due: Mapped[int] = mapped_column(default=0)
    performed: Mapped[int] = mapped_column(default=0)
    performed_seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def __repr__(self):
        return f"<DueDayCount {self.day} {self.organization_id} {self.district} {self.category}: {self.due}>"


def _due_key(schedule) -> tuple | None:
    """What a schedule counts in :class:`DueDayCount`: (organisation, district, category, day,
    performed voluntarily, seconds it took)."""
    voluntary = schedule.performed_at is not None and schedule.enforcement_requested_at is None
    took = round((schedule.performed_at - schedule.created_at).total_seconds()) if voluntary else 0
    return (schedule.organization_id or NO_ORG, schedule.district or "", schedule.category or "",
            schedule.last_due_on, int(voluntary), took)


def _move_due(before: tuple | None, after: tuple | None) -> None:
    """Count a schedule out of ``before`` and into ``after`` (keys of :func:`_due_key`) in every grain,
    in key order."""
    if before == after:
        return
    deltas: dict = {}
    for key, sign in ((before, -1), (after, 1)):
        if key is None:
            continue
        org, district, category, day, voluntary, took = key
        for d, c in ((district, category), (district, ANY), (ANY, category), (ANY, ANY)):
            row = deltas.setdefault((c, d, day, org), [0, 0, 0])
            row[0] += sign
            row[1] += sign * voluntary
            row[2] += sign * took
    _add_due(deltas)


def _add_due(deltas: dict) -> None:
    rows = [dict(category=c, district=d, day=day, organization_id=o, due=n, performed=p, performed_seconds=t)
            for (c, d, day, o), (n, p, t) in sorted(deltas.items()) if n or p or t]
    counters.add(DueDayCount, rows, ["category", "district", "day", "organization_id"],
                 ["due", "performed", "performed_seconds"])


def recount_due() -> None:
    """Count every schedule by its due day afresh (after a bulk load that bypassed the steps)."""
    db.session.execute(sa.delete(DueDayCount))
    s = PerformanceSchedule
    deltas: dict = {}
    last = 0
    while True:
        rows = db.session.execute(
            sa.select(s.id, s.organization_id, s.district, s.category, s.last_due_on, s.performed_at,
                      s.enforcement_requested_at, s.created_at).where(s.id > last).order_by(s.id).limit(20000)).all()
        if not rows:
            break
        for row in rows:
            org, district, category, day, voluntary, took = _due_key(row)
            for d, c in ((district, category), (district, ANY), (ANY, category), (ANY, ANY)):
                counts = deltas.setdefault((c, d, day, org), [0, 0, 0])
                counts[0] += 1
                counts[1] += voluntary
                counts[2] += took
        last = rows[-1].id
    _add_due(deltas)
    db.session.flush()


def enforcement_requested(schedule: PerformanceSchedule, at: datetime | None = None) -> None:
    """The entitled side applied for enforcement: performance from now on is not voluntary (once)."""
    before = _locked_due_key(schedule)
    if schedule.enforcement_requested_at is None:
        schedule.enforcement_requested_at = at or utcnow()
        db.session.flush()
    _move_due(before, _due_key(schedule))


def _locked_due_key(schedule: PerformanceSchedule) -> tuple:
    db.session.refresh(schedule, ["organization_id", "district", "category", "last_due_on", "performed_at",
                                  "enforcement_requested_at", "created_at"], with_for_update=True)
    return _due_key(schedule)


def _open_key(schedule: PerformanceSchedule) -> tuple | None:
    """Where an open schedule counts in ``OpenScheduleCount`` (``None``: performed, counted nowhere)."""
    if schedule.performed_at is not None:
        return None
    return (schedule.organization_id or NO_ORG, schedule.district or "", schedule.category or "",
            schedule.alert.value)


def _move_open(before: tuple | None, after: tuple | None, moves: Counter | None = None) -> None:
    """Count a schedule out of ``before`` and into ``after`` (keys of :func:`_open_key`), in every
    grain: at once, or added to ``moves`` for :func:`apply_open_moves` (a job moving many)."""
    if before == after:
        return
    deltas = Counter() if moves is None else moves
    for key, sign in ((before, -1), (after, 1)):
        if key is None:
            continue
        org, district, category, alert = key
        for d, c in ((district, category), (district, ANY), (ANY, category), (ANY, ANY)):
            deltas[(c, d, org, alert)] += sign
    if moves is None:
        apply_open_moves(deltas)


def apply_open_moves(deltas: Counter) -> None:
    """Add signed counts ({(category, district, organisation, alert): n}) to their rows, creating
    missing ones. In key order: two transactions moving the same rows lock them in the same order,
    so they wait for each other instead of deadlocking."""
    rows = [dict(category=c, district=d, organization_id=o, alert=a, n=n) for (c, d, o, a), n in sorted(deltas.items())
            if n]
    counters.add(OpenScheduleCount, rows, ["category", "district", "organization_id", "alert"], ["n"])


def recount_open() -> None:
    """Count every open schedule afresh (after a bulk load that bypassed the steps)."""
    db.session.execute(sa.delete(OpenScheduleCount))
    s = PerformanceSchedule
    deltas: Counter = Counter()
    for org, district, category, alert, n in db.session.execute(
            sa.select(s.organization_id, s.district, s.category, s.alert, sa.func.count())
            .where(s.performed_at.is_(None)).group_by(s.organization_id, s.district, s.category, s.alert)):
        org, district, category = org or NO_ORG, district or "", category or ""
        for d, c in ((district, category), (district, ANY), (ANY, category), (ANY, ANY)):
            deltas[(c, d, org, alert.value)] += n
    apply_open_moves(deltas)
    db.session.flush()


@dataclass(frozen=True)
class PlannedItem:
    """One item of a payment plan as a sealed document states it."""

    due_on: date
    description: str
    amount: Decimal | None = None


def local_today(now: datetime | None = None) -> date:
    """The date in the platform's time zone (due dates are calendar dates)."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return (now or utcnow()).replace(tzinfo=timezone.utc).astimezone(tz).date()


def schedule_of(case: Case) -> PerformanceSchedule | None:
    return db.session.scalar(sa.select(PerformanceSchedule).where(PerformanceSchedule.case_id == case.id))


def create_schedule(case: Case, items: list[PlannedItem], *, payer_side: str, source: str,
                    actor=None) -> PerformanceSchedule | None:
    """The schedule of a case's sealed plan (in the caller's transaction); ``None`` when the plan has no item
    or the case already has one."""
    if not items or schedule_of(case) is not None:
        return None
    schedule = PerformanceSchedule(case_id=case.id, source=source[:64], payer_side=payer_side,
                                   created_at=utcnow(), alert=Alert.ok, last_due_on=max(i.due_on for i in items),
                                   organization_id=case.organization_id, district=case.district,
                                   category=getattr(case.category, "value", case.category))
    for position, item in enumerate(sorted(items, key=lambda i: i.due_on)):
        schedule.items.append(PerformanceItem(position=position, description=item.description[:2000],
                                              amount=item.amount, due_on=item.due_on, status=ItemStatus.pending))
    db.session.add(schedule)
    db.session.flush()
    _move_open(None, _open_key(schedule))
    _move_due(None, _due_key(schedule))
    audit.record(case, actor, "performance_schedule_created", {
        "schedule": schedule.id, "source": source, "payer": payer_side,
        "items": [{"due_on": i.due_on, "amount": i.amount, "description": i.description} for i in schedule.items]})
    logger.info("Case %s: performance schedule of %d items from %s", case, len(items), source)
    return schedule


def alert_of(schedule: PerformanceSchedule, today: date) -> Alert:
    """Yellow once an item is unconfirmed after its due date, red ``PERFORMANCE_RED_DAYS`` after that."""
    if schedule.performed_at is not None:
        return Alert.ok
    red_days = current_app.config["PERFORMANCE_RED_DAYS"]
    overdue = [today - i.due_on for i in schedule.items if i.status is not ItemStatus.confirmed and i.due_on < today]
    if not overdue:
        return Alert.ok
    return Alert.red if max(overdue) >= timedelta(days=red_days) else Alert.yellow


def refresh(schedule: PerformanceSchedule, now: datetime | None = None, actor=None,
            moves: Counter | None = None) -> None:
    """Bring the schedule's alert and performed time up to date; record the case performed once.
    The open counts move with it (``moves``: gathered there for the caller to apply once)."""
    before = _locked_key(schedule)
    due_before = _due_key(schedule)
    if schedule.performed_at is None and all(i.status is ItemStatus.confirmed for i in schedule.items):
        schedule.performed_at = now or utcnow()
        audit.record(schedule.case, actor, "case_performed", {"schedule": schedule.id})
        logger.info("Case %s performed", schedule.case)
    schedule.alert = alert_of(schedule, local_today(now))
    _move_open(before, _open_key(schedule), moves)
    _move_due(due_before, _due_key(schedule))


def _locked_key(schedule: PerformanceSchedule) -> tuple | None:
    """The schedule's open-count key as committed, its row locked until the transaction ends: what
    this transaction moves the counts from is what it overwrites (another transaction changing the
    same schedule meanwhile waits, then reads what this one wrote)."""
    db.session.refresh(schedule, ["alert", "performed_at", "organization_id", "district", "category",
                                  "last_due_on", "enforcement_requested_at", "created_at"], with_for_update=True)
    return _open_key(schedule)


def follow_routing(case: Case, organization_id: int) -> None:
    """The case went to another organisation: so does its schedule, and the schedule's open count."""
    schedule = db.session.scalar(sa.select(PerformanceSchedule).where(PerformanceSchedule.case_id == case.id)
                                 .with_for_update().execution_options(populate_existing=True))
    if schedule is None:
        return
    before, due_before = _open_key(schedule), _due_key(schedule)
    schedule.organization_id = organization_id
    _move_open(before, _open_key(schedule))
    _move_due(due_before, _due_key(schedule))


@dataclass
class Figures:
    """Performance as the dashboard shows it."""

    #: Open schedules (not yet performed) by alert, now.
    ok: int = 0
    yellow: int = 0
    red: int = 0
    #: Schedules whose last item fell due in the period: the rate's denominator.
    due: int = 0
    #: Of those, performed voluntarily (before any application for enforcement).
    performed_when_due: int = 0

    @property
    def voluntary_rate(self) -> float | None:
        return self.performed_when_due / self.due if self.due else None


@dataclass(frozen=True)
class Breakdown:
    """The voluntary performance of one organisation's or category's schedules due in a period."""

    #: The organisation's id (``None``: not routed) or the category's value.
    key: object
    due: int
    performed: int
    #: Mean days from the schedule (the sealed agreement or award) to its last confirmation, over the
    #: schedules performed voluntarily; ``None`` when none was.
    mean_days: float | None

    @property
    def rate(self) -> float | None:
        return self.performed / self.due if self.due else None


def _last_30_days() -> tuple[date, date]:
    today = local_today()
    return today - timedelta(days=29), today


def _due_rows(group, organizations, district, category, period) -> list:
    """(group key, due, performed, seconds) summed over :class:`DueDayCount` for ``period``: the grain
    the filters name (``group``: ``organization_id``, ``category`` or ``None`` for one total)."""
    c = DueDayCount
    where = [c.day.between(*period), c.district == (district or ANY)]
    wanted = getattr(category, "value", category) or None
    if group == "category":
        # Every category by name (not ``!= ANY``, a range): the key's leading columns stay equalities.
        where.append(c.category.in_([wanted] if wanted else ["", *(k.value for k in Category)]))
    else:
        where.append(c.category == (wanted or ANY))
    if organizations is not None:
        where.append(c.organization_id.in_(sorted(organizations) or [-1]))
    key = getattr(c, group) if group else sa.literal(None)
    query = sa.select(key, sa.func.sum(c.due), sa.func.sum(c.performed), sa.func.sum(c.performed_seconds)).where(*where)
    return db.session.execute(query.group_by(key) if group else query).all()


def breakdown(by: str, organizations=None, district: str | None = None, category=None,
              period: tuple[date, date] | None = None) -> list[Breakdown]:
    """Voluntary performance rate and mean days to performance of the schedules whose last item fell
    due in ``period``, per ``by`` (``organization_id`` or ``category`` of the case), most schedules first,
    of the cases of ``organizations`` (ids, ``NO_ORG`` for cases not routed; ``None``: all), ``district``
    and ``category``. Sums over the period's days of :class:`DueDayCount` (the mean from the seconds,
    each schedule's rounded to the second)."""
    period = period or _last_30_days()
    rows = []
    for key, due, performed, seconds in _due_rows(by, organizations, district, category, period):
        due, performed = int(due or 0), int(performed or 0)
        if not due:
            continue  # its schedules all moved elsewhere
        key = key or None  # NO_ORG, or a schedule without a category
        rows.append(Breakdown(key, due, performed, int(seconds) / performed / 86400 if performed else None))
    return sorted(rows, key=lambda b: (-b.due, b.key is None, str(b.key) if by == "category" else b.key or 0))


def figures(organizations=None, district: str | None = None, category=None,
            period: tuple[date, date] | None = None) -> Figures:
    """Open schedules by alert (now), and the voluntary performance rate of the schedules whose last
    item fell due in ``period`` (first and last day; default the last 30 days), of the cases of
    ``organizations`` (ids, ``NO_ORG`` for cases not routed; ``None``: all), ``district`` and
    ``category`` (the dashboard's scope and filters). The open ones are a sum over
    ``OpenScheduleCount`` (a few rows per organisation), those due in the period over the period's
    days of ``DueDayCount``."""
    period = period or _last_30_days()
    c = OpenScheduleCount
    where = [c.district == (district or ANY), c.category == (getattr(category, "value", category) or ANY)]
    if organizations is not None:
        where.append(c.organization_id.in_(sorted(organizations) or [-1]))
    by_alert = dict(db.session.execute(
        sa.select(c.alert, sa.func.sum(c.n)).where(*where).group_by(c.alert)).all())
    (_key, due, performed, _seconds), = _due_rows(None, organizations, district, category, period)
    return Figures(ok=int(by_alert.get("ok") or 0), yellow=int(by_alert.get("yellow") or 0),
                   red=int(by_alert.get("red") or 0), due=int(due or 0), performed_when_due=int(performed or 0))
