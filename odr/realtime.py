"""What every Socket.IO namespace shares: the refusal a handler answers with, and the check of
the ids a payload carries.

A handler refuses an event by raising :class:`odr.refusal.Refused` (through :func:`refuse`, which
also logs why); the namespace's handler wrapper turns it into ``{"ok": false, "error": reason}``
and a ``problem`` event. Every id in a payload goes through :func:`database_id` before it reaches
a query.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from flask_login import current_user

from odr.refusal import Refused
from odr.validation import is_database_id

logger = logging.getLogger(__name__)


def refuse(namespace: str, message, log: str | None = None):
    """Refuse the event being handled: ``message`` goes to the sender, ``log`` (if any) to the log.

    :raise Refused: always.
    """
    if log:
        logger.warning("Refused %s event from user %s: %s", namespace, getattr(current_user, "id", None), log)
    raise Refused(message)


def database_id(namespace: str, data: dict, key: str, *, optional: bool = False) -> int | None:
    """``data[key]`` if it is a row's id (``None`` when ``optional`` and absent).

    :raise Refused: anything else, e.g. a string, a bool, 0 or 2**70.
    """
    value = data.get(key)
    if value is None and optional:
        return None
    if not is_database_id(value):
        refuse(namespace, _("Malformed request."), f"bad {key}")
    return value
