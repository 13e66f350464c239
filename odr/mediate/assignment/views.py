"""Routes: the directory of mediation organisations, rosters, offers to mediators, change requests.

Who may do what:
- the directory and organisation pages are public (a party chooses where to go);
- staff manage the rosters of their own organisations and assign mediators to their cases;
- a mediator sees and answers only the offers made to them (others get 404);
- a joined party asks once per case for another mediator, and rates the mediator after closing.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.auth.models import Role, User
from odr.cases.models import Organization, Outcome, Stage
from odr.cases.stages import stage_status
from odr.cases.workflow import available_moves
from odr.extensions import db
from odr.mediate.assignment import operations as ops
from odr.mediate.access import mediation_case
from odr.mediate.assignment.forms import (ChangeForm, DeclineForm, MediatorRateForm, OfferForm, ProfileForm,
                                          RosterAddForm)
from odr.mediate.models import Assignment, MediatorProfile
from odr.mediate.views import bp


def _me():
    return current_user._get_current_object()


# --- directory (public) ---------------------------------------------------------------------

@bp.get("/directory")
def directory():
    type_value = request.args.get("type", "")
    type_ = next((t for t in ops.MEDIATION_TYPES if t.value == type_value), None)
    district = request.args.get("district", "")[:64] or None
    specialty = request.args.get("specialty", "")[:32] or None
    orgs = ops.directory(type_, district, specialty)
    profiles = {o.id: ops.roster(o) for o in orgs}
    everyone = [p.user_id for ps in profiles.values() for p in ps]
    return render_template("mediate/directory.html", orgs=orgs, profiles=profiles, loads=ops.load_of(everyone),
                           ratings=ops.ratings_of(everyone), types=ops.MEDIATION_TYPES, type_=type_,
                           district=district, specialty=specialty)


@bp.get("/orgs/<int:oid>")
def organization(oid):
    org = db.session.get(Organization, oid)
    if org is None or org.type not in ops.MEDIATION_TYPES:
        abort(404)
    profiles = ops.roster(org)
    ids = [p.user_id for p in profiles]
    return render_template("mediate/organization.html", org=org, profiles=profiles, loads=ops.load_of(ids),
                           ratings=ops.ratings_of(ids))


# --- roster (staff of the organisation) -------------------------------------------------------

def _staff_org() -> Organization:
    """The mediation organisation the current staff member manages (``?org=`` when several).

    :raise 403: not staff of any mediation organisation.
    """
    mine = current_user.organizations_for(Role.staff)
    wanted = request.values.get("org", type=int)
    orgs = [o for o in (db.session.get(Organization, i) for i in sorted(mine)) if o and o.type in ops.MEDIATION_TYPES]
    if wanted is not None:
        orgs = [o for o in orgs if o.id == wanted]
    if not orgs:
        abort(403)
    return orgs[0]


def roster_staff(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        return view(_staff_org(), *args, **kwargs)

    return wrapper


def _roster_page(org, add_form=None, status=200, forms=None):
    profiles = ops.roster(org)
    forms = forms or {}
    for p in profiles:
        forms.setdefault(p.user_id, ProfileForm(prefix=f"p{p.user_id}", formdata=None, obj=p, data={
            "specialties": p.specialty_list, "languages": p.language_list}))
    return render_template("mediate/roster.html", org=org, profiles=profiles, forms=forms,
                           loads=ops.load_of(p.user_id for p in profiles),
                           add_form=add_form or RosterAddForm(formdata=None)), status


@bp.get("/roster")
@roster_staff
def roster(org):
    return _roster_page(org)


@bp.post("/roster")
@roster_staff
def roster_add(org):
    form = RosterAddForm()
    if not form.validate_on_submit():
        return _roster_page(org, form, 400)
    try:
        profile = ops.add_to_roster(org, form.contact.data, form.name.data, _me())
    except ops.AssignmentError as exc:
        db.session.rollback()
        form.contact.errors = [exc.reason]
        return _roster_page(org, form, 409)
    flash(_("%(name)s is on the roster. Fill in their profile below.", name=profile.user.name), "success")
    return redirect(url_for("mediate.roster", org=org.id), code=303)


def _profile_of(org, uid) -> MediatorProfile:
    profile = db.session.get(MediatorProfile, uid)
    if profile is None or profile.organization_id != org.id:
        abort(404)
    return profile


@bp.post("/roster/<int:uid>")
@roster_staff
def roster_update(org, uid):
    profile = _profile_of(org, uid)
    form = ProfileForm(prefix=f"p{uid}")
    if not form.validate_on_submit():
        return _roster_page(org, status=400, forms={uid: form})
    ops.update_profile(profile, _me(), specialties=form.specialties.data, languages=form.languages.data,
                       bio=form.bio.data or "", capacity=form.capacity.data, accepting=form.accepting.data)
    flash(_("Profile of %(name)s saved.", name=profile.user.name), "success")
    return redirect(url_for("mediate.roster", org=org.id), code=303)


@bp.post("/roster/<int:uid>/remove")
@roster_staff
def roster_remove(org, uid):
    profile = _profile_of(org, uid)
    name = profile.user.name
    try:
        ops.remove_from_roster(profile, _me())
    except ops.AssignmentError as exc:
        db.session.rollback()
        flash(exc.reason, "error")
        return redirect(url_for("mediate.roster", org=org.id), code=303)
    flash(_("%(name)s is off the roster.", name=name), "success")
    return redirect(url_for("mediate.roster", org=org.id), code=303)


# --- assigning a case (staff) -----------------------------------------------------------------

def _assign_page(case, error=None, status=200):
    ops.escalate_overdue()
    return render_template("mediate/assign.html", case=case, suggestions=ops.suggest(case),
                           offer=ops.open_offer(case), history=ops.history(case),
                           requests=ops.open_change_requests(case), escalated=ops.escalated(case),
                           error=error), status


@bp.get("/<number>/assign")
@login_required
def assign(number):
    return _assign_page(mediation_case(number, need="manage"))


@bp.post("/<number>/assign")
@login_required
def assign_offer(number):
    case = mediation_case(number, need="manage", open_only=True)
    form = OfferForm()
    if not form.validate_on_submit():
        return _assign_page(case, _("Choose a mediator."), 400)
    mediator = db.session.get(User, form.mediator.data)
    if mediator is None:
        return _assign_page(case, _("Choose a mediator."), 400)
    try:
        ops.offer(case, mediator, _me())
    except ops.AssignmentError as exc:
        db.session.rollback()
        return _assign_page(case, exc.reason, 409)
    flash(_("Offered to %(name)s.", name=mediator.name), "success")
    return redirect(url_for("mediate.assign", number=case.number), code=303)


@bp.post("/<number>/assign/withdraw")
@login_required
def assign_withdraw(number):
    case = mediation_case(number, need="manage")
    offer = ops.open_offer(case)
    if offer is None:
        return _assign_page(case, _("There is no open offer to withdraw."), 409)
    ops.withdraw(offer, _me())
    return redirect(url_for("mediate.assign", number=case.number), code=303)


# --- offers (the mediator) --------------------------------------------------------------------

@bp.get("/offers")
@login_required
def offers():
    if not current_user.has_role(Role.mediator):
        abort(403)
    ops.escalate_overdue()
    return render_template("mediate/offers.html", offers=ops.open_offers_of(current_user.id),
                           cases=ops.cases_of_mediator(current_user.id))


def _my_offer(aid) -> Assignment:
    """An offer made to the current user; 404 for everyone else (they may not learn of the case)."""
    assignment = db.session.get(Assignment, aid)
    if assignment is None or assignment.mediator_id != current_user.id:
        abort(404)
    return assignment


def _offer_page(assignment, form=None, error=None, status=200):
    return render_template("mediate/offer.html", a=assignment, case=assignment.case,
                           form=form or DeclineForm(formdata=None), error=error), status


@bp.get("/offers/<int:aid>")
@login_required
def offer(aid):
    return _offer_page(_my_offer(aid))


@bp.post("/offers/<int:aid>/accept")
@login_required
def offer_accept(aid):
    assignment = _my_offer(aid)
    try:
        ops.accept(assignment, _me())
    except ops.AssignmentError as exc:
        db.session.rollback()
        return _offer_page(assignment, error=exc.reason, status=409)
    flash(_("You mediate case %(number)s now.", number=assignment.case.number), "success")
    return redirect(url_for("mediate.case_stage", number=assignment.case.number), code=303)


@bp.post("/offers/<int:aid>/decline")
@login_required
def offer_decline(aid):
    assignment = _my_offer(aid)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _offer_page(assignment, form, status=400)
    try:
        ops.decline(assignment, _me(), form.reason.data)
    except ops.AssignmentError as exc:
        db.session.rollback()
        return _offer_page(assignment, form, exc.reason, 409)
    flash(_("You declined case %(number)s. Staff will find someone else.", number=assignment.case.number), "info")
    return redirect(url_for("mediate.offers"), code=303)


def _stage_page(case, error, status):
    """The mediation stage page again, with what was wrong (for its small party forms)."""
    stage = Stage.mediation
    return render_template("cases/stage.html", case=case, stage=stage, status=stage_status(case, stage),
                           moves=available_moves(case, _me()) if case.stage is stage else [], Outcome=Outcome,
                           error=error), status


# --- parties ------------------------------------------------------------------------------------

@bp.post("/<number>/change")
@login_required
def change(number):
    case = mediation_case(number, need="party")
    form = ChangeForm()
    if not form.validate_on_submit():
        return _stage_page(case, " ".join(map(str, form.reason.errors)) or _("Say why you want another mediator."), 400)
    try:
        ops.ask_for_change(case, _me(), form.reason.data)
    except ops.AssignmentError as exc:
        db.session.rollback()
        return _stage_page(case, exc.reason, 409)
    flash(_("Your request went to the staff. They will offer the case to another mediator."), "success")
    return redirect(url_for("mediate.case_stage", number=case.number), code=303)


@bp.post("/<number>/rate")
@login_required
def rate(number):
    case = mediation_case(number, need="party")
    form = MediatorRateForm()
    if not form.validate_on_submit():
        return _stage_page(case, _("Choose from one to five stars."), 400)
    try:
        ops.rate(case, _me(), int(form.stars.data), form.comment.data)
    except ops.AssignmentError as exc:
        db.session.rollback()
        return _stage_page(case, exc.reason, 409)
    flash(_("Thank you for rating the mediator."), "success")
    return redirect(url_for("mediate.case_stage", number=case.number), code=303)


@bp.app_context_processor
def _assignment_helpers():
    return {"mediation_ops": ops, "mediation_side_of": lambda case, user: case.side_of(user),
            "assignment_status": ASSIGNMENT_STATUS}


ASSIGNMENT_STATUS = {
    "offered": _l("waiting for an answer"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "expired": _l("no answer in time"),
    "replaced": _l("replaced"),
    "withdrawn": _l("withdrawn"),
}
