"""Permission-matrix rows for the satisfaction survey (see tests/test_permissions.py): the handed
case has ended (handed to court); the open case has not."""

from tests.permission_rows import only

#: Who sees the handed case: its parties, staff, admins and the court's clerk; only parties answer.
ENDED = only({"claimant": 200, "respondent": 200, "staff": 403, "admin": 403, "court_clerk": 403})

ROWS = [
    ("GET", "/survey/{handed}", None, ENDED),
    ("POST", "/survey/{handed}", {}, ENDED | {"claimant": 400, "respondent": 400}),
    # Still open: the parties are told the survey opens when it ends.
    ("GET", "/survey/{open}", None, only({"claimant": 409, "respondent": 409, "staff": 403, "mediator": 403,
                                         "admin": 403})),
]
CHANGES_STATE = ()
PROVIDES = ()


def extend(users, cases, values):
    pass
