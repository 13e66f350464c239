"""The one clock of the platform: UTC, replaceable in tests.

Code reads the time only through :func:`utcnow`. Tests that need deadlines to pass
(assignment answers, session reminders, SLA colours) move the clock with
:func:`set_clock` instead of sleeping; ``set_clock(None)`` restores the real one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app

#: How a wall-clock time arrives from a form (``<input type=datetime-local>`` and by hand).
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")

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


def display_zone() -> ZoneInfo:
    """The time zone people read and type times in (``BABEL_DEFAULT_TIMEZONE``)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_to_utc(local: datetime) -> datetime:
    """A wall-clock time in the display time zone as naive UTC."""
    return local.replace(tzinfo=display_zone()).astimezone(timezone.utc).replace(tzinfo=None)


def utc_to_local(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc).astimezone(display_zone()).replace(tzinfo=None)


def parse_local(raw: str) -> datetime | None:
    """A wall-clock time typed in one of :data:`LOCAL_FORMATS`, or ``None``."""
    for fmt in LOCAL_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None
