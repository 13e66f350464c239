"""How late a case is in its stage: days in stage, the deadline, and a green/yellow/red mark.

The rule, in one place (figures from ``SLA_DAYS`` / ``SLA_YELLOW_SHARE`` in the config):
green while less than the yellow share of the stage's time is used, yellow after that,
red once the deadline has passed. Closed cases have no mark. ``Case.due_at`` holds the
deadline (set by the workflow on every stage change) so queues can sort by it in SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from odr.timeutil import utcnow


@dataclass(frozen=True)
class Sla:
    days_in_stage: int
    due_at: datetime
    #: Days left, a started day counting as a whole one (negative: whole days late).
    days_left: int
    #: ``green``, ``yellow`` or ``red``.
    colour: str


def stage_days(stage) -> int:
    return int(current_app.config["SLA_DAYS"][stage.value])


def due_at(stage, entered_at: datetime) -> datetime:
    """The deadline of a stage entered at ``entered_at``."""
    return entered_at + timedelta(days=stage_days(stage))


def colour(entered_at: datetime, deadline: datetime, now: datetime) -> str:
    if now >= deadline:
        return "red"
    used = (now - entered_at) / (deadline - entered_at) if deadline > entered_at else 1
    return "yellow" if used >= current_app.config["SLA_YELLOW_SHARE"] else "green"


def of(case, now: datetime | None = None) -> Sla | None:
    """The case's mark now, or ``None`` for a closed case."""
    if not case.is_open:
        return None
    now = now or utcnow()
    deadline = case.due_at or due_at(case.stage, case.stage_entered_at)
    left = deadline - now
    if left >= timedelta(0):
        days_left = math.ceil(left / timedelta(days=1))
    else:
        days_left = -((-left).days + (1 if (-left).seconds else 0))
    return Sla(days_in_stage=(now - case.stage_entered_at).days, due_at=deadline, days_left=days_left,
               colour=colour(case.stage_entered_at, deadline, now))
