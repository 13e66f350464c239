"""Service links (``/s/<token>``), a party's service addresses, and the staff's view of what was
served: failed deliveries with their next step, call tasks."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from odr.cases.access import get_case_or_404
from odr.cases.forms import ServiceAddressForm, TaskDoneForm
from odr.cases.service import operations as service
from odr.cases.service.models import ServiceRecord, ServiceTask
from odr.extensions import db

bp = Blueprint("service", __name__)


@bp.get("/s/<token>", endpoint="open")
def open_served(token):
    """A served notice's link: only its recipient's account may open it; the first opening is noted."""
    record = service.record_for_token(token)
    if record is None:
        abort(404)
    owner = record.user_id
    if owner is None and record.party_id is not None:
        from odr.cases.models import CaseParty

        owner = db.session.get(CaseParty, record.party_id).user_id
    if owner is not None and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path), code=302)
    try:
        target = service.open_link(record, current_user._get_current_object())
    except service.ServiceError as exc:
        db.session.rollback()
        return render_template("service/refused.html", reason=exc.reason), 403
    return redirect(target, code=303)


def render_page(case, form=None, status=200, error=None, task_form=None):
    user = current_user._get_current_object()
    side = case.side_of(user)
    party = next((p for p in case.parties if side and p.side.value == side), None)
    state = service.state_of(party, create=False) if party is not None else None
    if form is None and party is not None:
        form = ServiceAddressForm(formdata=None, data={
            "service_phones": ", ".join(state.phones) if state and state.phones else (party.phone or (user.phone or "")),
            "service_emails": ", ".join(state.emails) if state and state.emails else (party.email or (user.email or "")),
            "service_consent": bool(state and state.consent)})
    manage = case.can_manage(user)
    records = service.records_of(case) if manage else [r for r in service.records_of(case)
                                                       if party is not None and r.party_id == party.id]
    return render_template(
        "service/case.html", case=case, party=party, state=state, form=form, error=error, manage=manage,
        records=records, failed=[(r, service.next_step(r)) for r in records if r.failed and r.handled_at is None] if manage else [],
        tasks=service.open_tasks(case) if manage else [], task_form=task_form or TaskDoneForm(formdata=None),
        silent=service.no_response(case)), status


@bp.get("/cases/<number>/service")
@login_required
def case_service(number):
    case = get_case_or_404(number)
    if not (case.is_party(current_user) or case.can_manage(current_user)):
        abort(403)
    return render_page(case)


@bp.post("/cases/<number>/service/addresses")
@login_required
def addresses(number):
    """A party confirms or changes where they accept service."""
    case = get_case_or_404(number)
    side = case.side_of(current_user)
    if side is None:
        abort(403)
    party = next(p for p in case.parties if p.side.value == side)
    form = ServiceAddressForm()
    if not form.validate_on_submit():
        return render_page(case, form=form, status=400)
    try:
        phones, emails = service.parse_addresses(form.service_phones.data, form.service_emails.data)
        service.confirm_addresses(party, current_user._get_current_object(), phones, emails,
                                  bool(form.service_consent.data))
    except service.ServiceError as exc:
        db.session.rollback()
        return render_page(case, form=form, status=exc.status if exc.status != 409 else 422, error=exc.reason)
    flash(_("Your addresses for service are confirmed."), "success")
    return redirect(url_for("service.case_service", number=case.number), code=303)


@bp.post("/cases/<number>/service/records/<int:record_id>/follow-up")
@login_required
def follow_up(number, record_id):
    """Staff follow up a failed delivery with its next step (the other channel, or a call task)."""
    case = get_case_or_404(number, need="manage")
    record = db.session.get(ServiceRecord, record_id)
    if record is None or record.case_id != case.id:
        abort(404)
    try:
        service.handle_failure(record, current_user._get_current_object())
    except service.ServiceError as exc:
        db.session.rollback()
        return render_page(case, status=409, error=exc.reason)
    flash(_("Followed up."), "success")
    return redirect(url_for("service.case_service", number=case.number), code=303)


@bp.post("/cases/<number>/service/tasks/<int:task_id>/done")
@login_required
def task_done(number, task_id):
    """Staff made the call a task asked for."""
    case = get_case_or_404(number, need="manage")
    task = db.session.get(ServiceTask, task_id)
    if task is None or task.case_id != case.id:
        abort(404)
    form = TaskDoneForm()
    if not form.validate_on_submit():
        return render_page(case, status=400, task_form=form)
    try:
        service.complete_task(task, current_user._get_current_object(), form.note.data)
    except service.ServiceError as exc:
        db.session.rollback()
        return render_page(case, status=409, error=exc.reason)
    flash(_("Call recorded."), "success")
    return redirect(url_for("service.case_service", number=case.number), code=303)
