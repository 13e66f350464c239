"""Step 3: the tribunal. Parties name arbitrators, the commission appoints, each arbitrator declares
independence or stands down, and a party may challenge an arbitrator."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role, User
from odr.auth.operations import holders
from odr.cases import audit
from odr.cases import operations as case_ops
from odr.cases.notices import joined_users, notify_users
from odr.cases.models import Case
from odr.documents import operations as signing
from odr.documents.models import SigningStatus
from odr.extensions import db
from odr.arbitrate.models import (Arbitration, ArbitratorSeat, Challenge, Nomination, SeatRole, SeatStatus)
from odr.arbitrate.common import (REASON_MAX, ArbitrationError, BadInput, award, case_link, check_commission,
                                  check_running, required_text, roster, shown)
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


def _arbitrator_of(arb: Arbitration, user_id) -> User:
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.id not in {u.id for u in roster(arb.commission_id)}:
        raise BadInput(_l("Choose an arbitrator from the commission's roster."))
    return user


def nominate(case: Case, arb: Arbitration, user, arbitrator_id) -> Nomination:
    """A party names its arbitrator (once; before the deadline and before the tribunal is appointed)."""
    check_running(case, arb)
    side = case.side_of(user)
    if side is None:
        raise ArbitrationError(_l("Only the parties name arbitrators."))
    if arb.active_seats:
        raise ArbitrationError(_l("The tribunal has been appointed already."))
    if utcnow() >= arb.nomination_due:
        raise ArbitrationError(_l("The time to name an arbitrator is over; the commission appoints."))
    arbitrator = _arbitrator_of(arb, arbitrator_id)
    if side in arb.nominations():
        raise ArbitrationError(_l("You have already named your arbitrator."))
    nomination = Nomination(case_id=case.id, side=side, user_id=arbitrator.id)
    db.session.add(nomination)
    db.session.flush()
    audit.record(case, user, "arbitrator_nominated", {"side": side, "arbitrator": arbitrator.id,
                                                      "name": arbitrator.name})
    return nomination


def appoint(case: Case, arb: Arbitration, actor, presiding_id=None) -> list[ArbitratorSeat]:
    """Commission staff fill the empty seats.

    A sole arbitrator: the one both parties named (jointly chosen), else ``presiding_id`` (the
    commission's choice). Three: each party's nominee as a member (the commission chooses for a
    party who named nobody — ``presiding_id`` is then the presiding arbitrator, and the other
    members are taken from the roster in order), the presiding arbitrator by the commission.
    """
    check_running(case, arb)
    check_commission(arb, actor)
    if not arb.nominations_closed():
        raise ArbitrationError(_l("The parties may name their arbitrator until %(due)s.", due=shown(arb.nomination_due)))
    named = arb.nominations()
    active = arb.active_seats
    taken = {s.user_id for s in active}
    roles_open = arb.open_seats()
    if not roles_open:
        raise ArbitrationError(_l("Every seat of the tribunal is filled."))
    new = []
    for role, side in roles_open:
        nominee = named.get(side) if side else None
        if role is SeatRole.sole and len(named) == 2 and named["claimant"].user_id == named["respondent"].user_id \
                and named["claimant"].user_id not in arb.vacated():
            user, chosen_by = named["claimant"].user, "parties"
        elif nominee is not None and nominee.user_id not in arb.vacated() and nominee.user_id not in taken:
            user, chosen_by = nominee.user, side
        elif role in (SeatRole.sole, SeatRole.presiding):
            user, chosen_by = _arbitrator_of(arb, presiding_id), "commission"
        else:  # a member for a side that named nobody (or whose nominee left): the commission chooses
            free = [u for u in roster(arb.commission_id)
                    if u.id not in taken | arb.vacated() | {presiding_id}]
            if not free:
                raise ArbitrationError(_l("The roster has no other arbitrator free for this case."))
            user, chosen_by = free[0], "commission"
        if user.id in taken:
            raise BadInput(_l("%(name)s already sits in this tribunal.", name=user.name))
        taken.add(user.id)
        seat = ArbitratorSeat(case_id=case.id, user_id=user.id, role=role, side=side, chosen_by=chosen_by,
                              status=SeatStatus.appointed, appointed_at=utcnow())
        arb.seats.append(seat)
        new.append(seat)
    db.session.flush()
    for seat in new:
        audit.record(case, actor, "arbitrator_appointed", {"seat": seat.id, "arbitrator": seat.user_id,
                                                           "name": seat.user.name, "role": seat.role,
                                                           "chosen_by": seat.chosen_by})
        if seat.role in (SeatRole.sole, SeatRole.presiding):
            case_ops.assign_handler(case, actor, arbitrator=seat.user)
        notify_users(case, [seat.user], _("You are appointed arbitrator in case %(number)s. Declare your "
                                     "independence: %(link)s", number=case.number, link=case_link(case)))
    notify_users(case, joined_users(case), _("The tribunal of case %(number)s: %(names)s. %(link)s", number=case.number,
                                    names=", ".join(s.user.name for s in arb.active_seats), link=case_link(case)))
    return new


def declare(case: Case, arb: Arbitration, user, independent: bool, disclosure: str = "") -> ArbitratorSeat:
    """The arbitrator of a seat declares independence (with what they disclose) or stands down."""
    check_running(case, arb)
    seat = arb.seat_of(user)
    if seat is None:
        raise ArbitrationError(_l("Only an arbitrator of this case declares here."))
    if seat.status is not SeatStatus.appointed:
        raise ArbitrationError(_l("You have declared already."))
    disclosure = (disclosure or "").strip()
    if len(disclosure) > REASON_MAX:
        raise BadInput(_l("%(what)s can have at most %(n)s characters.", what=_l("The disclosure"), n=REASON_MAX))
    seat.declared_at, seat.disclosure = utcnow(), disclosure
    if independent:
        seat.status = SeatStatus.serving
        audit.record(case, user, "arbitrator_declared", {"seat": seat.id, "independent": True,
                                                         "disclosure": disclosure})
    else:
        _vacate(case, arb, seat, SeatStatus.recused, user)
        audit.record(case, user, "arbitrator_recused", {"seat": seat.id, "disclosure": disclosure})
    notify_users(case, joined_users(case), _("Arbitrator %(name)s made the declaration of independence in case "
                                    "%(number)s. %(link)s", name=user.name, number=case.number, link=case_link(case)))
    return seat


def _vacate(case: Case, arb: Arbitration, seat: ArbitratorSeat, status: SeatStatus, actor) -> None:
    seat.status, seat.ended_at = status, utcnow()
    if case.arbitrator_id == seat.user_id:
        case.arbitrator_id = None
    current = award(case)
    if current is not None and current.status is SigningStatus.signing:
        signing.supersede(current, actor, _("The tribunal changed before everyone signed."))


def challenge(case: Case, arb: Arbitration, user, seat_id, reason: str) -> Challenge:
    """A party challenges an arbitrator, with reasons; the commission decides."""
    check_running(case, arb)
    side = case.side_of(user)
    if side is None:
        raise ArbitrationError(_l("Only the parties can challenge an arbitrator."))
    seat = next((s for s in arb.active_seats if s.id == seat_id), None)
    if seat is None:
        raise BadInput(_l("Choose an arbitrator of this case."))
    current = award(case)
    if current is not None and current.status is SigningStatus.complete:
        raise ArbitrationError(_l("The award has been issued."))
    if any(c.decided_at is None for c in seat.challenges):
        raise ArbitrationError(_l("A challenge of this arbitrator is waiting for the commission's decision."))
    reason = required_text(reason, _l("the reasons"), REASON_MAX)
    item = Challenge(seat_id=seat.id, side=side, user_id=user.id, reason=reason, created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    audit.record(case, user, "arbitrator_challenged", {"challenge": item.id, "seat": seat.id,
                                                       "arbitrator": seat.user_id, "side": side, "reason": reason})
    notify_users(case, [*holders(Role.staff, arb.commission_id), seat.user], _("Arbitrator %(name)s is challenged in case %(number)s: %(link)s",
                                         name=seat.user.name, number=case.number, link=case_link(case)))
    return item


def decide_challenge(case: Case, arb: Arbitration, actor, challenge_id, upheld: bool, reason: str) -> Challenge:
    check_running(case, arb)
    check_commission(arb, actor)
    item = db.session.get(Challenge, challenge_id) if isinstance(challenge_id, int) else None
    if item is None or item.seat.case_id != case.id:
        raise BadInput(_l("No such challenge in this case."))
    if item.decided_at is not None:
        raise ArbitrationError(_l("This challenge has been decided."))
    item.decision_reason = required_text(reason, _l("the reasons"), REASON_MAX)
    item.decided_at, item.decided_by_id, item.upheld = utcnow(), actor.id, upheld
    if upheld:
        _vacate(case, arb, item.seat, SeatStatus.removed, actor)
    audit.record(case, actor, "arbitrator_challenge_decided", {"challenge": item.id, "seat": item.seat_id,
                                                               "upheld": upheld, "reason": item.decision_reason})
    outcome = _("upheld: the arbitrator leaves the tribunal") if upheld else _("rejected")
    notify_users(case, [*joined_users(case), item.seat.user], _(
        "The challenge of arbitrator %(name)s in case %(number)s was %(outcome)s. %(link)s",
        name=item.seat.user.name, number=case.number, outcome=outcome, link=case_link(case)))
    return item


def tribunal_roles(case: Case, user, found: set[str]) -> set[str]:
    """Every arbitrator sitting in the case (not only the presiding one in ``Case.arbitrator_id``)."""
    if "arbitrator" in found or not user.organizations_for(Role.arbitrator):
        return set()
    seat = db.session.scalar(sa.select(ArbitratorSeat.id).where(
        ArbitratorSeat.case_id == case.id, ArbitratorSeat.user_id == user.id,
        ArbitratorSeat.status.in_([SeatStatus.appointed, SeatStatus.serving])).limit(1))
    return {"arbitrator"} if seat is not None else set()
