"""Periodic jobs (session reminders, overdue assignment offers …): one registry, run by
``odr tick`` from cron, or every ``JOBS_INTERVAL_SECONDS`` by ``odr jobs``, the process ``odr run``
and ``odr demo`` start beside the web server (:func:`odr.serve.run_jobs_until_stopped`).

A feature registers its job where it is defined::

    @jobs.register
    def send_session_reminders(now: datetime) -> int: ...

A job does its work for the moment ``now``, flushes, never commits, and returns how many
things it handled. :func:`run_all` commits after each job, so one failing job neither
loses the others' work nor leaves half of its own. What must happen only once a job's work is
stored the job hands to :func:`after_commit`; telling open pages over Socket.IO, to :func:`tell`.

The jobs mostly run in a process that serves no pages (``odr jobs`` beside the server, ``odr tick``
from cron): what they tell the pages goes through the live relay (:mod:`odr.relay`), written in the
job's own transaction, and the serving process sends it on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from flask import g

from odr import realtime
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

JOBS: list[Callable[[datetime], int]] = []


def register(fn: Callable[[datetime], int]) -> Callable[[datetime], int]:
    """Add a job to the registry (once)."""
    if fn not in JOBS:
        JOBS.append(fn)
    return fn


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once the running job's work is committed (not at all if it fails): the
    jobs' counterpart of :func:`odr.transaction.after_commit`."""
    g.setdefault("odr_job_after_commit", []).append(callback)


def tell(callback: Callable[[], object]) -> None:
    """Have ``callback`` tell the open pages of the running job's work (through
    :func:`odr.realtime.emit`), and only if that work is stored: where this process serves the pages,
    right after the commit; where it does not (``odr jobs``, ``odr tick``), just before it, so that
    what it emits goes into the live relay in the job's own transaction — committed with the work,
    or rolled back with it."""
    g.setdefault("odr_job_tell", []).append(callback)


def _run_queued(key: str, run: bool) -> None:
    callbacks = g.pop(key, [])
    for callback in callbacks if run else []:
        try:
            callback()
        except Exception:  # the work is (being) stored; a failed notification must not fail the job
            logger.exception("Step %r after a job failed", callback)


def _run_after_commit(committed: bool) -> None:
    _run_queued("odr_job_after_commit", committed)


def run_all(now: datetime | None = None) -> dict[str, int | str]:
    """Run every job for ``now`` (default: the platform clock), then send what they queued.

    :return: ``{job name: count handled, or "failed"}``.
    """
    from odr import outbox

    now = now or utcnow()
    relaying = realtime.relaying()
    summary: dict[str, int | str] = {}
    for job in JOBS:
        name = job.__name__
        try:
            summary[name] = job(now) or 0
            if relaying:  # the events go into this transaction (odr.relay)
                _run_queued("odr_job_tell", True)
            db.session.commit()
        except Exception:  # one broken job must not stop the others
            db.session.rollback()
            logger.exception("Periodic job %s failed", name)
            summary[name] = "failed"
            _run_after_commit(False)
            _run_queued("odr_job_tell", False)
        else:
            _run_after_commit(True)
            _run_queued("odr_job_tell", not relaying)
    outbox.deliver_pending()
    return summary
