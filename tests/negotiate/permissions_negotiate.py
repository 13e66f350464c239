"""Permission-matrix rows for the direct negotiation (see tests/test_permissions.py).

In the world, the assessed case (both parties joined, in assessment) has an open offer by the
claimant to the respondent.
"""

from odr.negotiate import operations as ops
from tests.permission_rows import case_view, only

#: Who sees the assessed case: its parties, its organisation's staff, admins (no mediator yet).
VIEW = only({"claimant": 200, "respondent": 200, "staff": 200, "admin": 200})


def seen(**ok):
    """Those who see the assessed case get 403 unless given here; the rest 404."""
    return only({"claimant": 403, "respondent": 403, "staff": 403, "admin": 403} | ok)


ROWS = [
    ("GET", "/negotiate/{assessed}", None, VIEW),
    # The mediator of a case in mediation reads the negotiation's history (none here).
    ("GET", "/negotiate/{open}", None, case_view()),
    ("POST", "/negotiate/{assessed}/offers", {}, seen(claimant=400, respondent=400)),
    ("POST", "/negotiate/{assessed}/offers/{offer}/answer", {"decision": "reject"},
     seen(respondent=303, claimant=409)),
    ("GET", "/negotiate/{assessed}/offers/{offer}/counter", None, seen(respondent=200, claimant=409)),
    ("POST", "/negotiate/{assessed}/offers/{offer}/counter", {}, seen(respondent=400, claimant=409)),
    ("POST", "/negotiate/{assessed}/offers/{offer}/withdraw", None, seen(claimant=303, respondent=409)),
    # In mediation (the open case, entered just now), each party may choose to negotiate first; with
    # no negotiation under way there is nothing to end. Those who see the case but are no party: 403.
    ("POST", "/negotiate/{open}/first", None, case_view(claimant=303, respondent=303, staff=403, mediator=403,
                                                          admin=403)),
    ("POST", "/negotiate/{open}/end", None, case_view(claimant=409, respondent=409, staff=403, mediator=403,
                                                        admin=403)),
    ("POST", "/negotiate/{assessed}/first", None, seen(claimant=409, respondent=409)),
]
CHANGES_STATE = ("/answer", "/withdraw", "/first")
PROVIDES = ("offer",)


def extend(users, cases, values):
    """An open offer by the claimant in the assessed case."""
    offer = ops.make_offer(cases["assessed"], users["claimant"], amount=None, terms="Quiet after 22:00.",
                           schedule=[], respond_by=None)
    values["offer"] = str(offer.id)
