"""Routes of mediation sessions: propose times, pick, attendance, cancel, calendar file.

The rules live in ``odr.mediate.sessions.operations``; these views load, check who is asking, call
one operation, commit once, and answer a refusal with the page and its reason.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from odr.cases.models import Stage
from odr.cases.notices import joined_users
from odr.cases.rooms import RoomStatus
from odr.errors import abort_with
from odr.extensions import db
from odr.mediate.sessions import operations as ops
from odr.mediate.access import in_room, is_mediator, mediation_case
from odr.mediate.models import MediationSession, SessionMode, SessionStatus
from odr.mediate.sessions.forms import CancelForm, PickForm, ProposeForm, attendance_form
from odr.mediate.views import bp
from odr.timeutil import display_zone, local_to_utc

SESSION_STATUS = {
    SessionStatus.proposed: _l("Choosing a time"),
    SessionStatus.scheduled: _l("Scheduled"),
    SessionStatus.held: _l("Held"),
    SessionStatus.cancelled: _l("Cancelled"),
}
SESSION_MODE = {SessionMode.video: _l("By video"), SessionMode.in_person: _l("In person")}


@bp.app_context_processor  # the sessions partial is shown on the case and stage pages
def _session_helpers():
    return {"case_sessions": ops.for_case, "session_status": SESSION_STATUS, "session_mode": SESSION_MODE,
            "session_time": slot_label}


def slot_label(value) -> str:
    """A UTC time with the weekday, in the display time zone."""
    return format_datetime(value, "EEE yyyy-MM-dd HH:mm")


def get_session_or_404(case, sid: int) -> MediationSession:
    """:raise 404: no such session in this case."""
    session = db.session.get(MediationSession, sid)
    if session is None or session.case_id != case.id:
        abort(404)
    return session


def _pick_form(session, user, formdata=None) -> PickForm:
    form = PickForm(formdata=formdata, data=None if formdata else {"slots": sorted(ops.picks_of(session, user))})
    form.slots.choices = [SelectChoice(slot.id, slot_label(slot.starts_at)) for slot in session.slots]
    return form


def _render_list(case, status=200, forms=None, errors=None, end_error=None):
    """The sessions page; ``forms``/``errors`` keep a refused form's input and reason by session id."""
    forms, errors = forms or {}, errors or {}
    user = current_user._get_current_object()
    items = []
    for session in ops.for_case(case):
        item = {"session": session, "error": errors.get(session.id), "pick_form": None, "attendance_form": None}
        if session.status is SessionStatus.proposed and case.side_of(user):
            item["pick_form"] = forms.get(("pick", session.id)) or _pick_form(session, user)
        if ops.can_record_attendance(session, user):
            item["attendance_form"] = forms.get(("attendance", session.id)) or \
                attendance_form(joined_users(case))
        items.append(item)
    return render_template(
        "mediate/sessions.html", case=case, items=items,
        is_mediator=is_mediator(case, user), in_room=in_room(case, user),
        can_arrange=is_mediator(case, user) and case.is_open and case.stage is Stage.mediation
        and ops.non_attendance(case) is None,
        ended=ops.non_attendance(case), court_offered=case.side_of(user) == "claimant" and case.is_open
        and ops.claimant_offered_court(case),
        may_end=ops.may_end_for_non_attendance(case, user), absent=ops.absent_party(case),
        limit=ops.no_show_limit(), end_error=end_error,
        my_picks={item["session"].id: ops.picks_of(item["session"], user) for item in items}), status


@bp.get("/<number>/sessions")
@login_required
def sessions(number):
    """Everyone who may see the case sees its sessions; parties pick, the mediator arranges."""
    case = mediation_case(number, need="view")
    return _render_list(case)


@bp.route("/<number>/sessions/new", methods=["GET", "POST"])
@login_required
def session_new(number):
    case = mediation_case(number, need="mediator", open_only=True)
    form = ProposeForm()
    error = None
    if form.validate_on_submit():
        try:
            session = ops.propose(case, current_user, SessionMode(form.mode.data), form.location.data,
                                  form.minutes.data, [local_to_utc(t) for t in form.slots.data])
        except ops.SessionError as exc:
            db.session.rollback()
            error = exc.reason
        else:
            flash(_("The times are sent to the parties."), "success")
            return redirect(url_for("mediate.sessions", number=case.number, _anchor=f"s{session.id}"), code=303)
    return render_template("mediate/session_new.html", case=case, form=form, error=error,
                           zone=display_zone().key), 400 if request.method == "POST" else 200


@bp.post("/<number>/sessions/<int:sid>/pick")
@login_required
def session_pick(number, sid):
    case = mediation_case(number, need="party", open_only=True)
    session = get_session_or_404(case, sid)
    form = _pick_form(session, current_user, formdata=request.form)
    if not form.validate_on_submit():
        return _render_list(case, 400, forms={("pick", sid): form},
                            errors={sid: " ".join(str(e) for e in form.slots.errors) or _("Check the form.")})
    try:
        ops.pick(session, current_user, set(form.slots.data or []))
    except ops.SessionError as exc:
        db.session.rollback()
        return _render_list(case, exc.status, forms={("pick", sid): form}, errors={sid: exc.reason})
    if session.status is SessionStatus.scheduled:
        flash(_("Everyone can make %(time)s: the session is fixed. Invitations are on their way.",
                time=slot_label(session.starts_at)), "success")
    else:
        flash(_("Your answer is saved."), "success")
    return redirect(url_for("mediate.sessions", number=case.number, _anchor=f"s{sid}"), code=303)


@bp.post("/<number>/sessions/<int:sid>/attendance")
@login_required
def session_attendance(number, sid):
    case = mediation_case(number, need="mediator", open_only=True)
    session = get_session_or_404(case, sid)
    parties = joined_users(case)
    form = attendance_form(parties, formdata=request.form)
    if not form.validate_on_submit():
        return _render_list(case, 400, forms={("attendance", sid): form},
                            errors={sid: _("Say for every party whether they came.")})
    try:
        ops.record_attendance(session, current_user,
                              {user.id: field.data == "present" for user, field in form.party_fields})
    except ops.SessionError as exc:
        db.session.rollback()
        return _render_list(case, exc.status, forms={("attendance", sid): form}, errors={sid: exc.reason})
    flash(_("Attendance recorded."), "success")
    return redirect(url_for("mediate.sessions", number=case.number, _anchor=f"s{sid}"), code=303)


@bp.post("/<number>/sessions/<int:sid>/cancel")
@login_required
def session_cancel(number, sid):
    case = mediation_case(number, need="mediator", open_only=True)
    session = get_session_or_404(case, sid)
    form = CancelForm()
    if not form.validate_on_submit():
        return _render_list(case, 400, errors={sid: _("The form has expired. Please try again.")})
    try:
        ops.cancel(session, current_user)
    except ops.SessionError as exc:
        db.session.rollback()
        return _render_list(case, exc.status, errors={sid: exc.reason})
    flash(_("The session is cancelled and the parties are told."), "success")
    return redirect(url_for("mediate.sessions", number=case.number), code=303)


@bp.post("/<number>/sessions/end-for-non-attendance")
@login_required
def session_end_non_attendance(number):
    """The mediator ends the mediation as failed: a party missed the configured number of sessions."""
    case = mediation_case(number, need="mediator", open_only=True)
    form = CancelForm()
    if not form.validate_on_submit():
        return _render_list(case, 400, end_error=_("The form has expired. Please try again."))
    try:
        ops.end_for_non_attendance(case, current_user._get_current_object())
    except ops.SessionError as exc:
        db.session.rollback()
        return _render_list(case, exc.status, end_error=exc.reason)
    flash(_("The mediation has ended for non-attendance; the other party is told."), "success")
    return redirect(url_for("mediate.sessions", number=case.number, _anchor="non-attendance"), code=303)


@bp.get("/<number>/sessions/<int:sid>/calendar.ics")
@login_required
def session_calendar(number, sid):
    """The calendar entry of a fixed session, for the parties and the mediator."""
    case = mediation_case(number, need="room")
    session = get_session_or_404(case, sid)
    if session.status not in (SessionStatus.scheduled, SessionStatus.held):
        abort(404)
    return Response(ops.calendar_file(session), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="mediation-{case.number}-{sid}.ics"'})


# --- the session's video room ----------------------------------------------------------------------

@bp.get("/<number>/sessions/<int:sid>/video")
@login_required
def session_video(number, sid):
    """The invitation link of a video session: its room if open, else a page saying so (with the
    button that opens it, for the mediator)."""
    case = mediation_case(number, need="room")
    session = get_session_or_404(case, sid)
    if session.mode is not SessionMode.video:
        abort(404)
    room = ops.video_room(session)
    if room is not None and room.status is RoomStatus.open:
        return redirect(url_for("video.room", number=case.number, room_id=room.id))
    return render_template("mediate/session_video.html", case=case, session=session, room=room,
                           may_open=ops.may_open_video(session, current_user._get_current_object()))


@bp.post("/<number>/sessions/<int:sid>/video/open")
@login_required
def open_session_video(number, sid):
    case = mediation_case(number, need="mediator")
    session = get_session_or_404(case, sid)
    if session.mode is not SessionMode.video:
        abort(404)
    try:
        room = ops.open_video(session, current_user._get_current_object())
    except ops.SessionError as exc:
        db.session.rollback()
        abort_with(exc.status if exc.status != 400 else 409, exc.reason)
    return redirect(url_for("video.room", number=case.number, room_id=room.id), code=303)
