"""A party's cases: filing, the case home page, invitations, workflow moves."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from odr.cases import audit, labels, operations as ops, todo, workflow
from odr.cases.access import get_case_or_404
from odr.cases.forms import DeclineForm, DisputeForm, MoveForm, RouteForm
from odr.cases.models import Category, Channel, Organization, OrgType, PartyStatus
from odr.cases.stages import STAGE_ORDER, stage_status, visited_stages
from odr.extensions import db

bp = Blueprint("cases", __name__, url_prefix="/cases")


def dispute_details(form) -> ops.DisputeDetails:
    return ops.DisputeDetails(
        category=Category(form.category.data), description=form.description.data, claim=form.claim.data,
        district=form.district.data, amount_claimed=form.amount_claimed.data,
    )


def party_details(form, prefix) -> ops.PartyDetails:
    return ops.PartyDetails(
        name=getattr(form, f"{prefix}_name").data,
        phone=getattr(form, f"{prefix}_phone").data or None,
        email=getattr(form, f"{prefix}_email").data or None,
    )


@bp.get("/start")
@login_required
def landing():
    """Where a person lands after signing in: their work, or their to-do list (``todo.landing_url``)."""
    return redirect(todo.landing_url(current_user._get_current_object()), code=303)


@bp.get("/")
@login_required
def my_cases():
    return render_template("cases/list.html", cases=ops.cases_of_party(current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_case():
    form = DisputeForm()
    if form.validate_on_submit():
        me = ops.PartyDetails(name=current_user.name, phone=current_user.phone, email=current_user.email)
        case = ops.file_case(current_user, Channel.web, dispute_details(form), me, party_details(form, "respondent"))
        flash(_("Your case %(number)s is filed. Share the invitation with the other party.", number=case.number),
              "success")
        return redirect(url_for("cases.show", number=case.number), code=303)
    return render_template("cases/new.html", form=form), 400 if form.errors else 200


def render_case(case, status=200, move_error=None, route_form=None):
    user = current_user._get_current_object()
    if route_form is None and case.can_manage(user):
        route_form = RouteForm()
    if route_form is not None:
        route_form.organization.choices = organization_choices()
    events = audit.case_events(case)
    visited = visited_stages(events)
    return render_template(
        "cases/show.html", case=case, roles=case.roles_of(user),
        timeline=[(s, stage_status(case, s, visited)) for s in STAGE_ORDER],
        events=[ev for ev in events if audit.may_read(ev, case, user)], moves=workflow.available_moves(case, user), move_error=move_error,
        route_form=route_form, PartyStatus=PartyStatus, invitation_url=ops.invitation_url,
        todos=todo.for_case(case, user),
    ), status


def organization_choices():
    orgs = db.session.scalars(
        db.select(Organization).where(Organization.type != OrgType.court).order_by(Organization.name)
    )
    return [SelectChoice(str(o.id), f"{o.name} · {labels.ORG_TYPE[o.type]} · {labels.district(o.district)}") for o in orgs]


@bp.get("/<number>")
@login_required
def show(number):
    return render_case(get_case_or_404(number))


@bp.get("/<number>/invitation/<side>.svg")
@login_required
def invitation_qr(number, side):
    """QR code of a party's invitation link, to show on a phone or print at the counter."""
    case = get_case_or_404(number, need="invite")
    party = next((p for p in case.parties if p.side.value == side and p.invite_token), None)
    if party is None:
        abort(404)
    import qrcode  # on first use: with Pillow and lxml it would add ~8 MB to every process at start
    import qrcode.image.svg

    image = qrcode.make(ops.invitation_url(party), image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return Response(buf.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


@bp.post("/<number>/move")
@login_required
def move(number):
    case = get_case_or_404(number)
    form = MoveForm()
    if not form.validate_on_submit():
        return render_case(case, 400, move_error=_("Choose a valid next step."))
    target = workflow.parse_target(form.to.data)
    if target is None:
        return render_case(case, 400, move_error=_("Choose a valid next step."))
    try:
        workflow.move(case, target, current_user._get_current_object(), reason=form.reason.data or None)
        db.session.flush()  # two moves at the same moment collide here, not at the commit
    except workflow.WorkflowError as exc:
        db.session.rollback()
        return render_case(case, 409, move_error=exc.reason)
    except IntegrityError:
        db.session.rollback()
        return render_case(case, 409, move_error=_("Someone changed this case at the same moment. Try again."))
    flash(_("The case is now at: %(stage)s.", stage=workflow.stage_label(target)), "success")
    return redirect(url_for("cases.show", number=case.number), code=303)


@bp.post("/<number>/route")
@login_required
def route(number):
    case = get_case_or_404(number, need="manage")
    form = RouteForm()
    form.organization.choices = organization_choices()
    if not form.validate_on_submit():
        return render_case(case, 400, route_form=form)
    try:
        ops.route_case(case, db.session.get(Organization, form.organization.data), current_user._get_current_object())
    except ops.CaseError as exc:
        db.session.rollback()
        form.organization.errors.append(exc.reason)
        return render_case(case, 409, route_form=form)
    flash(_("Case sent to %(org)s.", org=case.organization.name), "success")
    return redirect(url_for("cases.show", number=case.number), code=303)


# --- invitations -------------------------------------------------------------
def _party_or_404(token):
    party = ops.party_for_token(token)
    if party is None or party.status is not PartyStatus.invited:
        abort(404)
    return party


@bp.get("/join/<token>")
def invitation(token):
    """What an invited person sees first: what the case is about, join or decline."""
    party = _party_or_404(token)
    todo.remember_opened_invitation(token)
    return render_template("cases/invitation.html", party=party, case=party.case, decline_form=DeclineForm())


@bp.post("/join/<token>/accept")
@login_required
def accept_invitation(token):
    party = _party_or_404(token)
    try:
        ops.join_case(party, current_user._get_current_object())
        todo.forget_opened_invitation(token)
    except ops.CaseError as exc:
        db.session.rollback()
        return render_template("cases/invitation.html", party=party, case=party.case, decline_form=DeclineForm(), error=exc.reason), 409
    flash(_("You joined case %(number)s.", number=party.case.number), "success")
    return redirect(url_for("cases.show", number=party.case.number), code=303)


@bp.post("/join/<token>/decline")
@login_required
def decline_invitation(token):
    party = _party_or_404(token)
    form = DeclineForm()
    if not form.validate_on_submit():
        return render_template("cases/invitation.html", party=party, case=party.case, decline_form=form), 400
    try:
        ops.decline_invitation(party, current_user._get_current_object(), form.reason.data)
        todo.forget_opened_invitation(token)
    except ops.CaseError as exc:
        db.session.rollback()
        return render_template("cases/invitation.html", party=party, case=party.case, decline_form=form, error=exc.reason), 409
    return redirect(url_for("cases.declined", number=party.case.number), code=303)


@bp.get("/declined/<number>")
@login_required
def declined(number):
    """Where a person lands after declining: they are no party, so they cannot open the case."""
    return render_template("cases/declined.html", case_number=number[:20])
