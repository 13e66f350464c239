"""Accounts: sign-up, password and one-time-code sign-in, lockout, roles."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import outbox
from odr.auth import recorder, sessions
from odr.contacts import is_email
from odr.auth.models import OneTimeCode, Role, RoleGrant, User
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


def _hasher() -> PasswordHasher:
    """The argon2 hasher with the configured cost (tests lower it; production keeps the defaults)."""
    ext = current_app.extensions
    if "odr_hasher" not in ext:
        hasher = PasswordHasher(**current_app.config["ARGON2_PARAMETERS"])
        # Verifying against this keeps a failed sign-in as slow whether or not the account exists.
        ext["odr_hasher"] = (hasher, hasher.hash("not a password of anyone"))
    return ext["odr_hasher"][0]


def _dummy_hash() -> str:
    _hasher()
    return current_app.extensions["odr_hasher"][1]


class AuthError(Refused):
    """Sign-in refused; the message is safe to show."""


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def find_user(contact: str) -> User | None:
    column = User.email if is_email(contact) else User.phone
    return db.session.scalar(sa.select(User).where(column == contact))


def create_user(contact: str, name: str, password: str | None = None, locale: str | None = None,
                actor=None) -> User:
    """Create an account for a normalised phone number or e-mail address."""
    user = User(name=name.strip(), locale=locale,
                password_hash=hash_password(password) if password else None)
    if is_email(contact):
        user.email = contact
    else:
        user.phone = contact
    db.session.add(user)
    db.session.flush()
    logger.info("Account %s created", user)
    return user


def change_password(user: User, current: str, new: str, keep=None) -> list[int]:
    """Replace the password of ``user`` after checking the current one; every session of the
    account but ``keep`` (the browser making the change) ends.

    :return: the ids of the sessions ended, for ``sessions.close_connections`` after the commit.
    :raise AuthError: the current password is wrong (or the account has none).
    """
    try:
        if user.password_hash is None:
            raise VerificationError("no password")
        _hasher().verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AuthError(_l("The current password is wrong.")) from None
    user.password_hash = hash_password(new)
    user.failed_logins, user.locked_until = 0, None
    recorder.record(user, "password_changed", {"user": user.id})
    return sessions.end_all(user, sessions.PASSWORD_CHANGED, user, keep=keep)


def holders(role: Role, organization_id: int | None) -> list[User]:
    """Everyone holding ``role`` in an organisation (its staff, its arbitrators …), by name."""
    if organization_id is None:
        return []
    return list(db.session.scalars(sa.select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.role == role, RoleGrant.organization_id == organization_id).order_by(User.name, User.id)))


def authenticate(contact: str, password: str) -> User:
    """Check a password; count failures and lock the account after too many.

    The caller commits whether or not this raises, so failures are counted.

    :raise AuthError: unknown account, wrong password, or locked account.
    """
    cfg = current_app.config
    user = find_user(contact)
    now = utcnow()
    wrong = AuthError(_l("Wrong phone/e-mail or password."))
    if user is None or user.password_hash is None:
        try:
            _hasher().verify(_dummy_hash(), password)
        except VerificationError:
            pass
        raise wrong
    if user.locked_until and user.locked_until > now:
        raise AuthError(_l(
            "Too many failed attempts: password sign-in for this account is locked for a while. "
            "Try again later, or sign in with a one-time code."
        ))
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= cfg["LOCKOUT_THRESHOLD"]:
            user.locked_until = now + timedelta(minutes=cfg["LOCKOUT_MINUTES"])
            user.failed_logins = 0
            logger.warning("Account %s locked after repeated failed sign-ins", user)
        raise wrong from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _code_hash(destination: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{destination}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(destination: str, purpose: str = "login", *, subject: str | None = None,
              reason: str | None = None) -> OneTimeCode:
    """Issue a 6-digit code and queue it to the phone or e-mail address.

    ``subject`` and ``reason`` say what the code is for when it is not signing in (e.g. "to
    sign the mediation agreement of case …"), so a code is never sent without saying why.

    :raise AuthError: a code was sent to this destination moments ago.
    """
    cfg = current_app.config
    now = utcnow()
    recent = db.session.scalar(
        sa.select(OneTimeCode).where(
            OneTimeCode.destination == destination,
            OneTimeCode.purpose == purpose,
            OneTimeCode.created_at > now - timedelta(seconds=cfg["OTP_RESEND_SECONDS"]),
        ).limit(1)
    )
    if recent is not None:
        raise AuthError(_l("A code was sent moments ago. Please wait a minute before asking again."))
    code = f"{secrets.randbelow(10**6):06d}"
    otc = OneTimeCode(
        destination=destination, purpose=purpose, code_hash=_code_hash(destination, code),
        created_at=now, expires_at=now + timedelta(minutes=cfg["OTP_TTL_MINUTES"]),
    )
    db.session.add(otc)
    outbox.enqueue(
        destination,
        subject or _("Your ODR sign-in code"),
        (reason + " " if reason else "")
        + _("Your code is %(code)s. It is valid for %(minutes)d minutes. Do not share it.",
            code=code, minutes=cfg["OTP_TTL_MINUTES"]),
    )
    return otc


def check_code(destination: str, code: str, purpose: str = "login") -> None:
    """Accept the newest unexpired code for the destination, once.

    :raise AuthError: no valid code, wrong code, or too many attempts.
    """
    now = utcnow()
    otc = db.session.scalar(
        sa.select(OneTimeCode)
        .where(OneTimeCode.destination == destination, OneTimeCode.purpose == purpose,
               OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if otc is None or otc.attempts >= current_app.config["OTP_MAX_ATTEMPTS"]:
        raise AuthError(_l("This code has expired or was used up. Ask for a new one."))
    otc.attempts += 1
    if not hmac.compare_digest(otc.code_hash, _code_hash(destination, code.strip())):
        raise AuthError(_l("Wrong code."))
    otc.used_at = now
