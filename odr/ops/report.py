"""The weekly report: the dashboard's tables for one ISO week, as PDF (``odr.documents``) and CSV.

Made by ``odr report --week YYYY-Www`` (all organisations, or one center with ``--org``) and
downloadable from the dashboard for the viewer's own scope.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_babel import lazy_gettext as _l

from odr.cases.models import Organization
from odr.extensions import db
from odr.cases import transfers as clocks
from odr.ops import queries, tables, transfers
from odr.timeutil import utcnow

WEEK = re.compile(r"(\d{4})-W(\d{2})")


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    """The Monday of an ISO week written ``YYYY-Www``.

    :raise ValueError: not such a week.
    """
    match = WEEK.fullmatch(week or "")
    if not match:
        raise ValueError(f"not an ISO week (YYYY-Www): {week!r}")
    return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)


def center_scope(organization: Organization) -> queries.Scope:
    """What a manager of this center sees: it and the organisations reporting to it."""
    members = set(db.session.scalars(sa.select(Organization.id).where(Organization.center_id == organization.id)))
    return queries.Scope(frozenset({organization.id} | members), organization.takes_intake)


def _tables(scope: queries.Scope, start: date) -> list[tables.Table]:
    filters = queries.Filters(start, start + timedelta(days=6))
    built = list(tables.build(scope, filters).values())
    since = datetime.combine(start, datetime.min.time())
    senders = transfers.per_sender(scope, since, since + timedelta(days=7))
    goal = clocks.targets()
    built.append(tables.Table(
        "transfers", _l("Transfers: response times per sender"),
        [_l("Sender"), _l("Received"), _l("Accepted"), _l("Accepted within %(s)d s", s=goal["accept"]),
         _l("Median seconds to accept"), _l("Contacted"), _l("Contacted within %(s)d s", s=goal["contact"]),
         _l("Median seconds to contact")],
        [[r.name, r.received, r.accepted, r.accepted_in_time, _num(r.median_accept), r.contacted,
          r.contacted_in_time, _num(r.median_contact)] for r in senders]))
    survey = queries.satisfaction_figures(scope, filters)
    for key, title, who in (("organisations", _l("Satisfaction per organisation"), _l("Organisation")),
                            ("mediators", _l("Satisfaction per mediator"), _l("Mediator"))):
        rows, hidden = survey[key]
        built.append(tables.Table(
            f"satisfaction_{key}", title,
            [who, _l("Answers"), _l("Outcome"), _l("Fair procedure"), _l("Ease of use"), _l("Would use again")],
            [[r.name, r.answers, f"{r.outcome:.1f}", f"{r.fairness:.1f}", f"{r.ease:.1f}",
              f"{r.would_use_again * 100:.0f}%"] for r in rows],
            notes=[_l("%(n)s more with fewer answers are not shown.", n=hidden)] if hidden else []))
    counts = queries.warning_counts(scope, utcnow())
    built.insert(0, tables.Table(
        "warnings", _l("Red cases now"), [_l("Why"), _l("Cases")],
        [[_l("Past the deadline"), counts["deadline"]],
         [_l("Safety concern, repeated no-shows or sent on too often"), counts["signal"]]]))
    return built


def _num(value) -> str:
    return "—" if value is None else f"{value:g}"


def render_csv(scope: queries.Scope, start: date) -> str:
    """Every table of the week one after another, each under its title."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([str(_l("Weekly report")), iso_week(start), start.isoformat(),
                     (start + timedelta(days=6)).isoformat()])
    for table in _tables(scope, start):
        writer.writerow([])
        writer.writerow([str(table.title)])
        buf.write(tables.to_csv(table))
        for note in table.notes:
            writer.writerow([str(note)])
    return buf.getvalue()


def render_html(scope: queries.Scope, start: date, title: str) -> str:
    from odr.documents.render import FONT_URL

    return render_template("documents/ops_report.html", tables=_tables(scope, start), week=iso_week(start),
                           start=start, end=start + timedelta(days=6), title=title, font_url=FONT_URL,
                           made_at=utcnow())


def render_pdf_report(scope: queries.Scope, start: date, title: str | None = None) -> bytes:
    from odr.documents.render import render_pdf  # WeasyPrint loads when a report is first rendered

    return render_pdf(render_html(scope, start, title or str(_l("Weekly report"))))
