"""Video rooms of a case, used by mediation sessions and arbitration hearings (which open them:
``odr.mediate``, ``odr.arbitrate``, through :mod:`odr.cases.rooms`).

* ``/video/<number>/rooms/<id>`` — the room page (device check, lobby, call, chat).
* ``/video/<number>/rooms/<id>/documents/<evidence>/pages/<n>`` — a shared document's page, shown in the room.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_login import current_user, login_required

from odr.cases.access import get_case_or_404
from odr.cases.rooms import RoomStatus
from odr.extensions import db
from odr.headers import uses_camera
from odr.video import rooms
from odr.video.models import VideoRoom

bp = Blueprint("video", __name__, url_prefix="/video")


@bp.get("/<number>/rooms/<int:room_id>")
@uses_camera
@login_required
def room(number, room_id):
    case = get_case_or_404(number)
    room = db.session.get(VideoRoom, room_id)
    if room is None or room.case_id != case.id:
        abort(404)
    role = rooms.role_in_room(room, current_user._get_current_object())
    if role is None:
        abort(403)
    if room.status is not RoomStatus.open:
        return render_template("video/ended.html", case=case), 410
    return render_template("video/room.html", case=case, room=room, role=role, hearing=room.session_id is None,
                           video_config=media_config())


@bp.get("/<number>/rooms/<int:room_id>/documents/<int:evidence_id>/pages/<int:page>")
@login_required
def document_page(number, room_id, evidence_id, page):
    """One page of a shared case document as an image, for the people admitted to the room."""
    from odr.video import documents
    from odr.video.models import SeatState

    case = get_case_or_404(number)
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
