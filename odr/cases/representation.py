"""Agents and helpers: a party of a case lets someone else act for them, in that case only.

- An **agent** (a lawyer or other representative) is appointed with a power of attorney (a PDF or a
  photo, checked by its content); once they accepted the appointment, the case's staff or mediator
  accepts the power of attorney (or refuses it, saying why), and only then may the agent act.
- A **helper** (a family member of an elderly party, say) acts with the party's consent: the
  appointment is the consent, and the helper's acceptance makes it active.

Each has an explicit :class:`~odr.cases.models.Scope`: ``read`` (the party's view, nothing changed),
``act`` (messages, uploads, answers, session times …), ``sign`` (agents only, when the power of
attorney grants it; helpers never sign). The case sees an active representative as the party's
side (:meth:`Case.roles_of` adds the side, ``agent``/``helper`` and ``read_only`` for the read
scope); every audit entry they cause names the party they acted for (:func:`on_behalf_of`, called
by :func:`odr.cases.audit.record`), and an entry from a read-only representative is refused there,
so nothing they send is kept whichever feature it reaches. The party revokes at any time: the
representative's next request or socket event finds no role in the case.
"""

from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import outbox, uploads
from odr.cases import audit
from odr.cases.models import (
    READ_ONLY, Case, CaseParty, PartyStatus, Representation, RepresentationStatus, RepresentativeKind, Scope,
    active_representation, forget_representations,
)
from odr.cases.notices import notify_users
from odr.extensions import db
from odr.links import absolute_url
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: What a power of attorney may be: a PDF or a photo of the signed paper (found from the content).
POA_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp"}
POA_WRONG_TYPE = _l("A power of attorney must be a PDF or a photo (JPEG, PNG or WebP).")
#: At most this many agents and helpers per party at a time (appointed, under review or active).
MAX_CURRENT = 5


class RepresentationError(Refused):
    """An appointment, answer, review or revocation that cannot be done; ``reason`` says why."""


class ReadOnlyRefused(Refused):
    """A representative with the ``read`` scope tried to change something."""

    status = 403


def invitation_url(rep: Representation) -> str:
    return absolute_url("representation.invitation", token=rep.invite_token)


def own_party(case: Case, user) -> CaseParty | None:
    """The joined side ``user`` is in person (not through a representation)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return next((p for p in case.parties if p.user_id == user.id and p.status is PartyStatus.joined), None)


def representations(case: Case) -> list[Representation]:
    return list(db.session.scalars(sa.select(Representation).where(Representation.case_id == case.id)
                                   .order_by(Representation.id)))


def get(case: Case, rep_id: int) -> Representation | None:
    rep = db.session.get(Representation, rep_id)
    return rep if rep is not None and rep.case_id == case.id else None


def for_token(token: str) -> Representation | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Representation).where(Representation.invite_token == token))


# --- who may do what (views and templates ask the same) -------------------------------------------

def can_appoint(case: Case, user) -> bool:
    """A party in person, while the case is open (a representative does not appoint others)."""
    return case.is_open and own_party(case, user) is not None


def can_review(case: Case, user) -> bool:
    """The case's staff and mediator (and admins) accept or refuse a power of attorney."""
    return bool(case.roles_of(user) & {"staff", "mediator", "admin"})


def can_revoke(rep: Representation, user) -> bool:
    party = own_party(rep.case, user)
    return party is not None and party.id == rep.party_id and rep.is_current


def can_see_poa(rep: Representation, user) -> bool:
    """The power of attorney: the party who gave it, the agent, and those who review it."""
    if rep.poa_sha256 is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    party = own_party(rep.case, user)
    return (party is not None and party.id == rep.party_id) or rep.user_id == user.id or can_review(rep.case, user)


def is_read_only(case: Case, user) -> bool:
    return READ_ONLY in case.roles_of(user)


def acts_for_side(case: Case, user, side: str) -> bool:
    """``user`` is ``side`` of ``case`` in person, or its agent or helper allowed to act: what one of
    them put forward (a proposal, an offer), any of them may take back."""
    roles = case.roles_of(user)
    return side in roles and READ_ONLY not in roles


# --- the audit trail's view: on whose behalf, and may they change anything --------------------------

def on_behalf_of(case: Case, actor) -> dict | None:
    """What an audit entry by ``actor`` in ``case`` says about whom they acted for, or ``None`` when
    they act in person.

    :raise ReadOnlyRefused: the actor may only read the case (nothing they do is kept).
    """
    if case is None or actor is None or not hasattr(actor, "is_authenticated") or own_party(case, actor):
        return None
    rep = active_representation(case, actor)
    if rep is None:
        return None
    if rep.scope is Scope.read:
        raise ReadOnlyRefused(_l("You may only read this case: the party gave you no right to act for them."))
    return {"representation": rep.id, "as": rep.kind.value, "side": rep.party.side.value,
            "party": rep.party.name, "party_user": rep.party.user_id}


def signs_for(case: Case, user) -> int | None:
    """The account of the party ``user`` may sign for in ``case``: an active agent whose power of
    attorney grants signing (the ``sign`` scope). Helpers never sign."""
    if own_party(case, user) is not None:
        return None
    rep = active_representation(case, user)
    if rep is None or rep.kind is not RepresentativeKind.agent or rep.scope is not Scope.sign:
        return None
    return rep.party.user_id


# --- use cases ------------------------------------------------------------------------------------

def appoint(case: Case, actor, kind: RepresentativeKind, scope: Scope, name: str, phone: str | None,
            email: str | None, poa=None, poa_filename: str | None = None) -> Representation:
    """A party appoints an agent (with a power of attorney: a file-like ``poa``) or a helper, and the
    invitation goes to the phone and e-mail given. Every check comes before the file is stored.

    :raise RepresentationError: not a party in person, the case closed, a helper asked to sign, no
        contact, the party's own or the other side's contact, too many at once; no power of
        attorney, of the wrong type, empty or too large (:class:`odr.uploads.UploadError`).
    """
    party = own_party(case, actor)
    if party is None:
        raise RepresentationError(_l("Only a party of the case can appoint an agent or a helper."))
    if not case.is_open:
        raise RepresentationError(_l("This case is closed."))
    if kind is RepresentativeKind.helper and scope is Scope.sign:
        raise RepresentationError(_l("A helper never signs for you. Choose read only or act."))
    if not phone and not email:
        raise RepresentationError(_l("Give a phone number or an e-mail address to send the invitation to."))
    contacts = {c for c in (phone, email) if c}
    if contacts & {actor.phone, actor.email}:
        raise RepresentationError(_l("You cannot appoint yourself."))
    others = {c for p in case.parties for c in (p.phone, p.email, getattr(p.user, "phone", None),
                                                 getattr(p.user, "email", None)) if c and p.id != party.id}
    if contacts & others:
        raise RepresentationError(_l("The other party cannot act for you."))
    current = db.session.scalar(sa.select(sa.func.count(Representation.id)).where(
        Representation.party_id == party.id,
        Representation.status.in_([RepresentationStatus.invited, RepresentationStatus.review,
                                   RepresentationStatus.active])))
    if current >= MAX_CURRENT:
        raise RepresentationError(_l("You already have %(n)s agents and helpers. Revoke one first.", n=MAX_CURRENT))
    stored = None
    if kind is RepresentativeKind.agent:
        if poa is None:
            raise RepresentationError(_l("Upload the power of attorney (a PDF or a photo of it)."))
        try:
            stored = uploads.store(poa, poa_filename, POA_TYPES, current_app.config["POWER_OF_ATTORNEY_MAX_BYTES"],
                                   wrong_type=POA_WRONG_TYPE)
        except uploads.UploadError as exc:
            raise RepresentationError(exc.reason) from None
    rep = Representation(
        case_id=case.id, party=party, kind=kind, scope=scope, status=RepresentationStatus.invited,
        name=name, phone=phone, email=email, invite_token=secrets.token_urlsafe(24), appointed_by_id=actor.id,
        poa_sha256=stored.sha256 if stored else None, poa_mimetype=stored.mimetype if stored else None,
        poa_filename=stored.filename if stored else None, poa_size=stored.size if stored else None,
    )
    db.session.add(rep)
    db.session.flush()
    audit.record(case, actor, "representative_appointed", {
        "representation": rep.id, "kind": kind, "scope": scope, "name": name, "side": party.side,
        "power_of_attorney": stored.sha256 if stored else None})
    text = (_("%(party)s appoints you as their agent in case %(number)s. Open this link to accept or decline: "
              "%(url)s") if kind is RepresentativeKind.agent else
            _("%(party)s asks you to help them with case %(number)s. Open this link to accept or decline: %(url)s"))
    for contact in sorted(contacts):
        outbox.enqueue(contact, _("Case %(number)s", number=case.number),
                       text % {"party": party.name, "number": case.number, "url": invitation_url(rep)}, case=case)
    logger.info("Case %s: %s appointed %s %s", case, actor, kind.value, rep.id)
    return rep


def _check_answerable(rep: Representation, user) -> None:
    case = rep.case
    if rep.status is not RepresentationStatus.invited:
        raise RepresentationError(_l("This invitation was already answered or taken back."))
    if not case.is_open:
        raise RepresentationError(_l("This case is closed."))
    if any(p.user_id == user.id for p in case.parties):
        raise RepresentationError(_l("You are a party to this case; you cannot also act for a party."))
    if db.session.scalar(sa.select(sa.func.count(Representation.id)).where(
            Representation.case_id == case.id, Representation.user_id == user.id,
            Representation.status.in_([RepresentationStatus.review, RepresentationStatus.active]))):
        raise RepresentationError(_l("You already act for a party in this case."))


def accept(rep: Representation, user) -> None:
    """The representative accepts: a helper is active at once, an agent waits for the power of
    attorney to be reviewed.

    :raise RepresentationError: answered or revoked already, case closed, a party of the case, or
        already acting for a party in it.
    """
    _check_answerable(rep, user)
    rep.user_id = user.id
    rep.user = user
    rep.accepted_at = utcnow()
    rep.invite_token = None
    # Recorded in their own name (before the appointment takes effect: not yet on the party's behalf).
    audit.record(rep.case, user, "representative_accepted",
                 {"representation": rep.id, "kind": rep.kind, "side": rep.party.side, "name": user.name})
    rep.status = RepresentationStatus.active if rep.kind is RepresentativeKind.helper else RepresentationStatus.review
    forget_representations(user.id)
    notify_users(rep.case, [rep.party.user], _("%(name)s accepted to act for you in case %(number)s.",
                                               name=user.name, number=rep.case.number))


def decline(rep: Representation, user) -> None:
    """The invited representative says no (a party of the case cannot answer for them).

    :raise RepresentationError: answered or revoked already, or a party of the case.
    """
    if rep.status is not RepresentationStatus.invited:
        raise RepresentationError(_l("This invitation was already answered or taken back."))
    _check_answerable(rep, user)
    rep.status = RepresentationStatus.declined
    rep.invite_token = None
    audit.record(rep.case, user, "representative_declined",
                 {"representation": rep.id, "kind": rep.kind, "side": rep.party.side, "name": user.name})
    notify_users(rep.case, [rep.party.user], _("%(name)s declined to act for you in case %(number)s.",
                                               name=user.name, number=rep.case.number))


def review(rep: Representation, reviewer, accepted: bool, reason: str = "") -> None:
    """The case's staff or mediator accepts the agent's power of attorney, or refuses it saying why.

    :raise RepresentationError: not an agent waiting for review, not the reviewer's case, no reason.
    """
    if not can_review(rep.case, reviewer):
        raise RepresentationError(_l("Only the case's staff or mediator review a power of attorney."))
    if rep.kind is not RepresentativeKind.agent or rep.status is not RepresentationStatus.review:
        raise RepresentationError(_l("There is no power of attorney waiting for review here."))
    reason = (reason or "").strip()
    if not accepted and not reason:
        raise RepresentationError(_l("Say why the power of attorney is refused."))
    rep.reviewed_by_id = reviewer.id
    rep.reviewed_at = utcnow()
    if accepted:
        rep.status = RepresentationStatus.active
        audit.record(rep.case, reviewer, "power_of_attorney_accepted",
                     {"representation": rep.id, "name": rep.name, "side": rep.party.side, "scope": rep.scope})
        text = _("The power of attorney of %(name)s in case %(number)s was accepted.",
                 name=rep.name, number=rep.case.number)
    else:
        rep.status = RepresentationStatus.refused
        rep.review_reason = reason
        audit.record(rep.case, reviewer, "power_of_attorney_refused",
                     {"representation": rep.id, "name": rep.name, "side": rep.party.side, "reason": reason})
        text = _("The power of attorney of %(name)s in case %(number)s was refused: %(reason)s",
                 name=rep.name, number=rep.case.number, reason=reason)
    forget_representations(rep.user_id)
    notify_users(rep.case, [rep.party.user, rep.user], text)


def revoke(rep: Representation, actor) -> None:
    """The party takes the appointment back, at once: from the next request or socket event on, the
    representative has no part in the case.

    :raise RepresentationError: not the party who is represented, or already ended.
    """
    if not can_revoke(rep, actor):
        raise RepresentationError(_l("Only the party represented can revoke this, and only while it lasts."))
    rep.status = RepresentationStatus.revoked
    rep.revoked_at = utcnow()
    rep.invite_token = None
    if rep.user_id is not None:
        forget_representations(rep.user_id)
    audit.record(rep.case, actor, "representative_revoked",
                 {"representation": rep.id, "kind": rep.kind, "name": rep.name, "side": rep.party.side})
    notify_users(rep.case, [rep.user], _("%(party)s revoked your appointment in case %(number)s.",
                                         party=rep.party.name, number=rep.case.number))
    logger.info("Case %s: %s revoked %s", rep.case, actor, rep)


def represented_cases(user, limit: int = 100) -> list[Case]:
    """The cases ``user`` acts in for a party, newest first."""
    return list(db.session.scalars(
        sa.select(Case).join(Representation, Representation.case_id == Case.id)
        .where(Representation.user_id == user.id, Representation.status == RepresentationStatus.active)
        .order_by(Case.created_at.desc()).limit(limit)))
