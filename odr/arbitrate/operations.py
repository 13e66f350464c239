"""The arbitration procedure, step by step; each step is one transaction with its audit entry.

1. **Basis.** A party of an open case (at assessment or after mediation) asks for arbitration at a
   commission, either by an online arbitration agreement that both parties sign (a signed
   document; when it is sealed the case is filed) or by an arbitration clause in their contract,
   uploaded and confirmed by the commission's staff. Filing routes the case to the commission and
   moves it to the arbitration stage (``odr.cases.workflow``, which checks the basis).
2. **Acceptance.** Commission staff accept the case: the fee comes from the schedule
   (``odr.arbitrate.fees``), the amount decides one arbitrator or three, and small claims may be
   decided on the documents alone. The parties then have ``ARBITRATION_NOMINATION_DAYS`` to name
   an arbitrator from the commission's roster and the claimant ``ARBITRATION_CLAIM_DAYS`` for the
   statement of claim.
3. **Tribunal.** Staff appoint once both parties named someone or the time to do so is over: a sole
   arbitrator both named is *jointly chosen*; in a tribunal of three each party's nominee sits as a
   member and the commission appoints the presiding arbitrator. Each arbitrator declares
   independence (disclosing what the parties should know) or stands down; a party may challenge
   an arbitrator with reasons, and the commission decides — an upheld challenge vacates the seat.
4. **Statements and evidence.** The claim, then the defence (``ARBITRATION_DEFENCE_DAYS`` after the
   claim), each before its deadline, which the presiding arbitrator may extend; evidence is
   exchanged under the same file rules as in mediation and everyone in the case sees it.
5. **Hearing** in a video room hosted by the presiding arbitrator, or none for documents only.
6. **Award**, drafted by the presiding arbitrator (``odr.documents.award``), signed by every
   arbitrator in their own browser and sealed; the sealed award closes the case as *award issued*.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import uploads
from odr.auth.models import Role, User
from odr.auth.operations import holders
from odr.cases import audit, rooms, workflow
from odr.cases import operations as case_ops
from odr.cases.evidence import EvidenceError, Visibility, check_filename, shared_evidence
from odr.cases.evidence import add_evidence as add_case_evidence
from odr.cases.notices import joined_users, notify_users
from odr.cases.rooms import RoomRef, RoomStatus
from odr.cases.models import ArbitrationBasis, Case, Organization, OrgType, Outcome, Side, Stage
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.arbitrate.fees import schedule
from odr.arbitrate.models import (Arbitration, ArbitrationStatus, ArbitratorSeat, Challenge, Nomination, Procedure,
                                  SeatRole, SeatStatus)
from odr.links import absolute_url
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

AGREEMENT_KIND = "arbitration_agreement"
AWARD_KIND = "arbitral_award"
SIDES = ("claimant", "respondent")
#: Stages from which a case can go to arbitration.
FROM_STAGES = (Stage.assessment, Stage.mediation)
TEXT_MAX = 20_000
REASON_MAX = 2_000
CONTRACT_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp"}
CONTRACT_WRONG_TYPE = _l("Upload the contract as a PDF or a photo (JPEG, PNG, WebP).")

#: The audit actions this module records, with what people read for each (registered by ``init_app``).
ACTIONS = {
    "arbitration_requested": _l("Arbitration requested"),
    "arbitration_clause_confirmed": _l("Arbitration clause confirmed by the commission"),
    "arbitration_clause_rejected": _l("Arbitration clause not accepted by the commission"),
    "arbitration_filed": _l("Filed with the arbitration commission"),
    "arbitration_accepted": _l("Accepted by the arbitration commission"),
    "arbitrator_nominated": _l("Arbitrator named by a party"),
    "arbitrator_appointed": _l("Arbitrator appointed"),
    "arbitrator_declared": _l("Arbitrator's declaration of independence"),
    "arbitrator_recused": _l("Arbitrator stood down for a conflict"),
    "arbitrator_challenged": _l("Arbitrator challenged"),
    "arbitrator_challenge_decided": _l("Challenge decided"),
    "arbitration_statement_submitted": _l("Statement submitted"),
    "arbitration_deadline_extended": _l("Deadline extended"),
    "arbitration_hearing_scheduled": _l("Hearing scheduled"),
    "arbitration_hearing_opened": _l("Hearing room opened"),
    "arbitration_award_drafted": _l("Award drafted and sent for signing"),
    "arbitration_award_issued": _l("Award issued"),
}


class ArbitrationError(Refused):
    """A step that cannot be taken now or by this person; ``reason`` says why."""


class BadInput(ArbitrationError):
    """What was sent is not acceptable (422)."""

    status = 422


# --- reading ---------------------------------------------------------------------------------

def of(case: Case) -> Arbitration | None:
    return db.session.get(Arbitration, case.id)


def commissions() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).where(Organization.type == OrgType.arbitration_commission)
                                   .order_by(Organization.name)))


def roster(commission_id: int) -> list[User]:
    """The commission's arbitrators (users holding the arbitrator role there)."""
    return holders(Role.arbitrator, commission_id)


def is_commission_staff(arb: Arbitration | None, user) -> bool:
    return arb is not None and getattr(user, "is_authenticated", False) and (
        user.is_admin or arb.commission_id in user.organizations_for(Role.staff))


def roles(case: Case, arb: Arbitration | None, user) -> set[str]:
    """The case roles, plus ``commission`` for the staff of the commission asked to arbitrate
    (who see a request before the case is theirs)."""
    found = set(case.roles_of(user))
    if is_commission_staff(arb, user):
        found.add("commission")
    return found


def seat_of(arb: Arbitration, user) -> ArbitratorSeat | None:
    return next((s for s in arb.active_seats if s.user_id == getattr(user, "id", None)), None)


def chair(arb: Arbitration) -> ArbitratorSeat | None:
    """The sole or presiding arbitrator's seat, who runs the procedure and drafts the award."""
    return next((s for s in arb.active_seats if s.role in (SeatRole.sole, SeatRole.presiding)), None)


def is_chair(arb: Arbitration, user) -> bool:
    seat = chair(arb)
    return seat is not None and seat.user_id == getattr(user, "id", None)


def nominations(arb: Arbitration) -> dict[str, Nomination]:
    rows = db.session.scalars(sa.select(Nomination).where(Nomination.case_id == arb.case_id))
    return {n.side: n for n in rows}


def nominations_closed(arb: Arbitration) -> bool:
    """Both parties named their arbitrator, or their time to do so is over."""
    return len(nominations(arb)) == 2 or (arb.nomination_due is not None and utcnow() >= arb.nomination_due)


def open_challenges(arb: Arbitration) -> list[Challenge]:
    return [c for s in arb.seats for c in s.challenges if c.decided_at is None]


def tribunal_formed(arb: Arbitration) -> bool:
    """Every seat is filled by an arbitrator who declared independence, and no challenge is pending."""
    seats = arb.active_seats
    return (arb.tribunal_size is not None and len(seats) == arb.tribunal_size
            and all(s.status is SeatStatus.serving for s in seats) and not open_challenges(arb))


def hearing_room(arb: Arbitration) -> RoomRef | None:
    """The hearing's video room (kept by ``odr.video``), if it was ever opened."""
    return rooms.keeper().get(arb.hearing_room_id)


def hearing_held(arb: Arbitration) -> bool:
    room = hearing_room(arb)
    return room is not None and room.status is RoomStatus.ended


def hearing_role(case: Case, host_id: int, user) -> str | None:
    """Who is who in a hearing's room: the presiding arbitrator who opened it hosts; the other
    members of the tribunal sit on the panel; the joined parties take their side's seat."""
    if user.id == host_id:
        return rooms.HOST
    if "arbitrator" in case.roles_of(user):
        return rooms.PANEL
    return case.side_of(user)


#: A hearing's room has no private caucus (refused by the video room, its button out of sight).
NO_CAUCUS = _l("A hearing has no private caucus: each party hears everything the tribunal hears.")


def agreement(case: Case) -> SignedDocument | None:
    return signing.current(case, AGREEMENT_KIND)


def award(case: Case) -> SignedDocument | None:
    return signing.current(case, AWARD_KIND)


def award_refusal(arb: Arbitration) -> str | None:
    """Why the award cannot be drafted yet, or ``None``."""
    if arb.status is not ArbitrationStatus.accepted:
        return _l("The commission has not accepted the case yet.")
    if not tribunal_formed(arb):
        return _l("The tribunal is not complete: every arbitrator must be appointed and have declared "
                  "independence, and no challenge may be pending.")
    if arb.claim_submitted_at is None:
        return _l("The claimant has not submitted the statement of claim.")
    if arb.defence_submitted_at is None and utcnow() < arb.defence_due:
        return _l("The respondent may still submit a defence until %(due)s.", due=_when(arb.defence_due))
    if arb.procedure is Procedure.hearing and not hearing_held(arb):
        return _l("The hearing has not been held yet.")
    return None


def cases_for_commission(user, limit: int = 200) -> list[Arbitration]:
    """Arbitrations at the commissions where the user is staff that wait for them or run."""
    orgs = user.organizations_for(Role.staff)
    query = sa.select(Arbitration).where(Arbitration.status.in_(
        [ArbitrationStatus.requested, ArbitrationStatus.filed, ArbitrationStatus.accepted]))
    if not user.is_admin:
        query = query.where(Arbitration.commission_id.in_(orgs))
    return list(db.session.scalars(query.order_by(Arbitration.requested_at.desc()).limit(limit)))


def seats_of_arbitrator(user, limit: int = 200) -> list[ArbitratorSeat]:
    return list(db.session.scalars(sa.select(ArbitratorSeat).where(
        ArbitratorSeat.user_id == user.id,
        ArbitratorSeat.status.in_([SeatStatus.appointed, SeatStatus.serving]))
        .order_by(ArbitratorSeat.appointed_at.desc()).limit(limit)))


# --- helpers ---------------------------------------------------------------------------------

def _days(name: str) -> timedelta:
    return timedelta(days=int(current_app.config[name]))


def _when(moment: datetime | None) -> str:
    from flask_babel import format_datetime

    return format_datetime(moment, "short") if moment else ""


def _text(value: str | None, what, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if not value:
        raise BadInput(_l("Write %(what)s first.", what=what))
    if len(value) > limit:
        raise BadInput(_l("%(what)s can have at most %(n)s characters.", what=what, n=limit))
    return value


def _link(case: Case) -> str:
    return absolute_url("arbitrate.case_stage", number=case.number)


def _check_open(case: Case, arb: Arbitration | None) -> None:
    if arb is None:
        raise ArbitrationError(_l("Nobody has asked for arbitration in this case."))
    if not case.is_open:
        raise ArbitrationError(_l("This case is closed."))


def _check_running(case: Case, arb: Arbitration | None) -> None:
    """The commission accepted the case and no award is out."""
    _check_open(case, arb)
    if arb.status is not ArbitrationStatus.accepted or case.stage is not Stage.arbitration:
        raise ArbitrationError(_l("This step is possible once the commission has accepted the case."))


def _check_commission(arb: Arbitration, actor) -> None:
    if not is_commission_staff(arb, actor):
        raise ArbitrationError(_l("Only the staff of %(commission)s can do this.", commission=arb.commission.name))


# --- 1. the basis ------------------------------------------------------------------------------

def may_request(case: Case, user) -> bool:
    arb = of(case)
    return (case.is_open and case.stage in FROM_STAGES and case.side_of(user) is not None
            and (arb is None or arb.status in (ArbitrationStatus.requested, ArbitrationStatus.rejected)))


def _request(case: Case, user, commission: Organization, basis: ArbitrationBasis) -> Arbitration:
    if commission is None or commission.type is not OrgType.arbitration_commission:
        raise BadInput(_l("Choose an arbitration commission."))
    if not may_request(case, user):
        raise ArbitrationError(_l("A party can ask for arbitration while the case is at assessment or in "
                                  "mediation, once it is not already filed with a commission."))
    r = case.respondent
    if r is None or r.status.value != "joined":
        raise ArbitrationError(_l("The other party has not joined the case yet."))
    arb = of(case)
    if arb is None:
        arb = Arbitration(case_id=case.id, commission_id=commission.id, status=ArbitrationStatus.requested,
                          basis=basis, requested_by_id=user.id, requested_at=utcnow())
        db.session.add(arb)
    arb.commission_id, arb.basis, arb.status = commission.id, basis, ArbitrationStatus.requested
    arb.requested_by_id, arb.requested_at, arb.rejection_reason = user.id, utcnow(), ""
    arb.basis_decided_at = arb.basis_decided_by_id = None
    db.session.flush()
    db.session.refresh(arb, ["commission"])
    return arb


def propose_agreement(case: Case, user, commission: Organization, lang: str) -> SignedDocument:
    """Put an arbitration agreement naming ``commission`` up for both parties' signatures."""
    from odr.arbitrate.documents import render_agreement

    _request(case, user, commission, ArbitrationBasis.agreement)
    current = agreement(case)
    if current is not None and current.status is SigningStatus.signing and current.subject == f"commission:{commission.id}":
        return current  # asked again for the same commission: the same agreement
    pdf = render_agreement(case, commission, lang)
    parties = sorted((p for p in case.parties if p.user is not None and p.status.value == "joined"),
                     key=lambda p: p.side is not Side.claimant)
    signers = [(p.user, p.side.value, p.user.name or p.name) for p in parties]
    reason = _("The agreement now names %(commission)s.", commission=commission.name) if current else ""
    audit.record(case, user, "arbitration_requested", {"basis": ArbitrationBasis.agreement,
                                                       "commission": commission.id, "name": commission.name})
    try:
        document = signing.start(case, user, kind=AGREEMENT_KIND, subject=f"commission:{commission.id}",
                                 title=_("Arbitration agreement"), lang=lang, pdf=pdf, signers=signers,
                                 reason=reason)
    except signing.SigningError as exc:
        raise ArbitrationError(exc.reason) from None
    others = [p for p in joined_users(case) if p.id != user.id]
    notify_users(case, others, _("%(name)s proposes to take case %(number)s to arbitration at %(commission)s. "
                            "Read and sign the arbitration agreement: %(link)s", name=user.name, number=case.number,
                            commission=commission.name,
                            link=absolute_url("documents.view", doc_id=document.id)))
    return document


def agreement_sealed(document: SignedDocument) -> None:
    case = document.case
    arb = of(case)
    commission_id = int(document.subject.split(":", 1)[1])
    if arb is None or arb.commission_id != commission_id or arb.status is not ArbitrationStatus.requested:
        raise signing.SigningError(_l("The arbitration request changed; this agreement no longer applies."))
    last = db.session.get(User, document.signers[-1].user_id)
    _file(case, arb, last, {"document": document.id, "sha256": document.current_sha256})


def submit_clause(case: Case, user, commission: Organization, stream, filename: str | None,
                  clause_text: str) -> Arbitration:
    """Ask ``commission`` to arbitrate under the clause of an uploaded contract; its staff confirm it.

    Every check comes before the file is written, so a refusal leaves nothing behind.
    """
    clause_text = _text(clause_text, _l("the arbitration clause"), REASON_MAX)
    try:
        check_filename(filename)
    except EvidenceError as exc:
        raise BadInput(exc.reason) from None
    arb = _request(case, user, commission, ArbitrationBasis.clause)
    try:
        stored = uploads.store(stream, filename, CONTRACT_TYPES, current_app.config["EVIDENCE_MAX_BYTES"],
                               wrong_type=CONTRACT_WRONG_TYPE)
    except uploads.UploadError as exc:
        raise BadInput(exc.reason) from None
    arb.contract_sha256, arb.contract_filename, arb.contract_mimetype = stored.sha256, stored.filename, stored.mimetype
    arb.clause_text = clause_text
    current = agreement(case)
    if current is not None and current.status is SigningStatus.signing:
        signing.supersede(current, user, _("The parties rely on the arbitration clause of their contract instead."))
    audit.record(case, user, "arbitration_requested", {
        "basis": ArbitrationBasis.clause, "commission": commission.id, "name": commission.name,
        "contract": {"sha256": stored.sha256, "filename": stored.filename, "size": stored.size},
        "clause": clause_text})
    notify_users(case, holders(Role.staff, commission.id), _("Case %(number)s asks %(commission)s to arbitrate under a contract clause; "
                                 "please confirm the clause: %(link)s", number=case.number,
                                 commission=commission.name, link=_link(case)))
    return arb


def decide_clause(case: Case, arb: Arbitration, actor, confirmed: bool, reason: str = "") -> None:
    """Commission staff confirm the clause (the case is filed) or reject it with a reason."""
    _check_open(case, arb)
    _check_commission(arb, actor)
    if arb.basis is not ArbitrationBasis.clause or arb.status is not ArbitrationStatus.requested:
        raise ArbitrationError(_l("There is no arbitration clause waiting for a decision."))
    arb.basis_decided_by_id, arb.basis_decided_at = actor.id, utcnow()
    if not confirmed:
        arb.status = ArbitrationStatus.rejected
        arb.rejection_reason = _text(reason, _l("the reason"), REASON_MAX)
        audit.record(case, actor, "arbitration_clause_rejected", {"reason": arb.rejection_reason})
        notify_users(case, joined_users(case), _("%(commission)s did not accept the arbitration clause of case %(number)s: "
                                        "%(reason)s", commission=arb.commission.name, number=case.number,
                                        reason=arb.rejection_reason))
        return
    audit.record(case, actor, "arbitration_clause_confirmed", {"sha256": arb.contract_sha256})
    _file(case, arb, actor, {"contract": arb.contract_sha256})


def _file(case: Case, arb: Arbitration, actor, evidence: dict) -> None:
    """The basis holds: record it, route the case to the commission and move it to arbitration."""
    case_ops.record_arbitration_basis(case, arb.basis, actor)
    if case.organization_id != arb.commission_id:
        case_ops.route_case(case, arb.commission, actor)
    try:
        workflow.move(case, Stage.arbitration, actor, reason=f"arbitration {arb.basis.value}")
    except workflow.WorkflowError as exc:
        raise ArbitrationError(exc.reason) from None
    arb.status = ArbitrationStatus.filed
    audit.record(case, actor, "arbitration_filed", {"commission": arb.commission_id, "basis": arb.basis, **evidence})
    notify_users(case, joined_users(case), _("Case %(number)s is filed with %(commission)s for arbitration: %(link)s",
                                    number=case.number, commission=arb.commission.name, link=_link(case)))
    logger.info("Case %s filed with commission %s (%s)", case, arb.commission_id, arb.basis.value)


# --- 2. acceptance ------------------------------------------------------------------------------

def accept(case: Case, arb: Arbitration, actor, procedure: Procedure) -> None:
    """Commission staff accept the case: fee, tribunal size, procedure and the first deadlines."""
    _check_open(case, arb)
    _check_commission(arb, actor)
    if arb.status is not ArbitrationStatus.filed:
        raise ArbitrationError(_l("Only a filed case waiting for acceptance can be accepted."))
    fees = schedule()
    amount = case.amount_claimed
    if procedure is Procedure.documents_only and not fees.documents_only_allowed(amount):
        raise BadInput(_l("Only claims up to %(max)s yuan can be decided on the documents alone.",
                          max=f"{fees.documents_only_max:,.0f}"))
    now = utcnow()
    arb.status, arb.accepted_at, arb.accepted_by_id = ArbitrationStatus.accepted, now, actor.id
    arb.fee, arb.tribunal_size, arb.procedure = fees.fee(amount), fees.tribunal_size(amount), procedure
    arb.nomination_due = now + _days("ARBITRATION_NOMINATION_DAYS")
    arb.claim_due = now + _days("ARBITRATION_CLAIM_DAYS")
    arb.claim_text = arb.claim_text or case.claim
    audit.record(case, actor, "arbitration_accepted", {
        "fee": arb.fee, "amount": amount, "tribunal_size": arb.tribunal_size, "procedure": procedure,
        "nomination_due": arb.nomination_due, "claim_due": arb.claim_due})
    notify_users(case, joined_users(case), _(
        "%(commission)s accepted case %(number)s. Fee: %(fee)s yuan. Name your arbitrator by %(nominate)s; "
        "the statement of claim is due by %(claim)s. %(link)s", commission=arb.commission.name, number=case.number,
        fee=f"{arb.fee:,.2f}", nominate=_when(arb.nomination_due), claim=_when(arb.claim_due), link=_link(case)))


# --- 3. the tribunal ------------------------------------------------------------------------------

def _arbitrator_of(arb: Arbitration, user_id) -> User:
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.id not in {u.id for u in roster(arb.commission_id)}:
        raise BadInput(_l("Choose an arbitrator from the commission's roster."))
    return user


def nominate(case: Case, arb: Arbitration, user, arbitrator_id) -> Nomination:
    """A party names its arbitrator (once; before the deadline and before the tribunal is appointed)."""
    _check_running(case, arb)
    side = case.side_of(user)
    if side is None:
        raise ArbitrationError(_l("Only the parties name arbitrators."))
    if arb.active_seats:
        raise ArbitrationError(_l("The tribunal has been appointed already."))
    if utcnow() >= arb.nomination_due:
        raise ArbitrationError(_l("The time to name an arbitrator is over; the commission appoints."))
    arbitrator = _arbitrator_of(arb, arbitrator_id)
    if side in nominations(arb):
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
    _check_running(case, arb)
    _check_commission(arb, actor)
    if not nominations_closed(arb):
        raise ArbitrationError(_l("The parties may name their arbitrator until %(due)s.", due=_when(arb.nomination_due)))
    named = nominations(arb)
    active = arb.active_seats
    taken = {s.user_id for s in active}
    roles_open = open_seats(arb)
    if not roles_open:
        raise ArbitrationError(_l("Every seat of the tribunal is filled."))
    new = []
    for role, side in roles_open:
        nominee = named.get(side) if side else None
        if role is SeatRole.sole and len(named) == 2 and named["claimant"].user_id == named["respondent"].user_id \
                and named["claimant"].user_id not in _vacated(arb):
            user, chosen_by = named["claimant"].user, "parties"
        elif nominee is not None and nominee.user_id not in _vacated(arb) and nominee.user_id not in taken:
            user, chosen_by = nominee.user, side
        elif role in (SeatRole.sole, SeatRole.presiding):
            user, chosen_by = _arbitrator_of(arb, presiding_id), "commission"
        else:  # a member for a side that named nobody (or whose nominee left): the commission chooses
            free = [u for u in roster(arb.commission_id)
                    if u.id not in taken | _vacated(arb) | {presiding_id}]
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
                                     "independence: %(link)s", number=case.number, link=_link(case)))
    notify_users(case, joined_users(case), _("The tribunal of case %(number)s: %(names)s. %(link)s", number=case.number,
                                    names=", ".join(s.user.name for s in arb.active_seats), link=_link(case)))
    return new


def open_seats(arb: Arbitration) -> list[tuple[SeatRole, str | None]]:
    """The seats still to fill, each with the side whose member it is (in a tribunal of three)."""
    filled = arb.active_seats
    if arb.tribunal_size == 1:
        return [] if filled else [(SeatRole.sole, None)]
    # The parties' members first, so the commission's choice of presiding arbitrator cannot take a
    # party's nominee away from them.
    out = [(SeatRole.member, side) for side in SIDES
           if not any(s.role is SeatRole.member and s.side == side for s in filled)]
    if not any(s.role is SeatRole.presiding for s in filled):
        out.append((SeatRole.presiding, None))
    return out


def _vacated(arb: Arbitration) -> set[int]:
    """Arbitrators who left this case (recused or removed): not appointed again."""
    return {s.user_id for s in arb.seats if not s.active}


def declare(case: Case, arb: Arbitration, user, independent: bool, disclosure: str = "") -> ArbitratorSeat:
    """The arbitrator of a seat declares independence (with what they disclose) or stands down."""
    _check_running(case, arb)
    seat = seat_of(arb, user)
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
                                    "%(number)s. %(link)s", name=user.name, number=case.number, link=_link(case)))
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
    _check_running(case, arb)
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
    reason = _text(reason, _l("the reasons"), REASON_MAX)
    item = Challenge(seat_id=seat.id, side=side, user_id=user.id, reason=reason, created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    audit.record(case, user, "arbitrator_challenged", {"challenge": item.id, "seat": seat.id,
                                                       "arbitrator": seat.user_id, "side": side, "reason": reason})
    notify_users(case, [*holders(Role.staff, arb.commission_id), seat.user], _("Arbitrator %(name)s is challenged in case %(number)s: %(link)s",
                                         name=seat.user.name, number=case.number, link=_link(case)))
    return item


def decide_challenge(case: Case, arb: Arbitration, actor, challenge_id, upheld: bool, reason: str) -> Challenge:
    _check_running(case, arb)
    _check_commission(arb, actor)
    item = db.session.get(Challenge, challenge_id) if isinstance(challenge_id, int) else None
    if item is None or item.seat.case_id != case.id:
        raise BadInput(_l("No such challenge in this case."))
    if item.decided_at is not None:
        raise ArbitrationError(_l("This challenge has been decided."))
    item.decision_reason = _text(reason, _l("the reasons"), REASON_MAX)
    item.decided_at, item.decided_by_id, item.upheld = utcnow(), actor.id, upheld
    if upheld:
        _vacate(case, arb, item.seat, SeatStatus.removed, actor)
    audit.record(case, actor, "arbitrator_challenge_decided", {"challenge": item.id, "seat": item.seat_id,
                                                               "upheld": upheld, "reason": item.decision_reason})
    outcome = _("upheld: the arbitrator leaves the tribunal") if upheld else _("rejected")
    notify_users(case, [*joined_users(case), item.seat.user], _(
        "The challenge of arbitrator %(name)s in case %(number)s was %(outcome)s. %(link)s",
        name=item.seat.user.name, number=case.number, outcome=outcome, link=_link(case)))
    return item


# --- 4. statements and evidence ------------------------------------------------------------------

def submit_statement(case: Case, arb: Arbitration, user, text: str) -> None:
    """The claimant's statement of claim, or the respondent's defence, before its deadline."""
    _check_running(case, arb)
    side = case.side_of(user)
    now = utcnow()
    if side == "claimant":
        if arb.claim_submitted_at is not None:
            raise ArbitrationError(_l("The statement of claim has been submitted."))
        if now > arb.claim_due:
            raise ArbitrationError(_l("The deadline for the statement of claim has passed; ask the tribunal "
                                      "for more time."))
        arb.claim_text = _text(text, _l("the statement of claim"))
        arb.claim_submitted_at = now
        arb.defence_due = now + _days("ARBITRATION_DEFENCE_DAYS")
        audit.record(case, user, "arbitration_statement_submitted", {"kind": "claim", "text": arb.claim_text,
                                                                     "defence_due": arb.defence_due})
        notify_users(case, [*joined_users(case), *(s.user for s in arb.active_seats)], _(
            "The statement of claim in case %(number)s is in. The defence is due by %(due)s. %(link)s",
            number=case.number, due=_when(arb.defence_due), link=_link(case)))
    elif side == "respondent":
        if arb.claim_submitted_at is None:
            raise ArbitrationError(_l("The defence follows the statement of claim."))
        if arb.defence_submitted_at is not None:
            raise ArbitrationError(_l("The defence has been submitted."))
        if now > arb.defence_due:
            raise ArbitrationError(_l("The deadline for the defence has passed; ask the tribunal for more time."))
        arb.defence_text = _text(text, _l("the defence"))
        arb.defence_submitted_at = now
        audit.record(case, user, "arbitration_statement_submitted", {"kind": "defence", "text": arb.defence_text})
        notify_users(case, [*joined_users(case), *(s.user for s in arb.active_seats)], _(
            "The defence in case %(number)s is in. %(link)s", number=case.number, link=_link(case)))
    else:
        raise ArbitrationError(_l("Only the parties submit statements."))


def extend_deadline(case: Case, arb: Arbitration, user, which: str, days: int, reason: str) -> datetime:
    """The presiding arbitrator gives a party more time (counted from now or the old deadline, the later)."""
    _check_running(case, arb)
    if not is_chair(arb, user):
        raise ArbitrationError(_l("Only the presiding arbitrator sets deadlines."))
    if which not in ("claim", "defence") or not isinstance(days, int) or not 1 <= days <= 60:
        raise BadInput(_l("Give between 1 and 60 more days for the claim or the defence."))
    reason = _text(reason, _l("the reason"), REASON_MAX)
    if which == "claim":
        if arb.claim_submitted_at is not None:
            raise ArbitrationError(_l("The statement of claim has been submitted."))
        arb.claim_due = max(arb.claim_due, utcnow()) + timedelta(days=days)
        due = arb.claim_due
    else:
        if arb.claim_submitted_at is None or arb.defence_submitted_at is not None:
            raise ArbitrationError(_l("The defence is not waiting for a deadline."))
        arb.defence_due = max(arb.defence_due, utcnow()) + timedelta(days=days)
        due = arb.defence_due
    audit.record(case, user, "arbitration_deadline_extended", {"which": which, "due": due, "reason": reason})
    notify_users(case, joined_users(case), _("The deadline for the %(which)s in case %(number)s is now %(due)s: %(reason)s",
                                    which=_("statement of claim") if which == "claim" else _("defence"),
                                    number=case.number, due=_when(due), reason=reason))
    return due


def may_add_evidence(case: Case, arb: Arbitration | None, user) -> bool:
    if arb is None or arb.status is not ArbitrationStatus.accepted or not case.is_open:
        return False
    return case.side_of(user) is not None or seat_of(arb, user) is not None


def add_evidence(case: Case, arb: Arbitration, user, stream, filename: str | None, description: str = ""):
    """Evidence exchanged in the arbitration: the same file rules as in mediation, seen by everyone in
    the case (there are no private caucuses in arbitration)."""
    _check_running(case, arb)
    if not may_add_evidence(case, arb, user):
        raise ArbitrationError(_l("Only the parties and the arbitrators can add evidence."))
    current = award(case)
    if current is not None:
        raise ArbitrationError(_l("The award is being signed; no more evidence can be added."))
    try:
        return add_case_evidence(case, user, stream, filename, Visibility.all, description,
                                 payload={"stage": "arbitration"})
    except EvidenceError as exc:
        raise BadInput(exc.reason) from None


def evidence(case: Case) -> list:
    """The evidence exchanged in the arbitration: what was added once the commission accepted the case.

    What the parties showed in mediation stays there (what is said to settle is not used to decide);
    a party who wants the tribunal to see a document adds it again here.
    """
    arb = of(case)
    if arb is None or arb.accepted_at is None:
        return []
    return shared_evidence(case, since=arb.accepted_at)


# --- 5. the hearing ---------------------------------------------------------------------------------

def schedule_hearing(case: Case, arb: Arbitration, user, when: datetime) -> None:
    _check_running(case, arb)
    if not is_chair(arb, user):
        raise ArbitrationError(_l("Only the presiding arbitrator schedules the hearing."))
    if arb.procedure is not Procedure.hearing:
        raise ArbitrationError(_l("This case is decided on the documents; there is no hearing."))
    if hearing_held(arb):
        raise ArbitrationError(_l("The hearing has been held."))
    if when is None or when <= utcnow():
        raise BadInput(_l("Choose a time in the future."))
    arb.hearing_at = when
    audit.record(case, user, "arbitration_hearing_scheduled", {"at": when})
    notify_users(case, [*joined_users(case), *(s.user for s in arb.active_seats)], _(
        "The hearing of case %(number)s is on %(when)s, by video. Join from the case page: %(link)s",
        number=case.number, when=_when(when), link=_link(case)))


def open_hearing(case: Case, arb: Arbitration, user):
    """The presiding arbitrator opens (or reopens) the hearing's video room and hosts it."""
    _check_running(case, arb)
    if not is_chair(arb, user):
        raise ArbitrationError(_l("Only the presiding arbitrator opens the hearing."))
    if arb.procedure is not Procedure.hearing:
        raise ArbitrationError(_l("This case is decided on the documents; there is no hearing."))
    if not tribunal_formed(arb):
        raise ArbitrationError(_l("The tribunal is not complete: every arbitrator must be appointed and have "
                                  "declared independence, and no challenge may be pending."))
    if arb.hearing_at is None:
        raise ArbitrationError(_l("Schedule the hearing first, so the parties know when to join."))
    opened = hearing_room(arb)
    if opened is not None and opened.status is RoomStatus.open:
        return opened
    room = rooms.keeper().open(case, user, "hearing", room_id=arb.hearing_room_id)
    arb.hearing_room_id = room.id
    audit.record(case, user, "arbitration_hearing_opened", {"room": room.id})
    return room


# --- 6. the award ---------------------------------------------------------------------------------

def draft_award(case: Case, arb: Arbitration, user, *, facts: str, reasoning: str, decision: list[str],
                costs: str, lang: str) -> SignedDocument:
    """Render the award from the case and the tribunal's words; every arbitrator then signs it."""
    from odr.arbitrate.documents import award_content
    from odr.documents.award import render_award

    _check_running(case, arb)
    if not is_chair(arb, user):
        raise ArbitrationError(_l("Only the presiding arbitrator drafts the award."))
    why_not = award_refusal(arb)
    if why_not:
        raise ArbitrationError(why_not)
    decision = [d.strip() for d in decision if d and d.strip()]
    if not decision:
        raise BadInput(_l("Write what the tribunal decides, one item per line."))
    if len(decision) > 30 or any(len(d) > REASON_MAX for d in decision):
        raise BadInput(_l("At most 30 decision items of at most %(n)s characters each.", n=REASON_MAX))
    content = award_content(case, arb, facts=_text(facts, _l("the facts found")),
                            reasoning=_text(reasoning, _l("the reasons")), decision=decision,
                            costs=_text(costs, _l("how the costs are borne"), REASON_MAX), lang=lang)
    pdf = render_award(content, case)
    seats = sorted(arb.active_seats, key=lambda s: (s.role is SeatRole.member, s.id))
    signers = [(s.user, "arbitrator", s.user.name) for s in seats]
    previous = award(case)
    try:
        document = signing.start(case, user, kind=AWARD_KIND, subject=f"arbitration:{case.id}",
                                 title=_("Arbitral award"), lang=content.lang, pdf=pdf, signers=signers,
                                 reason=_("The tribunal redrafted the award.") if previous else "")
    except signing.SigningError as exc:
        raise ArbitrationError(exc.reason) from None
    audit.record(case, user, "arbitration_award_drafted", {"document": document.id, "version": document.version,
                                                           "decision": decision})
    notify_users(case, [s.user for s in seats if s.user_id != user.id], _(
        "The award of case %(number)s is ready for your signature: %(link)s", number=case.number,
        link=absolute_url("documents.view", doc_id=document.id)))
    return document


def award_sealed(document: SignedDocument) -> None:
    case = document.case
    arb = of(case)
    seat = chair(arb) if arb is not None else None
    if arb is None or seat is None or arb.status is not ArbitrationStatus.accepted:
        raise signing.SigningError(_l("The arbitration changed; this award no longer applies."))
    try:
        workflow.move(case, Outcome.award_issued, seat.user, reason=f"award v{document.version}")
    except workflow.WorkflowError as exc:
        raise signing.SigningError(exc.reason) from None
    arb.status = ArbitrationStatus.awarded
    audit.record(case, seat.user, "arbitration_award_issued", {"document": document.id,
                                                               "sha256": document.current_sha256})
    notify_users(case, joined_users(case), _("The award in case %(number)s has been issued and is final. Read it: %(link)s",
                                    number=case.number, link=absolute_url("documents.view", doc_id=document.id)))
    logger.info("Case %s: award issued (document %s)", case, document.id)


# --- the tribunal in the case's permissions and workflow ------------------------------------------

def tribunal_roles(case: Case, user, found: set[str]) -> set[str]:
    """Every arbitrator sitting in the case (not only the presiding one in ``Case.arbitrator_id``)."""
    if "arbitrator" in found or not user.organizations_for(Role.arbitrator):
        return set()
    seat = db.session.scalar(sa.select(ArbitratorSeat.id).where(
        ArbitratorSeat.case_id == case.id, ArbitratorSeat.user_id == user.id,
        ArbitratorSeat.status.in_([SeatStatus.appointed, SeatStatus.serving])).limit(1))
    return {"arbitrator"} if seat is not None else set()


def award_sealed_rule(case: Case):
    """Workflow guard ``award_sealed``: a case ends with an award only through the sealed award."""
    found = award(case)
    if found is None or found.status is not SigningStatus.complete:
        return _l("The award is issued when every arbitrator has signed it.")
    return None
