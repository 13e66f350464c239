"""The dashboard's figures as titled tables: shown under each chart, downloaded as CSV, put in
the weekly report. One function builds them all, so the page, the CSV and the report agree."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from datetime import datetime, timedelta

from odr.cases import figures, labels
from odr.cases.models import Category, Channel, Outcome, Stage
from odr.ops import charts, queries
from odr.ops.models import NO_ORG


@dataclass
class Table:
    name: str
    title: object
    headers: list
    rows: list[list]
    #: An SVG chart of the same figures, when people would rather look than read.
    chart: object = None
    notes: list = field(default_factory=list)


def _label(enum_cls, value: str) -> str:
    try:
        member = enum_cls(value)
    except ValueError:
        return str(value)
    return str(labels.STAGE.get(member) or labels.label(member))


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def build(scope: queries.Scope, filters: queries.Filters, names: set[str] | None = None) -> dict[str, Table]:
    """Every table of the dashboard (or only ``names``)."""
    want = (lambda n: True) if names is None else (lambda n: n in names)
    out: dict[str, Table] = {}
    org_label = None

    def orgs():
        nonlocal org_label
        if org_label is None:
            ids = set()
            for key, _n in queries.open_by("organization_id", scope, filters):
                ids.add(key)
            for key, *_rest in queries.resolution_rate("organization_id", scope, filters):
                ids.add(key)
            names_ = queries.organization_names(ids)
            org_label = lambda i: str(_l("Not routed")) if i == NO_ORG else names_.get(i, f"#{i}")  # noqa: E731
        return org_label

    def counts(name, title, dimension, render):
        rows = [(render(k), n) for k, n in queries.open_by(dimension, scope, filters)]
        out[name] = Table(name, title, [_l("Open cases by"), _l("Cases")], [list(r) for r in rows],
                          chart=charts.bar_chart(rows, str(title)))

    if want("open_by_stage"):
        counts("open_by_stage", _l("Open cases by stage"), "stage", lambda v: _label(Stage, v))
    if want("open_by_category"):
        counts("open_by_category", _l("Open cases by category"), "category", lambda v: _label(Category, v))
    if want("open_by_channel"):
        counts("open_by_channel", _l("Open cases by channel"), "channel", lambda v: _label(Channel, v))
    if want("open_by_organization"):
        counts("open_by_organization", _l("Open cases by organisation"), "organization_id", lambda v: orgs()(v))
    if want("open_by_district"):
        counts("open_by_district", _l("Open cases by district"), "district", labels.district)
    if want("daily"):
        flow = queries.daily_flow(scope, filters)
        days = [d.isoformat() for d, _f, _r in flow]
        out["daily"] = Table("daily", _l("Cases in and resolved per day"), [_l("Day"), _l("In"), _l("Resolved")],
                             [[d.isoformat(), f, r] for d, f, r in flow],
                             chart=charts.column_chart(days, [(str(_l("In")), [f for _d, f, _r in flow]),
                                                              (str(_l("Resolved")), [r for _d, _f, r in flow])],
                                                       str(_l("Cases in and resolved per day"))))
    for by, title in (("stage", _l("Resolution rate by stage")), ("organization_id", _l("Resolution rate by organisation"))):
        name = "resolution_by_" + ("stage" if by == "stage" else "organization")
        if not want(name):
            continue
        render = (lambda v: _label(Stage, v)) if by == "stage" else (lambda v: orgs()(v))
        rows = queries.resolution_rate(by, scope, filters)
        out[name] = Table(name, title, [_l("Closed in"), _l("Closed"), _l("Resolved"), _l("Share resolved")],
                          [[render(k), c, r, _percent(s)] for k, c, r, s in rows],
                          chart=charts.bar_chart([(render(k), round(s * 100)) for k, _c, _r, s in rows], str(title),
                                                 value_format=lambda v: f"{v:g}%"))
    if want("median_days"):
        rows = queries.median_days(scope, filters)
        out["median_days"] = Table(
            "median_days", _l("Median days per stage"), [_l("Stage"), _l("Cases that left it"), _l("Median days")],
            [[_label(Stage, s), n, f"{m:g}"] for s, n, m in rows],
            chart=charts.bar_chart([(_label(Stage, s), m) for s, _n, m in rows], str(_l("Median days per stage"))))
    for by, title in (("organization_id", _l("Voluntary performance by organisation")),
                      ("category", _l("Voluntary performance by category"))):
        name = "performance_by_" + ("organization" if by == "organization_id" else "category")
        if not want(name):
            continue
        rows = queries.performance_breakdown(by, scope, filters)
        if by == "organization_id":
            names_ = queries.organization_names({r.key for r in rows if r.key is not None})
            render = lambda v, n=names_: str(_l("Not routed")) if v is None else n.get(v, f"#{v}")  # noqa: E731
        else:
            render = lambda v: _label(Category, v)  # noqa: E731
        out[name] = Table(
            name, title, [_l("Organisation") if by == "organization_id" else _l("Category"),
                          _l("Agreements and awards due"), _l("Carried out voluntarily"),
                          _l("Voluntary performance rate"), _l("Mean days to performance")],
            [[render(r.key), r.due, r.performed, _percent(r.rate) if r.rate is not None else "—",
              f"{r.mean_days:.1f}" if r.mean_days is not None else "—"] for r in rows],
            chart=charts.bar_chart([(render(r.key), round(r.rate * 100)) for r in rows], str(title),
                                   value_format=lambda v: f"{v:g}%"))
    if want("mediators"):
        rows = queries.mediators(scope, filters)
        out["mediators"] = Table(
            "mediators", _l("Mediator load and outcomes"),
            [_l("Mediator"), _l("Open cases"), _l("Closed in the period"), _l("Settled"), _l("Share settled")],
            [[r.name, r.open, r.closed, r.settled, _percent(r.settled / r.closed) if r.closed else "—"] for r in rows],
            chart=charts.bar_chart([(r.name, r.open) for r in rows], str(_l("Open cases per mediator"))))
    for extra in _contributed(scope, filters, names):
        out[extra.name] = Table(extra.name, extra.title, extra.headers, extra.rows)
    return out


def _contributed(scope: queries.Scope, filters: queries.Filters, names: set[str] | None):
    """The tables features add (``odr.cases.figures``: field dispatch's 1-3-8 figures …)."""
    orgs = None if scope.everything else set(scope.organizations)
    if filters.organization_id is not None:
        orgs = {filters.organization_id} if orgs is None else orgs & {filters.organization_id}
    start = datetime.combine(filters.start, datetime.min.time())
    end = datetime.combine(filters.end + timedelta(days=1), datetime.min.time())
    return figures.collect(orgs, start, end, names)


def outcome_label(value: str) -> str:
    return _label(Outcome, value)


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_safe_cell(v) for v in row])
    return buf.getvalue()


def _safe_cell(value) -> str:
    text = str(value)
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
