"""What the permission-matrix extension modules share: the roles of the world and a row builder."""

ROLES = ["anon", "outsider", "claimant", "respondent", "staff", "other_staff", "mediator", "other_mediator",
         "court_clerk", "other_clerk", "consultant", "admin"]


def only(ok: dict, default=404, anon=302):
    """``ok`` for the roles named, ``default`` for the rest, ``anon`` signed out."""
    out = {r: default for r in ROLES}
    out["anon"] = anon
    out.update(ok)
    return out
