"""The operations dashboard for center staff, managers and admins (desktop pages).

Parties, mediators and everyone else without a dashboard scope get 403; organisations or
cases outside the viewer's scope are 404.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import wraps

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from odr.auth.models import Role
from odr.cases.access import get_case_or_404
from odr.cases.models import Category, Organization
from odr.errors import abort_with
from odr.extensions import db
from odr.cases import transfers as clocks
from odr.ops import queries, report, tables, transfers
from odr.timeutil import utcnow

bp = Blueprint("ops", __name__, url_prefix="/ops")

MAX_PERIOD_DAYS = 366


def dashboard_required(view):
    """Signed in with a dashboard scope (staff, manager, admin); ``g.scope`` holds it.

    :raise 403: signed in without one (parties, mediators, consultants …).
    """

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        scope = queries.scope_of(current_user)
        if scope is None:
            abort(403)
        g.scope = scope
        return view(*args, **kwargs)

    return wrapper


def _date(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        abort_with(400, _("Dates are written as YYYY-MM-DD."))


def parse_filters() -> queries.Filters:
    """Period, district, organisation and category from the query string.

    :raise 400: a malformed value. :raise 404: an organisation outside the viewer's scope.
    """
    today = utcnow().date()
    end = _date("end", today)
    start = _date("start", end - timedelta(days=29))
    if start > end or (end - start).days >= MAX_PERIOD_DAYS:
        abort_with(400, _("Choose a period of one day to one year, the start before the end."))
    district = request.args.get("district") or None
    if district and district not in current_app.config["DISTRICTS"]:
        abort_with(400, _("Choose a district from the list."))
    category = request.args.get("category") or None
    if category and category not in {c.value for c in Category}:
        abort_with(400, _("Choose a category from the list."))
    org = request.args.get("org") or None
    org_id = None
    if org is not None:
        if not (org.isascii() and org.isdigit()) or len(org) > 9:
            abort_with(400, _("Choose an organisation from the list."))
        org_id = int(org)
        if not g.scope.allows(org_id or None) or (org_id and db.session.get(Organization, org_id) is None):
            abort(404)
    return queries.Filters(start, end, district, org_id, category)


def _page_arg(name="page") -> int:
    raw = request.args.get(name, "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 1


@bp.get("/")
@dashboard_required
def dashboard():
    filters = parse_filters()
    now = utcnow()
    red, marks = queries.red_list(g.scope, page=_page_arg("red_page"),
                                  per_page=current_app.config["OPS_PAGE_SIZE"], now=now, filters=filters)
    figures = tables.build(g.scope, filters)
    org_choices = queries.organization_names(g.scope.organizations) if not g.scope.everything \
        else queries.organization_names(queries.all_organization_ids())
    return render_template(
        "ops/dashboard.html", filters=filters, red=red, marks=marks, counts=queries.warning_counts(g.scope, now),
        tables=figures, org_choices=sorted(org_choices.items(), key=lambda kv: kv[1]),
        districts=current_app.config["DISTRICTS"], categories=list(Category),
        week=report.iso_week(now.date()), now=now, cap=queries.COUNT_CAP,
        performance=queries.performance_figures(g.scope, filters),
        satisfaction=queries.satisfaction_figures(g.scope, filters))


@bp.get("/export/<name>.csv")
@dashboard_required
def export(name):
    filters = parse_filters()
    if not re.fullmatch(r"[a-z_]{1,40}", name):
        abort(404)
    built = tables.build(g.scope, filters, {name})
    if name not in built:
        abort(404)
    body = "\ufeff" + tables.to_csv(built[name])  # the BOM makes spreadsheet programs read UTF-8
    filename = f"{name}_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/cases")
@dashboard_required
def cases():
    q = request.args.get("q", "")[:100]
    page = queries.search_cases(g.scope, q, page=_page_arg(), per_page=current_app.config["OPS_PAGE_SIZE"])
    return render_template("ops/cases.html", q=q, pagination=page, marks=queries.warnings.marks_for(page.items))


@bp.get("/transfers")
@dashboard_required
def transfer_times():
    today = utcnow().date()
    end = _date("end", today)
    start = _date("start", end - timedelta(days=6))
    if start > end or (end - start).days >= MAX_PERIOD_DAYS:
        abort_with(400, _("Choose a period of one day to one year, the start before the end."))
    rows = transfers.per_sender(g.scope, datetime.combine(start, datetime.min.time()),
                                datetime.combine(end + timedelta(days=1), datetime.min.time()))
    return render_template("ops/transfers.html", rows=rows, start=start, end=end, targets=clocks.targets(),
                           waiting=transfers.waiting(g.scope), seconds_between=clocks.seconds_between,
                           now=utcnow(), failing=transfers.failing_callbacks(g.scope))


def _transfer_action(number, action):
    case = get_case_or_404(number, need="manage")
    action(case, current_user._get_current_object())
    return redirect(request.form.get("next") if request.form.get("next", "").startswith("/ops/")
                    else url_for("ops.transfer_times"), code=303)


@bp.post("/transfers/<number>/accept")
@login_required
def accept_transfer(number):
    response = _transfer_action(number, clocks.accept)
    flash(_("Transfer %(number)s accepted.", number=number[:20]), "success")
    return response


@bp.post("/transfers/<number>/contact")
@login_required
def contact_transfer(number):
    response = _transfer_action(number, clocks.record_contact)
    flash(_("First contact with the party in %(number)s recorded.", number=number[:20]), "success")
    return response


@bp.get("/reports/<week>.<fmt>")
@dashboard_required
def weekly_report(week, fmt):
    if fmt not in ("pdf", "csv"):
        abort(404)
    try:
        start = report.week_start(week)
    except ValueError:
        abort(404)
    if fmt == "csv":
        body = "\ufeff" + report.render_csv(g.scope, start)
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="odr-report-{week}.csv"'})
    pdf = report.render_pdf_report(g.scope, start)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="odr-report-{week}.pdf"'})


def workplace(user):
    """The dashboard, for whoever has one (staff, managers, admins); managers, who have no queue,
    start there (``odr.cases.todo``)."""
    from odr.cases.todo import Workplace

    if user.organizations_for(Role.manager) or user.organizations_for(Role.staff) or user.is_admin:
        return [Workplace("dashboard", _("Dashboard"), url_for("ops.dashboard"))]
    return []
