"""Permission rows: directory, roster, assignment offers, change requests, ratings."""

from odr.extensions import db
from odr.mediate.models import Assignment, MediatorProfile
from odr.timeutil import utcnow
from datetime import timedelta
from tests.permission_rows import only


#: Staff and admins of the case's organisation manage it; its parties and mediator see it.
MANAGE = {"claimant": 403, "respondent": 403, "mediator": 403}
PARTY = {"staff": 403, "mediator": 403, "admin": 403}

ROWS = [
    ("GET", "/mediate/directory", None, only({}, default=200, anon=200)),
    ("GET", "/mediate/orgs/{center_id}", None, only({}, default=200, anon=200)),
    ("GET", "/mediate/roster", None, only({"staff": 200, "other_staff": 200}, default=403)),
    ("POST", "/mediate/roster", {}, only({"staff": 400, "other_staff": 400}, default=403)),
    ("POST", "/mediate/roster/{mediator_id}", {}, only({"staff": 400, "other_staff": 404}, default=403)),
    ("POST", "/mediate/roster/{mediator_id}/remove", None, only({"staff": 303, "other_staff": 404}, default=403)),
    ("GET", "/mediate/{open}/assign", None, only(MANAGE | {"staff": 200, "admin": 200})),
    # The case is already offered to the other mediator in this world: allowed roles get the refusal.
    ("POST", "/mediate/{open}/assign", {"mediator": "{other_mediator_id}"}, only(MANAGE | {"staff": 409, "admin": 409})),
    ("POST", "/mediate/{open}/assign/withdraw", None, only(MANAGE | {"staff": 303, "admin": 303})),
    ("GET", "/mediate/offers", None, only({"mediator": 200, "other_mediator": 200}, default=403)),
    ("GET", "/mediate/offers/{offer}", None, only({"other_mediator": 200})),
    ("POST", "/mediate/offers/{offer}/accept", None, only({"other_mediator": 303})),
    ("POST", "/mediate/offers/{offer}/decline", {"reason": "Busy"}, only({"other_mediator": 303})),
    ("POST", "/mediate/{open}/change", {"reason": "Too slow."},
     only(PARTY | {"claimant": 303, "respondent": 303})),
    ("POST", "/mediate/{open}/rate", {"stars": "5"}, only(PARTY | {"claimant": 409, "respondent": 409})),
]
CHANGES_STATE = ("/remove", "/withdraw", "/change", "/assign")


def extend(users, cases, values):
    center = cases["center"]
    for role in ("mediator", "other_mediator"):
        db.session.add(MediatorProfile(user_id=users[role].id, organization_id=center.id, specialties="neighbour"))
    now = utcnow()
    offer = Assignment(case=cases["open"], organization_id=center.id, mediator=users["other_mediator"],
                       offered_by=users["staff"], offered_at=now, answer_by=now + timedelta(hours=24))
    db.session.add(offer)
    db.session.flush()
    values.update(center_id=str(center.id), mediator_id=str(users["mediator"].id),
                  other_mediator_id=str(users["other_mediator"].id), offer=str(offer.id))
