"""The page each stage package shows for a case; later work fills each stage in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from odr.cases.access import get_case_or_404
from odr.cases.models import Stage, Outcome
from odr.cases.workflow import available_moves

STAGE_ORDER = list(Stage)
#: The page of each stage, in the package that owns the stage.
STAGE_ENDPOINTS = {
    "consultation": "consult.case_stage",
    "assessment": "assess.case_stage",
    "mediation": "mediate.case_stage",
    "arbitration": "arbitrate.case_stage",
    "litigation": "court.case_stage",
}


def visited_stages(events) -> set[str]:
    """Stages a case has left, from its audit events."""
    return {ev.payload.get("from") for ev in events if ev.action == "stage_changed"}


def stage_status(case, stage: Stage, visited: set[str] | None = None) -> str:
    """``current``, ``closed``, ``done``, ``skipped`` or ``ahead`` for the stage timeline."""
    from odr.cases import audit

    if case.stage is stage:
        return "closed" if case.outcome is not None else "current"
    if visited is None:
        visited = visited_stages(audit.case_events(case))
    if stage.value in visited:
        return "done"
    if STAGE_ORDER.index(stage) < STAGE_ORDER.index(case.stage):
        return "skipped"
    return "ahead"


def stage_blueprint(name: str, stage: Stage, url_prefix: str) -> Blueprint:
    """A stage package's blueprint with its case page ``/<prefix>/<number>``."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    @bp.get("/<number>")
    @login_required
    def case_stage(number):
        case = get_case_or_404(number)
        return render_template(
            "cases/stage.html", case=case, stage=stage, status=stage_status(case, stage),
            moves=available_moves(case, _current_user()) if case.stage is stage else [],
            Outcome=Outcome,
        )

    return bp


def _current_user():
    from flask_login import current_user

    return current_user._get_current_object()
