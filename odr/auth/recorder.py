"""Account events (a password changed, sessions ended) go into the platform's audit trail.

The trail is kept by the case file (``odr.cases.audit``), a layer above accounts; accounts do not
import it. The case file hands its recorder in when it plugs in (``odr.cases.init_app``), and an
account event is then written in the same transaction as the change it records. An app without
the case file has no trail to write to, and ``create_app`` refuses to start (``check_wiring``).
"""

from __future__ import annotations

from collections.abc import Callable

_record: Callable | None = None


def set_recorder(record: Callable) -> None:
    """``record(case, actor, action, payload)``: the audit trail's writer."""
    global _record
    _record = record


def has_recorder() -> bool:
    return _record is not None


def record(actor, action: str, payload: dict) -> None:
    """Record an account event (no case) by ``actor``.

    :raise RuntimeError: no audit trail is plugged in.
    """
    if _record is None:
        raise RuntimeError("no audit trail to record account events in: odr.cases is not plugged in")
    _record(None, actor, action, payload)
