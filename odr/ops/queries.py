"""What the dashboard shows, for whom: the viewer's scope, the figures, the red list, case search.

Figures are read from the summary tables (``odr.ops.summary``); lists of cases are indexed,
paginated queries that fetch one page (plus one row to know whether there is a next page) and
never count the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from odr.auth.models import Role, User
from odr.cases import performance, satisfaction
from odr.cases.models import Case, CaseParty, Category, Organization, managed_organizations, open_case_sql
from odr.extensions import db
from odr.ops import warnings
from odr.ops.models import (
    DAY_BUCKETS, NO_ORG, CaseSignal, DailyFlow, MediatorClosed, MediatorLoad, OpenCount, StageDays,
)
from odr.dayspans import spans
from odr.ops.summary import ANY
from odr.timeutil import utcnow

#: How many red cases are counted at most (the count says "1000+" beyond).
COUNT_CAP = 1000
OUTCOMES = ("settled", "award_issued", "handed_to_court", "withdrawn", "closed_without_result")


@dataclass(frozen=True)
class Scope:
    """Which organisations' data a viewer sees; ``None`` means every organisation (admins)."""

    organizations: frozenset[int] | None
    #: Also the cases not yet routed to any organisation (intake centers).
    unrouted: bool = False

    @property
    def everything(self) -> bool:
        return self.organizations is None

    def org_keys(self) -> list[int] | None:
        """Organisation ids as the summary tables store them (0: not routed)."""
        if self.organizations is None:
            return None
        return sorted(self.organizations) + ([NO_ORG] if self.unrouted else [])

    def case_where(self, in_deadline_order: bool = False):
        """SQL for the scope's cases. ``in_deadline_order``: the query pages through open cases by
        deadline, so a scope of several organisations is written so that the database walks the
        deadline index and filters, stopping after one page, instead of collecting and sorting
        every open case of the scope (one organisation uses its own index either way)."""
        if self.organizations is None:
            return sa.true()
        keys = self.org_keys() or [-1]
        if in_deadline_order and len(keys) > 1:
            return sa.func.coalesce(Case.organization_id, NO_ORG).in_(keys)
        return self.organization_where(Case.organization_id)

    def organization_where(self, column):
        """SQL for rows whose organisation ``column`` is in the scope."""
        if self.organizations is None:
            return sa.true()
        where = column.in_(sorted(self.organizations) or [-1])
        return sa.or_(where, column.is_(None)) if self.unrouted else where

    def allows(self, organization_id: int | None) -> bool:
        if self.organizations is None:
            return True
        return organization_id in self.organizations if organization_id else self.unrouted


def scope_of(user: User) -> Scope | None:
    """The dashboard a user may see: admins all; managers their center and the organisations
    reporting to it; staff their own organisations. ``None``: no dashboard (parties, mediators …)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_admin:
        return Scope(None, True)
    orgs = managed_organizations(user) | user.organizations_for(Role.staff)
    if not orgs:
        return None
    intake = bool(db.session.scalar(sa.select(sa.func.count(Organization.id)).where(
        Organization.id.in_(orgs), Organization.takes_intake)))
    return Scope(frozenset(orgs), intake)


@dataclass
class Filters:
    start: date
    end: date  # inclusive
    district: str | None = None
    organization_id: int | None = None
    category: str | None = None

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def as_args(self) -> dict:
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.district:
            args["district"] = self.district
        if self.organization_id is not None:
            args["org"] = self.organization_id
        if self.category:
            args["category"] = self.category
        return args


def _where(model, scope: Scope, filters: Filters, period: bool = True, group: str | None = None) -> list:
    """Conditions on a summary table: the scope, the filters, and the grain they need (a column
    neither filtered nor grouped by is read from the rows that count every value: ``ANY``)."""
    out = []
    keys = scope.org_keys()
    if keys is not None:
        out.append(model.organization_id.in_(keys))
    if filters.organization_id is not None:
        out.append(model.organization_id == filters.organization_id)
    for name in ("district", "category"):
        column, wanted = getattr(model, name), getattr(filters, name)
        if wanted:
            out.append(column == wanted)
        elif group == name:
            # Every real value by name (not ``!= ANY``, a range): the key's leading columns stay equalities.
            values = [c.value for c in Category] if name == "category" else list(current_app.config["DISTRICTS"])
            out.append(column.in_(values))
        else:
            out.append(column == ANY)
    if period:
        out.append(model.day.between(filters.start, filters.end))
    return out


def _grouped(model, column, scope, filters, period=True, extra=()) -> list[tuple[str, int]]:
    total = sa.func.sum(model.n)
    rows = db.session.execute(sa.select(column, total)
                              .where(*_where(model, scope, filters, period, group=column.key), *extra)
                              .group_by(column).order_by(total.desc(), column))
    return [(key, int(n)) for key, n in rows]


def open_by(dimension: str, scope: Scope, filters: Filters) -> list[tuple[str, int]]:
    """Open cases now by ``stage``, ``category``, ``channel``, ``organization_id`` or ``district``."""
    return _grouped(OpenCount, getattr(OpenCount, dimension), scope, filters, period=False)


def daily_flow(scope: Scope, filters: Filters) -> list[tuple[date, int, int]]:
    """(day, cases in, cases resolved) for every day of the period."""
    resolved = sa.func.sum(sa.case((DailyFlow.kind == "resolved", DailyFlow.n), else_=0))
    filed = sa.func.sum(sa.case((DailyFlow.kind == "filed", DailyFlow.n), else_=0))
    rows = {d if isinstance(d, date) else date.fromisoformat(str(d)): (int(f or 0), int(r or 0))
            for d, f, r in db.session.execute(sa.select(DailyFlow.day, filed, resolved)
                                              .where(*_where(DailyFlow, scope, filters)).group_by(DailyFlow.day))}
    return [(d, *rows.get(d, (0, 0))) for d in filters.days]


def resolution_rate(by: str, scope: Scope, filters: Filters) -> list[tuple[str, int, int, float]]:
    """(stage or organisation, closed, resolved, share resolved) for cases closed in the period."""
    column = getattr(DailyFlow, by)
    closed = sa.func.sum(DailyFlow.n)
    resolved = sa.func.sum(sa.case((DailyFlow.kind == "resolved", DailyFlow.n), else_=0))
    rows = db.session.execute(sa.select(column, closed, resolved)
                              .where(*_where(DailyFlow, scope, filters), DailyFlow.kind != "filed")
                              .group_by(column).order_by(column))
    return [(key, int(c), int(r), (int(r) / int(c)) if c else 0.0) for key, c, r in rows]


def median_days(scope: Scope, filters: Filters) -> list[tuple[str, int, float]]:
    """(stage, cases that left it in the period, median whole days spent in it)."""
    sums = [sa.func.sum(getattr(StageDays, f"b{i}")) for i in range(len(DAY_BUCKETS))]
    rows = db.session.execute(sa.select(StageDays.stage, *sums).where(*_where(StageDays, scope, filters))
                              .group_by(StageDays.stage))
    histograms: dict[str, list[tuple[int, int]]] = {}
    for stage, *counts in rows:
        hist = [(DAY_BUCKETS[i], int(n)) for i, n in enumerate(counts) if n]
        if hist:
            histograms[stage] = hist
    from odr.cases.stages import STAGE_ORDER

    order = [s.value for s in STAGE_ORDER]
    out = []
    for stage in sorted(histograms, key=lambda s: order.index(s) if s in order else len(order)):
        hist = histograms[stage]
        out.append((stage, sum(n for _d, n in hist), histogram_median(hist)))
    return out


def histogram_median(hist: list[tuple[int, int]]) -> float:
    """The median of values given as (value, how many), sorted by value."""
    total = sum(n for _v, n in hist)
    if not total:
        return 0.0
    lower, upper = (total - 1) // 2, total // 2  # positions of the middle value(s)
    seen, low_value = 0, None
    for value, n in hist:
        if low_value is None and seen + n > lower:
            low_value = value
        if seen + n > upper:
            return (low_value + value) / 2
        seen += n
    return float(hist[-1][0])


@dataclass
class MediatorRow:
    mediator_id: int
    name: str
    open: int = 0
    #: Their cases closed in the period, and how many of those settled.
    closed: int = 0
    settled: int = 0


def mediators(scope: Scope, filters: Filters, limit: int = 50) -> list[MediatorRow]:
    """Open cases per mediator now, and their cases closed (and settled) in the period: a few
    spans of days per mediator (``MediatorClosed``), whatever the length of the period."""
    rows: dict[int, MediatorRow] = {}
    for mid, n in db.session.execute(
            sa.select(MediatorLoad.mediator_id, sa.func.sum(MediatorLoad.n))
            .where(*_where(MediatorLoad, scope, filters, period=False))
            .group_by(MediatorLoad.mediator_id)):
        rows[mid] = MediatorRow(mid, "", open=int(n))
    for mid, closed, settled in db.session.execute(
            sa.select(MediatorClosed.mediator_id, sa.func.sum(MediatorClosed.closed),
                      sa.func.sum(MediatorClosed.settled))
            .where(*_where(MediatorClosed, scope, filters, period=False),
                   MediatorClosed.block.in_(spans(filters.start, filters.end)))
            .group_by(MediatorClosed.mediator_id)):
        row = rows.setdefault(mid, MediatorRow(mid, ""))
        row.closed, row.settled = int(closed), int(settled)
    top = sorted(rows.values(), key=lambda r: (-r.open, -r.closed, r.mediator_id))[:limit]
    names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_([r.mediator_id for r in top]))).all()) \
        if top else {}
    for r in top:
        r.name = names.get(r.mediator_id, f"#{r.mediator_id}")
    return top


def organization_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all())


# --- lists of cases ------------------------------------------------------------------------

@dataclass
class Page:
    items: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _page(query, page: int, per_page: int) -> Page:
    page = max(1, min(page, 10_000))
    rows = list(db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)))
    return Page(rows[:per_page], page, per_page, len(rows) > per_page)


def _case_filters(query, filters: Filters | None):
    if filters is None:
        return query
    if filters.organization_id is not None:
        query = query.where(Case.organization_id == (filters.organization_id or None))
    if filters.district:
        query = query.where(Case.district == filters.district)
    if filters.category:
        query = query.where(Case.category == filters.category)
    return query


def _open():
    return open_case_sql()


def satisfaction_figures(scope: Scope, filters: Filters | None = None) -> dict:
    """Survey averages per organisation and per mediator of the scope's cases, over the answers given in
    the filters' period (``odr.cases.satisfaction``); each with how many are hidden for having fewer
    than ``SURVEY_MIN_ANSWERS`` answers."""
    ids = None if scope.everything else sorted(scope.organizations)
    period = (filters.start, filters.end) if filters is not None else None
    return {"organisations": satisfaction.by_organisation(ids, period), "mediators": satisfaction.by_mediator(ids, period)}


def _performance_where(scope: Scope, filters: Filters | None) -> list:
    where = [] if scope.everything else [scope.case_where()]
    if filters is not None:
        if filters.organization_id is not None:
            where.append(Case.organization_id == (filters.organization_id or None))
        if filters.district:
            where.append(Case.district == filters.district)
        if filters.category:
            where.append(Case.category == filters.category)
    return where


def _schedule_slice(scope: Scope, filters: Filters | None) -> dict:
    """The scope and filters as ``odr.cases.performance`` takes them: organisation keys (``NO_ORG`` for
    cases not routed; ``None``: all), district and category."""
    organizations = scope.org_keys()
    if filters is None:
        return {"organizations": organizations}
    if filters.organization_id is not None:
        wanted = filters.organization_id or NO_ORG
        organizations = [wanted] if organizations is None or wanted in organizations else []
    return {"organizations": organizations, "district": filters.district or None,
            "category": getattr(filters.category, "value", filters.category) or None}


def performance_figures(scope: Scope, filters: Filters | None = None):
    """Schedules of sealed agreements in the scope (and the filters' organisation, district, category):
    late ones now (yellow, red), and the voluntary performance rate of those due in the filters' period
    (``odr.cases.performance``)."""
    return performance.figures(**_schedule_slice(scope, filters),
                               period=(filters.start, filters.end) if filters is not None else None)


def performance_breakdown(by: str, scope: Scope, filters: Filters | None = None) -> list:
    """Voluntary performance rate and mean days to performance per organisation or category
    (``by``: ``organization_id`` or ``category``) of the schedules due in the filters' period."""
    return performance.breakdown(by, **_schedule_slice(scope, filters),
                                 period=(filters.start, filters.end) if filters is not None else None)


def service_response(by: str, scope: Scope, filters: Filters) -> list:
    """Response rate and mean hours to the first response of the respondents invited in the filters'
    period, per channel the invitation was served by or per organisation (``odr.cases.service``)."""
    from odr.cases.service.operations import response_figures

    return response_figures(by, _performance_where(scope, filters), (filters.start, filters.end))


def red_list(scope: Scope, page: int = 1, per_page: int = 25, now: datetime | None = None,
             filters: Filters | None = None) -> tuple[Page, dict]:
    """Open red cases, most urgent first: those a signal makes red (few, kept in
    ``ops_case_signal``), then those past their deadline (an index range on ``due_at``)."""
    now = now or utcnow()
    # Signals: few cases have one, so the small signal table leads.
    by_signal = _case_filters(sa.select(Case).select_from(CaseSignal).join(Case, Case.id == CaseSignal.case_id)
                              .where(_open(), scope.case_where(True), warnings.signal_red_sql(now)), filters)
    page = max(1, min(page, 10_000))
    start = (page - 1) * per_page
    # Only as many as this page needs (fewer means that is all of them).
    signal_ids = list(db.session.scalars(by_signal.with_only_columns(Case.id).order_by(Case.due_at, Case.id)
                                         .limit(start + per_page + 1)))

    def by_deadline(where):
        return (_case_filters(sa.select(Case).where(_open(), where), filters)
                .outerjoin(CaseSignal, CaseSignal.case_id == Case.id)
                .where(warnings.case_red_sql(now))
                .where(sa.or_(CaseSignal.case_id.is_(None), sa.not_(warnings.signal_red_sql(now))))
                .order_by(Case.due_at))  # the index's own order: nothing to sort (deadlines rarely tie)

    ids = signal_ids[start:start + per_page + 1]
    items = list(db.session.scalars(sa.select(Case).where(Case.id.in_(ids)))) if ids else []
    items.sort(key=lambda c: ids.index(c.id))
    want = per_page + 1 - len(items)
    if want > 0:
        offset = max(0, start - len(signal_ids))
        parts = _per_organisation(scope, filters)
        if parts is None:
            items += list(db.session.scalars(by_deadline(scope.case_where(True)).limit(want).offset(offset)))
        else:
            # Each organisation's own index range, in deadline order, merged here: a page costs
            # organisations × (offset + page) index entries, whatever the size of the table.
            rows = []
            for where in parts:
                rows += db.session.execute(by_deadline(where).with_only_columns(Case.id, Case.due_at)
                                           .limit(offset + want)).all()
            rows.sort(key=lambda r: r.due_at)
            ids = [r.id for r in rows[offset:offset + want]]
            more = {c.id: c for c in db.session.scalars(sa.select(Case).where(Case.id.in_(ids)))} if ids else {}
            items += [more[i] for i in ids]
    result = Page(items[:per_page], page, per_page, len(items) > per_page)
    return result, warnings.marks_for(result.items, now)


def _per_organisation(scope: Scope, filters: Filters | None) -> list | None:
    """One condition per organisation of a scope of several (``None``: one query does)."""
    keys = scope.org_keys()
    if keys is None or len(keys) < 2 or (filters is not None and filters.organization_id is not None):
        return None
    return [Case.organization_id.is_(None) if k == NO_ORG else Case.organization_id == k for k in keys]


def warning_counts(scope: Scope, now: datetime | None = None) -> dict[str, int]:
    """Open cases past their deadline, and cases a signal makes red (the red list's two parts),
    each counted up to ``COUNT_CAP + 1`` (shown as "1000+"): the count reads no more rows than that;
    ``cases``: how many cases are red, a case red for both reasons counted once."""
    now = now or utcnow()

    def count(query, most: int) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(query.limit(most).subquery())) or 0

    deadline = 0
    # Past their deadline: each organisation's own index range, each read no further than the cap.
    for where in _per_organisation(scope, None) or [scope.case_where(True)]:
        deadline += count(sa.select(Case.id).where(_open(), where, warnings.case_red_sql(now)),
                          COUNT_CAP + 1 - deadline)
        if deadline > COUNT_CAP:
            break
    # Signals: few cases have one, so the small signal table leads.
    signalled = sa.select(Case.id).select_from(CaseSignal).join(Case, Case.id == CaseSignal.case_id) \
        .where(_open(), scope.case_where(True), warnings.signal_red_sql(now))
    signal = count(signalled, COUNT_CAP + 1)
    # A case red for both reasons is one case on the list: the badge counts cases, not reasons.
    both = count(signalled.where(warnings.case_red_sql(now)), COUNT_CAP + 1) if signal else 0
    return {"deadline": deadline, "signal": signal, "cases": min(deadline + signal - both, COUNT_CAP + 1)}


def search_cases(scope: Scope, q: str, page: int = 1, per_page: int = 25) -> Page:
    """Cases whose number, party name or party phone starts with ``q``, in the order of what
    matched (numbers, names and phones alphabetically; one name's cases newest first).

    Each column's index is walked from ``q`` in its own order and read no further than the page
    needs, and the three walks are merged here: a page costs the same however many cases match
    and however many there are (ordering every match by date would read all of them first)."""
    q = (q or "").strip()[:100]
    if not q or "\x00" in q:  # no number, name or phone holds NUL (PostgreSQL text cannot)
        return Page([], 1, per_page, False)
    upper = q + "\U0010ffff"  # prefix ranges use the indexes, unlike LIKE on every database
    page = max(1, min(page, 10_000))
    start = (page - 1) * per_page
    need = start + per_page + 1
    walks = [sa.select(Case.id, Case.number).where(Case.number >= q, Case.number < upper, scope.case_where())
             .order_by(Case.number, Case.id.desc())]
    for column in (CaseParty.name, CaseParty.phone):
        walk = sa.select(CaseParty.case_id, column).where(column >= q, column < upper)
        if not scope.everything:
            walk = walk.join(Case, Case.id == CaseParty.case_id).where(scope.case_where())
        walks.append(walk.order_by(column, CaseParty.case_id.desc()))
    limit = need
    while True:
        rows, cut = [], False
        for walk in walks:
            got = db.session.execute(walk.limit(limit)).all()
            cut |= len(got) == limit
            rows += got
        rows.sort(key=lambda r: (r[1], -r[0]))
        # Merged, the first ``limit`` rows are right (each walk gave at least that many, or all);
        # a case found twice (both parties match, or its number and a name) is listed once.
        ids = list(dict.fromkeys(r[0] for r in (rows[:limit] if cut else rows)))
        if len(ids) >= need or not cut:
            break
        limit *= 2
    ids = ids[start:need]
    cases = {c.id: c for c in db.session.scalars(sa.select(Case).where(Case.id.in_(ids)))} if ids else {}
    items = [cases[i] for i in ids]
    return Page(items[:per_page], page, per_page, len(items) > per_page)


def all_organization_ids() -> list[int]:
    from odr.cases.models import OrgType

    return list(db.session.scalars(sa.select(Organization.id).where(Organization.type != OrgType.court)))
