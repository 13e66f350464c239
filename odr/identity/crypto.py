"""ID numbers at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``)
under ``IDENTITY_KEY``, and found again by a keyed digest rather than by decrypting every row."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

logger = logging.getLogger(__name__)
#: Set in ``app.extensions`` once the app has warned that its key is derived (once per app: an
#: app's ``id()`` is no mark, a later app may get the address of one freed).
_WARNED = "odr.identity.derived_key_warned"


def _key_bytes() -> bytes:
    app = current_app
    key = app.config.get("IDENTITY_KEY")
    if key:
        return key.encode() if isinstance(key, str) else key
    if not (app.debug or app.testing) and not app.extensions.get(_WARNED):
        app.extensions[_WARNED] = True
        logger.warning("IDENTITY_KEY is not set: ID numbers are encrypted with a key derived from SECRET_KEY; "
                       "set a key of its own (Fernet.generate_key()) in production")
    derived = hashlib.sha256(b"odr identity key\0" + str(app.config["SECRET_KEY"]).encode()).digest()
    return base64.urlsafe_b64encode(derived)


def encrypt(number: str) -> str:
    return Fernet(_key_bytes()).encrypt(number.encode()).decode()


def decrypt(token: str) -> str:
    """:raise InvalidToken: not encrypted under this key (the key changed, or the row was altered)."""
    return Fernet(_key_bytes()).decrypt(token.encode()).decode()


def digest(number: str) -> str:
    return hmac.new(_key_bytes(), b"id-number\0" + number.encode(), hashlib.sha256).hexdigest()


__all__ = ["InvalidToken", "decrypt", "digest", "encrypt"]
