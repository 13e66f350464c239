"""The litigation stage of a case, and the court's side: the clerk's inbox of hand-offs.

- ``/court/<number>/complaint``: after failed mediation, the claimant prepares the complaint to the
  court of their choice and signs it (``odr.court.complaint``).
- ``/court/<number>/handoff``: the centre hands the case over — a filing to the court of the
  claimant's sealed complaint (the bundle is written and kept as handed).
- ``/court/inbox``: a clerk sees the hand-offs to their court(s) — only those; downloads each
  bundle and the signed checkpoints of the case's audit trail (the court is their witness), and
  records receipt, the docket number and the result, which the parties are told.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.auth.models import Role
from odr.cases.access import get_case_or_404
from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint
from odr.court import operations as ops
from odr.court.forms import RESULT_LABELS, ComplaintForm, DocketForm, HandoffForm, ResultForm
from odr.court.models import FOLLOWED_BY, Handoff, HandoffKind, HandoffStatus
from odr.documents.models import SigningStatus
from odr.errors import abort_with
from odr.extensions import db

bp = stage_blueprint("court", Stage.litigation, "/court")

PER_PAGE = 30


KIND_LABELS = {HandoffKind.confirmation: _l("Judicial confirmation of a settlement"),
               HandoffKind.filing: _l("Filing after failed mediation"),
               HandoffKind.enforcement: _l("Application for enforcement")}
STATUS_LABELS = {HandoffStatus.sent: _l("Sent"), HandoffStatus.received: _l("Received"),
                 HandoffStatus.docketed: _l("Docketed"), HandoffStatus.decided: _l("Decided")}


def _current_complaint(case):
    from odr.court.complaint import current_complaint
    return current_complaint(case)


def _enforcement_handoff(case):
    """The case's application for enforcement at a court, if one was handed over (shown to the parties)."""
    from odr.court import enforcement

    return enforcement.enforcement_handoff(case)


def _enforcement_link(case) -> bool:
    """Whether the signed-in party may apply for enforcement in ``case`` now (the performance page links it)."""
    from odr.court import enforcement

    return current_user.is_authenticated and enforcement.refusal(case, current_user) is None


@bp.app_context_processor
def _labels():
    return {"court_result": RESULT_LABELS, "handoff_kind": KIND_LABELS, "handoff_status": STATUS_LABELS,
            "court_handoff": ops.current_handoff, "court_complaint": _current_complaint,
            "enforcement_link": _enforcement_link, "enforcement_handoff": _enforcement_handoff}


def clerk_courts() -> set[int]:
    return current_user.organizations_for(Role.court_clerk) if current_user.is_authenticated else set()


def get_handoff_or_404(handoff_id: int) -> Handoff:
    """A hand-off, to a clerk of its court or an admin; everyone else learns nothing."""
    handoff = db.session.get(Handoff, handoff_id)
    if handoff is None or not (current_user.is_admin or handoff.court_id in clerk_courts()):
        abort(404)
    return handoff


@bp.route("/<number>/handoff", methods=["GET", "POST"])
@login_required
def handoff(number):
    """The centre hands the case over: a filing goes to the court of the claimant's sealed complaint."""
    from odr.court import complaint as complaints

    case = get_case_or_404(number, need="manage")
    complaint = complaints.current_complaint(case)
    sealed = complaint if complaint is not None and complaint.status is SigningStatus.complete else None
    # A filing goes where the sealed complaint is addressed; a settlement anywhere staff choose.
    form = HandoffForm([complaints.court_of(sealed)] if sealed is not None else ops.courts())
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            court = form.chosen_court
            try:
                ops.hand_off(case, court, current_user._get_current_object())
            except ops.CourtError as exc:
                db.session.rollback()
                form.court.errors.append(exc.reason)
                status = 409
            else:
                flash(_("The case was handed to %(court)s.", court=court.name), "success")
                return redirect(url_for("cases.show", number=number), code=303)
    elif sealed is not None:
        form.court.data = str(complaints.court_of(sealed).id)
    return render_template("court/handoff.html", case=case, form=form, handoff=ops.current_handoff(case),
                           complaint=complaint, complaint_court=complaints.court_of(complaint) if complaint else None,
                           needs_complaint=case.outcome is None), status


@bp.route("/<number>/complaint", methods=["GET", "POST"])
@login_required
def complaint(number):
    """The claimant prepares the complaint to the court of their choice, then signs it on the document page.

    :raise 404: the user may not see the case.
    :raise 403: the user is not its claimant.
    :raise 409: not at the court hand-off stage, handed over, or the complaint is sealed already.
    """
    from flask_babel import get_locale

    from odr.court import complaint as complaints

    case = get_case_or_404(number)
    me = current_user._get_current_object()
    if not complaints.is_claimant(case, me):
        abort_with(403, _("Only the claimant can prepare and sign the complaint."))
    current = complaints.current_complaint(case)
    why_not = complaints.refusal(case)
    if why_not:
        if current is not None and request.method == "GET":
            return redirect(url_for("documents.view", doc_id=current.id), code=303)
        abort_with(409, str(why_not))
    form = ComplaintForm(ops.courts())
    if form.validate_on_submit():
        addresses = complaints.Addresses(form.claimant_address.data or "", form.respondent_address.data or "")
        try:
            document = complaints.prepare_complaint(case, me, form.chosen_court, str(get_locale() or "zh"), addresses)
        except ops.CourtError as exc:
            db.session.rollback()
            form.court.errors.append(exc.reason)
        else:
            return redirect(url_for("documents.view", doc_id=document.id), code=303)
    elif request.method == "GET" and current is not None:
        form.court.data = str(complaints.court_of(current).id)
    return render_template("court/complaint.html", case=case, form=form, waiting=current), \
        400 if form.errors else 200


@bp.route("/<number>/confirmation", methods=["GET", "POST"])
@login_required
def confirmation(number):
    """A party asks for judicial confirmation of the settlement: choose the court, then both sign."""
    from flask_babel import get_locale

    from odr.court import confirmation as conf

    case = get_case_or_404(number)
    me = current_user._get_current_object()
    application = conf.current_application(case)
    if not conf.may_request(case, me):
        if application is not None and application.signer_for(me) is not None:
            return redirect(url_for("documents.view", doc_id=application.id), code=303)
        abort_with(409, _("Judicial confirmation can be asked for by a party of a settled case whose agreement "
                          "everyone signed, once."))
    form = HandoffForm(ops.courts())
    if form.validate_on_submit():
        court = form.chosen_court
        try:
            document = conf.request_confirmation(case, me, court, str(get_locale() or "zh"))
        except ops.CourtError as exc:
            db.session.rollback()
            form.court.errors.append(exc.reason)
        else:
            return redirect(url_for("documents.view", doc_id=document.id), code=303)
    return render_template("court/confirmation.html", case=case, form=form, application=application), \
        400 if form.errors else 200


@bp.route("/<number>/enforcement", methods=["GET", "POST"])
@login_required
def enforcement(number):
    """The entitled side of a confirmed agreement or an award in default applies for enforcement:
    choose the court, then sign the application on the document page.

    :raise 404: the user may not see the case.
    :raise 409: not the entitled side, no basis, nothing overdue, or applied for already.
    """
    from flask_babel import get_locale

    from odr.court import enforcement as enf

    case = get_case_or_404(number)
    me = current_user._get_current_object()
    application = enf.current_application(case)
    why_not = enf.refusal(case, me)
    if why_not:
        if application is not None and application.signer_for(me) is not None and request.method == "GET":
            return redirect(url_for("documents.view", doc_id=application.id), code=303)
        abort_with(409, str(why_not))
    form = HandoffForm(ops.courts())
    if form.validate_on_submit():
        try:
            document = enf.prepare(case, me, form.chosen_court, str(get_locale() or "zh"))
        except ops.CourtError as exc:
            db.session.rollback()
            form.court.errors.append(exc.reason)
        else:
            return redirect(url_for("documents.view", doc_id=document.id), code=303)
    from odr.cases.performance import schedule_of

    schedule = schedule_of(case)
    total, paid, remaining = enf.amounts(schedule)
    return render_template("court/enforcement.html", case=case, form=form, application=application,
                           basis=enf.basis_of(case), total=total, paid=paid, remaining=remaining), \
        400 if form.errors else 200


@bp.get("/inbox")
@login_required
def inbox():
    courts = clerk_courts()
    if not courts and not current_user.is_admin:
        abort(403)
    query = sa.select(Handoff).order_by(Handoff.created_at.desc(), Handoff.id.desc())
    if not current_user.is_admin:
        query = query.where(Handoff.court_id.in_(courts))
    status = request.args.get("status")
    if status in HandoffStatus.__members__:
        query = query.where(Handoff.status == HandoffStatus(status))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("court/inbox.html", page=page, status=status, statuses=list(HandoffStatus))


@bp.get("/handoffs/<int:handoff_id>")
@login_required
def show(handoff_id):
    return _render_show(get_handoff_or_404(handoff_id))


@bp.get("/handoffs/<int:handoff_id>/bundle.zip")
@login_required
def bundle(handoff_id):
    handoff = get_handoff_or_404(handoff_id)
    return send_file(ops.bundle_path(handoff), mimetype="application/zip", as_attachment=True,
                     download_name=f"{handoff.case.number}.zip", etag=handoff.bundle_sha256)


@bp.get("/handoffs/<int:handoff_id>/checkpoints.json")
@login_required
def checkpoints(handoff_id):
    """Every signed checkpoint of the case's audit trail so far, as the bundle holds them."""
    from odr.court.bundle import checkpoint_data

    handoff = get_handoff_or_404(handoff_id)
    resp = jsonify(checkpoint_data(handoff.case))
    resp.headers["Content-Disposition"] = f'attachment; filename="{handoff.case.number}-checkpoints.json"'
    return resp


def _render_show(handoff, status=200, docket_form=None, result_form=None):
    return render_template("court/handoff_show.html", handoff=handoff, case=handoff.case,
                           docket_form=docket_form or DocketForm(formdata=None),
                           result_form=result_form or ResultForm(handoff.kind, formdata=None),
                           result_open=handoff.result is None or handoff.result in FOLLOWED_BY), status


def _report(handoff, step, form=None, field=None):
    try:
        changed = step(handoff, current_user._get_current_object())
    except ops.InvalidReport as exc:
        db.session.rollback()
        if form is not None:
            getattr(form, field).errors = [exc.reason]
            return _render_show(handoff, 422, **{f"{field.split('_')[0]}_form": form})
        abort_with(422, exc.reason)
    if changed:
        flash(_("Recorded."), "success")
    return redirect(url_for("court.show", handoff_id=handoff.id), code=303)


@bp.post("/handoffs/<int:handoff_id>/receipt")
@login_required
def receipt(handoff_id):
    return _report(get_handoff_or_404(handoff_id), ops.record_receipt)


@bp.post("/handoffs/<int:handoff_id>/docket")
@login_required
def docket(handoff_id):
    handoff = get_handoff_or_404(handoff_id)
    form = DocketForm()
    if not form.validate_on_submit():
        return _render_show(handoff, 400, docket_form=form)
    return _report(handoff, lambda h, actor: ops.record_docket(h, actor, form.docket_number.data),
                   form, "docket_number")


@bp.post("/handoffs/<int:handoff_id>/result")
@login_required
def result(handoff_id):
    handoff = get_handoff_or_404(handoff_id)
    form = ResultForm(handoff.kind)
    if not form.validate_on_submit():
        return _render_show(handoff, 400, result_form=form)
    return _report(handoff, lambda h, actor: ops.record_result(h, actor, form.result.data, form.note.data or ""),
                   form, "result")
