"""Permission-matrix rows of the case room (see tests/test_permissions.py).

The room of the open case is read by its parties, its mediator, its staff and admins (staff
and admins: the joint thread and shared evidence only); only parties and the mediator write.
Mediator-only evidence answers 404 to everyone but its uploader and the mediator.
"""

import io

from odr.mediate.room import operations as room
from odr.cases.evidence import Visibility
from tests.permission_rows import only


#: The smallest valid PNG (1×1 pixel).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")


READERS = {"claimant": 200, "respondent": 200, "staff": 200, "mediator": 200, "admin": 200}
#: The handed case has left mediation: its parties still read, nobody writes; its court's clerk sees
#: the case but not the room, its former mediator no longer sees the case.
HANDED_READERS = {"claimant": 200, "respondent": 200, "staff": 200, "admin": 200, "court_clerk": 403}

ROWS = [
    ("GET", "/mediate/{open}/room", None, only(READERS)),
    ("POST", "/mediate/{open}/room", {"thread": "claimant", "body": "Only for the mediator."},
     only({"claimant": 303, "respondent": 403, "mediator": 303, "staff": 403, "admin": 403})),
    ("GET", "/mediate/{handed}/room", None, only(HANDED_READERS)),
    ("POST", "/mediate/{handed}/room", {"thread": "joint", "body": "Too late."},
     only({"claimant": 409, "respondent": 409, "staff": 403, "admin": 403, "court_clerk": 403})),
    ("GET", "/mediate/{open}/evidence", None, only(READERS)),
    # No file in the form: 400 for whoever may upload.
    ("POST", "/mediate/{open}/evidence", {"visibility": "all", "description": "Receipt"},
     only({"claimant": 400, "respondent": 400, "mediator": 400, "staff": 403, "admin": 403})),
    ("GET", "/mediate/{handed}/evidence", None, only(HANDED_READERS)),
    # Mediator-only evidence is its uploader's (the claimant's own account), not their side's: the
    # claimant's agent and helper do not see it.
    ("GET", "/mediate/{open}/evidence/{evidence_private}", None,
     only({"claimant": 200, "mediator": 200}) | {"agent": 404, "helper": 404}),
    ("GET", "/mediate/{open}/evidence/{evidence_shared}", None, only(READERS)),
]
CHANGES_STATE: tuple = ("/room",)


def extend(users, cases, values):
    """The claimant's two photos in the open case: one for the mediator only, one for everyone."""
    case = cases["open"]
    private = room.add_evidence(case, users["claimant"], io.BytesIO(PNG), "private.png", Visibility.mediator,
                                "For the mediator")
    shared = room.add_evidence(case, users["claimant"], io.BytesIO(PNG + b"\0"), "shared.png", Visibility.all,
                               "For everyone")
    values["evidence_private"] = str(private.id)
    values["evidence_shared"] = str(shared.id)
