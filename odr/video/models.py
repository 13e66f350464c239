"""Video rooms: one per mediation session or arbitration hearing, its seats and recordings.

A room belongs to a case; ``session_id`` points at the mediation session it serves and
stays empty for rooms of other kinds. Who hosts the room is decided by the room's purpose,
registered by the feature that holds the meeting (:mod:`odr.cases.rooms`). Seats survive a dropped connection, so a participant
who reconnects takes the same seat (already admitted, same caucus) without asking again.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User, enum_column
from odr.cases.models import Case
from odr.cases.rooms import RoomStatus
from odr.extensions import db
from odr.timeutil import utcnow


class SeatState(enum.Enum):
    waiting = "waiting"    # in the lobby, waiting for the host
    admitted = "admitted"  # in the room (joint session or a caucus)
    refused = "refused"    # the host said no; may ask again
    removed = "removed"    # the host removed them; must be admitted again


class VideoRoom(db.Model):
    __tablename__ = "video_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    #: The mediation session this room serves (empty for rooms of other kinds).
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mediation_session.id"), unique=True)
    #: Who opened the room and hosts it (the mediator or arbitrator).
    host_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    status: Mapped[RoomStatus] = mapped_column(enum_column(RoomStatus), default=RoomStatus.open)
    #: The side (``claimant``/``respondent``) in a private caucus with the host; empty in a joint session.
    caucus_side: Mapped[str | None] = mapped_column(sa.String(20))
    #: The host started recording; it runs only while every participant present has consented.
    recording: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    host: Mapped[User] = relationship()
    seats: Mapped[list[VideoSeat]] = relationship(back_populates="room", cascade="all, delete-orphan")
    recordings: Mapped[list[VideoRecording]] = relationship(back_populates="room", cascade="all, delete-orphan",
                                                            order_by="VideoRecording.id")


class VideoSeat(db.Model):
    """One person's place in a room: admitted or not, muted by the host, recording consent."""

    __tablename__ = "video_seat"

    room_id: Mapped[int] = mapped_column(sa.ForeignKey("video_room.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    #: ``host``, ``claimant`` or ``respondent``.
    role: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[SeatState] = mapped_column(enum_column(SeatState), default=SeatState.waiting)
    #: The host muted this participant; only the host can lift it.
    muted_by_host: Mapped[bool] = mapped_column(default=False)
    #: Answer to the recording question: None not asked / not answered yet.
    consent: Mapped[bool | None]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[VideoRoom] = relationship(back_populates="seats")
    user: Mapped[User] = relationship()


class VideoRecording(db.Model):
    """One recorded file (one participant, one recording run), stored with the case."""

    __tablename__ = "video_recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("video_room.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: Path under the instance folder's ``recordings/`` directory.
    filename: Mapped[str] = mapped_column(sa.String(300))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime]

    room: Mapped[VideoRoom] = relationship(back_populates="recordings")
