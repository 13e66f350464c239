"""Rooms where a case's people meet by video, as the rest of the case file sees them.

The video feature (``odr.video``) keeps the rooms: their seats, lobby, caucus, signalling and
recordings. It knows rooms, not stages. Mediation and arbitration decide who is in their rooms
and when one opens; they do not import the video feature, nor it them. They meet here:

- each feature that holds meetings registers a :class:`Purpose` (from its ``init_app``): who is
  the host, who sits on the panel, which side a person is on, whether private caucuses exist;
- the video feature registers the :class:`RoomKeeper` that opens rooms and reports on them, which
  the features reach through :func:`keeper`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from odr.cases.models import READ_ONLY

#: The role of whoever hosts a room (its controls: admit, mute, caucus, end).
HOST = "host"
#: A member of an arbitral tribunal in the hearing's room: in at once, without the host's controls.
PANEL = "panel"


class RoomStatus(enum.Enum):
    open = "open"
    ended = "ended"


@dataclass(frozen=True)
class Purpose:
    """What a room is for, and who is in it as what."""

    name: str
    #: ``role_of(case, host_id, user)``: ``host``, ``panel``, ``claimant``, ``respondent``, or None (not in the room).
    role_of: Callable[[object, int, object], str | None]
    #: Why a private caucus is refused in such a room (``None``: caucuses are allowed).
    no_caucus: object | None = None


@dataclass(frozen=True)
class RoomRef:
    """A room as the features see it."""

    id: int
    status: RoomStatus
    host_id: int


class RoomKeeper(Protocol):
    def open(self, case, host, purpose: str, *, session_id: int | None = None,
             room_id: int | None = None) -> RoomRef:
        """Open (or open again) the room of a mediation session (``session_id``), or the room
        ``room_id`` if its host opens it again, else a new one; hosted by ``host``."""

    def get(self, room_id: int | None) -> RoomRef | None:
        """The room ``room_id``, or ``None``."""

    def of_session(self, session_id: int) -> RoomRef | None:
        """The room of a mediation session, if it was ever opened."""

    def attendees(self, session_id: int) -> set[int]:
        """The user ids of everyone who came into the room of a mediation session (took a seat,
        in the room or its lobby); empty if it was never opened."""


PURPOSES: dict[str, Purpose] = {}
_keeper: list[RoomKeeper] = []


def register_purpose(purpose: Purpose) -> None:
    PURPOSES[purpose.name] = purpose


def purpose(name: str) -> Purpose:
    """The registered purpose ``name``; a room whose purpose nobody registered has nobody in it.

    Whoever may only read the case (a party's helper or agent with the read scope) sits in no room:
    a meeting is taking part, not reading."""
    found = PURPOSES.get(name)
    if found is None:
        return Purpose(name, lambda case, host_id, user: None)
    return Purpose(found.name, lambda case, host_id, user: None if READ_ONLY in case.roles_of(user)
                   else found.role_of(case, host_id, user), found.no_caucus)


def register_keeper(keeper_: RoomKeeper) -> None:
    _keeper[:] = [keeper_]


def keeper() -> RoomKeeper:
    """The video feature's rooms. :raise RuntimeError: the video feature is not plugged in."""
    if not _keeper:
        raise RuntimeError("no room keeper: the video feature is not plugged in")
    return _keeper[0]
