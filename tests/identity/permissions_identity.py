"""Permission-matrix rows of real-name identity (see tests/test_permissions.py).

Every signed-in person sees their own identity page. Only the staff of the open case's centre
check its parties' ID cards (the form sent empty: 400, nothing written); the case's parties and
mediator and the admins may see the case but not do this (403); everyone else does not learn it
exists (404). The OpenID Connect sign-in is not configured in the matrix's app: 404 for all
(tests/identity/test_oidc.py signs in through a real provider).
"""

from tests.permission_rows import case_view, everyone

COUNTER = case_view(staff=200, claimant=403, respondent=403, mediator=403, admin=403)

ROWS = [
    ("GET", "/identity/", None, everyone(200, anon=302)),
    ("GET", "/identity/counter/{open}", None, COUNTER),
    ("GET", "/identity/counter/{open}/parties/{claimant_party}", None, COUNTER),
    ("POST", "/identity/counter/{open}/parties/{claimant_party}", {}, COUNTER | {"staff": 400}),
    ("POST", "/identity/oidc/login", {}, everyone(404)),
    ("GET", "/identity/oidc/callback", None, everyone(404)),
]
CHANGES_STATE = ()
PROVIDES = ("claimant_party",)


def extend(users, cases, values):
    values["claimant_party"] = str(cases["open"].claimant.id)
