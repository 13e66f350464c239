"""Permission rows of agents and helpers (``odr.cases.representation``), and the claimant's agent
(acts) and read-only helper that every world of the matrix has in its open case."""

from __future__ import annotations

import io

from odr.cases import representation as reps
from odr.cases.models import RepresentativeKind, Scope
from tests.permission_rows import case_view, everyone

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PROVIDES = ("rep", "rep_token")

ROWS = [
    ("GET", "/cases/{open}/representatives", None, case_view()),
    # Only a party in person appoints (the empty form is then 400); the helper may read, not write.
    ("POST", "/cases/{open}/representatives", {},
     case_view(claimant=400, respondent=400, staff=403, mediator=403, admin=403, agent=403)),
    # The power of attorney under review: the party who gave it and its reviewers.
    ("GET", "/cases/{open}/representatives/{rep}/power-of-attorney", None,
     case_view(respondent=404, agent=404, helper=404)),
    ("POST", "/cases/{open}/representatives/{rep}/review", {"decision": "accept"},
     case_view(claimant=403, respondent=403, staff=303, mediator=303, admin=303, agent=403)),
    ("POST", "/cases/{open}/representatives/{rep}/revoke", None,
     case_view(claimant=303, respondent=403, staff=403, mediator=403, admin=403, agent=403)),
    # Whoever holds the link answers it, except a party of the case.
    ("GET", "/cases/represent/{rep_token}", None, everyone(200)),
    ("POST", "/cases/represent/{rep_token}/accept", None,
     everyone(303, anon=302) | {"claimant": 409, "respondent": 409, "agent": 409, "helper": 409}),
    ("POST", "/cases/represent/{rep_token}/decline", None,
     everyone(303, anon=302) | {"claimant": 409, "respondent": 409, "agent": 409, "helper": 409}),
]

CHANGES_STATE = ("/review", "/revoke", "/representatives")


def extend(users, cases, values):
    """An agent of the claimant waiting for review (``rep``), and a helper still invited (``rep_token``)."""
    case = cases["open"]
    claimant = users["claimant"]
    from tests.conftest import _counter  # unique contacts across worlds

    n = next(_counter)
    waiting = reps.appoint(case, claimant, RepresentativeKind.agent, Scope.act, "Lawyer", None,
                           f"lawyer{n}@example.com", poa=io.BytesIO(PDF), poa_filename="poa.pdf")
    from odr.auth import operations as auth_ops

    reps.accept(waiting, auth_ops.create_user(f"lawyer-account{n}@example.com", "Lawyer", "secret-password-1"))
    invited = reps.appoint(case, claimant, RepresentativeKind.helper, Scope.act, "Son", None, f"son{n}@example.com")
    values.update(rep=str(waiting.id), rep_token=invited.invite_token)


def appoint_in_world(users, case):
    """``users["agent"]`` acts for the claimant of ``case`` (power of attorney accepted by staff);
    ``users["helper"]`` reads it for them."""
    claimant, staff = users["claimant"], users["staff"]
    agent = reps.appoint(case, claimant, RepresentativeKind.agent, Scope.act, users["agent"].name, None,
                         users["agent"].email, poa=io.BytesIO(PDF), poa_filename="poa.pdf")
    reps.accept(agent, users["agent"])
    reps.review(agent, staff, True)
    helper = reps.appoint(case, claimant, RepresentativeKind.helper, Scope.read, users["helper"].name, None,
                          users["helper"].email)
    reps.accept(helper, users["helper"])
