"""Signing in through an external identity provider over OpenID Connect (Authlib's Flask client).

The authorization code flow with PKCE (S256): the browser goes to the provider with a fresh
``state``, ``nonce`` and code challenge (Authlib keeps them in the session), comes back with a
code, and the code is exchanged for tokens. The ID token's signature is checked against the
provider's published keys, and its issuer, audience, expiry and nonce against what was sent;
anything else — a forged or expired token, a replayed or foreign state, a wrong nonce — is refused.

The provider's claims then name the account: the one already linked to its (issuer, subject);
else the account signed in now; else the account with the verified phone number or e-mail address
the provider states; else a new one. The identity is recorded at level ``oidc``.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.auth import operations as auth_ops
from odr.auth import recorder
from odr.auth.models import User
from odr.contacts import ContactError, normalize_email, normalize_phone
from odr.extensions import db
from odr.identity import operations as ops
from odr.identity.models import ExternalAccount
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

PROVIDER = "provider"


class SignInRefused(Refused):
    """The provider's answer cannot be trusted or used (400-type)."""

    status = 400


def init_app(app) -> None:
    """The app's OpenID Connect client, from its configuration (again after the configuration changed).

    Authlib (and requests with it) is imported only where a provider is configured: the commands
    that never sign anyone in (``odr export`` for a court, tests/test_command_imports.py) stay light.
    """
    app.extensions.pop("odr_oidc", None)
    if app.config.get("OIDC_ISSUER"):
        from authlib.integrations.flask_client import OAuth

        oauth = app.extensions["odr_oidc"] = OAuth(app)
        issuer = app.config["OIDC_ISSUER"].rstrip("/")
        oauth.register(PROVIDER, client_id=app.config["OIDC_CLIENT_ID"],
                       client_secret=app.config["OIDC_CLIENT_SECRET"],
                       server_metadata_url=f"{issuer}/.well-known/openid-configuration",
                       client_kwargs={"scope": app.config["OIDC_SCOPE"], "code_challenge_method": "S256",
                                      "timeout": 10},
                       overwrite=True)


def configured() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def client():
    return current_app.extensions["odr_oidc"].create_client(PROVIDER)


def authorize_redirect(redirect_uri: str):
    """Send the browser to the provider (state, nonce and PKCE verifier kept in the session)."""
    from authlib.integrations.base_client.errors import OAuthError
    from requests import RequestException

    try:
        return client().authorize_redirect(redirect_uri)
    except (OAuthError, RequestException, ValueError) as exc:
        logger.warning("Identity provider unreachable: %s", exc)
        raise SignInRefused(_l("The identity provider cannot be reached. Please try again later.")) from None


def claims_from_callback() -> dict:
    """The ID token's claims, checked (signature, issuer, audience, expiry, nonce, state, PKCE).

    :raise SignInRefused: with what a person can read; the detail goes to the log.
    """
    from authlib.integrations.base_client.errors import OAuthError
    from joserfc.errors import JoseError
    from requests import RequestException

    try:
        token = client().authorize_access_token()
    except OAuthError as exc:
        logger.warning("OpenID Connect sign-in refused: %s %s", exc.error, exc.description)
        if exc.error == "mismatching_state":
            raise SignInRefused(_l("This sign-in link is not the one we started, or it was already used. "
                                   "Start signing in again.")) from None
        raise SignInRefused(_l("The identity provider did not sign you in. Start signing in again.")) from None
    except JoseError as exc:
        logger.warning("OpenID Connect ID token refused: %s", exc.__class__.__name__)
        raise SignInRefused(_l("The identity provider's answer could not be verified, so you were not signed in.")) from None
    except RequestException as exc:
        logger.warning("Identity provider unreachable: %s", exc)
        raise SignInRefused(_l("The identity provider cannot be reached. Please try again later.")) from None
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise SignInRefused(_l("The identity provider's answer could not be verified, so you were not signed in."))
    return dict(claims)


def _contact(claims: dict) -> tuple[str | None, str | None]:
    phone = email = None
    if claims.get("phone_number") and claims.get("phone_number_verified") is True:
        try:
            phone = normalize_phone(str(claims["phone_number"]))
        except ContactError:
            pass
    if claims.get("email") and claims.get("email_verified") is True:
        try:
            email = normalize_email(str(claims["email"]))
        except ContactError:
            pass
    return phone, email


def sign_in_user(claims: dict, signed_in: User | None) -> User:
    """The account these claims name (linked, signed in, matched by contact, or new), with its
    identity recorded at level ``oidc``. Flushes; the caller signs the browser in and commits.

    :raise SignInRefused: the provider names no way to reach a new account, or its subject is
        linked to another account than the one signed in.
    """
    issuer = current_app.config["OIDC_ISSUER"].rstrip("/")
    subject = str(claims["sub"])[:255]
    link = db.session.scalar(sa.select(ExternalAccount).where(ExternalAccount.issuer == issuer,
                                                              ExternalAccount.subject == subject))
    name = " ".join(str(claims.get("name") or "").split())[:100]
    if link is not None:
        if signed_in is not None and link.user_id != signed_in.id:
            raise SignInRefused(_l("This identity is already linked to another account."))
        user = link.user
    else:
        user = signed_in
        phone, email = _contact(claims)
        if user is None:
            user = next((u for u in (auth_ops.find_user(c) for c in (phone, email) if c) if u), None)
        if user is None:
            if not (phone or email):
                raise SignInRefused(_l("The identity provider gave no verified phone number or e-mail address "
                                       "for your account. Sign up with one first, then link your identity."))
            user = auth_ops.create_user(phone or email, name or (phone or email))
            if phone and email and auth_ops.find_user(email) is None:
                user.email = email
        link = ExternalAccount(user_id=user.id, issuer=issuer, subject=subject)
        db.session.add(link)
        db.session.flush()
        recorder.record(user, "external_account_linked", {"user": user.id, "issuer": issuer, "subject": subject})
    link.last_sign_in_at = utcnow()
    db.session.flush()
    if name:
        claim = current_app.config.get("OIDC_ID_NUMBER_CLAIM")
        ops.verify_by_provider(user, issuer=issuer, legal_name=name,
                               id_number=str(claims.get(claim) or "") if claim else None)
    return user
