"""The one clock of the platform: UTC, replaceable in tests.

Code reads the time only through :func:`utcnow`. Tests that need deadlines to pass
(assignment answers, session reminders, SLA colours) move the clock with
:func:`set_clock` instead of sleeping; ``set_clock(None)`` restores the real one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

_source: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """Current time in UTC as a naive datetime, the form stored in the database."""
    if _source is not None:
        return _source()
    return datetime.now(timezone.utc).replace(tzinfo=None)


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests only): ``source()`` returns a naive UTC datetime."""
    global _source
    _source = source
