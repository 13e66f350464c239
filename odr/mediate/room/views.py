"""Routes of the case room: threads of messages and evidence (rules in ``odr.mediate.room.operations``).

- ``GET  /mediate/<number>/room[?thread=…]``: the threads the user may read, one shown;
- ``POST /mediate/<number>/room``: write in a thread (parties: joint and their own; mediator: all);
- ``GET  /mediate/<number>/evidence``: the evidence the user may see, and the upload form;
- ``POST /mediate/<number>/evidence``: upload a photo, PDF or recording;
- ``GET  /mediate/<number>/evidence/<id>``: download one item — 404 for whoever may not see it,
  so a mediator-only item's existence is not revealed.

Staff and admins of the case read the joint thread and shared evidence, never a private thread
or mediator-only evidence (caucus confidentiality), and write nothing. Changes need the case open
and in mediation; reading stays possible afterwards.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from odr import uploads
from odr.cases import labels
from odr.cases.models import Stage
from odr.cases.evidence import EVIDENCE_TYPES, Visibility
from odr.extensions import db
from odr.mediate.room import operations as ops
from odr.mediate.access import mediation_case
from odr.mediate.models import RoomChannel
from odr.mediate.room.forms import THREAD_LABELS, VISIBILITY_LABELS, EvidenceForm, MessageForm
from odr.mediate.views import bp


def _me():
    return current_user._get_current_object()


def _in_mediation(case) -> bool:
    return case.is_open and case.stage is Stage.mediation


def _thread(value: str | None) -> RoomChannel | None:
    return next((t for t in RoomChannel if t.value == value), None)


def _names(case) -> dict[int, str]:
    """How each person in the room is labelled next to their messages and files."""
    who = {p.user_id: f"{p.name} ({labels.SIDE[p.side]})" for p in case.parties if p.user_id}
    if case.mediator_id:
        role = _("Mediator")
        who[case.mediator_id] = f"{case.mediator.name} ({role})"
    return who


def _readable_case(number):
    """The case, for someone who may read its room.

    :raise 404: the case is not visible; :raise 403: visible, but not its room (e.g. a court clerk).
    """
    case = mediation_case(number, need="view")
    if not ops.can_read_room(case, _me()):
        abort(403)
    return case


# --- messages -------------------------------------------------------------------------------------

def _room_page(case, thread: RoomChannel, form: MessageForm | None = None, status: int = 200):
    me = _me()
    writable = ops.writable_threads(case, me) if _in_mediation(case) else []
    if form is None:
        form = MessageForm(formdata=None, thread=thread.value)
    return render_template("mediate/room.html", case=case, thread=thread, counts=ops.message_counts(case, me),
                           messages=ops.thread_messages(case, thread), can_write=thread in writable, form=form,
                           names=_names(case), thread_labels=THREAD_LABELS,
                           max_chars=ops.MESSAGE_MAX_CHARS), status


@bp.get("/<number>/room")
@login_required
def room(number):
    case = _readable_case(number)
    thread = _thread(request.args.get("thread", RoomChannel.joint.value))
    if thread is None:
        abort(404)
    if thread not in ops.readable_threads(case, _me()):
        abort(403)
    return _room_page(case, thread)


@bp.post("/<number>/room")
@login_required
def room_send(number):
    case = mediation_case(number, need="room", open_only=True)
    me = _me()
    form = MessageForm()
    thread = _thread(form.thread.data)
    if thread is not None and thread not in ops.writable_threads(case, me):
        abort(403)
    if not form.validate_on_submit():
        return _room_page(case, thread or RoomChannel.joint, form, 400)
    try:
        message = ops.post_message(case, me, thread, form.body.data)
    except ops.RoomError as exc:
        db.session.rollback()
        form.body.errors = [*form.body.errors, exc.reason]
        return _room_page(case, thread, form, 400)
    return redirect(url_for("mediate.room", number=case.number, thread=thread.value, _anchor=f"m{message.id}"),
                    code=303)


# --- evidence -------------------------------------------------------------------------------------

def _evidence_page(case, form: EvidenceForm | None = None, error=None, status: int = 200):
    me = _me()
    if form is None:
        form = EvidenceForm(formdata=None)
    return render_template("mediate/room_evidence.html", case=case, items=ops.visible_evidence(case, me),
                           can_upload=_in_mediation(case) and ops.can_upload(case, me), form=form, error=error,
                           names=_names(case), visibility_labels=VISIBILITY_LABELS, Visibility=Visibility,
                           max_mb=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
                           accept=",".join(sorted(EVIDENCE_TYPES))), status


@bp.get("/<number>/evidence")
@login_required
def evidence(number):
    return _evidence_page(_readable_case(number))


@bp.post("/<number>/evidence")
@login_required
def evidence_upload(number):
    case = mediation_case(number, need="room", open_only=True)
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    # Room for the form fields around the file; the file itself is measured while it is stored.
    request.max_content_length = limit + 64 * 1024
    try:
        file = request.files.get("file")
        form = EvidenceForm()
    except RequestEntityTooLarge:
        return _evidence_page(case, error=_("The file is larger than %(mb)s MB.", mb=limit // (1024 * 1024)),
                              status=413)
    if not form.validate_on_submit():
        return _evidence_page(case, form, status=400)
    if file is None or not file.filename:
        return _evidence_page(case, form, error=_("Choose a file to upload."), status=400)
    try:
        item = ops.add_evidence(case, _me(), file.stream, file.filename, Visibility(form.visibility.data),
                                form.description.data or "")
    except ops.RoomError as exc:
        db.session.rollback()
        return _evidence_page(case, form, error=exc.reason, status=400)
    flash(_("The file %(name)s was added.", name=item.filename), "success")
    return redirect(url_for("mediate.evidence", number=case.number), code=303)


@bp.get("/<number>/evidence/<int:eid>")
@login_required
def evidence_file(number, eid):
    case = mediation_case(number, need="view")
    item = ops.evidence_for(case, eid, _me())
    if item is None:
        abort(404)  # not 403: whoever may not see an item must not learn that it exists
    return uploads.send_stored(item.sha256, item.mimetype, item.filename)


# --- the summary on the stage page ------------------------------------------------------------------

def room_summary(case):
    """What the stage page's room card shows the current user, or ``None`` if they may not read the room."""
    me = _me()
    if not ops.can_read_room(case, me):
        return None
    return {"counts": ops.message_counts(case, me), "evidence": ops.evidence_count(case, me),
            "open": _in_mediation(case)}


@bp.context_processor
def _room_helpers():
    return {"room_summary": room_summary, "room_thread_labels": THREAD_LABELS}
