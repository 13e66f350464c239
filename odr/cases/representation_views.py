"""Routes of agents and helpers (rules in ``odr.cases.representation``).

- ``GET  /cases/<number>/representatives``: who acts for whom in the case; a party's form to appoint;
  the staff's and mediator's review of powers of attorney;
- ``POST /cases/<number>/representatives``: a party appoints an agent (with the power of attorney) or a helper;
- ``GET  /cases/<number>/representatives/<id>/power-of-attorney``: the file, for the party, the agent
  and the reviewers;
- ``POST …/<id>/review``: staff or mediator accept or refuse the power of attorney;
- ``POST …/<id>/revoke``: the party takes it back, at once;
- ``GET/POST /cases/represent/<token>[/accept|/decline]``: the invited representative answers.

Every ``POST`` to a case's address (``<number>``) by a representative with the read scope is refused
before its view runs (:func:`refuse_read_only`); the audit trail refuses their entries too
(``representation.on_behalf_of``), which covers socket events and addresses without a case number.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from odr import uploads
from odr.cases import labels
from odr.cases import representation as reps
from odr.cases.access import get_case_or_404
from odr.cases.forms import AppointForm, ConfirmForm, ReviewForm
from odr.cases.labels import REPRESENTATION_STATUS as STATUS, REPRESENTATIVE_KIND as KIND, SCOPE
from odr.cases.models import Case, RepresentationStatus, RepresentativeKind, Scope
from odr.errors import abort_with
from odr.extensions import db

bp = Blueprint("representation", __name__, url_prefix="/cases")


def _me():
    return current_user._get_current_object()


def _page(case, form=None, error=None, status=200):
    me = _me()
    if form is None:
        form = AppointForm(formdata=None)
    return render_template(
        "cases/representatives.html", case=case, reps=reps.representations(case), form=form, error=error,
        can_appoint=reps.can_appoint(case, me), can_review=reps.can_review(case, me),
        can_revoke=lambda rep: reps.can_revoke(rep, me), can_see_poa=lambda rep: reps.can_see_poa(rep, me),
        review_form=ReviewForm(formdata=None), confirm_form=ConfirmForm(formdata=None),
        Status=RepresentationStatus, Kind=RepresentativeKind, KIND=KIND, SCOPE=SCOPE, STATUS=STATUS,
        max_mb=current_app.config["POWER_OF_ATTORNEY_MAX_BYTES"] // (1024 * 1024),
        accept=",".join(sorted(reps.POA_TYPES)),
    ), status


@bp.get("/<number>/representatives")
@login_required
def show(number):
    return _page(get_case_or_404(number))


@bp.post("/<number>/representatives")
@login_required
def appoint(number):
    case = get_case_or_404(number)
    me = _me()
    if not reps.can_appoint(case, me):
        abort(403)
    limit = current_app.config["POWER_OF_ATTORNEY_MAX_BYTES"]
    request.max_content_length = limit + 64 * 1024  # the form fields around the file
    try:
        file = request.files.get("power_of_attorney")
        form = AppointForm()
    except RequestEntityTooLarge:
        return _page(case, error=_("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)), status=413)
    if not form.validate_on_submit():
        return _page(case, form, status=400)
    kind = RepresentativeKind(form.kind.data)
    has_file = file is not None and bool(file.filename)
    try:
        rep = reps.appoint(case, me, kind, Scope(form.scope.data), form.name.data, form.phone.data or None,
                           form.email.data or None, poa=file.stream if has_file else None,
                           poa_filename=file.filename if has_file else None)
    except reps.RepresentationError as exc:
        db.session.rollback()
        return _page(case, form, error=exc.reason, status=400)
    if kind is RepresentativeKind.agent:
        flash(_("%(name)s is invited. They can act for you once they accept and the power of attorney is "
                "accepted.", name=rep.name), "success")
    else:
        flash(_("%(name)s is invited. They can act for you once they accept.", name=rep.name), "success")
    return redirect(url_for("representation.show", number=case.number), code=303)


def _rep_or_404(case: Case, rid: int):
    rep = reps.get(case, rid)
    if rep is None:
        abort(404)
    return rep


@bp.get("/<number>/representatives/<int:rid>/power-of-attorney")
@login_required
def power_of_attorney(number, rid):
    case = get_case_or_404(number)
    rep = _rep_or_404(case, rid)
    if not reps.can_see_poa(rep, _me()):
        abort(404)  # whoever may not see it does not learn there is one
    return uploads.send_stored(rep.poa_sha256, rep.poa_mimetype, rep.poa_filename)


@bp.post("/<number>/representatives/<int:rid>/review")
@login_required
def review(number, rid):
    case = get_case_or_404(number)
    me = _me()
    if not reps.can_review(case, me):
        abort(403)
    rep = _rep_or_404(case, rid)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _page(case, error=" ".join(str(e) for f in form for e in f.errors), status=400)
    try:
        reps.review(rep, me, form.decision.data == "accept", form.reason.data or "")
    except reps.RepresentationError as exc:
        db.session.rollback()
        return _page(case, error=exc.reason, status=409)
    flash(_("The power of attorney was accepted.") if form.decision.data == "accept"
          else _("The power of attorney was refused."), "success")
    return redirect(url_for("representation.show", number=case.number), code=303)


@bp.post("/<number>/representatives/<int:rid>/revoke")
@login_required
def revoke(number, rid):
    case = get_case_or_404(number)
    me = _me()
    rep = _rep_or_404(case, rid)
    if reps.own_party(case, me) is None or reps.own_party(case, me).id != rep.party_id:
        abort(403)
    if not ConfirmForm().validate_on_submit():
        return _page(case, error=_("The form expired. Try again."), status=400)
    try:
        reps.revoke(rep, me)
    except reps.RepresentationError as exc:
        db.session.rollback()
        return _page(case, error=exc.reason, status=409)
    flash(_("%(name)s can no longer act for you in this case.", name=rep.name), "success")
    return redirect(url_for("representation.show", number=case.number), code=303)


# --- the representative's invitation ----------------------------------------------------------------

def _invited_or_404(token):
    rep = reps.for_token(token)
    if rep is None or rep.status is not RepresentationStatus.invited:
        abort(404)
    return rep


def _invitation(rep, error=None, status=200):
    return render_template("cases/represent_invitation.html", rep=rep, case=rep.case, error=error,
                           KIND=KIND, SCOPE=SCOPE, form=ConfirmForm(formdata=None)), status


@bp.get("/represent/<token>")
def invitation(token):
    return _invitation(_invited_or_404(token))


@bp.post("/represent/<token>/accept")
@login_required
def accept(token):
    rep = _invited_or_404(token)
    if not ConfirmForm().validate_on_submit():
        return _invitation(rep, _("The form expired. Try again."), 400)
    try:
        reps.accept(rep, _me())
    except reps.RepresentationError as exc:
        db.session.rollback()
        return _invitation(rep, exc.reason, 409)
    if rep.status is RepresentationStatus.active:
        flash(_("You now help %(party)s with case %(number)s.", party=rep.party.name, number=rep.case.number),
              "success")
        return redirect(url_for("cases.show", number=rep.case.number), code=303)
    flash(_("Thank you. You can act in case %(number)s once its staff or mediator accepts the power of attorney.",
            number=rep.case.number), "success")
    return redirect(url_for("cases.my_cases"), code=303)


@bp.post("/represent/<token>/decline")
@login_required
def decline(token):
    rep = _invited_or_404(token)
    if not ConfirmForm().validate_on_submit():
        return _invitation(rep, _("The form expired. Try again."), 400)
    try:
        reps.decline(rep, _me())
    except reps.RepresentationError as exc:
        db.session.rollback()
        return _invitation(rep, exc.reason, 409)
    flash(_("You declined. %(party)s is told.", party=rep.party.name), "success")
    return redirect(url_for("cases.my_cases"), code=303)


# --- read only means read only ------------------------------------------------------------------------

def refuse_read_only():
    """Before any ``POST`` to a case's address: a representative with the read scope is refused (403)."""
    if request.method != "POST" or not request.view_args or "number" not in request.view_args:
        return None
    if not current_user.is_authenticated:
        return None
    number = request.view_args["number"]
    if not isinstance(number, str):
        return None
    case = db.session.scalar(db.select(Case).where(Case.number == number[:20]))
    if case is not None and reps.is_read_only(case, _me()):
        abort_with(403, _("You may only read this case: the party gave you no right to act for them."))
    return None

