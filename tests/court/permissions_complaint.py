"""Permission-matrix rows for the claimant's complaint (see tests/test_permissions.py).

In the world, the "litigating" case failed in mediation (its mediator is the world's mediator) and
is at the court hand-off stage with no complaint yet. The complaint is the claimant's alone to
prepare and sign: everyone else who sees the case is refused (403), whoever does not see it learns
nothing (404) — the clerks included, since no court has the case yet. Without the claimant's
sealed complaint the centre's hand-off is refused (409). The handed case has no complaint to
prepare any more (409 for its claimant).
"""

from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Channel, Stage

from tests.permission_rows import only

SEE = {"respondent": 403, "staff": 403, "mediator": 403, "admin": 403}

ROWS = [
    ("GET", "/court/{litigating}/complaint", None, only(SEE | {"claimant": 200})),
    ("POST", "/court/{litigating}/complaint", {}, only(SEE | {"claimant": 400})),  # no court chosen
    ("GET", "/court/{handed}/complaint", None,
     only({"claimant": 409, "respondent": 403, "staff": 403, "court_clerk": 403, "admin": 403})),
    ("POST", "/court/{litigating}/handoff", {"court": "{court}"},
     only({"claimant": 403, "respondent": 403, "mediator": 403, "staff": 409, "admin": 409})),
]
CHANGES_STATE = ()  # the rows post no court: nothing changes
#: Only the rows that use the litigating case build it.
PROVIDES = ("litigating",)


def extend(users, cases, values):
    claimant, respondent, staff = users["claimant"], users["respondent"], users["staff"]
    case = ops.file_case(claimant, Channel.web,
                         ops.DisputeDetails(cases["open"].category, "Noise at night.", "Quiet after ten.", "朝阳区"),
                         ops.PartyDetails(claimant.name, email=claimant.email),
                         ops.PartyDetails(respondent.name, email=respondent.email))
    ops.join_case(case.respondent, respondent)
    ops.route_case(case, cases["center"], staff)
    for stage in (Stage.assessment, Stage.mediation):
        workflow.move(case, stage, claimant)
    ops.assign_handler(case, staff, mediator=users["mediator"])
    workflow.move(case, Stage.litigation, users["mediator"])
    values["litigating"] = case.number
    values["court"] = str(cases["handed"].court_id)
