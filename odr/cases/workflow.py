"""Every move a case can make, who may make it, and what must hold first.

This module is the only place that changes ``Case.stage`` and ``Case.outcome``:
views, API handlers and CLI commands call :func:`move`, which checks the table
below, writes the change and its audit event in the caller's transaction, and
raises :class:`WorkflowError` with a reason a person can read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l

from odr.cases import audit, labels, sla
from odr.cases.models import Case, Outcome, PartyStatus, Stage
from odr.timeutil import utcnow
from odr.refusal import Refused

logger = logging.getLogger(__name__)

Target = Stage | Outcome
#: A guard returns ``None`` when the move may happen, else the reason it may not.
Guard = Callable[[Case], "str | None"]

PARTIES = frozenset({"claimant", "respondent"})
CENTER = frozenset({"staff", "admin"})


class WorkflowError(Refused):
    """A move that is not allowed; ``reason`` is shown to the person who asked."""


def respondent_joined(case: Case):
    r = case.respondent
    if r is None or r.status is not PartyStatus.joined:
        return _l("The other party has not joined the case yet.")
    return None


def has_arbitration_basis(case: Case):
    if case.arbitration_basis is None:
        return _l(
            "Arbitration needs an arbitration clause in a contract or an arbitration agreement "
            "signed by both parties."
        )
    return None


def has_arbitrator(case: Case):
    if case.arbitrator_id is None:
        return _l("No arbitrator has been appointed.")
    return None


def has_court(case: Case):
    if case.court_id is None:
        return _l("Choose the court that receives the case first.")
    return None


#: Guards whose rule belongs to a feature package, which registers it by name from its ``init_app``
#: (``odr.arbitrate`` registers ``award_sealed``), so this module depends on no feature.
FEATURE_GUARDS: dict[str, Guard] = {}


def register_guard(name: str, rule: Guard) -> None:
    """The rule of the feature guard ``name`` (see :func:`feature_guard`)."""
    FEATURE_GUARDS[name] = rule


def feature_guard(name: str, unregistered) -> Guard:
    """A guard that asks the feature's registered rule, refusing with ``unregistered`` without one."""
    def guard(case: Case):
        rule = FEATURE_GUARDS.get(name)
        return rule(case) if rule is not None else unregistered
    guard.__name__ = name
    guard.feature_guard = name
    return guard


def unregistered_guards() -> set[str]:
    """Feature guards that a move of :data:`MOVES` names and no feature registered: the app refuses to start."""
    named = {g.feature_guard for move in MOVES.values() for g in move.guards + move.platform_guards
             if hasattr(g, "feature_guard")}
    return named - FEATURE_GUARDS.keys()


award_sealed = feature_guard("award_sealed", _l("The award is issued when every arbitrator has signed it."))
def respondent_silent(case: Case):
    """The respondent let the time to answer the invitation pass (:mod:`odr.cases.service`)."""
    from odr.cases.service.operations import respondent_silent as silent

    return silent(case)


negotiated_agreement_sealed = feature_guard(
    "negotiated_agreement_sealed", _l("A case settles by negotiation when both parties have signed the settlement agreement."))

onsite_agreement_sealed = feature_guard(
    "onsite_agreement_sealed", _l("A case settles on site when everyone present has signed the on-site agreement."))


@dataclass(frozen=True)
class Move:
    #: Roles in the case (see ``Case.roles_of``) that may make this move.
    who: frozenset
    guards: tuple[Guard, ...] = ()
    #: The platform itself may make the move (``actor`` is ``None``): a periodic job whose deadline
    #: passed, or the sealing of a document. Nobody else gains a move from it.
    by_platform: bool = False
    #: Further guards when the platform makes the move (``actor`` is ``None``): a move people make
    #: freely may also be made by the platform, but only for its own reason.
    platform_guards: tuple[Guard, ...] = ()


#: ``(from stage, to stage or outcome) → Move``. Withdrawal and closing without a
#: result are allowed from every stage and added below the table.
MOVES: dict[tuple[Stage, Target], Move] = {
    (Stage.consultation, Stage.assessment): Move(PARTIES | CENTER),
    # A grid worker sent to the dispute (``odr.field``) refers what was not settled on the spot.
    (Stage.consultation, Stage.mediation): Move(CENTER | {"grid_worker"}),
    # Settled on the spot: only when the platform seals the on-site agreement everyone present signed
    # on the grid worker's phone (``odr.field``), never by hand.
    (Stage.consultation, Outcome.settled): Move(frozenset(), (onsite_agreement_sealed,), by_platform=True),
    # The respondent never answered the invitation: the claimant may go on to court at once.
    (Stage.consultation, Stage.litigation): Move(PARTIES | CENTER, (respondent_silent,)),
    # By the platform too: a direct negotiation (``odr.negotiate``) whose time ran out goes on to mediation.
    (Stage.assessment, Stage.mediation): Move(PARTIES | CENTER, by_platform=True),
    (Stage.assessment, Stage.arbitration): Move(PARTIES | CENTER, (respondent_joined, has_arbitration_basis)),
    (Stage.assessment, Stage.litigation): Move(PARTIES | CENTER),
    # Settled without a neutral: only when the platform seals the agreement both parties signed
    # after a direct negotiation (``odr.negotiate``), never by hand.
    (Stage.assessment, Outcome.settled): Move(frozenset(), (respondent_joined, negotiated_agreement_sealed),
                                              by_platform=True),
    # Filed by the arbitration package once the basis holds (both parties signed, or the clause confirmed).
    (Stage.mediation, Stage.arbitration): Move(PARTIES | CENTER | {"mediator"}, (respondent_joined, has_arbitration_basis)),
    (Stage.mediation, Stage.litigation): Move(PARTIES | CENTER | {"mediator"}),
    # By the platform too: when both parties chose to negotiate first in mediation (``odr.negotiate``)
    # and sealed the agreement they signed.
    (Stage.mediation, Outcome.settled): Move(CENTER | {"mediator"}, (respondent_joined,), by_platform=True,
                                             platform_guards=(negotiated_agreement_sealed,)),
    # Only through the award every arbitrator signed (``odr.arbitrate``), never by hand.
    (Stage.arbitration, Outcome.award_issued): Move(frozenset({"arbitrator"}), (has_arbitrator, award_sealed)),
    (Stage.arbitration, Stage.litigation): Move(CENTER | {"arbitrator"}),
    (Stage.litigation, Outcome.handed_to_court): Move(CENTER, (has_court,)),
}
for _stage in Stage:
    MOVES[(_stage, Outcome.withdrawn)] = Move(frozenset({"claimant"}) | CENTER)
    MOVES[(_stage, Outcome.closed_without_result)] = Move(CENTER | {"mediator", "arbitrator"})


def parse_target(value: str) -> Target | None:
    for enum_cls in (Stage, Outcome):
        try:
            return enum_cls(value)
        except ValueError:
            pass
    return None


def refusal(case: Case, to: Target, actor) -> str | None:
    """Why ``actor`` may not move ``case`` to ``to`` now, or ``None`` if they may."""
    if not case.is_open:
        return _l("This case is closed.")
    rule = MOVES.get((case.stage, to))
    if rule is None:
        return _l("A case cannot go from %(stage)s to %(to)s.", stage=stage_label(case.stage), to=stage_label(to))
    if actor is None:
        if not rule.by_platform:
            return _l("You may not make this change in this case.")
    elif not (case.roles_of(actor) & rule.who):
        return _l("You may not make this change in this case.")
    for guard in rule.guards + (rule.platform_guards if actor is None else ()):
        reason = guard(case)
        if reason:
            return reason
    return None


def available_moves(case: Case, actor) -> list[tuple[Target, str | None]]:
    """Moves the actor's role allows from the current stage, each with its refusal (if any)."""
    if not case.is_open:
        return []
    roles = case.roles_of(actor)
    return [
        (to, refusal(case, to, actor))
        for (frm, to), rule in MOVES.items()
        if frm is case.stage and roles & rule.who
    ]


def move(case: Case, to: Target, actor, reason: str | None = None):
    """Move ``case`` to a stage or close it with an outcome; record it in the audit trail.

    :raise WorkflowError: the move is not in the table, the actor's role may not
        make it, or a guard refuses it.
    """
    why_not = refusal(case, to, actor)
    if why_not:
        raise WorkflowError(why_not)
    before = case.stage
    now = utcnow()
    if isinstance(to, Outcome):
        case.outcome = to
        case.closed_at = now
        ev = audit.record(case, actor, "case_closed", {"stage": before, "outcome": to, "reason": reason})
    else:
        case.stage = to
        case.stage_entered_at = now
        case.due_at = sla.due_at(to, now)
        ev = audit.record(case, actor, "stage_changed", {"from": before, "to": to, "reason": reason})
    logger.info("Case %s moved %s -> %s by %s", case, before.value, to.value, audit.actor_label(actor))
    return ev


def stage_label(target: Target) -> str:
    return str(labels.STAGE[target])
