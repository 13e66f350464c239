"""Permission-matrix rows for the court hand-off and the clerk's inbox (see tests/test_permissions.py).

In the world, the handed case has a hand-off to "Court" (the court_clerk's), with a bundle on
disk. The hand-off page of a case is for those who manage it (its centre's staff, admins);
the inbox for clerks and admins; a hand-off for the clerks of its court and admins — everyone
else gets "not found". The API wants a court's bearer token: without one, 401 for all.
"""

import hashlib

from odr.court import operations as ops
from odr.court.models import Handoff, HandoffKind
from odr.extensions import db

from tests.permission_rows import ROLES, only


SEEN = {"claimant": 403, "respondent": 403, "mediator": 403}  # see the open case, may not hand it over
CLERK = {"court_clerk": 200, "admin": 200}
API = {r: 401 for r in ROLES}

#: The open case is not settled: asking for judicial confirmation is refused to those who see it.
NOT_SETTLED = {"claimant": 409, "respondent": 409, "staff": 409, "mediator": 409, "admin": 409}

ROWS = [
    ("GET", "/court/{open}/confirmation", None, only(NOT_SETTLED)),
    ("POST", "/court/{open}/confirmation", {}, only(NOT_SETTLED)),
    # Enforcement: nothing to enforce in the open case (no confirmed agreement or award, no schedule);
    # those who see it are refused, the rest learn nothing. The granted path is tests/court/test_enforcement.py.
    ("GET", "/court/{open}/enforcement", None, only(NOT_SETTLED)),
    ("POST", "/court/{open}/enforcement", {}, only(NOT_SETTLED)),
    ("GET", "/court/{open}/handoff", None, only(SEEN | {"staff": 200, "admin": 200})),
    ("POST", "/court/{open}/handoff", {}, only(SEEN | {"staff": 400, "admin": 400})),
    ("GET", "/court/inbox", None, only({"court_clerk": 200, "other_clerk": 200, "admin": 200}, default=403)),
    ("GET", "/court/handoffs/{handoff}", None, only(CLERK)),
    ("GET", "/court/handoffs/{handoff}/bundle.zip", None, only(CLERK)),
    ("GET", "/court/handoffs/{handoff}/checkpoints.json", None, only(CLERK)),
    ("POST", "/court/handoffs/{handoff}/receipt", None, only({"court_clerk": 303, "admin": 303})),
    ("POST", "/court/handoffs/{handoff}/docket", {}, only({"court_clerk": 400, "admin": 400})),
    ("POST", "/court/handoffs/{handoff}/result", {}, only({"court_clerk": 400, "admin": 400})),
    ("GET", "/api/court/v1/handoffs", None, API),
    ("GET", "/api/court/v1/handoffs/{handoff}", None, API),
    ("GET", "/api/court/v1/handoffs/{handoff}/bundle", None, API),
    ("GET", "/api/court/v1/handoffs/{handoff}/checkpoints", None, API),
    ("GET", "/api/court/v1/checkpoints", None, API),
    ("POST", "/api/court/v1/handoffs/{handoff}/receipt", None, API),
    ("POST", "/api/court/v1/handoffs/{handoff}/docket", {}, API),
    ("POST", "/api/court/v1/handoffs/{handoff}/result", {}, API),
]
CHANGES_STATE = ("/receipt",)


def extend(users, cases, values):
    case = cases["handed"]
    data = b"PK\x05\x06" + bytes(18)  # an empty ZIP: the matrix is about who may fetch it
    sha = hashlib.sha256(data).hexdigest()
    path = ops.bundle_folder() / f"{sha}.zip"
    path.write_bytes(data)
    handoff = Handoff(case_id=case.id, court_id=case.court_id, kind=HandoffKind.filing, bundle_sha256=sha,
                      bundle_size=len(data))
    db.session.add(handoff)
    db.session.flush()
    values["handoff"] = str(handoff.id)
