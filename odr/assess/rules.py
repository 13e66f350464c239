"""Which path fits a dispute, and why: the rules of the assessment, in one place.

Questions live in ``data/questions.yaml`` and figures (fees, durations, limitation
periods) in ``data/paths.yaml``; this module turns answers into advice a person
can read. Each rule adds or takes points from a path and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l

from odr.cases.models import Category

DATA = Path(__file__).parent / "data"
PATHS = ("mediation", "arbitration", "litigation")


@lru_cache
def questions_data() -> dict:
    return yaml.safe_load((DATA / "questions.yaml").read_text(encoding="utf-8"))


@lru_cache
def paths_data() -> dict:
    return yaml.safe_load((DATA / "paths.yaml").read_text(encoding="utf-8"))


def questions_for(category: Category) -> list[dict]:
    data = questions_data()
    return list(data["common"]) + list(data.get(category.value, []))


def bracket_fee(amount: Decimal, brackets) -> Decimal:
    """A fee charged per bracket: a fixed sum up to the first limit, then a rate on each part above."""
    fee, lower = Decimal(0), Decimal(0)
    for upper, kind, value in brackets:
        top = Decimal(str(upper)) if upper is not None else None
        if kind == "fixed":
            fee += Decimal(str(value))
        else:
            part = (min(amount, top) if top is not None else amount) - lower
            if part > 0:
                fee += part * Decimal(str(value))
        if top is None or amount <= top:
            break
        lower = top
    return fee.quantize(Decimal("1"), rounding=ROUND_HALF_UP)


@dataclass
class PathAdvice:
    path: str
    available: bool = True
    score: int = 0
    reasons: list = field(default_factory=list)
    weeks: tuple[int, int] = (0, 0)
    #: Estimated fee in yuan; ``None`` when it cannot be estimated (no amount given).
    fee: Decimal | None = None
    free: bool = False
    recommended: bool = False


@dataclass
class Advice:
    paths: list[PathAdvice]
    warnings: list = field(default_factory=list)

    @property
    def recommended(self) -> list[str]:
        return [p.path for p in self.paths if p.recommended]

    def path(self, name: str) -> PathAdvice:
        return next(p for p in self.paths if p.path == name)


def assess(category: Category, answers: dict, amount: Decimal | None, small_claims_limit=None) -> Advice:
    """Advice for a dispute of this category from the questionnaire's answers."""
    cfg = paths_data()
    yes = lambda key: answers.get(key) == "yes"  # noqa: E731
    labour = category is Category.labour
    med, arb, lit = PathAdvice("mediation", score=3), PathAdvice("arbitration", score=1), PathAdvice("litigation", score=1)
    warnings = []

    # Cost and time.
    med.weeks, med.free = tuple(cfg["mediation"]["weeks"]), True
    med.reasons.append(_l("Mediation is voluntary and free at a people's mediation committee; an agreement can be "
                          "made enforceable by a court's judicial confirmation."))
    if labour:
        arb.weeks, arb.free = tuple(cfg["labour_arbitration"]["weeks"]), True
    else:
        arb.weeks = tuple(cfg["arbitration"]["weeks"])
        arb.fee = bracket_fee(amount, cfg["arbitration"]["fee_brackets"]) if amount is not None else None
    limit = Decimal(str(small_claims_limit or cfg["small_claims_limit"]))
    small_claims = amount is not None and amount <= limit
    lit.weeks = tuple(cfg["litigation"]["small_claims_weeks" if small_claims else "weeks"])
    if amount is not None:
        fee = bracket_fee(amount, cfg["litigation"]["fee_brackets"])
        lit.fee = (fee * Decimal(str(cfg["litigation"]["simplified_factor"]))).quantize(Decimal("1")) \
            if small_claims else fee
    lit.reasons.append(_l("A court judgment binds both sides and can be enforced; it takes longer and costs a "
                          "court fee."))
    if small_claims:
        lit.reasons.append(_l("The amount is small enough for the small-claims procedure: faster, and one "
                              "hearing decides."))

    # Arbitration needs a basis, except labour arbitration, which comes first by law.
    if labour:
        arb.score += 4
        arb.reasons.append(_l("Labour disputes go to the labour dispute arbitration commission first; it charges "
                              "no fee. Court comes after its award."))
        lit.available = False
        lit.reasons.append(_l("A court hears a labour dispute only after labour arbitration."))
    elif yes("arbitration_clause") or yes("both_agree_arbitration"):
        arb.score += 2
        arb.reasons.append(_l("Your contract or your joint agreement allows arbitration. The award is final: "
                              "there is no appeal to a court."))
    else:
        arb.available = False
        arb.reasons.append(_l("Arbitration needs an arbitration clause in the contract or both sides' agreement."))

    # The other side's attitude.
    other = answers.get("other_side")
    if other == "refused":
        med.score -= 3
        lit.score += 2
        arb.score += 1
        med.reasons.append(_l("The other side refused mediation; it only works if both take part."))
        lit.reasons.append(_l("When the other side refuses to talk, a court can decide without their consent."))
    elif other == "silent":
        med.reasons.append(_l("The other side has not answered yet: an invitation from a mediator often gets "
                              "a reply."))

    # Time limits.
    months = answers.get("months_since")
    limitation = cfg["limitation_months"]["labour" if labour else "default"]
    if isinstance(months, int):
        if months >= limitation:
            warnings.append(_l("The time limit for claiming (%(months)d months) may have passed. Ask a consultant "
                               "before you act; a voluntary settlement is still possible.", months=limitation))
            med.score += 1
        elif months >= limitation - cfg["limitation_warning_months"]:
            lit.score += 3
            arb.score += 1
            warnings.append(_l("The time limit for claiming (%(months)d months) is close. Filing with a court or an "
                               "arbitration commission stops the clock.", months=limitation))

    # Safety first.
    if yes("safety"):
        med.score -= 2
        lit.score += 2
        warnings.append(_l("If you are in danger, call the police (110) now. A court can issue a protection "
                           "order."))
        med.reasons.append(_l("Because of safety concerns, meet the other side only in separate sessions with "
                              "the mediator, never alone."))

    # Evidence.
    if answers.get("evidence") == "none":
        lit.score -= 1
        med.score += 1
        warnings.append(_l("Collect evidence now: messages, receipts, transfer records, photos with dates, "
                           "witnesses' contacts."))
    elif answers.get("evidence") == "strong" and not yes("written_agreement"):
        lit.reasons.append(_l("Even without a written contract, your records can prove what was agreed."))

    if category is Category.traffic and answers.get("police_finding") == "no":
        warnings.append(_l("Ask the traffic police for the accident liability finding: compensation is "
                           "usually shared according to it."))
    if labour and answers.get("still_employed") == "yes":
        med.reasons.append(_l("While you still work there, mediation keeps the working relationship calmer."))
        med.score += 1

    paths = [med, arb, lit]
    best = max((p.score for p in paths if p.available), default=None)
    for p in paths:
        p.recommended = p.available and p.score == best
    paths.sort(key=lambda p: (not p.available, -p.score, PATHS.index(p.path)))
    return Advice(paths=paths, warnings=warnings)
