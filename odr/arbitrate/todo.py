"""The arbitration's steps on a person's to-do list (``odr.cases.todo``): the statement of claim,
the defence, the hearing; the arbitrator's and the commission's desk."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.arbitrate import common, proceedings
from odr.arbitrate.models import ArbitrationStatus
from odr.auth.models import Role
from odr.cases import labels
from odr.cases.models import Case, Stage
from odr.cases.rooms import RoomStatus
from odr.cases.todo import Todo, Workplace
from odr.timeutil import utcnow

#: A hearing stays on the list this long after its start (it is going on).
HEARING_HOURS = timedelta(hours=3)


def steps(case: Case, user) -> list[Todo]:
    arb = common.of(case)
    if arb is None or not case.is_open or case.stage is not Stage.arbitration \
            or arb.status is not ArbitrationStatus.accepted:
        return []
    side = case.side_of(user)
    found = []
    page = url_for("arbitrate.case_stage", number=case.number)
    now = utcnow()
    if side == "claimant" and arb.claim_submitted_at is None and arb.claim_due and now <= arb.claim_due:
        found.append(Todo("submit_claim", str(_l("Submit your statement of claim")), page + "#statements",
                          case=case, due=arb.claim_due))
    if side == "respondent" and arb.claim_submitted_at is not None and arb.defence_submitted_at is None \
            and arb.defence_due and now <= arb.defence_due:
        found.append(Todo("submit_defence", str(_l("Submit your defence")), page + "#statements",
                          case=case, due=arb.defence_due))
    if arb.hearing_at is not None and now < arb.hearing_at + HEARING_HOURS and not proceedings.hearing_held(arb) \
            and (side is not None or arb.seat_of(user) is not None):
        room = proceedings.hearing_room(arb)
        is_open = room is not None and room.status is RoomStatus.open
        url = url_for("video.room", number=case.number, room_id=room.id) if is_open else page + "#hearing"
        found.append(Todo("join_hearing", str(_l("Join the video hearing")), url, case=case, due=arb.hearing_at,
                          live=is_open, note=labels.when(arb.hearing_at)))
    return found


def workplace(user) -> list[Workplace]:
    """Arbitrators and arbitration commission staff start at the arbitration desk."""
    if user.organizations_for(Role.arbitrator) or any(o.id in user.organizations_for(Role.staff)
                                                      for o in common.commissions()):
        return [Workplace("arbitration_desk", str(_l("Arbitration desk")), url_for("arbitrate.desk"))]
    return []
