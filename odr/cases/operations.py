"""Use cases of the case file: filing, invitations, routing, transfers.

Each function takes the actor explicitly, changes state, writes the audit
event and flushes; the caller (view, API handler, CLI command) commits once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import outbox
from odr.auth import sessions
from odr.cases import audit, performance, sla
from odr.cases.service import operations as service
from odr.cases.notices import joined_parties, notify_users
from odr.cases.models import (
    ApiClient, ArbitrationBasis, Case, CaseCounter, CaseParty, Category, Channel, Organization,
    PartyStatus, Representation, RepresentationStatus, Side, Stage, open_case_sql,
)
from odr.extensions import db
from odr.links import absolute_url
from odr.timeutil import utcnow
from odr.refusal import Refused

logger = logging.getLogger(__name__)


class CaseError(Refused):
    """A request about a case that cannot be done; ``reason`` is shown to the person."""


@dataclass
class PartyDetails:
    name: str
    phone: str | None = None
    email: str | None = None


@dataclass
class DisputeDetails:
    category: Category
    description: str
    claim: str
    district: str
    amount_claimed: Decimal | None = None


def next_case_number(year: int) -> str:
    """``ODR-<year>-<6 digits>``, counted per year without gaps from concurrent filings."""
    updated = db.session.execute(
        sa.update(CaseCounter).where(CaseCounter.year == year).values(last=CaseCounter.last + 1)
    ).rowcount
    if not updated:
        try:
            with db.session.begin_nested():  # the first filing of a year may race another
                db.session.add(CaseCounter(year=year, last=0))
        except IntegrityError:
            pass
        db.session.execute(
            sa.update(CaseCounter).where(CaseCounter.year == year).values(last=CaseCounter.last + 1))
    last = db.session.scalar(sa.select(CaseCounter.last).where(CaseCounter.year == year))
    return f"ODR-{year}-{last:06d}"


def invitation_url(party: CaseParty) -> str:
    return absolute_url("cases.invitation", token=party.invite_token)


def _invite(case: Case, party: CaseParty, inviter_name: str, actor=None):
    """Serve the invitation (with proof: :mod:`odr.cases.service`); a respondent's time to answer starts."""
    party.invite_token = secrets.token_urlsafe(24)
    party.status = PartyStatus.invited
    db.session.flush()
    service.serve(
        case, party, "invitation",
        _("%(inviter)s invites you to resolve a dispute online, case %(number)s. "
          "Open this link to join or decline:", inviter=inviter_name, number=case.number),
        service.path_of("cases.invitation", token=party.invite_token),
        subject=_("Invitation to resolve a dispute online (%(number)s)", number=case.number), actor=actor)
    if party.side is Side.respondent:
        service.await_response(party, party.invited_at or utcnow())


def file_case(actor, channel: Channel, dispute: DisputeDetails, claimant: PartyDetails,
              respondent: PartyDetails, *, organization: Organization | None = None,
              api_client: ApiClient | None = None, external_ref: str | None = None) -> Case:
    """Open a case. On the web the actor is the claimant; at the counter and by transfer the
    claimant is invited to the case like the respondent."""
    now = utcnow()
    case = Case(
        number=next_case_number(now.year), category=dispute.category,
        description=dispute.description, claim=dispute.claim,
        amount_claimed=dispute.amount_claimed, district=dispute.district,
        channel=channel, stage=Stage.consultation, organization=organization,
        created_by_id=getattr(actor, "id", None) if channel is not Channel.transfer else None,
        api_client_id=api_client.id if api_client else None, external_ref=external_ref,
        created_at=now, stage_entered_at=now, due_at=sla.due_at(Stage.consultation, now),
    )
    db.session.add(case)
    claimant_party = CaseParty(side=Side.claimant, name=claimant.name, phone=claimant.phone,
                               email=claimant.email, status=PartyStatus.invited)
    respondent_party = CaseParty(side=Side.respondent, name=respondent.name, phone=respondent.phone,
                                 email=respondent.email, status=PartyStatus.invited)
    case.parties = [claimant_party, respondent_party]
    db.session.flush()
    if channel is Channel.web:
        claimant_party.user_id = actor.id
        claimant_party.status = PartyStatus.joined
        claimant_party.responded_at = now
    audit.record(case, api_client or actor, "case_filed", {
        "number": case.number, "channel": channel, "category": dispute.category,
        "description": dispute.description, "claim": dispute.claim,
        "amount_claimed": dispute.amount_claimed, "district": dispute.district,
        "claimant": claimant.name, "respondent": respondent.name,
        "organization": organization.id if organization else None, "external_ref": external_ref,
    })
    if channel is not Channel.web:
        _invite(case, claimant_party, organization.name if organization else claimant.name, api_client or actor)
    _invite(case, respondent_party, claimant.name, api_client or actor)
    logger.info("Case %s filed via %s by %s", case, channel.value, audit.actor_label(api_client or actor))
    return case


def party_for_token(token: str) -> CaseParty | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(CaseParty).where(CaseParty.invite_token == token))


def _check_answerable(party: CaseParty, user):
    case = party.case
    if not case.is_open:
        raise CaseError(_l("This case is closed."))
    if any(p.user_id == user.id and p.id != party.id for p in case.parties):
        raise CaseError(_l("You are already a party to this case on the other side."))
    if db.session.scalar(sa.select(sa.func.count(Representation.id)).where(
            Representation.case_id == case.id, Representation.user_id == user.id,
            Representation.status.in_([RepresentationStatus.review, RepresentationStatus.active]))):
        raise CaseError(_l("You act for a party in this case; you cannot also be a party to it."))


def join_case(party: CaseParty, user, addresses: tuple[list[str], list[str], bool] | None = None) -> None:
    """The invited person takes their seat in the case, confirming where they accept service
    (``addresses``: phone numbers, e-mail addresses, consent to electronic service)."""
    _check_answerable(party, user)
    party.user_id = user.id
    party.status = PartyStatus.joined
    party.responded_at = utcnow()
    party.invite_token = None
    audit.record(party.case, user, "party_joined", {"side": party.side, "name": user.name})
    if addresses is not None:
        service.confirm_addresses(party, user, *addresses)
    _notify_other_side(party, _("%(name)s joined case %(number)s.", name=user.name, number=party.case.number))


def decline_invitation(party: CaseParty, user, reason: str) -> None:
    """The invited person refuses online resolution, saying why."""
    _check_answerable(party, user)
    party.user_id = user.id
    party.status = PartyStatus.declined
    party.decline_reason = reason
    party.responded_at = utcnow()
    party.invite_token = None
    audit.record(party.case, user, "party_declined", {"side": party.side, "name": user.name, "reason": reason})
    _notify_other_side(party, _("%(name)s declined to take part in case %(number)s. Reason: %(reason)s",
                                name=user.name, number=party.case.number, reason=reason))


def _notify_other_side(party: CaseParty, text: str):
    notify_users(party.case, [other.user for other in joined_parties(party.case) if other.id != party.id], text)


def route_case(case: Case, organization: Organization, actor) -> None:
    """Send the case to an organisation's queue."""
    if not case.is_open:
        raise CaseError(_l("This case is closed."))
    if organization.type.value == "court":
        raise CaseError(_l("Cases reach courts through the court hand-off, not by routing."))
    before = case.organization_id
    if before == organization.id:
        raise CaseError(_l("The case is already with this organisation."))
    case.organization = organization
    # The dashboard's performance figures read the organisation copied onto the case's schedule.
    performance.follow_routing(case, organization.id)
    audit.record(case, actor, "case_routed", {"from": before, "to": organization.id, "name": organization.name})
    logger.info("Case %s routed to %s by %s", case, organization, audit.actor_label(actor))


def record_arbitration_basis(case: Case, basis: ArbitrationBasis, actor) -> None:
    case.arbitration_basis = basis
    audit.record(case, actor, "arbitration_basis_recorded", {"basis": basis})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(name: str, organization: Organization, actor=None) -> tuple[ApiClient, str]:
    """Register an outside system; return it and its bearer token (shown once, stored hashed)."""
    token = "odr_" + secrets.token_urlsafe(32)
    client = ApiClient(name=name, organization=organization, token_hash=token_hash(token))
    db.session.add(client)
    db.session.flush()
    audit.record(None, actor, "api_client_created", {"client": client.id, "name": name,
                                                     "organization": organization.id})
    return client, token


def revoke_api_token(client: ApiClient, actor=None) -> None:
    client.revoked_at = utcnow()
    audit.record(None, actor, "api_client_revoked", {"client": client.id, "name": client.name})


def api_client_for_token(token: str) -> ApiClient | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        sa.select(ApiClient).where(ApiClient.token_hash == token_hash(token), ApiClient.revoked_at.is_(None))
    )


def find_transfer(client: ApiClient, reference: str) -> Case | None:
    """The case ``client`` transferred with this reference, if any."""
    if "\x00" in reference:  # no reference holds NUL (the intake form refuses it; PostgreSQL text cannot)
        return None
    return db.session.scalar(
        sa.select(Case).where(Case.api_client_id == client.id, Case.external_ref == reference)
    )


def cases_of_party(user, limit: int = 100) -> list[Case]:
    """The cases ``user`` is a joined party of, or acts in for a party (agent, helper), newest first."""
    own = sa.select(CaseParty.case_id).where(CaseParty.user_id == user.id, CaseParty.status == PartyStatus.joined)
    represented = sa.select(Representation.case_id).where(Representation.user_id == user.id,
                                                          Representation.status == RepresentationStatus.active)
    return list(db.session.scalars(
        sa.select(Case).where(sa.or_(Case.id.in_(own), Case.id.in_(represented)))
        .order_by(Case.created_at.desc()).limit(limit)
    ))


def staff_queue(user, page: int, per_page: int = 30, show_closed: bool = False):
    """Cases of the organisations the user is staff of, plus unrouted cases for intake centers,
    the most urgent first."""
    from odr.auth.models import Role

    orgs = user.organizations_for(Role.staff)
    intake = db.session.scalar(
        sa.select(sa.func.count(Organization.id)).where(Organization.id.in_(orgs), Organization.takes_intake)
    ) if orgs else 0
    where = Case.organization_id.in_(orgs)
    if intake:
        where = sa.or_(where, Case.organization_id.is_(None))
    if user.is_admin:
        where = sa.true()
    query = sa.select(Case).where(where)
    if show_closed:
        # Most urgent first: open cases by deadline (``odr.cases.sla``), then closed ones, newest first.
        order = (Case.closed_at.is_not(None), sa.nulls_last(Case.due_at.asc()), Case.closed_at.desc(),
                 Case.created_at.desc(), Case.id.desc())
    else:
        # Open cases always have a deadline: this order is an index range (``ix_case_org_due``,
        # ``ix_case_due``), so a page costs the same however many cases there are.
        query = query.where(open_case_sql())
        order = (Case.due_at.asc(),)  # the index's own order, nothing to sort (deadlines rarely tie)
    page = max(1, min(page, 10_000))
    rows = list(db.session.scalars(query.order_by(*order).limit(per_page + 1).offset((page - 1) * per_page)))
    return QueuePage(rows[:per_page], page, len(rows) > per_page)


@dataclass
class QueuePage:
    """One page of a list, and whether another follows (found by reading one row more, not by
    counting every matching row)."""

    items: list
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def assign_handler(case: Case, actor, *, mediator=None, arbitrator=None, court: Organization | None = None) -> None:
    """Record who handles the case: its mediator, arbitrator or receiving court."""
    changes = {}
    if mediator is not None:
        case.mediator_id = mediator.id
        changes["mediator"] = {"id": mediator.id, "name": mediator.name}
    if arbitrator is not None:
        case.arbitrator_id = arbitrator.id
        changes["arbitrator"] = {"id": arbitrator.id, "name": arbitrator.name}
    if court is not None:
        if court.type.value != "court":
            raise CaseError(_l("Only a court can receive a case hand-off."))
        case.court_id = court.id
        changes["court"] = {"id": court.id, "name": court.name}
    if changes:
        audit.record(case, actor, "handler_assigned", changes)


def record_settlement_amount(case: Case, amount: Decimal, actor) -> None:
    """What the parties settled on, for the outcome statistics of similar cases."""
    case.settlement_amount = amount
    audit.record(case, actor, "settlement_amount_recorded", {"amount": amount})


def grant_role(user, role, organization: Organization | None = None, actor=None):
    """Give ``user`` a role in an organisation (or platform-wide), recorded in the platform's audit chain.

    Roles are held in organisations, which belong to the case file; so granting one is an
    operation of the case file, not of the accounts (``odr.auth``) below it.
    """
    from odr.auth.models import RoleGrant

    grant = RoleGrant(user=user, role=role, organization_id=organization.id if organization else None)
    db.session.add(grant)
    db.session.flush()
    audit.record(None, actor, "role_granted", {"user": user.id, "role": role, "organization": grant.organization_id})
    return grant


def revoke_role(user, role, organization: Organization | None = None, actor=None) -> list[int]:
    """Take ``role`` (in ``organization``, or everywhere when None) away from ``user``, and end
    their sessions: a page or connection opened with the role must not keep it.

    :return: the ids of the sessions ended, for ``sessions.close_connections`` after the commit.
    :raise CaseError: the user does not hold the role there.
    """
    grants = [g for g in user.grants if g.role is role and (organization is None or g.organization_id == organization.id)]
    if not grants:
        raise CaseError(_l("This account does not hold that role."))
    for grant in grants:
        user.grants.remove(grant)
        audit.record(None, actor, "role_revoked",
                     {"user": user.id, "role": role, "organization": grant.organization_id})
    db.session.flush()
    return sessions.end_all(user, sessions.ROLE_REMOVED, actor)
