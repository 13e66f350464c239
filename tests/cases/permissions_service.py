"""Permission-matrix rows for electronic service (see tests/test_permissions.py): a notice served to
the open case's claimant, a delivery to its respondent that failed, a call task for the staff."""

from odr.cases.service import operations as service
from odr.extensions import db
from tests.permission_rows import case_view, only

#: The service page: the case's parties (their addresses) and its centre (what was served).
PAGE = case_view(mediator=403)
#: Only a party confirms their own addresses.
PARTY_ONLY = only({"claimant": 422, "respondent": 422, "staff": 403, "mediator": 403, "admin": 403})
#: Only the centre follows up deliveries and makes calls.
CENTRE = only({"claimant": 403, "respondent": 403, "staff": 303, "mediator": 403, "admin": 303})

ROWS = [
    # A served link opens for its recipient only; signed out, sign in first.
    ("GET", "/s/{svc_claimant}", None, only({"claimant": 303}, default=403)),
    ("GET", "/s/unknown-token", None, only({}, default=404, anon=404)),
    ("GET", "/cases/{open}/service", None, PAGE),
    ("POST", "/cases/{open}/service/addresses", {}, PARTY_ONLY),
    ("POST", "/cases/{open}/service/records/{svc_failed}/follow-up", {}, CENTRE),
    ("POST", "/cases/{open}/service/tasks/{svc_task}/done", {"note": "Reached them."}, CENTRE),
]
CHANGES_STATE = ("/follow-up", "/done")
PROVIDES = ("svc_claimant", "svc_failed", "svc_task")


def extend(users, cases, values):
    case = cases["open"]
    mine = service.serve(case, case.claimant, "document", "Please sign.", f"/cases/{case.number}")
    failed = service.serve(case, case.respondent, "proposal", "A proposal.", f"/cases/{case.number}")
    for record in failed:
        record.message.attempts, record.message.last_error = 10, "SMTPRecipientsRefused: no such user"
    task = service.add_call_task(case, case.respondent, "reminder day 5")
    db.session.flush()
    values.update(svc_claimant=mine[0].token, svc_failed=str(failed[0].id), svc_task=str(task.id))
