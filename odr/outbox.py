"""Outgoing SMS and e-mail: written to a table in the caller's transaction, delivered after commit.

A message is never lost because the sender was down: it stays pending and the periodic jobs
(or ``odr outbox flush``) try again. A request delivers, after its commit, only the messages it
queued; whoever delivers first claims a message (:func:`_claim`), so two deliverers (requests in
several processes, the jobs) never send the same one twice nor wait for each other's sending.
Senders are pluggable by configuration (``ODR_SMS_SENDER``, ``ODR_EMAIL_SENDER``
as ``module:Class``); the console sender writes messages to the log, which is
the embedded default.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from odr import transaction
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"
MAX_ATTEMPTS = 10


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``sms`` or ``email``.
    channel: Mapped[str] = mapped_column(sa.String(8))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: Being sent by someone until then (:func:`_claim`); a deliverer that died meanwhile leaves
    #: the message to be taken again after that.
    claimed_until: Mapped[datetime | None]
    #: A file sent with an e-mail (``{"filename", "mimetype", "text"}``); SMS carry a link instead.
    attachment: Mapped[dict | None] = mapped_column(sa.JSON)

    __table_args__ = (sa.Index("ix_outbox_pending", "sent_at", "id"),)

    def __repr__(self):
        return f"<OutboxMessage {self.id} {self.channel} to {self.recipient}>"


def channel_for(recipient: str) -> str:
    return EMAIL if "@" in recipient else SMS


@dataclass(frozen=True)
class Attachment:
    """A small text file for an e-mail, such as a calendar entry."""

    filename: str
    mimetype: str
    text: str


def enqueue(recipient: str, subject: str, body: str, case=None,
            attachment: Attachment | None = None) -> OutboxMessage:
    """Queue a message to a phone number or e-mail address in the current transaction.

    ``attachment`` goes with e-mail only; an SMS is text, so its body must carry a link instead.
    """
    channel = channel_for(recipient)
    msg = OutboxMessage(
        channel=channel, recipient=recipient, subject=subject[:200], body=body,
        case_id=case.id if case is not None else None,
        attachment=asdict(attachment) if attachment is not None and channel == EMAIL else None,
    )
    db.session.add(msg)
    if has_request_context():
        queued = g.setdefault("odr_outbox_queued", [])
        queued.append(msg)
        if len(queued) == 1:
            transaction.after_commit(lambda: deliver_pending(ids=_ids(queued)))
    return msg


def _ids(messages: list[OutboxMessage]) -> list[int]:
    """The ids of messages committed a moment ago (read from the session's identity map: their
    attributes expired with the commit, and reading one would cost a query each)."""
    return [identity[0] for m in messages if (identity := sa.inspect(m).identity) is not None]


class ConsoleSender:
    """Writes each message to the log (embedded default and development)."""

    def __init__(self, app):
        self.app = app

    def send(self, msg: OutboxMessage):
        attached = f"\n[attached: {msg.attachment['filename']}]" if msg.attachment else ""
        logger.warning("OUTBOX %s to %s: %s\n%s%s", msg.channel, msg.recipient, msg.subject, msg.body, attached)


class SmtpSender:
    """Sends e-mail through the configured SMTP server."""

    def __init__(self, app):
        self.config = app.config

    def send(self, msg: OutboxMessage):
        cfg = self.config
        mail = EmailMessage()
        mail["From"] = cfg["MAIL_FROM"]
        mail["To"] = msg.recipient
        mail["Subject"] = msg.subject
        mail.set_content(msg.body)
        if msg.attachment:
            maintype, _, subtype = msg.attachment["mimetype"].partition("/")
            mail.add_attachment(msg.attachment["text"].encode(), maintype=maintype, subtype=subtype,
                                filename=msg.attachment["filename"])
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=10) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USERNAME"]:
                smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
            smtp.send_message(mail)


def load_sender(app, spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)(app)


def senders(app) -> dict:
    cache = app.extensions.setdefault("odr_senders", {})
    if not cache:
        cache[SMS] = load_sender(app, app.config["SMS_SENDER"])
        cache[EMAIL] = load_sender(app, app.config["EMAIL_SENDER"])
    return cache


#: How long a claimed message is left to the deliverer that claimed it (an SMTP exchange has a
#: 10 s timeout); after that another may take it.
CLAIM_SECONDS = 120


def deliver_pending(limit: int = 100, ids: list[int] | None = None) -> int:
    """Send pending messages (``ids``: only those); return how many went out. Each message is
    claimed, sent and noted in transactions of its own."""
    app = current_app._get_current_object()
    query = (sa.select(OutboxMessage.id)
             .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
             .order_by(OutboxMessage.id).limit(limit))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(OutboxMessage.id.in_(ids))
    pending = list(db.session.scalars(query))
    db.session.commit()  # end the read: nothing is held while sending
    sent = 0
    for message_id in pending:
        if not _claim(message_id):
            continue  # sent or being sent by another deliverer
        msg = db.session.get(OutboxMessage, message_id)
        try:
            senders(app)[msg.channel].send(msg)
        except Exception as exc:  # a sender failure must not lose the message or the request
            msg.last_error = f"{type(exc).__name__}: {exc}"[:500]
            logger.exception("Outbox message %s not delivered", msg.id)
        else:
            msg.sent_at = utcnow()
            sent += 1
        msg.claimed_until = None
        db.session.commit()
    return sent


def _claim(message_id: int) -> bool:
    """Take the message for sending, counting the attempt, unless it was sent or another deliverer
    holds it: one conditional UPDATE, committed, so exactly one of several deliverers gets it
    (on SQLite, which serialises writers, and on PostgreSQL, where the second waits for the first's
    commit and then finds the condition false)."""
    now = utcnow()
    taken = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
               OutboxMessage.attempts < MAX_ATTEMPTS,
               sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .values(attempts=OutboxMessage.attempts + 1, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return taken == 1
