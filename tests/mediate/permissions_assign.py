"""Permission-matrix rows for this part of the mediation stage (see tests/test_permissions.py)."""

ROWS: list = []
CHANGES_STATE: tuple = ()


def extend(users, cases, values):
    """Add what the rows need to the world; put the ids the URLs use into ``values``."""
