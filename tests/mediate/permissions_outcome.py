"""Permission-matrix rows for proposals and outcomes (see tests/test_permissions.py).

In the world, the claimant has made a proposal (put to the respondent), the mediator has
sent an agreement for approval and has a record of undisputed facts in draft.
"""

from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import proposals as props
from odr.mediate.models import OutcomeKind
from tests.permission_rows import only


#: Everyone who may see the case: its parties, its mediator, its organisation's staff, admins.
VIEW = only({"claimant": 200, "respondent": 200, "staff": 200, "mediator": 200, "admin": 200})


def seen(**ok):
    """Those who see the case get 403 unless given here; the rest 404."""
    return only({"claimant": 403, "respondent": 403, "staff": 403, "mediator": 403, "admin": 403} | ok)


ROWS = [
    ("GET", "/mediate/{open}/proposals", None, VIEW),
    ("POST", "/mediate/{open}/proposals", {}, seen(claimant=400, respondent=400, mediator=400)),
    ("POST", "/mediate/{open}/proposals/{proposal}/answer", {"decision": "accept"}, seen(respondent=303)),
    ("GET", "/mediate/{open}/proposals/{proposal}/counter", None, seen(respondent=200)),
    ("POST", "/mediate/{open}/proposals/{proposal}/counter", {}, seen(respondent=400)),
    # The proposal's side withdraws it: the claimant in person or their agent who acts (the
    # read-only helper is refused).
    ("POST", "/mediate/{open}/proposals/{proposal}/withdraw", None, seen(claimant=303)),
    ("GET", "/mediate/{open}/outcome", None, VIEW),
    ("GET", "/mediate/{open}/outcome/agreement/edit", None, seen(mediator=200)),
    ("POST", "/mediate/{open}/outcome/agreement/edit", {}, seen(mediator=400)),
    ("POST", "/mediate/{open}/outcome/undisputed_facts/send", None, seen(mediator=303)),
    ("POST", "/mediate/{open}/outcome/agreement/answer", {"decision": "approve"},
     seen(claimant=303, respondent=303)),
    ("POST", "/mediate/{open}/outcome/next", {"step": "court"},
     seen(claimant=303, respondent=303, mediator=303, staff=303, admin=303)),
    # Arbitration is not a step of this form any more (both parties sign an agreement at /arbitrate):
    # those who see the case are told the step is not one of the choices.
    ("POST", "/mediate/{open}/outcome/next", {"step": "arbitration"},
     seen(claimant=400, respondent=400, mediator=400, staff=400, admin=400)),
]
CHANGES_STATE = ("/answer", "/withdraw", "/send", "/next")


def extend(users, cases, values):
    """A proposal by the claimant; an agreement sent for approval; a record of facts in draft."""
    case = cases["open"]
    proposal = props.make_proposal(case, users["claimant"], amount=None, terms="Quiet after 22:00.", schedule=[],
                                   respond_by=None)
    mediator = users["mediator"]
    texts = {s["id"]: s["text"] or "—" for s in outcomes.draft_content(case, OutcomeKind.agreement)["sections"]}
    agreement = outcomes.save(case, OutcomeKind.agreement, mediator, texts)
    outcomes.send(agreement, case, mediator)
    facts = {s["id"]: s["text"] or "—" for s in outcomes.draft_content(case, OutcomeKind.undisputed_facts)["sections"]}
    outcomes.save(case, OutcomeKind.undisputed_facts, mediator, facts)
    values["proposal"] = str(proposal.id)
