"""ICE servers for the browsers of a video room, from configuration only (no public STUN
server is built in): ``VIDEO_STUN_URLS``, ``VIDEO_TURN_URLS`` and ``VIDEO_TURN_SECRET``.

TURN credentials are short-lived, in coturn's REST-API style (``use-auth-secret``): the
username is ``<expiry unix time>:<user id>`` and the password is
``base64(HMAC-SHA1(secret, username))``, valid for ``VIDEO_TURN_TTL`` seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def turn_credentials(secret: str, user_id: int, ttl: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((time.time() if now is None else now) + ttl)
    username = f"{expiry}:{user_id}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def servers_for(config, user_id: int) -> list[dict]:
    servers = []
    stun = list(config.get("VIDEO_STUN_URLS") or [])
    if stun:
        servers.append({"urls": stun})
    turn, secret = list(config.get("VIDEO_TURN_URLS") or []), config.get("VIDEO_TURN_SECRET")
    if turn and secret:
        username, credential = turn_credentials(secret, user_id, int(config.get("VIDEO_TURN_TTL") or 3600))
        servers.append({"urls": turn, "username": username, "credential": credential})
    return servers
