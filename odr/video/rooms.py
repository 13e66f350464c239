"""Video rooms as records: who may be in a room and as what, opening and ending rooms, seats,
admitting, caucus, muting, removing — each change in one transaction with its audit event.

Several app processes may serve one room, so a change that two of them could make at once
(an admission and a refusal, two caucus moves, the same person sitting down twice) is a
conditional write: one of them changes the row, the other finds it changed.

Live presence (who is connected right now) is not kept here but in ``odr.video.presence``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from odr.cases import audit
from odr.cases.models import Case
from odr.cases.rooms import HOST, PANEL, RoomRef, RoomStatus, purpose
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow
from odr.validation import is_database_id
from odr.video.models import SeatState, VideoRoom, VideoSeat

SIDES = ("claimant", "respondent")
#: The group of everyone while the host is away: nobody exchanges media, everyone waits.
LOBBY = "lobby"
JOINT = "joint"
CAUCUS = "caucus"

#: The audit actions this module records, with what people read for each (registered by ``init_app``).
ACTIONS = {
    "video_room_opened": _l("Video room opened"),
    "video_admitted": _l("Admitted to the video room"),
    "video_refused": _l("Refused entry to the video room"),
    "video_removed": _l("Removed from the video room"),
    "video_muted": _l("Muted by the mediator"),
    "video_caucus_started": _l("Private caucus started"),
    "video_caucus_ended": _l("Private caucus ended"),
    "video_room_ended": _l("Video session ended"),
    "video_recording_consent": _l("Recording consent given or declined"),
    "video_recording_started": _l("Recording started"),
    "video_recording_stopped": _l("Recording stopped"),
    "video_recording_stored": _l("Recording stored"),
}


class RoomError(Refused):
    """A room request that cannot be done; ``reason`` is shown to the person."""


def purpose_of(room: VideoRoom) -> str:
    """A room serving a mediation session points at it; the other rooms are arbitration hearings
    (the only other kind so far: the rooms table has no column naming the purpose)."""
    return "mediation" if room.session_id is not None else "hearing"


def role_in_room(room: VideoRoom, user) -> str | None:
    """``host``, ``panel``, ``claimant``, ``respondent`` or None (may not be in the room), by the
    rules the feature holding the meeting registered for the room's purpose."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return purpose(purpose_of(room)).role_of(room.case, room.host_id, user)


def ref(room: VideoRoom | None) -> RoomRef | None:
    return None if room is None else RoomRef(room.id, room.status, room.host_id)


def room_of_session(session_id: int) -> VideoRoom | None:
    return db.session.scalar(sa.select(VideoRoom).where(VideoRoom.session_id == session_id))


def open_room(case: Case, host, purpose_name: str, *, session_id: int | None = None,
              room_id: int | None = None) -> VideoRoom:
    """Open a room of ``case`` hosted by ``host``: the mediation session's own (``session_id``:
    one room per session, whoever hosts it now), or the room ``room_id`` again if ``host`` hosts
    it, else a new one. The feature holding the meeting has checked that ``host`` may open it."""
    if session_id is not None:
        room = room_of_session(session_id)
    else:
        room = db.session.get(VideoRoom, room_id) if room_id is not None else None
        if room is not None and (room.case_id != case.id or room.host_id != host.id):
            room = None  # a new host (a new presiding arbitrator) hosts a room of their own
    if room is not None and room.status is RoomStatus.open:
        return room
    if room is None:
        room = VideoRoom(case_id=case.id, session_id=session_id, host_id=host.id)
        db.session.add(room)
        db.session.flush()
    room.status, room.ended_at, room.caucus_side, room.recording = RoomStatus.open, None, None, False
    room.host_id = host.id
    audit.record(case, host, "video_room_opened",
                 {"room": room.id, "session": session_id} if session_id is not None
                 else {"room": room.id, purpose_name: True})
    return room


class Keeper:
    """The rooms as the other features reach them (:func:`odr.cases.rooms.keeper`)."""

    def open(self, case, host, purpose: str, *, session_id=None, room_id=None) -> RoomRef:
        return ref(open_room(case, host, purpose, session_id=session_id, room_id=room_id))

    def get(self, room_id) -> RoomRef | None:
        return ref(db.session.get(VideoRoom, room_id)) if room_id is not None else None

    def of_session(self, session_id: int) -> RoomRef | None:
        return ref(room_of_session(session_id))

    def attendees(self, session_id: int) -> set[int]:
        room = room_of_session(session_id)
        if room is None:
            return set()
        return set(db.session.scalars(sa.select(VideoSeat.user_id).where(VideoSeat.room_id == room.id)))


def seat_of(room: VideoRoom, user_id: int) -> VideoSeat | None:
    return db.session.get(VideoSeat, (room.id, user_id))


def take_seat(room: VideoRoom, user, role: str) -> VideoSeat:
    """The seat of someone joining: the host is in at once; an admitted participant keeps
    their place (reconnecting); anyone else waits in the lobby."""
    if room.status is not RoomStatus.open:
        raise RoomError(_("This video session has ended."))
    seat = seat_of(room, user.id)
    if seat is None:
        seat = VideoSeat(room_id=room.id, user_id=user.id, role=role, state=SeatState.waiting,
                         muted_by_host=False)
        try:
            with db.session.begin_nested():  # the same person may sit down on two processes at once
                db.session.add(seat)
        except IntegrityError:
            seat = seat_of(room, user.id)
    seat.role = role
    if role in (HOST, PANEL):
        seat.state = SeatState.admitted
    elif seat.state is not SeatState.admitted:
        seat.state = SeatState.waiting
    db.session.flush()
    return seat


def _participant_seat(room: VideoRoom, user_id) -> VideoSeat:
    seat = seat_of(room, user_id) if is_database_id(user_id) else None
    if seat is None or seat.role == HOST:
        raise RoomError(_("There is no such participant in this room."))
    return seat


def _change_seat(seat: VideoSeat, condition, **values) -> bool:
    """Change the seat's row only if ``condition`` still holds there (not only in this
    session's copy); whether it did."""
    changed = db.session.execute(
        sa.update(VideoSeat).where(VideoSeat.room_id == seat.room_id, VideoSeat.user_id == seat.user_id, condition)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(seat)
    return changed == 1


def admit(room: VideoRoom, actor, user_id, yes: bool = True) -> VideoSeat:
    seat = _participant_seat(room, user_id)
    if not _change_seat(seat, VideoSeat.state == SeatState.waiting,
                        state=SeatState.admitted if yes else SeatState.refused):
        raise RoomError(_("This person is not waiting in the lobby."))
    audit.record(room.case, actor, "video_admitted" if yes else "video_refused",
                 {"room": room.id, "user": seat.user_id})
    return seat


def remove(room: VideoRoom, actor, user_id) -> VideoSeat:
    seat = _participant_seat(room, user_id)
    if not _change_seat(seat, VideoSeat.state != SeatState.removed, state=SeatState.removed, consent=None):
        raise RoomError(_("This person has already been removed."))
    audit.record(room.case, actor, "video_removed", {"room": room.id, "user": seat.user_id})
    return seat


def mute(room: VideoRoom, actor, user_id, muted: bool) -> VideoSeat:
    seat = _participant_seat(room, user_id)
    if seat.muted_by_host != muted:
        seat.muted_by_host = muted
        audit.record(room.case, actor, "video_muted", {"room": room.id, "user": seat.user_id, "muted": muted})
    return seat


def caucus(room: VideoRoom, actor, side: str | None) -> None:
    """Move one side into a private caucus with the host (``side``), or everyone back (None)."""
    if side is not None and side not in SIDES:
        raise RoomError(_("Malformed request."))
    refusal = purpose(purpose_of(room)).no_caucus
    if side is not None and refusal is not None:
        raise RoomError(str(refusal))
    if side == room.caucus_side:
        return
    moved = db.session.execute(
        sa.update(VideoRoom).where(VideoRoom.id == room.id, VideoRoom.caucus_side.is_distinct_from(side))
        .values(caucus_side=side).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(room, ["caucus_side"])
    if not moved:  # another process made the same move a moment ago
        return
    if side:
        audit.record(room.case, actor, "video_caucus_started", {"room": room.id, "side": side})
    else:
        audit.record(room.case, actor, "video_caucus_ended", {"room": room.id})


def end(room: VideoRoom, actor) -> None:
    if room.status is RoomStatus.ended:
        raise RoomError(_("This video session has ended."))
    room.status, room.ended_at, room.caucus_side, room.recording = RoomStatus.ended, utcnow(), None, False
    audit.record(room.case, actor, "video_room_ended", {"room": room.id})


def group_of(room: VideoRoom, role: str, host_present: bool) -> str:
    """Who exchanges media with whom: people in the same group see and hear each other.

    Without the host everyone waits (``lobby``). In a caucus the host and the caucus side
    are in ``caucus``; the other side is apart (``apart-<side>``).
    """
    if role != HOST and not host_present:
        return LOBBY
    if role == PANEL:
        role = HOST
    if room.caucus_side is None:
        return JOINT
    if role == HOST or role == room.caucus_side:
        return CAUCUS
    return f"apart-{role}"
