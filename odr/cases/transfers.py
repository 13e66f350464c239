"""Transferred cases: how fast the center accepted them and reached the party.

A transfer (``POST /api/v1/intake``) starts the clock (:func:`received`); a staff member accepting
the case and first reaching the party stop the two clocks (:func:`accept`, :func:`record_contact`),
each measured from the arrival against a target from the configuration
(``TRANSFER_ACCEPT_SECONDS``, ``TRANSFER_CONTACT_SECONDS``). The sender reads the result with
``GET /api/v1/intake/{reference}``; the dashboard (``odr.ops.transfers``) compares the senders.

Features that act on transfers without knowing the intake API (field dispatch, ``odr.field``)
plug in here: :func:`register_arrival` hands them each new transfer with where it happened, and
:func:`register_status` lets them add what they know to the sender's view of its transfer
(``GET /api/v1/intake/{reference}``, and the callbacks of :mod:`odr.cases.callbacks`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.cases import audit
from odr.auth.models import User
from odr.cases.models import ApiClient, Case, Channel
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


class TransferResponse(db.Model):
    """How fast the center answered a case transferred by an outside system."""

    __tablename__ = "ops_transfer_response"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    api_client_id: Mapped[int] = mapped_column(sa.ForeignKey("api_client.id"))
    #: The organisation the transfer was sent to, which answers for its response times (kept
    #: here: the dashboard's scope is read with the period's transfers, not from each case).
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"))
    #: When the transfer arrived (the case's creation).
    received_at: Mapped[datetime]
    #: When a staff member took it on.
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: When staff first reached the party (a call, a message answered).
    contacted_at: Mapped[datetime | None]
    contacted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    case: Mapped[Case] = relationship()
    api_client: Mapped[ApiClient] = relationship()
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    contacted_by: Mapped[User | None] = relationship(foreign_keys=[contacted_by_id])

    __table_args__ = (
        sa.Index("ix_ops_transfer_response_sender", "api_client_id", "received_at"),
        # The period's transfers of every sender (the dashboard's table per sender).
        sa.Index("ix_ops_transfer_response_received", "received_at"),
        sa.Index("ix_ops_transfer_response_waiting", "contacted_at", "received_at"),
    )

    def __repr__(self):
        return f"<TransferResponse case {self.case_id}>"


class TransferError(Refused):
    """A response time that cannot be recorded; ``reason`` says why."""


def targets() -> dict[str, int]:
    cfg = current_app.config
    return {"accept": int(cfg["TRANSFER_ACCEPT_SECONDS"]), "contact": int(cfg["TRANSFER_CONTACT_SECONDS"])}


#: Called with (case, where) for each transfer that arrives; ``where`` holds ``place``, ``lat``, ``lng``
#: (each may be None). Registered by features (``init_app``).
_ARRIVAL: list[Callable[[Case, dict], None]] = []
#: Called with a transferred case; each returns a dict merged into the sender's view, or None.
_STATUS: list[Callable[[Case], dict | None]] = []


def register_arrival(handler: Callable[[Case, dict], None]) -> None:
    if handler not in _ARRIVAL:
        _ARRIVAL.append(handler)


def register_status(source: Callable[[Case], dict | None]) -> None:
    if source not in _STATUS:
        _STATUS.append(source)


def received(case: Case, where: dict | None = None) -> TransferResponse:
    """Start the clocks of a case that has just arrived by transfer, and hand it to the features
    that act on arrivals (in the same transaction)."""
    row = TransferResponse(case_id=case.id, api_client_id=case.api_client_id, organization_id=case.organization_id,
                           received_at=case.created_at)
    db.session.add(row)
    db.session.flush()
    where = {"place": None, "lat": None, "lng": None} | (where or {})
    for handler in _ARRIVAL:
        handler(case, where)
    return row


def extra_status(case: Case) -> dict:
    """What the features add to the sender's view of a transfer."""
    out: dict = {}
    for source in _STATUS:
        out.update(source(case) or {})
    return out


def response_of(case: Case) -> TransferResponse | None:
    if case.channel is not Channel.transfer:
        return None
    return db.session.get(TransferResponse, case.id)


def _lock(case: Case) -> TransferResponse:
    row = db.session.scalar(sa.select(TransferResponse).where(TransferResponse.case_id == case.id)
                            .with_for_update())
    if row is None:
        raise TransferError(_l("This case did not come by transfer."))
    return row


def accept(case: Case, actor) -> TransferResponse:
    """A staff member takes on the transferred case (stops the acceptance clock)."""
    if not case.can_manage(actor):
        raise TransferError(_l("You may not make this change in this case."))
    return stop_accept_clock(case, actor)


def stop_accept_clock(case: Case, actor) -> TransferResponse:
    """Stop the acceptance clock for ``actor``, whose right to act the caller has checked
    (a grid worker who accepted the dispatch, ``odr.field``)."""
    row = _lock(case)
    if row.accepted_at is not None:
        raise TransferError(_l("This transfer was already accepted."))
    row.accepted_at, row.accepted_by_id = utcnow(), actor.id
    seconds = seconds_between(row.received_at, row.accepted_at)
    audit.record(case, actor, "transfer_accepted", {"seconds": seconds})
    logger.info("Transfer %s accepted by %s after %ss", case, audit.actor_label(actor), seconds)
    return row


def record_contact(case: Case, actor) -> TransferResponse:
    """Staff reached the party (stops the contact clock); accepts the transfer too if not yet."""
    if not case.can_manage(actor):
        raise TransferError(_l("You may not make this change in this case."))
    return stop_contact_clock(case, actor)


def stop_contact_clock(case: Case, actor) -> TransferResponse:
    """Stop the contact clock (and the acceptance clock if still running) for ``actor``, whose
    right to act the caller has checked."""
    row = _lock(case)
    if row.contacted_at is not None:
        raise TransferError(_l("The first contact was already recorded."))
    now = utcnow()
    if row.accepted_at is None:
        row.accepted_at, row.accepted_by_id = now, actor.id
        audit.record(case, actor, "transfer_accepted", {"seconds": seconds_between(row.received_at, now)})
    row.contacted_at, row.contacted_by_id = now, actor.id
    seconds = seconds_between(row.received_at, now)
    audit.record(case, actor, "transfer_contacted", {"seconds": seconds})
    logger.info("Transfer %s: party reached by %s after %ss", case, audit.actor_label(actor), seconds)
    return row


def seconds_between(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else max(0, round((end - start).total_seconds()))


def timings(row: TransferResponse | None) -> dict:
    """The two response times and whether they met their targets (as the intake API reports them)."""
    goal = targets()
    out = {}
    for name, at in (("accept", row.accepted_at if row else None), ("contact", row.contacted_at if row else None)):
        seconds = seconds_between(row.received_at, at) if row else None
        out[name] = {
            "at": at.isoformat() + "Z" if at else None,
            "seconds": seconds,
            "target_seconds": goal[name],
            "met": None if seconds is None else seconds <= goal[name],
        }
    out["received_at"] = row.received_at.isoformat() + "Z" if row else None
    return out
