"""What every step of the arbitration shares: the errors it refuses with, the audit actions, reading
the arbitration of a case, and the checks each step starts with (see the package's docstring for
the steps)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role, User
from odr.auth.operations import holders
from odr.cases.models import Case, Organization, OrgType, Stage
from odr.documents import operations as signing
from odr.documents.models import SignedDocument
from odr.extensions import db
from odr.arbitrate.models import Arbitration, ArbitrationStatus, ArbitratorSeat, SeatStatus
from odr.links import absolute_url
from odr.refusal import Refused

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


def agreement(case: Case) -> SignedDocument | None:
    return signing.current(case, AGREEMENT_KIND)


def award(case: Case) -> SignedDocument | None:
    return signing.current(case, AWARD_KIND)


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


def config_days(name: str) -> timedelta:
    return timedelta(days=int(current_app.config[name]))


def shown(moment: datetime | None) -> str:
    """A moment as people read it, in their language and the platform's zone."""
    from odr.cases import labels

    return labels.when(moment) if moment else ""


def required_text(value: str | None, what, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if not value:
        raise BadInput(_l("Write %(what)s first.", what=what))
    if len(value) > limit:
        raise BadInput(_l("%(what)s can have at most %(n)s characters.", what=what, n=limit))
    return value


def case_link(case: Case) -> str:
    return absolute_url("arbitrate.case_stage", number=case.number)


def check_open(case: Case, arb: Arbitration | None) -> None:
    if arb is None:
        raise ArbitrationError(_l("Nobody has asked for arbitration in this case."))
    if not case.is_open:
        raise ArbitrationError(_l("This case is closed."))


def check_running(case: Case, arb: Arbitration | None) -> None:
    """The commission accepted the case and no award is out."""
    check_open(case, arb)
    if arb.status is not ArbitrationStatus.accepted or case.stage is not Stage.arbitration:
        raise ArbitrationError(_l("This step is possible once the commission has accepted the case."))


def check_commission(arb: Arbitration, actor) -> None:
    if not is_commission_staff(arb, actor):
        raise ArbitrationError(_l("Only the staff of %(commission)s can do this.", commission=arb.commission.name))
