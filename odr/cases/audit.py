"""The tamper-evident audit trail: append an event, verify a chain.

Every entry's ``hash`` is SHA-256 over the canonical JSON of the entry and the
previous entry's hash, so changing, removing or reordering any entry breaks
every later link. Entries are written in the same transaction as the change
they record; the ORM refuses to update or delete them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from odr.cases.models import ApiClient, Case, Event
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
PLATFORM_CHAIN = "platform"


class AuditTamperingError(RuntimeError):
    """Code tried to change or delete an audit entry."""


def chain_name(case: Case | None) -> str:
    return f"case:{case.id}" if case is not None else PLATFORM_CHAIN


def actor_label(actor) -> str:
    """How the actor reads in the case file."""
    if actor is None:
        return "system"
    if isinstance(actor, ApiClient):
        return f"api:{actor.name}"
    return f"user:{actor.id} {actor.name}"


def _plain(value):
    """Payload values as JSON-safe plain data (no floats: they do not round-trip exactly)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (Decimal, datetime, date)):
        return str(value) if not isinstance(value, datetime) else value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        raise TypeError("floats are not allowed in audit payloads; use Decimal or str")
    return value


def canonical_json(data) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_fields(ev: Event) -> dict:
    """The fields an entry's hash covers, in the form written to the court export."""
    return {
        "chain": ev.chain,
        "seq": ev.seq,
        "actor": ev.actor,
        "action": ev.action,
        "payload": ev.payload,
        "time": ev.created_at.isoformat(timespec="microseconds") + "Z",
        "prev_hash": ev.prev_hash,
    }


def compute_hash(ev: Event) -> str:
    return hashlib.sha256(canonical_json(entry_fields(ev))).hexdigest()


def record(case: Case | None, actor, action: str, payload: dict | None = None) -> Event:
    """Append an event to the case's chain (or the platform chain) in the current transaction."""
    chain = chain_name(case)
    if case is not None:
        # Serialises appends to one chain on PostgreSQL; SQLite serialises all writers.
        db.session.execute(sa.select(Case.id).where(Case.id == case.id).with_for_update())
    last = db.session.execute(
        sa.select(Event.seq, Event.hash).where(Event.chain == chain).order_by(Event.seq.desc()).limit(1)
    ).first()
    ev = Event(
        chain=chain,
        seq=(last.seq + 1) if last else 1,
        case_id=case.id if case is not None else None,
        actor_id=getattr(actor, "id", None) if not isinstance(actor, ApiClient) else None,
        actor=actor_label(actor),
        action=action,
        payload=_plain(payload or {}),
        created_at=utcnow(),
        prev_hash=last.hash if last else GENESIS,
    )
    ev.hash = compute_hash(ev)
    db.session.add(ev)
    db.session.flush()
    return ev


def case_events(case: Case) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.chain == chain_name(case)).order_by(Event.seq)))


@dataclass
class BrokenLink:
    chain: str
    seq: int
    reason: str

    def __str__(self):
        return f"{self.chain} entry {self.seq}: {self.reason}"


def verify_events(chain: str, events) -> BrokenLink | None:
    """Recompute a chain from its events in order; return the first broken link, if any."""
    return verify_entries(chain, ({**entry_fields(ev), "hash": ev.hash} for ev in events))


def verify_entries(chain: str, entries) -> BrokenLink | None:
    """The same for entries as the court export writes them (``entry_fields`` plus ``hash``),
    e.g. the lines of a bundle's ``audit.jsonl``: a missing, added, reordered or changed entry is
    the first broken link."""
    prev = GENESIS
    expected_seq = 1
    for entry in entries:
        seq = entry.get("seq") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("chain") != chain:
            return BrokenLink(chain, expected_seq, "an entry of another chain, or not an entry")
        if seq != expected_seq:
            return BrokenLink(chain, expected_seq, f"entry {expected_seq} is missing (found {seq})")
        if entry.get("prev_hash") != prev:
            return BrokenLink(chain, seq, "does not link to the previous entry")
        fields = {k: v for k, v in entry.items() if k != "hash"}
        if hashlib.sha256(canonical_json(fields)).hexdigest() != entry.get("hash"):
            return BrokenLink(chain, seq, "content does not match its hash")
        prev = entry["hash"]
        expected_seq += 1
    return None


def verify_chain(chain: str) -> BrokenLink | None:
    events = db.session.scalars(
        sa.select(Event).where(Event.chain == chain).order_by(Event.seq).execution_options(yield_per=1000)
    )
    try:
        return verify_events(chain, events)
    finally:
        events.close()  # the chain may be left unread after a broken link


def all_chains() -> list[str]:
    return list(db.session.scalars(sa.select(Event.chain).distinct().order_by(Event.chain)))


def install_append_only_guard() -> None:
    """Refuse, in every session, a flush that changes or deletes an audit entry (``cases.init_app``)."""
    if not sa_event.contains(Session, "before_flush", _refuse_changes_to_events):
        sa_event.listen(Session, "before_flush", _refuse_changes_to_events)


def _refuse_changes_to_events(session, flush_context, instances):
    for obj in session.deleted:
        if isinstance(obj, Event):
            raise AuditTamperingError(f"audit entries cannot be deleted ({obj!r})")
    for obj in session.dirty:
        if isinstance(obj, Event) and session.is_modified(obj):
            raise AuditTamperingError(f"audit entries cannot be changed ({obj!r})")


def may_read(event: Event, case: Case, user) -> bool:
    """Whether the case history shows this entry to ``user``.

    An entry about something private in a case (a caucus message, evidence for the
    mediator only: ``payload["private"]`` names the side, or ``"mediator"``) is shown to
    the person who did it, the case's mediator, and for a side's private thread to that
    side; the others do not even learn that it happened. The chain itself is complete
    and goes to the court as it is.
    """
    private = (event.payload or {}).get("private")
    if not private:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    roles = case.roles_of(user)
    return event.actor_id == user.id or "mediator" in roles or private in roles
