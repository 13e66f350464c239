"""Transfer response times per sender and the transfers still waiting, for the dashboard.

The clocks themselves are kept by the case file (``odr.cases.transfers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from odr.cases.callbacks import FAILING_AFTER, CallbackDelivery, SenderCallback
from odr.cases.models import ApiClient, Case
from odr.cases.transfers import TransferResponse, seconds_between, targets
from odr.extensions import db


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


def failing_callbacks(scope, limit: int = 50) -> list[tuple[CallbackDelivery, str]]:
    """Status changes the senders keep refusing or not answering (each with the URL tried), oldest first."""
    return list(db.session.execute(
        sa.select(CallbackDelivery, SenderCallback.url).join(Case, Case.id == CallbackDelivery.case_id)
        .join(SenderCallback, SenderCallback.api_client_id == CallbackDelivery.api_client_id)
        .where(CallbackDelivery.delivered_at.is_(None), CallbackDelivery.attempts >= FAILING_AFTER, scope.case_where())
        .order_by(CallbackDelivery.id).limit(limit)).all())
