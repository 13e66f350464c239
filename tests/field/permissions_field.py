"""Permission-matrix rows of field dispatch (see tests/test_permissions.py).

The world's center answers for a grid whose worker (not one of the matrix's roles) has a dispatch.
Nobody of the matrix is a grid worker: the phone's pages are refused (403), a dispatch is seen
only by the command room of its organisation (the center's staff, admins) and its grid's workers
— others learn nothing (404) — and its steps are its worker's alone (403 for the command room).
Workers of another grid are covered by tests/field/test_dispatch.py.
"""

from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.cases.models import Category, Channel
from odr.cases import transfers
from odr.extensions import db
from odr.field import operations as ops
from tests.permission_rows import only

COMMAND = {"staff": 200, "other_staff": 200, "admin": 200}
SEEN = only({"staff": 200, "admin": 200})
STEP = only({"staff": 403, "admin": 403})

ROWS = [
    ("GET", "/field/", None, only({}, default=403)),
    ("POST", "/field/duty", {"on_duty": "1"}, only({}, default=403)),
    ("GET", "/field/d/{dispatch}", None, SEEN),
    ("POST", "/field/d/{dispatch}/accept", None, STEP),
    ("POST", "/field/d/{dispatch}/contact", {"how": "call"}, STEP),
    ("POST", "/field/d/{dispatch}/scene", {}, STEP),
    ("POST", "/field/d/{dispatch}/refer", {"present": "Wang, Li", "facts": "Noise."}, STEP),
    # The on-site agreement: drawn up and signed on the dispatched worker's phone only.
    ("POST", "/field/d/{dispatch}/agreement", {"agreement-present": "1", "agreement-facts": "Noise.",
                                                 "agreement-terms": "Quiet."}, STEP),
    ("GET", "/field/d/{dispatch}/agreement", None, STEP),
    ("GET", "/field/d/{dispatch}/agreement/1/0", None, STEP),
    ("POST", "/field/d/{dispatch}/agreement/1/0/code", {}, STEP),
    ("POST", "/field/d/{dispatch}/agreement/1/0/prepare", {}, STEP),
    ("POST", "/field/d/{dispatch}/agreement/1/0/finish", {}, STEP),
    ("POST", "/field/d/{dispatch}/assign", {"worker": "{second_worker}"}, only({"staff": 303, "admin": 303})),
    ("GET", "/field/command", None, only(COMMAND, default=403)),
    ("GET", "/field/grids", None, only(COMMAND, default=403)),
    ("POST", "/field/grids", {}, only({"staff": 400, "other_staff": 400, "admin": 400}, default=403)),
    ("POST", "/field/grids/{grid}/workers", {}, only({"staff": 400, "admin": 400, "other_staff": 404},
                                                      default=403)),
]
CHANGES_STATE = ("/assign",)
PROVIDES = ("dispatch", "second_worker", "grid")


def extend(users, cases, values):
    from odr.auth import operations as auth_ops

    center, staff = cases["center"], users["staff"]
    grid = ops.create_grid(center, "Matrix grid", ["望京西园"], [], staff)
    worker = auth_ops.create_user("+8613700137501", "Matrix worker", "matrix-password-1")
    second = auth_ops.create_user("+8613700137502", "Matrix second", "matrix-password-1")
    ops.add_worker(grid, worker, staff)
    ops.add_worker(grid, second, staff)
    ops.set_duty(worker, True)
    client, _token = case_ops.issue_api_token("police-matrix", center)
    dispute = case_ops.DisputeDetails(Category.neighbour, "Loud music at night.", "Quiet after 22:00.", "朝阳区")
    case = case_ops.file_case(None, Channel.transfer, dispute, case_ops.PartyDetails("Wang", phone="+8613800138311"),
                              case_ops.PartyDetails("Li", phone="+8613800138322"), organization=center,
                              api_client=client, external_ref="110-matrix")
    transfers.received(case, {"place": "望京西园 3号楼"})
    db.session.flush()
    values.update(dispatch=str(ops.dispatch_of(case).id), second_worker=str(second.id), grid=str(grid.id))
