"""Permission-matrix rows for performance (see tests/test_permissions.py).

In the world, the assessed case has a schedule the respondent pays: its first item reported done
with a receipt, its second still to do.
"""

import io
from datetime import date
from decimal import Decimal

from odr.cases import performance
from odr.perform import operations as ops
from tests.permission_rows import only

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")

#: Who sees the assessed case: its parties, its organisation's staff, admins.
VIEW = only({"claimant": 200, "respondent": 200, "staff": 200, "admin": 200})


def seen(**ok):
    """Those who see the assessed case get 403 unless given here; the rest 404."""
    return only({"claimant": 403, "respondent": 403, "staff": 403, "admin": 403} | ok)


ROWS = [
    ("GET", "/perform/{assessed}", None, VIEW),
    ("GET", "/perform/{open}", None, only({})),  # no schedule: 404 for everyone
    ("GET", "/perform/{assessed}/items/{reported_item}/receipt", None, VIEW),
    # The receiving side (claimant) confirms; the paying side may not (409).
    ("POST", "/perform/{assessed}/items/{reported_item}/confirm", None, seen(claimant=303, respondent=409)),
    ("POST", "/perform/{assessed}/items/{reported_item}/dispute", {"reason": "Not received."},
     seen(claimant=303, respondent=409)),
    # Without a file: the payer is asked for the receipt (422); the payee may not report (409).
    ("POST", "/perform/{assessed}/items/{pending_item}/done", {}, seen(respondent=422, claimant=409)),
]
CHANGES_STATE = ("/confirm", "/dispute")


def extend(users, cases, values):
    case = cases["assessed"]
    schedule = performance.create_schedule(case, [
        performance.PlannedItem(date(2030, 1, 1), "First", Decimal("100")),
        performance.PlannedItem(date(2030, 2, 1), "Second", Decimal("100"))], payer_side="respondent", source="t")
    first, second = schedule.items
    ops.report_done(first, case, users["respondent"], io.BytesIO(PNG), "r.png")
    values["reported_item"], values["pending_item"] = str(first.id), str(second.id)
