"""Permission-matrix rows of the operations dashboard (see tests/test_permissions.py).

Staff (of any organisation) and admins get the dashboard, each for their own scope; parties,
mediators, consultants and court clerks get 403. A transfer is accepted by the staff of the case's
organisation or an admin. The intake status API answers only to a sending system's token.
Managers are not a role of the shared matrix; tests/ops/test_permissions_ops.py covers them.
"""

from odr.cases import operations as ops
from odr.cases.models import Category, Channel
from odr.cases import transfers
from tests.permission_rows import ROLES, only


DASHBOARD = {"staff": 200, "other_staff": 200, "admin": 200}
#: The transferred case is in the center's queue, its parties invited but not joined.
ACCEPT = only({"staff": 303, "admin": 303})

ROWS = [
    ("GET", "/ops/", None, only(DASHBOARD, default=403)),
    ("GET", "/ops/export/open_by_stage.csv", None, only(DASHBOARD, default=403)),
    ("GET", "/ops/cases", None, only(DASHBOARD, default=403)),
    ("GET", "/ops/transfers", None, only(DASHBOARD, default=403)),
    ("GET", "/ops/reports/2026-W45.csv", None, only(DASHBOARD, default=403)),
    ("POST", "/ops/transfers/{transfer}/accept", None, ACCEPT),
    ("POST", "/ops/transfers/{transfer}/contact", None, ACCEPT),
    # A web case did not come by transfer: those who may act on it are told so.
    ("POST", "/ops/transfers/{open}/accept", None,
     only({"staff": 409, "admin": 409, "claimant": 403, "respondent": 403, "mediator": 403})),
    ("GET", "/api/v1/intake/{transfer_ref}", None, {r: 401 for r in ROLES}),
]
CHANGES_STATE = ("/accept", "/contact")


def extend(users, cases, values):
    center = cases["center"]
    client, _token = ops.issue_api_token("hotline-matrix", center)
    dispute = ops.DisputeDetails(Category.neighbour, "Loud music at night.", "Quiet after 22:00.", "朝阳区")
    case = ops.file_case(None, Channel.transfer, dispute, ops.PartyDetails("Wang", phone="+8613800138111"),
                         ops.PartyDetails("Li", phone="+8613800138222"), organization=center, api_client=client,
                         external_ref="HL-MATRIX-1")
    transfers.received(case)
    values.update(transfer=case.number, transfer_ref="HL-MATRIX-1")
