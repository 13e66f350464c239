"""The arbitration stage of a case, on one page for everyone in it, and the desks of commission
staff and arbitrators.

- ``/arbitrate/<number>``: the stage page — basis, acceptance and fee, tribunal (nominate, appoint,
  declare, challenge), statements with their deadlines, evidence, hearing and award. Each person
  sees the steps that are theirs; every step is a POST below, checked again by the operation.
- ``/arbitrate/<number>/request``: a party asks for arbitration (agreement to sign, or clause).
- ``/arbitrate/``: what waits for commission staff (clauses, acceptance, tribunals, challenges) and
  for an arbitrator (their seats).

A refused step answers with the page and the reason: 409 when it is not possible now or not by
this person, 422 when what was sent is not acceptable, 400 when the form itself is incomplete.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

import sqlalchemy as sa

from odr import uploads
from odr.timeutil import local_to_utc
from odr.arbitrate import forms
from odr.arbitrate import award as awards, basis, common, proceedings, tribunal
from odr.arbitrate.fees import schedule
from odr.arbitrate.models import Arbitration, Procedure, SeatRole, SeatStatus
from odr.cases.models import Case, Stage
from odr.cases.stages import stage_status
from odr.cases.workflow import available_moves
from odr.extensions import db

bp = Blueprint("arbitrate", __name__, url_prefix="/arbitrate")

SEAT_LABELS = {SeatRole.sole: _l("Sole arbitrator"), SeatRole.presiding: _l("Presiding arbitrator"),
               SeatRole.member: _l("Arbitrator")}


def _me():
    return current_user._get_current_object()


def _case(number: str) -> tuple[Case, Arbitration | None, set[str]]:
    """The case and its arbitration, for someone in the case or on the staff of the commission asked.

    :raise 404: no such case, or the user may not learn that it exists.
    """
    case = db.session.scalar(sa.select(Case).where(Case.number == number[:20]))
    if case is None:
        abort(404)
    arb = common.of(case)
    roles = common.roles(case, arb, _me())
    if not roles:
        abort(404)
    return case, arb, roles


@bp.app_context_processor
def _helpers():
    return {"seat_label": SEAT_LABELS, "procedure_label": forms.PROCEDURE_LABELS,
            "arbitration_may_request": lambda case: basis.may_request(case, _me())}


def _page(case, arb, roles, *, error=None, status=200, **given):
    me = _me()
    built = {}
    if arb is not None:
        built = _forms(case, arb)
    built.update(given)
    return render_template(
        "cases/stage.html", case=case, stage=Stage.arbitration, status=stage_status(case, Stage.arbitration),
        moves=[m for m in available_moves(case, me) if case.stage is Stage.arbitration],
        arb=arb, roles=roles, proceedings=proceedings, fee_schedule=schedule, me=me, forms=built, error=error,
        seat=arb.seat_of(me) if arb else None,
        evidence=proceedings.evidence(case) if arb else [],
        agreement=common.agreement(case), award=common.award(case),
        nominations=arb.nominations() if arb else {},
        award_refusal=awards.award_refusal(arb) if arb is not None and arb.status.value == "accepted" else None,
        may_request=basis.may_request(case, me)), status


def _forms(case, arb) -> dict:
    roster = common.roster(arb.commission_id)
    return {
        "clause": forms.ClauseDecisionForm(formdata=None),
        "accept": forms.AcceptForm(formdata=None),
        "nominate": forms.NominateForm(formdata=None).set_choices(roster),
        "appoint": forms.AppointForm(formdata=None).set_choices(roster),
        "declare": forms.DeclareForm(formdata=None),
        "challenge": forms.ChallengeForm(formdata=None).set_choices(
            arb.active_seats, label=lambda s: f"{s.user.name} ({SEAT_LABELS[s.role]})"),
        "decide": forms.ChallengeDecisionForm(formdata=None),
        "claim": forms.StatementForm(formdata=None, text=arb.claim_text),
        "defence": forms.StatementForm(formdata=None),
        "deadline": forms.DeadlineForm(formdata=None),
        "evidence": forms.EvidenceForm(formdata=None),
        "hearing": forms.HearingForm(formdata=None),
        "award": forms.AwardForm(formdata=None, costs=_default_costs(arb)),
    }


def _default_costs(arb) -> str:
    if arb.fee is None:
        return ""
    return _("The arbitration fee of %(fee)s yuan is borne by the respondent.", fee=f"{arb.fee:,.2f}")


@bp.errorhandler(common.ArbitrationError)
def _refused(exc):
    db.session.rollback()
    case, arb, roles = _case(request.view_args["number"])
    return _page(case, arb, roles, error=exc.reason, status=422 if isinstance(exc, common.BadInput) else 409)


@bp.get("/<number>")
@login_required
def case_stage(number):
    case, arb, roles = _case(number)
    return _page(case, arb, roles)


def _done(case, message: str):
    flash(message, "success")
    return redirect(url_for("arbitrate.case_stage", number=case.number), code=303)


def _invalid(case, arb, roles, name, form):
    return _page(case, arb, roles, status=400, **{name: form})


def _arb(case, arb):
    if arb is None:
        raise common.ArbitrationError(_("Nobody has asked for arbitration in this case."))
    return arb


# --- the basis -------------------------------------------------------------------------------

@bp.route("/<number>/request", methods=["GET", "POST"])
@login_required
def request_arbitration(number):
    case, arb, roles = _case(number)
    me = _me()
    if not basis.may_request(case, me):
        current = common.agreement(case)
        if current is not None and current.signer_for(me) is not None and current.status.value == "signing":
            return redirect(url_for("documents.view", doc_id=current.id), code=303)
        return _page(case, arb, roles, status=409, error=_(
            "A party can ask for arbitration while the case is at assessment or in mediation, once it is not "
            "already filed with a commission."))
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    request.max_content_length = limit + 64 * 1024
    try:
        form = forms.RequestForm().set_choices(common.commissions())
        file = request.files.get("contract") if request.method == "POST" else None
    except RequestEntityTooLarge:
        form = forms.RequestForm(formdata=None).set_choices(common.commissions())
        return render_template("arbitrate/request.html", case=case, arb=arb, form=form, error=_(
            "The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024))), 413
    error = None
    if form.validate_on_submit():
        try:
            if form.route.data == "clause":
                if file is None or not file.filename:
                    raise common.BadInput(_("Upload the contract that holds the arbitration clause."))
                basis.submit_clause(case, me, form.chosen, file.stream, file.filename, form.clause_text.data)
                return _done(case, _("The commission will check the clause of your contract."))
            document = basis.propose_agreement(case, me, form.chosen, str(get_locale() or "zh"))
        except common.ArbitrationError as exc:
            db.session.rollback()
            error = exc.reason
        else:
            return redirect(url_for("documents.view", doc_id=document.id), code=303)
    status = 422 if error else 400 if form.errors else 200
    return render_template("arbitrate/request.html", case=case, arb=arb, form=form, error=error), status


@bp.get("/<number>/contract")
@login_required
def contract(number):
    case, arb, roles = _case(number)
    if arb is None or arb.contract_sha256 is None:
        abort(404)
    return uploads.send_stored(arb.contract_sha256, arb.contract_mimetype, arb.contract_filename)


@bp.post("/<number>/clause")
@login_required
def clause(number):
    case, arb, roles = _case(number)
    form = forms.ClauseDecisionForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "clause", form)
    basis.decide_clause(case, _arb(case, arb), _me(), form.decision.data == "confirm", form.reason.data or "")
    return _done(case, _("The decision on the clause was recorded."))


# --- acceptance and tribunal ----------------------------------------------------------------------

@bp.post("/<number>/acceptance")
@login_required
def accept(number):
    case, arb, roles = _case(number)
    form = forms.AcceptForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "accept", form)
    basis.accept(case, _arb(case, arb), _me(), Procedure(form.procedure.data))
    return _done(case, _("The case was accepted."))


@bp.post("/<number>/nominate")
@login_required
def nominate(number):
    case, arb, roles = _case(number)
    arb = _arb(case, arb)
    form = forms.NominateForm().set_choices(common.roster(arb.commission_id))
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "nominate", form)
    tribunal.nominate(case, arb, _me(), form.chosen.id)
    return _done(case, _("Your choice of arbitrator was recorded."))


@bp.post("/<number>/appoint")
@login_required
def appoint(number):
    case, arb, roles = _case(number)
    arb = _arb(case, arb)
    form = forms.AppointForm().set_choices(common.roster(arb.commission_id))
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "appoint", form)
    tribunal.appoint(case, arb, _me(), form.chosen.id if form.chosen else None)
    return _done(case, _("The arbitrators were appointed."))


@bp.post("/<number>/declare")
@login_required
def declare(number):
    case, arb, roles = _case(number)
    form = forms.DeclareForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "declare", form)
    tribunal.declare(case, _arb(case, arb), _me(), form.independent.data == "yes", form.disclosure.data or "")
    return _done(case, _("Your declaration was recorded."))


@bp.post("/<number>/challenge")
@login_required
def challenge(number):
    case, arb, roles = _case(number)
    arb = _arb(case, arb)
    form = forms.ChallengeForm().set_choices(arb.active_seats, label=lambda s: s.user.name)
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "challenge", form)
    tribunal.challenge(case, arb, _me(), form.chosen.id, form.reason.data)
    return _done(case, _("Your challenge was sent to the commission."))


@bp.post("/<number>/challenges/<int:challenge_id>")
@login_required
def decide_challenge(number, challenge_id):
    case, arb, roles = _case(number)
    form = forms.ChallengeDecisionForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "decide", form)
    tribunal.decide_challenge(case, _arb(case, arb), _me(), challenge_id, form.upheld.data == "yes", form.reason.data)
    return _done(case, _("The challenge was decided."))


# --- statements, deadlines, evidence --------------------------------------------------------------

@bp.post("/<number>/statement")
@login_required
def statement(number):
    case, arb, roles = _case(number)
    form = forms.StatementForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "defence" if "respondent" in roles else "claim", form)
    proceedings.submit_statement(case, _arb(case, arb), _me(), form.text.data)
    return _done(case, _("Your statement was submitted."))


@bp.post("/<number>/deadline")
@login_required
def deadline(number):
    case, arb, roles = _case(number)
    form = forms.DeadlineForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "deadline", form)
    proceedings.extend_deadline(case, _arb(case, arb), _me(), form.which.data, form.days.data, form.reason.data)
    return _done(case, _("The deadline was extended."))


@bp.post("/<number>/evidence")
@login_required
def evidence_upload(number):
    case, arb, roles = _case(number)
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    request.max_content_length = limit + 64 * 1024
    try:
        file = request.files.get("file")
        form = forms.EvidenceForm()
    except RequestEntityTooLarge:
        return _page(case, arb, roles, status=413, error=_("The file is larger than %(mb)s MB.",
                                                           mb=limit // (1024 * 1024)))
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "evidence", form)
    if not proceedings.may_add_evidence(case, _arb(case, arb), _me()):
        raise common.ArbitrationError(_("Only the parties and the arbitrators can add evidence."))
    if file is None or not file.filename:
        raise common.BadInput(_("Choose a file to upload."))
    item = proceedings.add_evidence(case, _arb(case, arb), _me(), file.stream, file.filename, form.description.data or "")
    return _done(case, _("The file %(name)s was added.", name=item.filename))


@bp.get("/<number>/evidence/<int:eid>")
@login_required
def evidence_file(number, eid):
    case, arb, roles = _case(number)
    item = next((e for e in proceedings.evidence(case) if e.id == eid), None) if arb is not None else None
    if item is None:
        abort(404)
    return uploads.send_stored(item.sha256, item.mimetype, item.filename)


# --- hearing and award -------------------------------------------------------------------------------

@bp.post("/<number>/hearing")
@login_required
def hearing(number):
    case, arb, roles = _case(number)
    form = forms.HearingForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "hearing", form)
    proceedings.schedule_hearing(case, _arb(case, arb), _me(), local_to_utc(form.when.data))
    return _done(case, _("The hearing was scheduled and the parties told."))


@bp.post("/<number>/hearing/room")
@login_required
def hearing_open(number):
    case, arb, roles = _case(number)
    room = proceedings.open_hearing(case, _arb(case, arb), _me())
    return redirect(url_for("video.room", number=case.number, room_id=room.id), code=303)


@bp.post("/<number>/award")
@login_required
def award(number):
    case, arb, roles = _case(number)
    form = forms.AwardForm()
    if not form.validate_on_submit():
        return _invalid(case, arb, roles, "award", form)
    document = awards.draft_award(case, _arb(case, arb), _me(), facts=form.facts.data, reasoning=form.reasoning.data,
                               decision=form.decision.data.splitlines(), costs=form.costs.data, lang=form.lang.data,
                               payments=form.instalment_rows(), payer_side=form.payer.data)
    return redirect(url_for("documents.view", doc_id=document.id), code=303)


# --- desks ------------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def desk():
    me = _me()
    from odr.auth.models import Role

    is_staff = me.is_admin or any(o.id in me.organizations_for(Role.staff) for o in common.commissions())
    is_arbitrator = bool(me.organizations_for(Role.arbitrator))
    if not (is_staff or is_arbitrator):
        abort(403)
    return render_template("arbitrate/desk.html", arbitrations=common.cases_for_commission(me) if is_staff else [],
                           seats=common.seats_of_arbitrator(me) if is_arbitrator else [],
                           SeatStatus=SeatStatus)
