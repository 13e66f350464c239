"""Steps 4 and 5: the statements of claim and defence with their deadlines, the evidence, and the
hearing by video."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, rooms
from odr.cases.evidence import EvidenceError, Visibility, shared_evidence
from odr.cases.evidence import add_evidence as add_case_evidence
from odr.cases.notices import joined_users, notify_users
from odr.cases.service.operations import Served
from odr.cases.rooms import RoomRef, RoomStatus
from odr.cases.models import Case
from odr.arbitrate.models import (Arbitration, ArbitrationStatus, Procedure)
from odr.arbitrate.common import (REASON_MAX, ArbitrationError, BadInput, award, case_link, check_running,
                                  config_days, of, required_text, shown)
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


#: A hearing's room has no private caucus (refused by the video room, its button out of sight).
NO_CAUCUS = _l("A hearing has no private caucus: each party hears everything the tribunal hears.")


def submit_statement(case: Case, arb: Arbitration, user, text: str) -> None:
    """The claimant's statement of claim, or the respondent's defence, before its deadline."""
    check_running(case, arb)
    side = case.side_of(user)
    now = utcnow()
    if side == "claimant":
        if arb.claim_submitted_at is not None:
            raise ArbitrationError(_l("The statement of claim has been submitted."))
        if now > arb.claim_due:
            raise ArbitrationError(_l("The deadline for the statement of claim has passed; ask the tribunal "
                                      "for more time."))
        arb.claim_text = required_text(text, _l("the statement of claim"))
        arb.claim_submitted_at = now
        arb.defence_due = now + config_days("ARBITRATION_DEFENCE_DAYS")
        audit.record(case, user, "arbitration_statement_submitted", {"kind": "claim", "text": arb.claim_text,
                                                                     "defence_due": arb.defence_due})
        notify_users(case, [*joined_users(case), *(s.user for s in arb.active_seats)], _(
            "The statement of claim in case %(number)s is in. The defence is due by %(due)s. %(link)s",
            number=case.number, due=shown(arb.defence_due), link=case_link(case)),
            served=Served.link("claim", case_link(case)))
    elif side == "respondent":
        if arb.claim_submitted_at is None:
            raise ArbitrationError(_l("The defence follows the statement of claim."))
        if arb.defence_submitted_at is not None:
            raise ArbitrationError(_l("The defence has been submitted."))
        if now > arb.defence_due:
            raise ArbitrationError(_l("The deadline for the defence has passed; ask the tribunal for more time."))
        arb.defence_text = required_text(text, _l("the defence"))
        arb.defence_submitted_at = now
        audit.record(case, user, "arbitration_statement_submitted", {"kind": "defence", "text": arb.defence_text})
        notify_users(case, [*joined_users(case), *(s.user for s in arb.active_seats)], _(
            "The defence in case %(number)s is in. %(link)s", number=case.number, link=case_link(case)),
            served=Served.link("defence", case_link(case)))
    else:
        raise ArbitrationError(_l("Only the parties submit statements."))


def extend_deadline(case: Case, arb: Arbitration, user, which: str, days: int, reason: str) -> datetime:
    """The presiding arbitrator gives a party more time (counted from now or the old deadline, the later)."""
    check_running(case, arb)
    if not arb.is_chair(user):
        raise ArbitrationError(_l("Only the presiding arbitrator sets deadlines."))
    if which not in ("claim", "defence") or not isinstance(days, int) or not 1 <= days <= 60:
        raise BadInput(_l("Give between 1 and 60 more days for the claim or the defence."))
    reason = required_text(reason, _l("the reason"), REASON_MAX)
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
                                    number=case.number, due=shown(due), reason=reason))
    return due


def may_add_evidence(case: Case, arb: Arbitration | None, user) -> bool:
    if arb is None or arb.status is not ArbitrationStatus.accepted or not case.is_open:
        return False
    return case.side_of(user) is not None or arb.seat_of(user) is not None


def add_evidence(case: Case, arb: Arbitration, user, stream, filename: str | None, description: str = ""):
    """Evidence exchanged in the arbitration: the same file rules as in mediation, seen by everyone in
    the case (there are no private caucuses in arbitration)."""
    check_running(case, arb)
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


def schedule_hearing(case: Case, arb: Arbitration, user, when: datetime) -> None:
    check_running(case, arb)
    if not arb.is_chair(user):
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
        number=case.number, when=shown(when), link=case_link(case)),
        served=Served.link("session_notice", case_link(case)))


def open_hearing(case: Case, arb: Arbitration, user):
    """The presiding arbitrator opens (or reopens) the hearing's video room and hosts it."""
    check_running(case, arb)
    if not arb.is_chair(user):
        raise ArbitrationError(_l("Only the presiding arbitrator opens the hearing."))
    if arb.procedure is not Procedure.hearing:
        raise ArbitrationError(_l("This case is decided on the documents; there is no hearing."))
    if not arb.tribunal_formed():
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
