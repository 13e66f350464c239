"""Field pages: the grid worker's phone (``/field/``), the command room (``/field/command``), grids.

A worker sees the dispatches sent to them and those of their grids, no others (404); the command
room is the staff of the organisations that answer for the grids (and admins).
"""

from __future__ import annotations

from functools import partial, wraps

import sqlalchemy as sa
import base64

from flask import Blueprint, abort, flash, has_request_context, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from odr import transaction
from odr.auth import operations as auth_ops
from odr.auth.models import Role, User
from odr.cases.models import Organization
from odr.extensions import db
from odr.headers import uses_location
from odr.field import onsite
from odr.field import operations as ops
from odr.field.forms import AgreementForm, AssignForm, ContactForm, DutyForm, GridForm, ReferForm, SceneForm, StepForm, WorkerForm
from odr.field.models import Dispatch, DispatchStatus, Grid, GridWorker

bp = Blueprint("field", __name__, url_prefix="/field")

ACTIONS = {
    "field_grid_created": _l("Grid created"),
    "field_worker_added": _l("Grid worker added"),
    "field_duty": _l("Grid worker on or off duty"),
    "field_received": _l("Transfer received for field dispatch"),
    "field_dispatched": _l("Dispatched to a grid worker"),
    "field_accepted": _l("Grid worker accepted"),
    "field_contacted": _l("Grid worker reached the party"),
    "field_on_scene": _l("Grid worker on the scene"),
    "field_escalated": _l("Dispatch unanswered: raised in the command room"),
    "field_referred": _l("Referred on site to online mediation"),
    "field_agreement_drawn_up": _l("On-site agreement drawn up"),
    "field_identity_checked": _l("ID card checked in person on site, to sign without a phone code"),
    "field_resolved": _l("Resolved on site: the on-site agreement is sealed"),
}

STATUS = {
    DispatchStatus.waiting: _l("Waiting for a worker"),
    DispatchStatus.dispatched: _l("Sent to the worker"),
    DispatchStatus.accepted: _l("Accepted"),
    DispatchStatus.contacted: _l("Party reached"),
    DispatchStatus.on_scene: _l("On the scene"),
    DispatchStatus.resolved: _l("Resolved on site"),
    DispatchStatus.referred: _l("Referred to mediation"),
}


def on_arrival(case, where):
    """A transfer arrived: dispatch it, and tell the phones and command room once it is stored."""
    dispatch = ops.on_arrival(case, where)
    if dispatch is not None and has_request_context():  # a command or the demo: nobody is watching yet
        transaction.after_commit(partial(_announce, dispatch.id, new=True))


def workplace(user):
    """Grid workers start at their work queue, command rooms at theirs (``odr.cases.todo``)."""
    from odr.cases.todo import Workplace

    places = []
    if user.organizations_for(Role.grid_worker):
        places.append(Workplace("field_queue", _("My dispatches"), url_for("field.queue")))
    staff_orgs = user.organizations_for(Role.staff)
    if staff_orgs and db.session.scalar(sa.select(Grid.id).where(Grid.organization_id.in_(staff_orgs)).limit(1)):
        places.append(Workplace("field_command", _("Command room"), url_for("field.command")))
    return places


def worker_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not ops.is_worker(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _grid_orgs(user) -> set[int] | None:
    """Organisations whose command room ``user`` runs (None: all, for admins)."""
    if user.is_admin:
        return None
    return user.organizations_for(Role.staff)


def command_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not (current_user.is_admin or current_user.organizations_for(Role.staff)):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def get_dispatch_or_404(dispatch_id: int, need: str = "see") -> Dispatch:
    """The dispatch, if the signed-in user may ``see`` it (its worker, its grid's workers, its
    command room), ``work`` it (its worker) or ``command`` it (its command room).

    :raise 404: no such dispatch, or not one the user may see.
    :raise 403: seen, but the user may not do this.
    """
    dispatch = db.session.get(Dispatch, dispatch_id)
    if dispatch is None or not dispatch.can_see(current_user):
        abort(404)
    if need == "work" and not dispatch.can_work(current_user):
        abort(403)
    if need == "command" and not dispatch.can_command(current_user):
        abort(403)
    return dispatch


def _announce(dispatch_id: int, new: bool = False, escalated: bool = False) -> None:
    # Imported only where something is announced (``odr export`` and other commands never do).
    from odr.field import events

    events.announce(dispatch_id, new=new, escalated=escalated)


def escalate_unanswered(now) -> int:
    """The periodic job: dispatches unaccepted past the acceptance target are raised in the command
    room (:func:`odr.field.operations.escalate_unanswered`), and the command room's page and the
    worker's phone hear it live once stored (through the live relay from the jobs process)."""
    from odr import jobs

    escalated = ops.escalate_unanswered(now)
    for dispatch in escalated:
        jobs.tell(partial(_announce, dispatch.id, escalated=True))
    return len(escalated)


def _done(dispatch: Dispatch, message: str, to: str):
    transaction.after_commit(partial(_announce, dispatch.id))
    flash(message, "success")
    return redirect(to, code=303)


# --- the worker's phone -----------------------------------------------------------------

@bp.get("/")
@worker_required
def queue():
    rows = ops.memberships(current_user)
    return render_template("field/queue.html", dispatches=ops.queue(current_user), on_duty=any(r.on_duty for r in rows),
                           grids=[r.grid for r in rows], clock=ops.clock, STATUS=STATUS, targets=ops.targets())


@bp.post("/duty")
@worker_required
def duty():
    form = DutyForm()
    if not form.validate():
        abort(400)
    on = form.on_duty.data == "1"
    ops.set_duty(current_user, on)
    flash(_("You are on duty.") if on else _("You are off duty."), "success")
    return redirect(url_for("field.queue"), code=303)


@bp.get("/d/<int:dispatch_id>")
@login_required
@uses_location  # the check-in on the scene sends where the phone is
def show(dispatch_id):
    dispatch = get_dispatch_or_404(dispatch_id)
    case = dispatch.case
    workers = ops.workers_for(dispatch.organization_id) if dispatch.can_command(current_user) else []
    return render_template("field/dispatch.html", dispatch=dispatch, case=case, clock=ops.clock(dispatch),
                           STATUS=STATUS, workers=workers, contact_form=ContactForm(), scene_form=SceneForm(),
                           refer_form=ReferForm(formdata=None), DispatchStatus=DispatchStatus,
                           agreement_form=_agreement_form(dispatch, AgreementForm(formdata=None, prefix="agreement")),
                           agreement=onsite.agreement_of(dispatch))


def _step(dispatch_id, to: DispatchStatus, form, message, values=lambda form: {}):
    dispatch = get_dispatch_or_404(dispatch_id, need="work")
    if not form.validate():
        return render_template("field/dispatch.html", dispatch=dispatch, case=dispatch.case, clock=ops.clock(dispatch),
                               STATUS=STATUS, workers=[], contact_form=ContactForm(formdata=None),
                               scene_form=form if isinstance(form, SceneForm) else SceneForm(formdata=None),
                               refer_form=ReferForm(formdata=None), DispatchStatus=DispatchStatus,
                               errors=form.errors), 400
    ops.step(dispatch, current_user, to, **values(form))
    return _done(dispatch, message, url_for("field.show", dispatch_id=dispatch.id))


@bp.post("/d/<int:dispatch_id>/accept")
@login_required
def accept(dispatch_id):
    return _step(dispatch_id, DispatchStatus.accepted, StepForm(), _("Accepted. Now reach the party."))


@bp.post("/d/<int:dispatch_id>/contact")
@login_required
def contact(dispatch_id):
    return _step(dispatch_id, DispatchStatus.contacted, ContactForm(), _("Noted: the party was reached."),
                 values=lambda f: {"how": f.how.data})


@bp.post("/d/<int:dispatch_id>/scene")
@login_required
def scene(dispatch_id):
    return _step(dispatch_id, DispatchStatus.on_scene, SceneForm(), _("Checked in on the scene."),
                 values=lambda f: {"lat": f.lat.data, "lng": f.lng.data})


@bp.post("/d/<int:dispatch_id>/refer")
@login_required
def refer(dispatch_id):
    dispatch = get_dispatch_or_404(dispatch_id, need="work")
    form = ReferForm()
    if not form.validate():
        return render_template("field/dispatch.html", dispatch=dispatch, case=dispatch.case, clock=ops.clock(dispatch),
                               STATUS=STATUS, workers=[], contact_form=ContactForm(formdata=None),
                               scene_form=SceneForm(formdata=None), refer_form=form, DispatchStatus=DispatchStatus,
                               errors=form.errors), 400
    onsite.refer(dispatch, current_user, form.present.data, form.facts.data)
    return _done(dispatch, _("Referred to online mediation; both parties are told by SMS."),
                 url_for("field.show", dispatch_id=dispatch.id))


# --- the on-site agreement, signed on the worker's phone ------------------------------------

def _agreement_form(dispatch: Dispatch, form: AgreementForm) -> AgreementForm:
    form.present.choices = [SelectChoice(p.id, p.name) for p in dispatch.case.parties]
    return form


@bp.post("/d/<int:dispatch_id>/agreement")
@login_required
def draw_up(dispatch_id):
    dispatch = get_dispatch_or_404(dispatch_id, need="work")
    form = _agreement_form(dispatch, AgreementForm(prefix="agreement"))
    if form.validate():
        try:
            onsite.draw_up(dispatch, current_user, form.present.data, form.facts.data, form.terms.data,
                           lang=_lang())
        except onsite.OnsiteError as exc:
            db.session.rollback()
            form.present.errors = [*form.present.errors, str(exc.reason)]
        else:
            flash(_("The on-site agreement is ready. Hand the phone to each party in turn to sign."), "success")
            return redirect(url_for("field.agreement", dispatch_id=dispatch.id), code=303)
    return render_template("field/dispatch.html", dispatch=dispatch, case=dispatch.case, clock=ops.clock(dispatch),
                           STATUS=STATUS, workers=[], contact_form=ContactForm(formdata=None),
                           scene_form=SceneForm(formdata=None), refer_form=ReferForm(formdata=None),
                           agreement_form=form, agreement=onsite.agreement_of(dispatch),
                           DispatchStatus=DispatchStatus, errors=form.errors), 400


def _lang() -> str:
    from flask_babel import get_locale

    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


@bp.get("/d/<int:dispatch_id>/agreement")
@login_required
def agreement(dispatch_id):
    dispatch = get_dispatch_or_404(dispatch_id, need="work")
    document = onsite.agreement_of(dispatch)
    if document is None:
        abort(404)
    return render_template("field/agreement.html", dispatch=dispatch, case=dispatch.case, document=document,
                           STATUS=STATUS)


@bp.get("/d/<int:dispatch_id>/agreement/<int:doc_id>/<int:position>")
@login_required
def sign(dispatch_id, doc_id, position):
    from odr.documents import pages

    dispatch = get_dispatch_or_404(dispatch_id, need="work")
    try:
        document, signer = onsite.signer_of(dispatch, current_user, doc_id, position)
    except onsite.OnsiteError as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return redirect(url_for("field.show", dispatch_id=dispatch.id), code=303)
    return render_template("field/sign.html", dispatch=dispatch, case=dispatch.case, document=document,
                           signer=signer, party=onsite.party_of(document, signer),
                           page_count=pages.page_count(document.current_sha256))


def _json_step(dispatch_id, step):
    """A signing step on the worker's phone, answered as JSON the page's script shows as is."""
    from odr.documents import operations as doc_ops

    dispatch = get_dispatch_or_404(dispatch_id, need="work")
    data = request.get_json(silent=True)
    try:
        if not isinstance(data, dict):
            raise doc_ops.BadSignatureInput(_l("Send the request as a JSON object."))
        return step(dispatch, data)
    except doc_ops.BadSignatureInput as exc:
        db.session.rollback()
        return _problem(422, exc.reason)
    except doc_ops.StaleDocument as exc:
        db.session.rollback()
        return _problem(409, exc.reason, retry=True)
    except onsite.OnsiteError as exc:
        db.session.rollback()
        return _problem(409, exc.reason)
    except doc_ops.SigningError as exc:
        db.session.rollback()
        return _problem(409, exc.reason)


def _problem(status: int, reason, **extra):
    resp = jsonify({"type": "about:blank", "status": status, "title": str(reason), "detail": str(reason), **extra})
    resp.status_code = status
    resp.content_type = "application/problem+json"
    return resp


@bp.post("/d/<int:dispatch_id>/agreement/<int:doc_id>/<int:position>/code")
@login_required
def sign_code(dispatch_id, doc_id, position):
    def step(dispatch, data):
        phone = onsite.send_code(dispatch, current_user, doc_id, position)
        return jsonify(sent_to=f"****{phone[-4:]}")
    return _json_step(dispatch_id, step)


@bp.post("/d/<int:dispatch_id>/agreement/<int:doc_id>/<int:position>/prepare")
@login_required
def sign_prepare(dispatch_id, doc_id, position):
    def step(dispatch, data):
        signer = onsite.prepare(dispatch, current_user, doc_id, position, code=data.get("code") or None,
                                public_key=data.get("public_key"), stamp=data.get("stamp"),
                                viewed_sha256=str(data.get("sha256", ""))[:64],
                                id_number=data.get("id_number") or None, no_code_reason=data.get("no_code_reason"))
        return jsonify(to_be_signed=base64.b64encode(signer.to_be_signed).decode(), algorithm="ECDSA-P256-SHA256")
    return _json_step(dispatch_id, step)


@bp.post("/d/<int:dispatch_id>/agreement/<int:doc_id>/<int:position>/finish")
@login_required
def sign_finish(dispatch_id, doc_id, position):
    def step(dispatch, data):
        document = onsite.finish(dispatch, current_user, doc_id, position, signature=data.get("signature"))
        transaction.after_commit(partial(_announce, dispatch.id))
        return jsonify(status=document.status.value, sha256=document.current_sha256,
                       waiting_for=len(document.waiting_for))
    return _json_step(dispatch_id, step)


# --- the command room -------------------------------------------------------------------

@bp.get("/command")
@command_required
def command():
    orgs = _grid_orgs(current_user)
    dispatches = ops.command_room(orgs)
    grids = {g.id: g for g in db.session.scalars(sa.select(Grid).where(
        Grid.organization_id.in_(orgs) if orgs is not None else sa.true()).order_by(Grid.name))}
    by_grid: dict = {}
    for d in dispatches:
        by_grid.setdefault(d.grid_id, []).append(d)
    workers = {org: ops.workers_for(org) for org in {d.organization_id for d in dispatches}}
    return render_template("field/command.html", by_grid=by_grid, grids=grids, workers=workers, clock=ops.clock,
                           STATUS=STATUS, targets=ops.targets())


@bp.post("/d/<int:dispatch_id>/assign")
@login_required
def assign(dispatch_id):
    dispatch = get_dispatch_or_404(dispatch_id, need="command")
    form = AssignForm()
    worker = db.session.get(User, form.worker.data) if form.validate() else None
    if worker is None:
        flash(_("Choose a worker of these grids."), "error")
        return render_template("field/dispatch.html", dispatch=dispatch, case=dispatch.case,
                               clock=ops.clock(dispatch), STATUS=STATUS,
                               workers=ops.workers_for(dispatch.organization_id), contact_form=ContactForm(formdata=None),
                               scene_form=SceneForm(formdata=None), refer_form=ReferForm(formdata=None),
                               DispatchStatus=DispatchStatus), 400
    ops.assign(dispatch, worker, current_user)
    return _done(dispatch, _("Sent to %(name)s.", name=worker.name), url_for("field.command"))


# --- grids ------------------------------------------------------------------------------

def _grid_form(form: GridForm) -> GridForm:
    orgs = _grid_orgs(current_user)
    query = sa.select(Organization).order_by(Organization.name)
    if orgs is not None:
        query = query.where(Organization.id.in_(orgs))
    form.organization.choices = [SelectChoice(o.id, o.name) for o in db.session.scalars(query)]
    return form


def _grids_page(form, worker_form=None, status=200):
    orgs = _grid_orgs(current_user)
    query = sa.select(Grid).order_by(Grid.name)
    if orgs is not None:
        query = query.where(Grid.organization_id.in_(orgs))
    return render_template("field/grids.html", grids=list(db.session.scalars(query)), form=form,
                           worker_form=worker_form or WorkerForm(formdata=None)), status


@bp.get("/grids")
@command_required
def grids():
    return _grids_page(_grid_form(GridForm(formdata=None)))


@bp.post("/grids")
@command_required
def create_grid():
    form = _grid_form(GridForm())
    if form.validate():
        org = db.session.get(Organization, form.organization.data)
        places = (form.places.data or "").splitlines()
        try:
            grid = ops.create_grid(org, form.name.data, places, form.corners(), current_user)
        except ops.FieldError as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc.reason)]
        else:
            flash(_("Grid %(name)s created.", name=grid.name), "success")
            return redirect(url_for("field.grids"), code=303)
    return _grids_page(form, status=400)


@bp.post("/grids/<int:grid_id>/workers")
@command_required
def add_worker(grid_id):
    grid = db.session.get(Grid, grid_id)
    if grid is None or not grid.can_command(current_user):
        abort(404)
    form = WorkerForm()
    if form.validate():
        user = auth_ops.find_user(form.contact.data)
        if user is None:
            form.contact.errors = [_("No account with this phone or e-mail.")]
        elif db.session.get(GridWorker, (grid.id, user.id)) is not None:
            form.contact.errors = [_("This person already works in this grid.")]
        else:
            ops.add_worker(grid, user, current_user)
            flash(_("%(name)s now works in %(grid)s.", name=user.name, grid=grid.name), "success")
            return redirect(url_for("field.grids"), code=303)
    return _grids_page(_grid_form(GridForm(formdata=None)), form, status=400)
