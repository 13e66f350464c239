"""Who a person is, to what assurance: one identity verification per account, and the accounts
of external identity providers linked to it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User, enum_column
from odr.extensions import db
from odr.timeutil import utcnow


class AssuranceLevel(enum.Enum):
    """Levels of assurance, weakest first (``rank``): nobody checked; an external identity
    provider vouched for the person over OpenID Connect; staff checked the ID card in person."""

    none = "none"
    oidc = "oidc"
    counter = "counter"

    @property
    def rank(self) -> int:
        return list(AssuranceLevel).index(self)

    def satisfies(self, required: AssuranceLevel) -> bool:
        return self.rank >= required.rank


class IdentityVerification(db.Model):
    """An account's verified identity: the strongest verification so far (each one is also in
    the audit trail). The ID number is kept only encrypted (:mod:`odr.identity.crypto`)."""

    __tablename__ = "identity_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    level: Mapped[AssuranceLevel] = mapped_column(enum_column(AssuranceLevel))
    #: How: ``id_card_at_counter``, or ``oidc`` with the provider in ``issuer``.
    method: Mapped[str] = mapped_column(sa.String(32))
    #: The legal name as on the ID card or as the provider states it.
    legal_name: Mapped[str] = mapped_column(sa.String(100))
    #: Fernet token of the resident ID number (``None`` when the provider gave none).
    id_number_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    #: The number as shown (``1101**********1234``).
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(18))
    #: Keyed hash (HMAC-SHA256) of the number: one number verifies one account.
    id_number_digest: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: The staff member who checked the card at the counter, and for which organisation.
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"))
    #: The identity provider that vouched (its issuer URL).
    issuer: Mapped[str | None] = mapped_column(sa.String(255))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    __table_args__ = (
        sa.CheckConstraint("method <> 'id_card_at_counter' OR verified_by_id IS NOT NULL", name="counter_has_staff"),
    )

    def __repr__(self):
        return f"<IdentityVerification user {self.user_id} {self.level.value}>"


class ExternalAccount(db.Model):
    """An account at an external identity provider (issuer + subject) that signs in to ours."""

    __tablename__ = "external_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    def __repr__(self):
        return f"<ExternalAccount {self.issuer} {self.subject} → user {self.user_id}>"
