"""The one clock of the platform: UTC, replaceable in tests."""

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Current time in UTC as a naive datetime, the form stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
