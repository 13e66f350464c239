"""Use cases of the assessment: answer, get advice with outcome statistics, choose a path."""

from __future__ import annotations

import logging
import statistics
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.assess import rules
from odr.assess.models import Assessment
from odr.cases import audit, workflow
from odr.cases.models import Case, Outcome, Stage
from odr.extensions import db
from odr.timeutil import utcnow
from odr.refusal import Refused

logger = logging.getLogger(__name__)


class AssessError(Refused):
    """A refusal with a readable reason."""


@dataclass
class Outcomes:
    """How similar closed cases on this platform ended."""

    count: int
    enough: bool
    settlement_rate: float | None = None
    median_share: float | None = None
    median_days: float | None = None


def similar_outcomes(case: Case) -> Outcomes:
    """Closed cases of the same category (and, with an amount, between half and twice it)."""
    query = sa.select(Case.outcome, Case.amount_claimed, Case.settlement_amount, Case.created_at, Case.closed_at) \
        .where(Case.category == case.category, Case.outcome.is_not(None), Case.id != case.id,
               Case.outcome != Outcome.withdrawn)
    if case.amount_claimed:
        query = query.where(Case.amount_claimed.between(case.amount_claimed / 2, case.amount_claimed * 2))
    rows = db.session.execute(query.limit(5000)).all()
    minimum = rules.paths_data()["min_similar_cases"]
    if len(rows) < minimum:
        return Outcomes(count=len(rows), enough=False)
    settled = [r for r in rows if r.outcome is Outcome.settled]
    shares = [float(r.settlement_amount / r.amount_claimed) for r in settled
              if r.settlement_amount is not None and r.amount_claimed]
    return Outcomes(
        count=len(rows), enough=True,
        settlement_rate=len(settled) / len(rows),
        median_share=statistics.median(shares) if shares else None,
        median_days=statistics.median((r.closed_at - r.created_at).total_seconds() / 86400 for r in rows),
    )


def _plain(advice: rules.Advice, outcomes: Outcomes) -> dict:
    """The advice as JSON-safe data: stored with the assessment and written to the case file."""
    paths = []
    for p in advice.paths:
        d = asdict(p)
        d["reasons"] = [str(r) for r in p.reasons]
        d["fee"] = str(p.fee) if p.fee is not None else None
        d["weeks"] = list(p.weeks)
        paths.append(d)
    return {"paths": paths, "warnings": [str(w) for w in advice.warnings], "recommended": advice.recommended,
            "outcomes": asdict(outcomes)}


def complete(case: Case, user, answers: dict) -> Assessment:
    """Store the answers and the advice they give, and record it in the case's audit trail."""
    if not case.is_party(user):
        raise AssessError(_l("Only the parties fill in the assessment."))
    if case.stage is not Stage.assessment or not case.is_open:
        raise AssessError(_l("The case is not at the assessment stage."))
    advice = rules.assess(case.category, answers, case.amount_claimed,
                          current_app.config.get("SMALL_CLAIMS_LIMIT"))
    result = _plain(advice, similar_outcomes(case))
    assessment = Assessment(case_id=case.id, user_id=user.id, answers=answers, result=result)
    db.session.add(assessment)
    db.session.flush()
    audit.record(case, user, "assessment_completed", {"assessment": assessment.id, "answers": answers,
                                                      "recommended": advice.recommended})
    logger.info("Assessment %s of case %s by %s: %s", assessment.id, case, user, advice.recommended)
    return assessment


STAGE_OF_PATH = {"mediation": Stage.mediation, "arbitration": Stage.arbitration, "litigation": Stage.litigation}


def can_choose(assessment: Assessment, user) -> bool:
    """A party may still pick a path from this advice."""
    case = assessment.case
    return (assessment.chosen_path is None and case.is_open and case.stage is Stage.assessment
            and case.is_party(user))


def choose(assessment: Assessment, user, path: str) -> None:
    """The party picks a path; the workflow moves the case (and may refuse, with its reason)."""
    if not can_choose(assessment, user):
        raise AssessError(_l("A path has already been chosen for this case."))
    if path not in STAGE_OF_PATH:
        raise AssessError(_l("Choose one of the paths shown."))
    available = {p["path"] for p in assessment.result["paths"] if p["available"]}
    if path not in available:
        raise AssessError(_l("This path is not open for this dispute; the reasons are shown with it."))
    try:
        workflow.move(assessment.case, STAGE_OF_PATH[path], user, reason=f"assessment {assessment.id}")
    except workflow.WorkflowError as exc:
        raise AssessError(exc.reason) from None
    assessment.chosen_path = path
    assessment.chosen_at = utcnow()


def latest(case: Case) -> Assessment | None:
    return db.session.scalar(sa.select(Assessment).where(Assessment.case_id == case.id)
                             .order_by(Assessment.id.desc()).limit(1))

