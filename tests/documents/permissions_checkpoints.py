"""Permission-matrix rows for the signed checkpoints of the audit trail (see tests/test_permissions.py).

In the world, a checkpoint of the open case's chain is signed. A case's checkpoint is for whoever
sees the case (everyone else: "not found"); the signed statements are public — they name no case.
"""

from odr.documents import checkpoints

from tests.permission_rows import only

PROVIDES = ("checkpointed", "checkpoint")
PUBLIC = only({}, default=200, anon=200)

ROWS = [
    ("GET", "/cases/{checkpointed}/checkpoint", None,
     only({r: 200 for r in ("claimant", "respondent", "staff", "mediator", "admin")})),
    ("GET", "/checkpoints/{checkpoint}", None, PUBLIC),
    ("GET", "/checkpoints", None, PUBLIC),
]
CHANGES_STATE = ()


def extend(users, cases, values):
    case = cases["open"]
    checkpoint = checkpoints.checkpoint_case(case, checkpoints.CheckpointReason.periodic)
    values["checkpointed"] = case.number
    values["checkpoint"] = checkpoint.sha256
