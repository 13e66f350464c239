"""Periodic jobs (session reminders, overdue assignment offers …): one registry, run by
``odr tick`` from cron, or every ``JOBS_INTERVAL_SECONDS`` by ``odr jobs``, the process ``odr run``
and ``odr demo`` start beside the web server (:func:`odr.serve.run_jobs_until_stopped`).

A feature registers its job where it is defined::

    @jobs.register
    def send_session_reminders(now: datetime) -> int: ...

A job does its work for the moment ``now``, flushes, never commits, and returns how many
things it handled. :func:`run_all` commits after each job, so one failing job neither
loses the others' work nor leaves half of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

JOBS: list[Callable[[datetime], int]] = []


def register(fn: Callable[[datetime], int]) -> Callable[[datetime], int]:
    """Add a job to the registry (once)."""
    if fn not in JOBS:
        JOBS.append(fn)
    return fn


def run_all(now: datetime | None = None) -> dict[str, int | str]:
    """Run every job for ``now`` (default: the platform clock), then send what they queued.

    :return: ``{job name: count handled, or "failed"}``.
    """
    from odr import outbox

    now = now or utcnow()
    summary: dict[str, int | str] = {}
    for job in JOBS:
        name = job.__name__
        try:
            summary[name] = job(now) or 0
            db.session.commit()
        except Exception:  # one broken job must not stop the others
            db.session.rollback()
            logger.exception("Periodic job %s failed", name)
            summary[name] = "failed"
    outbox.deliver_pending()
    return summary
