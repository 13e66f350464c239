"""Permission rows: the invitation link of a video session, opening its room, the room page."""

import io

from odr.extensions import db
from odr.mediate.room import operations as room_ops
from odr.cases.evidence import Visibility
from odr.mediate.models import MediationSession, SessionMode, SessionStatus
from odr.timeutil import utcnow
from odr.video import rooms
from tests.permission_rows import only

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")


#: Who sees the open case and is refused (403) unless the row says otherwise.
SEES = {"claimant": 403, "respondent": 403, "staff": 403, "mediator": 403, "admin": 403}

ROWS = [
    # The session's link: parties are told the room is not open yet; the mediator can open it.
    ("GET", "/mediate/{open}/sessions/{vsession}/video", None,
     only(SEES | {"claimant": 200, "respondent": 200, "mediator": 200})),
    ("POST", "/mediate/{open}/sessions/{vsession}/video/open", None, only(SEES | {"mediator": 303})),
    # Staff and admins see the case but have no seat in the room; the claimant's agent takes their
    # side's seat, their read-only helper none (``odr.cases.rooms``).
    ("GET", "/video/{open}/rooms/{vroom}", None,
     only(SEES | {"claimant": 200, "respondent": 200, "mediator": 200}) | {"agent": 200, "helper": 403}),
    # A page of a shared document: only for people admitted to the room (here the claimant).
    ("GET", "/video/{open}/rooms/{vroom}/documents/{vdoc}/pages/1", None,
     only(SEES | {"claimant": 200}) | {"agent": 403, "helper": 403}),
]
CHANGES_STATE = ("/open",)


def extend(users, cases, values):
    """Two scheduled video sessions of the open case: one without a room yet, one with its room open."""
    case, mediator = cases["open"], users["mediator"]
    waiting, held = (MediationSession(case_id=case.id, mediator_id=mediator.id, mode=SessionMode.video,
                                      status=SessionStatus.scheduled, starts_at=utcnow()) for _ in range(2))
    db.session.add_all([waiting, held])
    db.session.flush()
    room = rooms.open_room(held.case, mediator, "mediation", session_id=held.id)
    db.session.flush()
    claimant = users["claimant"]
    rooms.take_seat(room, claimant, "claimant")
    rooms.admit(room, mediator, claimant.id)
    item = room_ops.add_evidence(case, claimant, io.BytesIO(PNG), "photo.png", Visibility.all, "A photo")
    db.session.flush()
    values.update(vsession=str(waiting.id), vroom=str(room.id), vdoc=str(item.id))
