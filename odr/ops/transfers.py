"""Transferred cases: how fast the center accepted them and reached the party, per sender.

A transfer (``POST /api/v1/intake``) starts the clock (:func:`received`); a staff member accepting
the case and first reaching the party stop the two clocks (:func:`accept`, :func:`record_contact`),
each measured from the arrival against a target from the configuration
(``TRANSFER_ACCEPT_SECONDS``, ``TRANSFER_CONTACT_SECONDS``). The sender reads the result with
``GET /api/v1/intake/{reference}``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.cases import audit
from odr.cases.models import ApiClient, Case, Channel
from odr.extensions import db
from odr.ops.models import TransferResponse
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


class TransferError(Refused):
    """A response time that cannot be recorded; ``reason`` says why."""


def targets() -> dict[str, int]:
    cfg = current_app.config
    return {"accept": int(cfg["TRANSFER_ACCEPT_SECONDS"]), "contact": int(cfg["TRANSFER_CONTACT_SECONDS"])}


def received(case: Case) -> TransferResponse:
    """Start the clocks of a case that has just arrived by transfer."""
    row = TransferResponse(case_id=case.id, api_client_id=case.api_client_id, organization_id=case.organization_id,
                           received_at=case.created_at)
    db.session.add(row)
    db.session.flush()
    return row


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


@dataclass
class SenderRow:
    api_client_id: int
    name: str
    received: int = 0
    accepted: int = 0
    accepted_in_time: int = 0
    contacted: int = 0
    contacted_in_time: int = 0
    median_accept: float | None = None
    median_contact: float | None = None


def per_sender(scope, start: datetime, end: datetime) -> list[SenderRow]:
    """Transfers received in [start, end) by sender: how many were answered, how many in time,
    median seconds. Reads the period's transfers (index on arrival): the cost grows
    with the transfers received in the period, which exact medians need, not with the table."""
    goal = targets()
    query = (sa.select(TransferResponse.api_client_id, ApiClient.name, TransferResponse.received_at,
                       TransferResponse.accepted_at, TransferResponse.contacted_at)
             .join(ApiClient, ApiClient.id == TransferResponse.api_client_id)
             .where(TransferResponse.received_at >= start, TransferResponse.received_at < end))
    if not scope.everything:  # the organisation the transfer was sent to
        query = query.where(scope.organization_where(TransferResponse.organization_id))
    rows: dict[int, SenderRow] = {}
    samples: dict[int, tuple[list, list]] = {}
    for cid, name, rec, acc, con in db.session.execute(query):
        r = rows.setdefault(cid, SenderRow(cid, name))
        a_list, c_list = samples.setdefault(cid, ([], []))
        r.received += 1
        if acc is not None:
            s = seconds_between(rec, acc)
            r.accepted += 1
            r.accepted_in_time += s <= goal["accept"]
            a_list.append(s)
        if con is not None:
            s = seconds_between(rec, con)
            r.contacted += 1
            r.contacted_in_time += s <= goal["contact"]
            c_list.append(s)
    import statistics

    for cid, r in rows.items():
        a_list, c_list = samples[cid]
        r.median_accept = statistics.median(a_list) if a_list else None
        r.median_contact = statistics.median(c_list) if c_list else None
    return sorted(rows.values(), key=lambda r: r.name)


def waiting(scope, limit: int = 50) -> list[TransferResponse]:
    """Transfers not yet contacted, oldest first."""
    return list(db.session.scalars(
        sa.select(TransferResponse).join(Case, Case.id == TransferResponse.case_id)
        .where(TransferResponse.contacted_at.is_(None), Case.closed_at.is_(None), scope.case_where())
        .order_by(TransferResponse.received_at).limit(limit)))
