"""Settlement proposals in mediation: make one, answer it (accept, reject, counter), withdraw it.

A proposal is put to every joined party except its author (a mediator's proposal goes to
both sides). It is accepted once every one of them accepted, rejected as soon as one
rejects, and closed as ``countered`` when one of them answers with a counter-proposal.
The offer stands until ``respond_by`` (a date, inclusive, in the platform's time zone);
afterwards it can be rejected or countered, no longer accepted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit
from odr.cases.notices import joined_parties, notify_users
from odr.cases.representation import acts_for_side
from odr.cases.service.operations import Served
from odr.cases.models import Case, Stage
from odr.extensions import db
from odr.forms import MAX_AMOUNT
from odr.links import absolute_url
from odr.mediate.access import is_mediator
from odr.mediate.models import Proposal, ProposalResponse, ProposalStatus
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

MAX_INSTALMENTS = 24
CENT = Decimal("0.01")


class ProposalError(Refused):
    """A proposal step that cannot be done now; ``reason`` is shown to the person."""


class InvalidProposal(ProposalError):
    """What was entered does not make a valid proposal (answered with 400, nothing stored)."""

    status = 422


@dataclass(frozen=True)
class Instalment:
    due: date
    amount: Decimal


def local_today() -> date:
    """Today in the platform's time zone (deadlines are dates people read on a calendar)."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return utcnow().replace(tzinfo=timezone.utc).astimezone(tz).date()


def is_expired(proposal: Proposal) -> bool:
    """The proposal's ``respond_by`` date has passed."""
    return proposal.respond_by is not None and local_today() > proposal.respond_by.date()


def schedule_of(proposal: Proposal) -> list[Instalment]:
    return [Instalment(date.fromisoformat(row["due"]), Decimal(row["amount"])) for row in proposal.schedule or []]


def addressees(proposal: Proposal, case: Case):
    """The joined parties the proposal is put to: everyone but its author's side."""
    return [p for p in joined_parties(case) if p.side.value != proposal.author_role]


def may_answer(proposal: Proposal, case: Case, user) -> bool:
    """Accept, reject or counter: only a joined party the proposal is put to."""
    side = case.side_of(user)
    return side is not None and side != proposal.author_role and proposal.author_id != user.id


def may_withdraw(proposal: Proposal, user, case: Case) -> bool:
    """The author, or anyone acting for the author's side (the party, their agent or helper who acts)."""
    if proposal.author_role in ("claimant", "respondent"):
        return acts_for_side(case, user, proposal.author_role)  # a revoked agent no longer does
    return proposal.author_id == user.id


def may_propose(case: Case, user) -> bool:
    return case.side_of(user) is not None or is_mediator(case, user)


def case_proposals(case: Case) -> list[Proposal]:
    """All proposals of the case, newest first."""
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.case_id == case.id).order_by(Proposal.id.desc())))


def accepted_proposal(case: Case) -> Proposal | None:
    """The latest proposal every party accepted, if any."""
    return db.session.scalar(
        sa.select(Proposal).where(Proposal.case_id == case.id, Proposal.status == ProposalStatus.accepted)
        .order_by(Proposal.id.desc()).limit(1))


def chain_of(proposal: Proposal) -> list[Proposal]:
    """The proposal and the ones it answers, oldest first."""
    chain, seen = [], set()
    current = proposal
    while current is not None and current.id not in seen:
        seen.add(current.id)
        chain.append(current)
        current = current.answers
    return list(reversed(chain))


def _check_open(case: Case):
    if not case.is_open or case.stage is not Stage.mediation:
        raise ProposalError(_l("The case is not in mediation any more."))


def _validate(case: Case, amount: Decimal | None, terms: str, schedule: list[Instalment],
              respond_by: date | None) -> str:
    terms = (terms or "").strip()
    if not terms:
        raise InvalidProposal(_l("Write the terms of the proposal."))
    if amount is not None and amount < 0:
        raise InvalidProposal(_l("The amount cannot be negative."))
    if len(schedule) > MAX_INSTALMENTS:
        raise InvalidProposal(_l("At most %(n)s instalments.", n=MAX_INSTALMENTS))
    for line in schedule:
        if line.amount <= 0:
            raise InvalidProposal(_l("Each instalment needs an amount above zero."))
    if schedule and amount is not None and sum((i.amount for i in schedule), Decimal(0)) != amount:
        raise InvalidProposal(_l("The instalments add up to %(sum)s yuan, not the amount of %(amount)s yuan.",
                                 sum=sum((i.amount for i in schedule), Decimal(0)), amount=amount))
    if sum((i.amount for i in schedule), Decimal(0)) >= MAX_AMOUNT:
        raise InvalidProposal(_l("This amount is too large."))
    dues = [i.due for i in schedule]
    if dues != sorted(dues):
        raise InvalidProposal(_l("List the instalments in date order."))
    if respond_by is not None and respond_by < local_today():
        raise InvalidProposal(_l("The date to answer by cannot be in the past."))
    return terms


def make_proposal(case: Case, author, *, amount: Decimal | None, terms: str, schedule: list[Instalment],
                  respond_by: date | None, answers: Proposal | None = None) -> Proposal:
    """A joined party or the mediator puts a settlement offer (or a counter-offer) to the others.

    :raise InvalidProposal: empty terms, a negative amount, instalments that do not add up,
        an answer date in the past.
    :raise ProposalError: the case is not in mediation, the author takes no part in it, or the
        answered proposal is not open for this person to answer.
    """
    _check_open(case)
    role = case.side_of(author) or ("mediator" if is_mediator(case, author) else None)
    if role is None:
        raise ProposalError(_l("Only the parties and the mediator make proposals."))
    if answers is not None:
        if answers.case_id != case.id:
            raise ProposalError(_l("That proposal belongs to another case."))
        if not may_answer(answers, case, author):
            raise ProposalError(_l("Only a party the proposal was put to can answer it."))
        if answers.status is not ProposalStatus.open:
            raise ProposalError(_l("This proposal is no longer open."))
    terms = _validate(case, amount, terms, schedule, respond_by)
    if amount is None and schedule:
        amount = sum((i.amount for i in schedule), Decimal(0))
    proposal = Proposal(
        case_id=case.id, author_id=author.id, author_role=role, answers=answers, amount=amount, terms=terms,
        schedule=[{"due": i.due.isoformat(), "amount": str(i.amount.quantize(CENT))} for i in schedule],
        respond_by=datetime(respond_by.year, respond_by.month, respond_by.day) if respond_by else None,
        status=ProposalStatus.open, created_at=utcnow(),
    )
    db.session.add(proposal)
    db.session.flush()
    if answers is not None:
        answers.status = ProposalStatus.countered
        answers.closed_at = utcnow()
        audit.record(case, author, "proposal_answered", {
            "proposal": answers.id, "side": role, "answer": "countered", "counter": proposal.id,
            "status": answers.status})
    audit.record(case, author, "proposal_made", {
        "proposal": proposal.id, "by": role, "answers": answers.id if answers else None, "amount": amount,
        "terms": terms, "schedule": proposal.schedule, "respond_by": respond_by})
    logger.info("Proposal %s in case %s made by %s", proposal.id, case, audit.actor_label(author))
    notify_users(case, [p.user for p in addressees(proposal, case)],
            _("A new settlement proposal in case %(number)s is waiting for your answer: %(link)s",
              number=case.number, link=absolute_url("mediate.proposals", number=case.number)),
            served=Served.link("proposal", absolute_url("mediate.proposals", number=case.number)))
    return proposal


def answer(proposal: Proposal, case: Case, user, *, accept: bool, comment: str = "") -> None:
    """A party the proposal was put to accepts or rejects it.

    :raise ProposalError: not an addressee (the author, the mediator, staff), the proposal is
        closed, already answered by this person, or (to accept) past its answer date.
    """
    _check_open(case)
    if not may_answer(proposal, case, user):
        if proposal.author_id == user.id:
            raise ProposalError(_l("You made this proposal; the other side answers it."))
        raise ProposalError(_l("Only the parties the proposal was put to can answer it."))
    if proposal.status is not ProposalStatus.open:
        raise ProposalError(_l("This proposal is no longer open."))
    if any(r.user_id == user.id for r in proposal.responses):
        raise ProposalError(_l("You have already answered this proposal."))
    if accept and is_expired(proposal):
        raise ProposalError(_l("The offer stood until %(date)s and can no longer be accepted. Make a new proposal instead.",
                               date=proposal.respond_by.date().isoformat()))
    side = case.side_of(user)
    comment = (comment or "").strip()
    proposal.responses.append(ProposalResponse(user_id=user.id, side=side, accepted=accept, comment=comment,
                                               created_at=utcnow()))
    if not accept:
        proposal.status = ProposalStatus.rejected
    elif {p.user_id for p in addressees(proposal, case)} <= {r.user_id for r in proposal.responses if r.accepted}:
        proposal.status = ProposalStatus.accepted
    if proposal.status is not ProposalStatus.open:
        proposal.closed_at = utcnow()
    db.session.flush()
    audit.record(case, user, "proposal_answered", {
        "proposal": proposal.id, "side": side, "answer": "accepted" if accept else "rejected",
        "comment": comment, "status": proposal.status, "amount": proposal.amount})
    logger.info("Proposal %s in case %s %s by %s", proposal.id, case, "accepted" if accept else "rejected",
                audit.actor_label(user))
    if accept:
        text = _("%(name)s accepted a settlement proposal in case %(number)s.", name=user.name, number=case.number)
    else:
        text = _("%(name)s rejected a settlement proposal in case %(number)s.", name=user.name, number=case.number)
    others = [p.user for p in joined_parties(case) if p.user_id != user.id]
    if case.mediator is not None:
        others.append(case.mediator)
    notify_users(case, others, text + " " + absolute_url("mediate.proposals", number=case.number))


def withdraw(proposal: Proposal, case: Case, user) -> None:
    """The author takes an open proposal back.

    :raise ProposalError: not the author, or the proposal is no longer open.
    """
    _check_open(case)
    if not may_withdraw(proposal, user, case):
        raise ProposalError(_l("Only the author can withdraw a proposal."))
    if proposal.status is not ProposalStatus.open:
        raise ProposalError(_l("This proposal is no longer open."))
    proposal.status = ProposalStatus.withdrawn
    proposal.closed_at = utcnow()
    audit.record(case, user, "proposal_withdrawn", {"proposal": proposal.id, "by": proposal.author_role})
    logger.info("Proposal %s in case %s withdrawn by %s", proposal.id, case, audit.actor_label(user))
