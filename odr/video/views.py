"""Video rooms of a case, used by mediation sessions and arbitration hearings.

* ``/video/<number>`` — the stage page (shared stub of every stage package).
* ``/video/<number>/sessions/<id>`` — the invitation link of a video session: the room if it
  is open, otherwise a page saying so (with the button to open it for the mediator).
* ``POST …/open`` — the mediator opens (or reopens) the room.
* ``/video/<number>/rooms/<id>`` — the room page (device check, lobby, call, chat).
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint
from odr.errors import abort_with
from odr.extensions import db
from odr.headers import uses_camera
from odr.mediate.access import mediation_case
from odr.mediate.models import MediationSession, SessionMode
from odr.video import rooms
from odr.video.models import RoomStatus, VideoRoom

bp = stage_blueprint("video", Stage.mediation, "/video")


def _session(case, session_id: int) -> MediationSession:
    session = db.session.get(MediationSession, session_id)
    if session is None or session.case_id != case.id or session.mode is not SessionMode.video:
        abort(404)
    return session


@bp.get("/<number>/sessions/<int:session_id>")
@login_required
def session_room(number, session_id):
    case = mediation_case(number, need="room")
    session = _session(case, session_id)
    room = rooms.room_of_session(session)
    if room is not None and room.status is RoomStatus.open:
        return redirect(url_for("video.room", number=case.number, room_id=room.id))
    user = current_user._get_current_object()
    return render_template("video/not_open.html", case=case, session=session, room=room,
                           may_open=rooms.may_open(session, user) and case.is_open
                           and case.stage is Stage.mediation)


@bp.post("/<number>/sessions/<int:session_id>/open")
@login_required
def open_room(number, session_id):
    case = mediation_case(number, need="mediator")
    session = _session(case, session_id)
    try:
        room = rooms.open_for_session(session, current_user._get_current_object())
    except rooms.RoomError as exc:
        db.session.rollback()
        abort_with(409, exc.reason)
    db.session.commit()
    return redirect(url_for("video.room", number=case.number, room_id=room.id), code=303)


@bp.get("/<number>/rooms/<int:room_id>")
@uses_camera
@login_required
def room(number, room_id):
    case = mediation_case(number, need="view")
    room = db.session.get(VideoRoom, room_id)
    if room is None or room.case_id != case.id:
        abort(404)
    role = rooms.role_in_room(room, current_user._get_current_object())
    if role is None:
        abort(403)
    if room.status is not RoomStatus.open:
        return render_template("video/not_open.html", case=case, session=None, room=room, may_open=False), 410
    return render_template("video/room.html", case=case, room=room, role=role, hearing=room.session_id is None,
                           video_config=media_config())


@bp.get("/<number>/rooms/<int:room_id>/documents/<int:evidence_id>/pages/<int:page>")
@login_required
def document_page(number, room_id, evidence_id, page):
    """One page of a shared case document as an image, for the people admitted to the room."""
    from odr.video import documents
    from odr.video.models import SeatState

    case = mediation_case(number, need="view")
    room = db.session.get(VideoRoom, room_id)
    if room is None or room.case_id != case.id:
        abort(404)
    user = current_user._get_current_object()
    seat = rooms.seat_of(room, user.id)
    if rooms.role_in_room(room, user) is None or seat is None or seat.state is not SeatState.admitted:
        abort(403)
    item = documents.get_showable(case.id, evidence_id)
    found = documents.page_image(item, page) if item is not None else None
    if found is None:
        abort(404)
    resp = send_file(found[0], mimetype=found[1], max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


#: Capture and sending limits the page uses (weak links: 360p/15 fps with a bitrate cap, a
#: 180p tier, audio-only when the link is poor).
DEFAULT_MEDIA = {
    "high": {"width": 640, "height": 360, "fps": 15, "bitrate": 500_000},
    "low": {"width": 320, "height": 180, "fps": 15, "bitrate": 150_000},
    "audio_only_below": 80_000,
    # A negotiation not connected after this long starts again; the second time, the relay is asked for.
    "stall_ms": 8000,
}


def media_config() -> dict:
    """The page's media limits (``VIDEO_MEDIA`` in the configuration, else the defaults)."""
    return current_app.config.get("VIDEO_MEDIA", DEFAULT_MEDIA)
