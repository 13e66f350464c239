"""The permission matrix's roles and row builders, for tests/test_permissions.py and its extension modules."""

ROLES = ["anon", "outsider", "claimant", "respondent", "staff", "other_staff", "mediator", "other_mediator",
         "court_clerk", "other_clerk", "consultant", "admin"]
SIGNED_IN = [r for r in ROLES if r != "anon"]


def only(ok: dict, default=404, anon=302):
    """``ok`` for the roles named, ``default`` for the rest, ``anon`` signed out."""
    out = {r: default for r in ROLES}
    out["anon"] = anon
    out.update(ok)
    return out


def everyone(status, anon=None):
    return {r: (anon if r == "anon" and anon is not None else status) for r in ROLES}


def case_view(**overrides):
    """Who may see the open case: its parties, its organisation's staff, its mediator, admins."""
    out = {r: 404 for r in ROLES}
    out.update(anon=302, claimant=200, respondent=200, staff=200, mediator=200, admin=200)
    out.update(overrides)
    return out


def staff_only(ok):
    out = {r: 403 for r in ROLES}
    out.update(anon=302, staff=ok, other_staff=ok, admin=ok)
    return out


#: The claimant's representatives in the open case only: an agent with the ``act`` scope (power of
#: attorney accepted) and a helper with the ``read`` scope. A row may name them; otherwise
#: :func:`representative_expected` derives what they get from the claimant's and the outsider's cells.
REPRESENTATIVES = ["agent", "helper"]


def representative_expected(role: str, method: str, on_open_case: bool, expected: dict) -> int:
    """What the claimant's agent (acts) or read-only helper gets on a row that does not name them:
    on the open case's addresses the claimant's answer — except that the helper's ``POST`` is
    refused (403) before anything else — and elsewhere the outsider's (they act in that case only)."""
    if role in expected:
        return expected[role]
    if not on_open_case:
        return expected["outsider"]
    if role == "helper" and method == "POST":
        return 403
    return expected["claimant"]
