"""Permission rows: session times, picks, attendance, cancelling, the calendar file."""

from datetime import timedelta

from odr.extensions import db
from odr.mediate.models import MediationSession, SessionMode, SessionSlot, SessionStatus
from odr.timeutil import utcnow
from tests.permission_rows import only


#: Who sees the open case and is refused (403) unless the row says otherwise.
SEES = {"claimant": 403, "respondent": 403, "staff": 403, "mediator": 403, "admin": 403}
#: The case's mediator arranges; parties pick; everyone who sees the case sees the list.
MEDIATOR = SEES
PARTY = SEES

ROWS = [
    ("GET", "/mediate/{open}/sessions", None,
     only({"claimant": 200, "respondent": 200, "staff": 200, "mediator": 200, "admin": 200})),
    ("GET", "/mediate/{open}/sessions/new", None, only(MEDIATOR | {"mediator": 200})),
    ("POST", "/mediate/{open}/sessions/new", {}, only(MEDIATOR | {"mediator": 400})),
    ("POST", "/mediate/{open}/sessions/{session}/pick", {"slots": "{slot}"},
     only(PARTY | {"claimant": 303, "respondent": 303})),
    # The started session needs a came / no-show answer per party: an empty form is refused.
    ("POST", "/mediate/{open}/sessions/{started}/attendance", {}, only(MEDIATOR | {"mediator": 400})),
    ("POST", "/mediate/{open}/sessions/{session}/cancel", None, only(MEDIATOR | {"mediator": 303})),
    # Nobody missed the sessions in the permission world: the mediator is refused with 409.
    ("POST", "/mediate/{open}/sessions/end-for-non-attendance", None, only(MEDIATOR | {"mediator": 409})),
    ("GET", "/mediate/{open}/sessions/{started}/calendar.ics", None,
     only(SEES | {"claimant": 200, "respondent": 200, "mediator": 200})),
]
CHANGES_STATE = ("/pick", "/cancel")


def extend(users, cases, values):
    """A session whose times are being chosen, and one that started an hour ago."""
    case, mediator, now = cases["open"], users["mediator"], utcnow()
    proposed = MediationSession(case_id=case.id, mediator_id=mediator.id, mode=SessionMode.video,
                                status=SessionStatus.proposed,
                                slots=[SessionSlot(starts_at=now + timedelta(days=d)) for d in (2, 3)])
    started = MediationSession(case_id=case.id, mediator_id=mediator.id, mode=SessionMode.in_person,
                               location="Room 1", status=SessionStatus.scheduled, starts_at=now - timedelta(hours=1),
                               slots=[SessionSlot(starts_at=now - timedelta(hours=1))])
    db.session.add_all([proposed, started])
    db.session.flush()
    values.update(session=str(proposed.id), slot=str(proposed.slots[0].id), started=str(started.id))
