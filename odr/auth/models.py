"""Accounts, roles and one-time sign-in codes."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.extensions import db
from odr.timeutil import utcnow


def enum_column(enum_cls, **kw):
    """A portable enum column: a VARCHAR with a CHECK constraint holding the enum values."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
        **kw,
    )


class Role(enum.Enum):
    """Roles held platform-wide (party is held per case, see ``CaseParty``)."""

    consultant = "consultant"
    mediator = "mediator"
    arbitrator = "arbitrator"
    staff = "staff"
    #: Runs a center: sees the dashboard of its organisation and of the organisations reporting to it.
    manager = "manager"
    court_clerk = "court_clerk"
    #: Goes out to disputes in a grid of a center's district (``odr.field``), granted in the grid's organisation.
    grid_worker = "grid_worker"
    admin = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased e-mail address; unique when present.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: Phone number in E.164 form (``+8613800138000``); unique when present.
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    #: Name shown to others in a case.
    name: Mapped[str] = mapped_column(sa.String(100))
    #: argon2 hash; ``None`` for accounts that only sign in with one-time codes.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: Preferred interface language (``zh`` or ``en``).
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    #: Reads the pages in elderly mode (长辈版): larger text and controls, simpler pages.
    elderly: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Consecutive failed password attempts since the last success.
    failed_logins: Mapped[int] = mapped_column(default=0)
    #: Sign-in refused until this UTC time after too many failures.
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
    )

    def __repr__(self):
        return f"<User {self.id} {self.email or self.phone}>"

    @property
    def contact(self) -> str:
        return self.email or self.phone or ""

    def has_role(self, role: Role, organization_id: int | None = None) -> bool:
        return any(
            g.role is role and (organization_id is None or g.organization_id == organization_id)
            for g in self.grants
        )

    def organizations_for(self, role: Role) -> set[int]:
        """Organisations in which the user holds ``role``."""
        return {g.organization_id for g in self.grants if g.role is role and g.organization_id}

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.admin)

    @property
    def roles(self) -> set[Role]:
        return {g.role for g in self.grants}


class RoleGrant(db.Model):
    """A role held by a user, in an organisation where the role is per organisation."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    #: Staff, mediators, arbitrators and clerks act for one organisation (a court for clerks).
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"), index=True)

    user: Mapped[User] = relationship(back_populates="grants")
    organization = relationship("Organization")

    __table_args__ = (sa.UniqueConstraint("user_id", "role", "organization_id"),)

    def __repr__(self):
        return f"<RoleGrant {self.user_id} {self.role.value}@{self.organization_id}>"


class LoginSession(db.Model):
    """One browser signed in to an account (see :mod:`odr.auth.sessions`): the session cookie
    carries a random token whose hash is this row's key, and the browser is signed in while the
    row is here and has not expired. Ending a session deletes its row."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: SHA-256 (hex) of the token in the cookie; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: When the browser signed in: the session ends ``SESSION_MAX_HOURS`` later whatever happens.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The last request or Socket.IO event (kept to the minute): the session ends after
    #: ``SESSION_IDLE_MINUTES`` without one.
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The browser as it names itself, to tell a person's sessions apart on their account page.
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<LoginSession {self.id} of user {self.user_id}>"


class OneTimeCode(db.Model):
    """A short code sent to a phone or e-mail address to sign in or confirm identity."""

    __tablename__ = "one_time_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Normalised phone (E.164) or lower-cased e-mail the code was sent to.
    destination: Mapped[str] = mapped_column(sa.String(254), index=True)
    #: What the code may be used for, e.g. ``login``.
    purpose: Mapped[str] = mapped_column(sa.String(32))
    #: HMAC of the code; the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]

    def __repr__(self):
        return f"<OneTimeCode {self.id} {self.purpose} to {self.destination}>"
