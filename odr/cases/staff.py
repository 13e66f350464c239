"""Center staff: their organisation's queue and counter intake for walk-in visitors."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases.forms import CounterForm
from odr.cases.models import Channel, Organization
from odr.cases.views import dispute_details, party_details
from odr.extensions import db

bp = Blueprint("staff", __name__, url_prefix="/staff")


def staff_required(view):
    """Only staff of some organisation (or admins) reach staff pages.

    :raise 403: signed in without a staff role.
    """

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not (current_user.organizations_for(Role.staff) or current_user.is_admin):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/")
@staff_required
def queue():
    page = request.args.get("page", 1, type=int)
    show_closed = request.args.get("closed") == "1"
    pagination = ops.staff_queue(current_user, page=max(page, 1), show_closed=show_closed)
    return render_template("staff/queue.html", pagination=pagination, show_closed=show_closed)


@bp.route("/cases/new", methods=["GET", "POST"])
@staff_required
def counter_intake():
    orgs = sorted(current_user.organizations_for(Role.staff))
    form = CounterForm()
    if form.validate_on_submit():
        organization = db.session.get(Organization, orgs[0]) if orgs else None
        case = ops.file_case(
            current_user._get_current_object(), Channel.counter, dispute_details(form),
            party_details(form, "claimant"), party_details(form, "respondent"), organization=organization,
        )
        db.session.commit()
        flash(_("Case %(number)s entered. The visitor and the other party were sent their invitations.",
                number=case.number), "success")
        return redirect(url_for("cases.show", number=case.number), code=303)
    return render_template("staff/counter.html", form=form), 400 if form.errors else 200
