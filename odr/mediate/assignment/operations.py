"""Who mediates a case: the directory, rosters, a ranked suggestion, offers with a deadline.

Staff offer a case to a mediator (:func:`offer`); the mediator accepts or declines before
``answer_by`` (``ASSIGNMENT_ANSWER_HOURS``, default 24 h). An offer left unanswered is
expired by :func:`escalate_overdue` (run by ``odr tick`` and whenever staff open their
queue) and the organisation's staff are told. Each party may once ask for another mediator
(:func:`ask_for_change`); staff then offer the case to someone else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role, RoleGrant, User
from odr.cases import audit, labels
from odr.cases import operations as case_ops
from odr.cases.notices import notify_users
from odr.cases.models import Case, Organization, OrgType, PartyStatus, Stage
from odr.extensions import db
from odr.links import absolute_url
from odr.mediate.models import (Assignment, AssignmentStatus, ChangeRequest, MediatorProfile,
                                MediatorRating)
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Organisation kinds that mediate (the directory lists these).
MEDIATION_TYPES = (OrgType.peoples_mediation, OrgType.administrative, OrgType.industry, OrgType.notary,
                   OrgType.lawyer)

#: The audit actions this module records, with what people read for each (registered by ``init_app``).
ACTIONS = {
    "mediator_offered": _l("Case offered to a mediator"),
    "mediator_accepted": _l("Mediator accepted the case"),
    "mediator_declined": _l("Mediator declined the case"),
    "assignment_expired": _l("No answer from the mediator: back to staff"),
    "assignment_withdrawn": _l("Offer to the mediator withdrawn"),
    "mediator_change_requested": _l("Another mediator requested"),
    "mediator_rated": _l("Mediator rated"),
}


class AssignmentError(Refused):
    pass


# --- directory and roster -----------------------------------------------------------------

def directory(type_: OrgType | None = None, district: str | None = None, specialty: str | None = None):
    """Mediation organisations, filtered; each with its mediators' profiles."""
    query = sa.select(Organization).where(Organization.type.in_(MEDIATION_TYPES))
    if type_ is not None:
        query = query.where(Organization.type == type_)
    if district:
        query = query.where(Organization.district == district)
    orgs = list(db.session.scalars(query.order_by(Organization.type, Organization.district, Organization.name)))
    if specialty:
        with_profile = set(db.session.scalars(
            sa.select(MediatorProfile.organization_id).where(MediatorProfile.specialties.contains(specialty))))
        orgs = [o for o in orgs if o.id in with_profile or specialty in (o.specialty or "")]
    return orgs


def roster(org: Organization) -> list[MediatorProfile]:
    """The organisation's mediators (those holding the mediator role there), by name."""
    return list(db.session.scalars(
        sa.select(MediatorProfile).join(User, User.id == MediatorProfile.user_id)
        .join(RoleGrant, sa.and_(RoleGrant.user_id == MediatorProfile.user_id, RoleGrant.role == Role.mediator,
                                 RoleGrant.organization_id == org.id))
        .where(MediatorProfile.organization_id == org.id).order_by(User.name)))


def add_to_roster(org: Organization, contact: str, name: str, actor) -> MediatorProfile:
    """Make someone a mediator of ``org``: their existing account, or a new one they sign in to by code."""
    user = auth_ops.find_user(contact)
    if user is None:
        user = auth_ops.create_user(contact, name)
    elif db.session.get(MediatorProfile, user.id) is not None:
        raise AssignmentError(_l("%(name)s is already on a roster.", name=user.name))
    if not user.has_role(Role.mediator, org.id):
        grant_role(user, Role.mediator, org, actor=actor)
    profile = MediatorProfile(user_id=user.id, organization_id=org.id)
    db.session.add(profile)
    audit.record(None, actor, "roster_added", {"organization": org.id, "user": user.id})
    return profile


def update_profile(profile: MediatorProfile, actor, *, specialties: list[str], languages: list[str], bio: str,
                   capacity: int, accepting: bool) -> None:
    profile.specialties = " ".join(specialties)
    profile.languages = " ".join(languages) or "zh"
    profile.bio = bio
    profile.capacity = capacity
    profile.accepting = accepting
    audit.record(None, actor, "roster_updated", {"organization": profile.organization_id, "user": profile.user_id,
                                                 "accepting": accepting, "capacity": capacity})


def remove_from_roster(profile: MediatorProfile, actor) -> None:
    """Off the roster: the mediator role in this organisation goes; cases they hold stay theirs."""
    if open_offers_of(profile.user_id):
        raise AssignmentError(_l("%(name)s still has cases offered to them. Withdraw the offers first.",
                                 name=profile.user.name))
    for grant in list(profile.user.grants):
        if grant.role is Role.mediator and grant.organization_id == profile.organization_id:
            db.session.delete(grant)
    audit.record(None, actor, "roster_removed", {"organization": profile.organization_id, "user": profile.user_id})
    db.session.delete(profile)


def load_of(user_ids) -> dict[int, int]:
    """Open cases each mediator holds plus cases offered to them and not yet answered."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    held = dict(db.session.execute(
        sa.select(Case.mediator_id, sa.func.count(Case.id))
        .where(Case.mediator_id.in_(user_ids), Case.outcome.is_(None)).group_by(Case.mediator_id)).all())
    offered = dict(db.session.execute(
        sa.select(Assignment.mediator_id, sa.func.count(Assignment.id))
        .where(Assignment.mediator_id.in_(user_ids), Assignment.status == AssignmentStatus.offered)
        .group_by(Assignment.mediator_id)).all())
    return {u: held.get(u, 0) + offered.get(u, 0) for u in user_ids}


def ratings_of(user_ids) -> dict[int, tuple[float, int]]:
    """Average stars and number of ratings per mediator."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(MediatorRating.mediator_id, sa.func.avg(MediatorRating.stars), sa.func.count())
        .where(MediatorRating.mediator_id.in_(user_ids)).group_by(MediatorRating.mediator_id)).all()
    return {m: (round(float(avg), 1), n) for m, avg, n in rows}


# --- the suggestion -------------------------------------------------------------------------

@dataclass
class Suggestion:
    profile: MediatorProfile
    load: int
    score: float
    reasons: list[str] = field(default_factory=list)


def suggest(case: Case, limit: int = 5) -> list[Suggestion]:
    """Mediators ranked for this case: specialty, district, then how much room they have.

    Score: +3 when the mediator lists the case's category, +2 when the organisation is in the
    case's district, +1 for an organisation of the matching industry specialty, minus twice the
    share of their capacity in use. Mediators who are not accepting new cases or are full, who
    declined this case, or whom a party asked to replace on it are left out.
    """
    excluded = set(db.session.scalars(sa.select(Assignment.mediator_id).where(
        Assignment.case_id == case.id,
        Assignment.status.in_([AssignmentStatus.declined, AssignmentStatus.expired, AssignmentStatus.replaced]))))
    excluded |= set(db.session.scalars(sa.select(ChangeRequest.mediator_id).where(ChangeRequest.case_id == case.id)))
    if case.mediator_id:
        excluded.add(case.mediator_id)
    profiles = [p for p in db.session.scalars(
        sa.select(MediatorProfile).join(Organization).where(
            MediatorProfile.accepting, Organization.type.in_(MEDIATION_TYPES)))
        if p.user_id not in excluded and p.user.has_role(Role.mediator, p.organization_id)]
    loads = load_of(p.user_id for p in profiles)
    out = []
    for p in profiles:
        load = loads.get(p.user_id, 0)
        if load >= p.capacity:
            continue
        score, reasons = -2 * load / max(p.capacity, 1), []
        if case.category.value in p.specialty_list:
            score += 3
            reasons.append(_("handles %(category)s disputes", category=labels.CATEGORY[case.category]))
        if p.organization.district == case.district:
            score += 2
            reasons.append(_("in %(district)s", district=labels.district(case.district)))
        if p.organization.specialty and case.category.value in p.organization.specialty.split():
            score += 1
            reasons.append(_("specialised organisation"))
        reasons.append(_("%(load)s of %(capacity)s cases", load=load, capacity=p.capacity))
        out.append(Suggestion(p, load, round(score, 2), reasons))
    out.sort(key=lambda s: (-s.score, s.load, s.profile.user.name))
    return out[:limit]


# --- offers and answers ---------------------------------------------------------------------

def open_offer(case: Case) -> Assignment | None:
    return db.session.scalar(sa.select(Assignment).where(
        Assignment.case_id == case.id, Assignment.status == AssignmentStatus.offered))


def open_offers_of(user_id: int) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).where(
        Assignment.mediator_id == user_id, Assignment.status == AssignmentStatus.offered)
        .order_by(Assignment.answer_by)))


def cases_of_mediator(user_id: int) -> list[Case]:
    """Open cases the mediator handles, the most urgent first."""
    return list(db.session.scalars(sa.select(Case).where(Case.mediator_id == user_id, Case.outcome.is_(None))
                                   .order_by(sa.nulls_last(Case.due_at.asc()), Case.id)))


def history(case: Case) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).where(Assignment.case_id == case.id)
                                   .order_by(Assignment.id)))


def _notify(user: User | None, case: Case, text: str) -> None:
    notify_users(case, [user], text)


def _staff_of(org_id: int | None) -> list[User]:
    from odr.auth.operations import holders

    return holders(Role.staff, org_id)


def offer(case: Case, mediator: User, actor) -> Assignment:
    """Offer the case to a mediator; they have ``ASSIGNMENT_ANSWER_HOURS`` to answer."""
    if not case.is_open or case.stage is not Stage.mediation:
        raise AssignmentError(_l("Only a case in mediation can be given a mediator."))
    profile = db.session.get(MediatorProfile, mediator.id)
    if profile is None or not mediator.has_role(Role.mediator, profile.organization_id):
        raise AssignmentError(_l("Choose a mediator from an organisation's roster."))
    if not profile.accepting:
        raise AssignmentError(_l("%(name)s is not taking new cases.", name=mediator.name))
    if case.mediator_id == mediator.id:
        raise AssignmentError(_l("%(name)s already mediates this case.", name=mediator.name))
    if open_offer(case) is not None:
        raise AssignmentError(_l("The case is already offered to a mediator. Withdraw that offer first."))
    if db.session.scalar(sa.select(ChangeRequest.id).where(ChangeRequest.case_id == case.id,
                                                           ChangeRequest.mediator_id == mediator.id)):
        raise AssignmentError(_l("A party asked for someone other than %(name)s.", name=mediator.name))
    now = utcnow()
    answer_by = now + timedelta(hours=current_app.config["ASSIGNMENT_ANSWER_HOURS"])
    assignment = Assignment(case=case, organization_id=profile.organization_id, mediator=mediator,
                            offered_by=actor, offered_at=now, answer_by=answer_by)
    db.session.add(assignment)
    if case.organization_id != profile.organization_id:
        case_ops.route_case(case, profile.organization, actor)
    db.session.flush()
    audit.record(case, actor, "mediator_offered", {"assignment": assignment.id, "mediator": mediator.name,
                                                   "organization": profile.organization.name,
                                                   "answer_by": answer_by})
    _notify(mediator, case, _("You are asked to mediate case %(number)s. Please accept or decline by %(when)s: "
                              "%(url)s", number=case.number, when=answer_by.strftime("%Y-%m-%d %H:%M UTC"),
                              url=absolute_url("mediate.offer", aid=assignment.id)))
    return assignment


def _check_answerable(assignment: Assignment, user) -> None:
    if assignment.mediator_id != user.id:
        raise AssignmentError(_l("This offer is not yours."))
    if assignment.status is not AssignmentStatus.offered:
        raise AssignmentError(_l("This offer has already been answered or has ended."))
    if utcnow() >= assignment.answer_by:
        raise AssignmentError(_l("The time to answer this offer has passed; staff have been told."))
    case = assignment.case
    if not case.is_open or case.stage is not Stage.mediation:
        raise AssignmentError(_l("The case is not in mediation any more."))


def accept(assignment: Assignment, user) -> None:
    _check_answerable(assignment, user)
    case = assignment.case
    now = utcnow()
    previous = case.mediator_id
    for old in db.session.scalars(sa.select(Assignment).where(
            Assignment.case_id == case.id, Assignment.status == AssignmentStatus.accepted)):
        old.status, old.reason = AssignmentStatus.replaced, "replaced by a new mediator"
    assignment.status, assignment.answered_at = AssignmentStatus.accepted, now
    case_ops.assign_handler(case, user, mediator=user)
    for request in db.session.scalars(sa.select(ChangeRequest).where(
            ChangeRequest.case_id == case.id, ChangeRequest.resolved_at.is_(None))):
        request.resolved_at = now
    audit.record(case, user, "mediator_accepted", {"assignment": assignment.id, "mediator": user.name,
                                                   "replaces": previous})
    for party in case.parties:
        if party.status is PartyStatus.joined:
            _notify(party.user, case, _("%(name)s will mediate your case %(number)s: %(url)s", name=user.name,
                                        number=case.number, url=absolute_url("mediate.case_stage",
                                                                             number=case.number)))


def decline(assignment: Assignment, user, reason: str) -> None:
    _check_answerable(assignment, user)
    reason = (reason or "").strip()
    if not reason:
        raise AssignmentError(_l("Say why you decline, so staff can find someone else."))
    assignment.status, assignment.answered_at, assignment.reason = AssignmentStatus.declined, utcnow(), reason
    audit.record(assignment.case, user, "mediator_declined", {"assignment": assignment.id, "mediator": user.name,
                                                              "reason": reason})
    for staff in _staff_of(assignment.case.organization_id):
        _notify(staff, assignment.case, _("%(name)s declined case %(number)s: %(reason)s. Please assign another "
                                          "mediator.", name=user.name, number=assignment.case.number,
                                          reason=reason))


def withdraw(assignment: Assignment, actor) -> None:
    if assignment.status is not AssignmentStatus.offered:
        raise AssignmentError(_l("This offer has already been answered or has ended."))
    assignment.status, assignment.answered_at = AssignmentStatus.withdrawn, utcnow()
    audit.record(assignment.case, actor, "assignment_withdrawn", {"assignment": assignment.id,
                                                                  "mediator": assignment.mediator.name})


def escalate_overdue(now: datetime | None = None) -> int:
    """Expire offers whose answer time has passed and tell the organisation's staff. Returns how many."""
    now = now or utcnow()
    overdue = list(db.session.scalars(
        sa.select(Assignment).where(Assignment.status == AssignmentStatus.offered, Assignment.answer_by <= now)
        .with_for_update(skip_locked=True)))
    for assignment in overdue:
        assignment.status, assignment.answered_at = AssignmentStatus.expired, now
        assignment.reason = "no answer before the deadline"
        case = assignment.case
        audit.record(case, None, "assignment_expired", {"assignment": assignment.id,
                                                        "mediator": assignment.mediator.name})
        for staff in _staff_of(assignment.organization_id):
            _notify(staff, case, _("%(name)s did not answer in time for case %(number)s. Please assign another "
                                   "mediator: %(url)s", name=assignment.mediator.name, number=case.number,
                                   url=absolute_url("mediate.assign", number=case.number)))
        logger.info("Offer %s of case %s to %s expired", assignment.id, case.number, assignment.mediator_id)
    return len(overdue)


def escalated(case: Case) -> Assignment | None:
    """The last offer, if it ended without a mediator and nobody has been offered the case since."""
    last = db.session.scalar(sa.select(Assignment).where(Assignment.case_id == case.id)
                             .order_by(Assignment.id.desc()).limit(1))
    if last is not None and last.status in (AssignmentStatus.expired, AssignmentStatus.declined):
        return last
    return None


# --- parties --------------------------------------------------------------------------------

def change_request_of(case: Case, user) -> ChangeRequest | None:
    return db.session.scalar(sa.select(ChangeRequest).where(ChangeRequest.case_id == case.id,
                                                            ChangeRequest.user_id == user.id))


def open_change_requests(case: Case) -> list[ChangeRequest]:
    return list(db.session.scalars(sa.select(ChangeRequest).where(
        ChangeRequest.case_id == case.id, ChangeRequest.resolved_at.is_(None)).order_by(ChangeRequest.id)))


def ask_for_change(case: Case, user, reason: str) -> ChangeRequest:
    """A party asks, once per case, for another mediator; staff are told."""
    if not case.is_open or case.stage is not Stage.mediation:
        raise AssignmentError(_l("The case is not in mediation any more."))
    if case.mediator_id is None:
        raise AssignmentError(_l("No mediator has taken the case yet."))
    if change_request_of(case, user) is not None:
        raise AssignmentError(_l("You have already asked for another mediator in this case."))
    reason = (reason or "").strip()
    if not reason:
        raise AssignmentError(_l("Say why you want another mediator."))
    request = ChangeRequest(case_id=case.id, user_id=user.id, mediator_id=case.mediator_id, reason=reason)
    db.session.add(request)
    db.session.flush()
    # The reason goes to staff only; the case history shows that a change was asked for.
    audit.record(case, user, "mediator_change_requested", {"request": request.id})
    for staff in _staff_of(case.organization_id):
        _notify(staff, case, _("A party of case %(number)s asks for another mediator: %(reason)s %(url)s",
                               number=case.number, reason=reason,
                               url=absolute_url("mediate.assign", number=case.number)))
    return request


def has_rated(case: Case, user) -> bool:
    return db.session.get(MediatorRating, (case.id, user.id)) is not None


def rate(case: Case, user, stars: int, comment: str) -> MediatorRating:
    """A party rates the mediator once the case has closed."""
    if case.is_open:
        raise AssignmentError(_l("You can rate the mediator once the case has closed."))
    if case.mediator_id is None:
        raise AssignmentError(_l("No mediator handled this case."))
    if not 1 <= stars <= 5:
        raise AssignmentError(_l("Choose from one to five stars."))
    if db.session.get(MediatorRating, (case.id, user.id)) is not None:
        raise AssignmentError(_l("You have already rated the mediator."))
    rating = MediatorRating(case_id=case.id, user_id=user.id, mediator_id=case.mediator_id, stars=stars,
                            comment=(comment or "").strip())
    db.session.add(rating)
    audit.record(case, user, "mediator_rated", {"stars": stars})
    return rating
