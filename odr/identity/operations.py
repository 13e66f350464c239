"""Verifying who a person is, and asking whether they are verified enough.

- **At the counter**: a member of the centre's staff holds the party's ID card, types the name and
  number, and confirms; the number is validated (GB 11643), stored encrypted, and the staff member,
  their organisation and the time are recorded, with an audit entry in the case's trail.
- **Over OpenID Connect**: an external identity provider vouches for the person
  (:mod:`odr.identity.oidc`); the level is ``oidc`` and the entry goes to the platform's trail.

An account keeps its strongest verification; a weaker one never replaces a stronger one. One ID
number verifies one account. What documents require is asked through :func:`identity_of`, which
``odr.documents`` is handed at start-up (it sits below the features).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from odr.auth import recorder
from odr.auth.models import Role, User
from odr.cases import audit
from odr.cases.models import Case, CaseParty, PartyStatus
from odr.extensions import db
from odr.identity import crypto, idnumber
from odr.identity.models import AssuranceLevel, IdentityVerification
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

COUNTER_METHOD = "id_card_at_counter"
OIDC_METHOD = "oidc"

ACTIONS = {
    "identity_verified": _l("Identity verified"),
    "external_account_linked": _l("Account linked to an identity provider"),
}


class IdentityRefused(Refused):
    """A verification that cannot be recorded (403/409-type)."""


class BadIdentityInput(IdentityRefused):
    status = 422


@dataclass(frozen=True)
class Identity:
    """What the platform knows about who an account is."""

    level: AssuranceLevel
    legal_name: str | None = None
    id_number_masked: str | None = None

    @property
    def verified(self) -> bool:
        return self.level is not AssuranceLevel.none


def verification_of(user: User) -> IdentityVerification | None:
    return db.session.scalar(sa.select(IdentityVerification).where(IdentityVerification.user_id == user.id))


def identity_of(user: User) -> Identity:
    found = verification_of(user)
    if found is None:
        return Identity(AssuranceLevel.none)
    return Identity(found.level, found.legal_name, found.id_number_masked)


def can_verify_at_counter(staff: User, case: Case) -> bool:
    """Staff of the case's organisation check the ID cards of its parties."""
    return case.organization_id is not None and case.organization_id in staff.organizations_for(Role.staff)


def _record(user: User, *, level: AssuranceLevel, method: str, legal_name: str, number: str | None,
            verified_by: User | None = None, organization_id: int | None = None,
            issuer: str | None = None) -> IdentityVerification | None:
    """The verification as recorded now, or ``None`` when the account already has a stronger one."""
    legal_name = " ".join((legal_name or "").split())
    if not legal_name or len(legal_name) > 100:
        raise BadIdentityInput(_l("Enter the name exactly as on the ID card (at most 100 characters)."))
    digest = crypto.digest(number) if number else None
    if digest is not None:
        holder = db.session.scalar(sa.select(IdentityVerification.user_id).where(
            IdentityVerification.id_number_digest == digest, IdentityVerification.user_id != user.id))
        if holder is not None:
            raise IdentityRefused(_l("This ID number is already verified for another account."))
    found = verification_of(user)
    if found is not None and not level.satisfies(found.level):
        return None  # a weaker verification never replaces a stronger one
    if found is None:
        found = IdentityVerification(user_id=user.id)
        db.session.add(found)
    found.level, found.method, found.legal_name = level, method, legal_name
    if number or method == COUNTER_METHOD:
        found.id_number_encrypted = crypto.encrypt(number) if number else None
        found.id_number_masked = idnumber.mask(number) if number else None
        found.id_number_digest = digest
    found.verified_by_id = verified_by.id if verified_by is not None else None
    found.organization_id = organization_id
    found.issuer = issuer
    found.verified_at = utcnow()
    db.session.flush()
    return found


def verify_at_counter(staff: User, case: Case, party: CaseParty, *, legal_name: str, id_number: str,
                      card_checked: bool) -> IdentityVerification:
    """Record that ``staff`` checked ``party``'s ID card in person.

    :raise IdentityRefused: not staff of the case's organisation; the party has not joined; the card
        was not confirmed as checked; the number verifies another account.
    :raise idnumber.InvalidIdNumber: the number is not a valid resident ID number.
    :raise BadIdentityInput: no usable name.
    """
    if not can_verify_at_counter(staff, case):
        raise IdentityRefused(_l("Only the staff of this case's centre can verify its parties at the counter."))
    if party.case_id != case.id or party.status is not PartyStatus.joined or party.user_id is None:
        raise IdentityRefused(_l("This party has not joined the case yet; verify them once they have."))
    if not card_checked:
        raise BadIdentityInput(_l("Confirm that you checked the ID card in person."))
    number = idnumber.validate(id_number)
    user = db.session.get(User, party.user_id)
    found = _record(user, level=AssuranceLevel.counter, method=COUNTER_METHOD, legal_name=legal_name,
                    number=number, verified_by=staff, organization_id=case.organization_id)
    audit.record(case, staff, "identity_verified", {
        "user": user.id, "side": party.side.value, "level": found.level.value, "method": found.method,
        "legal_name": found.legal_name, "id_number": found.id_number_masked,
        "organization": case.organization_id})
    logger.info("Case %s: identity of user %s verified at the counter by %s", case, user.id, staff.id)
    return found


def verify_by_provider(user: User, *, issuer: str, legal_name: str, id_number: str | None) -> IdentityVerification:
    """Record that the identity provider ``issuer`` vouched for ``user`` (platform trail); an
    account verified in person keeps that.

    An ID number the provider states that is not a valid one is left out, not trusted.
    """
    number = None
    if id_number:
        try:
            number = idnumber.validate(id_number)
        except idnumber.InvalidIdNumber:
            logger.warning("Identity provider %s stated an invalid ID number for user %s", issuer, user.id)
    found = _record(user, level=AssuranceLevel.oidc, method=OIDC_METHOD, legal_name=legal_name,
                    number=number, issuer=issuer)
    if found is None:
        return verification_of(user)
    recorder.record(user, "identity_verified", {
        "user": user.id, "level": found.level.value, "method": found.method, "issuer": issuer,
        "legal_name": found.legal_name, "id_number": found.id_number_masked})
    return found


def id_number_for_court(verification: IdentityVerification) -> str | None:
    """The full number, decrypted: only for what a court needs (a complaint's party details)."""
    if verification.id_number_encrypted is None:
        return None
    return crypto.decrypt(verification.id_number_encrypted)
