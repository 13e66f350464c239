"""Telling a sending system what became of its transfers: signed callbacks, retried until answered.

A sending system (an :class:`ApiClient`) may register one callback URL (``odr api-callback set``);
it gets a secret shown once. Every status change of its transfers (a grid worker accepted, reached
the party, is on the scene, resolved or referred the dispute — ``odr.field``) is queued by
:func:`notify` in the transaction that made the change, and the periodic job
:func:`deliver_callbacks` POSTs it as JSON:

- ``X-ODR-Signature: sha256=<hex>`` — HMAC-SHA256 of the exact body with the system's secret;
- ``X-ODR-Timestamp`` — when this attempt was sent (Unix seconds);
- ``Idempotency-Key`` — the same on every attempt of one status change (also in the body).

A 2xx answer delivers it; anything else (or no answer) is tried again after a growing wait
(:data:`BACKOFF_SECONDS`, then hourly). Changes of one case go out in order: a later one waits
while an earlier one is undelivered. Deliveries that failed :data:`FAILING_AFTER` times are listed
for staff (:func:`failing`, on the dashboard's transfers page).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.cases import audit
from odr.cases.models import ApiClient, Case
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Waits before the 2nd, 3rd … attempt; after the list, one attempt an hour.
BACKOFF_SECONDS = (10, 30, 120, 600, 1800)
FAILING_AFTER = 3
#: Deliveries sent per run of the job.
BATCH = 50
TIMEOUT_SECONDS = 5


class CallbackError(Refused):
    """A callback that cannot be registered; ``reason`` says why."""


class SenderCallback(db.Model):
    """Where a sending system wants to hear about its transfers."""

    __tablename__ = "sender_callback"

    api_client_id: Mapped[int] = mapped_column(sa.ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True,
                                               autoincrement=False)
    #: An ``http`` or ``https`` URL.
    url: Mapped[str] = mapped_column(sa.String(500))
    #: The HMAC key (shown to the operator once, kept to sign).
    secret: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    api_client: Mapped[ApiClient] = relationship()

    def __repr__(self):
        return f"<SenderCallback {self.api_client_id} {self.url}>"


class CallbackDelivery(db.Model):
    """One status change of a transfer, to be POSTed to its sender."""

    __tablename__ = "callback_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_client_id: Mapped[int] = mapped_column(sa.ForeignKey("api_client.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    #: accepted, contacted, on_scene, resolved, referred …
    event: Mapped[str] = mapped_column(sa.String(32))
    #: The same on every attempt; the receiver drops repeats by it.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The exact JSON sent (and signed) on every attempt.
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    #: The last attempt's HTTP status, or what went wrong (no answer …).
    last_error: Mapped[str | None] = mapped_column(sa.String(200))

    api_client: Mapped[ApiClient] = relationship()
    case: Mapped[Case] = relationship()

    __table_args__ = (sa.Index("ix_callback_delivery_due", "delivered_at", "next_attempt_at"),)

    def __repr__(self):
        return f"<CallbackDelivery {self.id} {self.event} case {self.case_id}>"


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 500 and " " not in url


def register(client: ApiClient, url: str, actor=None) -> str:
    """Set ``client``'s callback URL and give it a new secret; returns the secret (shown once).

    :raise CallbackError: the URL is not an http(s) address.
    """
    url = (url or "").strip()
    if not _valid_url(url):
        raise CallbackError("The callback must be an http:// or https:// address of at most 500 characters.")
    secret = secrets.token_urlsafe(32)
    row = db.session.get(SenderCallback, client.id)
    if row is None:
        row = SenderCallback(api_client_id=client.id, url=url, secret=secret)
        db.session.add(row)
    else:
        row.url, row.secret = url, secret
    db.session.flush()
    audit.record(None, actor, "api_callback_set", {"client": client.id, "url": url})
    return secret


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def notify(case: Case, event: str, status: dict) -> CallbackDelivery | None:
    """Queue ``event`` of a transferred case for its sender, if the sender registered a callback."""
    if case.api_client_id is None or db.session.get(SenderCallback, case.api_client_id) is None:
        return None
    key = secrets.token_hex(16)
    body = json.dumps({"idempotency_key": key, "event": event, "reference": case.external_ref,
                       "case_number": case.number, "occurred_at": utcnow().isoformat() + "Z",
                       "status": status}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    row = CallbackDelivery(api_client_id=case.api_client_id, case_id=case.id, event=event, idempotency_key=key,
                           body=body, next_attempt_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def _post(url: str, secret: str, row: CallbackDelivery, now: datetime) -> str | None:
    """Send one attempt; None when acknowledged (2xx), else what went wrong."""
    body = row.body.encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "odr-callbacks/1",
        "X-ODR-Signature": sign(secret, body), "X-ODR-Timestamp": str(int(now.timestamp())),
        "Idempotency-Key": row.idempotency_key, "X-ODR-Event": row.event,
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
            return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"no answer: {exc}"[:200]


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed attempts."""
    return timedelta(seconds=BACKOFF_SECONDS[attempts - 1] if attempts <= len(BACKOFF_SECONDS) else 3600)


def deliver_callbacks(now: datetime) -> int:
    """Send the callbacks that are due (the periodic job); returns how many were acknowledged."""
    due = list(db.session.scalars(
        sa.select(CallbackDelivery).where(CallbackDelivery.delivered_at.is_(None))
        .order_by(CallbackDelivery.id).limit(BATCH * 4)))
    blocked: set[int] = set()
    sent = delivered = 0
    for row in due:
        if row.case_id in blocked:
            continue
        blocked.add(row.case_id)  # a case's later changes wait for this one
        if row.next_attempt_at > now or sent >= BATCH:
            continue
        target = db.session.get(SenderCallback, row.api_client_id)
        if target is None:  # the sender took its callback away: nothing to send to
            row.delivered_at, row.last_error = now, "no callback registered"
            continue
        sent += 1
        error = _post(target.url, target.secret, row, now)
        row.attempts += 1
        if error is None:
            row.delivered_at, row.last_error = now, None
            delivered += 1
            blocked.discard(row.case_id)
        else:
            row.last_error = error
            row.next_attempt_at = now + backoff(row.attempts)
            logger.warning("Callback %s to %s failed (attempt %s): %s", row.id, target.url, row.attempts, error)
    db.session.flush()
    return delivered


def failing(limit: int = 50) -> list[CallbackDelivery]:
    """Undelivered callbacks that failed :data:`FAILING_AFTER` times or more, oldest first."""
    return list(db.session.scalars(
        sa.select(CallbackDelivery).where(CallbackDelivery.delivered_at.is_(None),
                                          CallbackDelivery.attempts >= FAILING_AFTER)
        .order_by(CallbackDelivery.id).limit(limit)))
