"""The tamper-evident audit trail: append an event, verify a chain.

Every entry's ``hash`` is SHA-256 over the canonical JSON of the entry and the
previous entry's hash, so changing, removing or reordering any entry breaks
every later link. Entries are written in the same transaction as the change
they record; the ORM refuses to update or delete them.

**Hash versions.** Version 1 covered the chain, position, actor's label, action,
payload, time and previous hash. Version 2 (``"v": 2`` in the entry) also covers
the case and the actor's account (``case_id``, ``actor_id``): every column that
gives an entry its meaning. Entries written before version 2 keep their version-1
hashes — recomputing them would rewrite the history courts already hold — and the
migration that brought version 2 appended an ``audit_reanchored`` entry (version 2)
to every chain, linked to its last version-1 entry: from there on every entry is
version 2, and a chain never falls back. For version-1 entries the two columns
their hash does not cover are checked against what it does cover (the chain names
the case, the actor's label names the account).

A chain alone does not stop whoever holds the database from cutting off its end, or
from changing an entry and computing every later hash again: the platform signs
checkpoints of the chains' heads and hands them to witnesses
(:mod:`odr.documents.checkpoints`), and a chain is checked against the heads they
state (:class:`Witnessed`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
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
#: The hash formula new entries are written with (see the module's docstring).
HASH_VERSION = 2
#: The entry that moves a chain from hash version 1 to 2 (written by the migration that brought 2).
REANCHORED = "audit_reanchored"
_V1_FIELDS = frozenset({"chain", "seq", "actor", "action", "payload", "time", "prev_hash"})
#: The fields each hash version covers (besides ``hash`` itself).
FIELDS = {1: _V1_FIELDS, 2: _V1_FIELDS | {"v", "case_id", "actor_id"}}


class AuditTamperingError(RuntimeError):
    """Code tried to change or delete an audit entry."""


def chain_name(case: Case | None) -> str:
    return f"case:{case.id}" if case is not None else PLATFORM_CHAIN


def case_id_of(chain: str) -> int | None:
    """The case whose chain this is (``None`` for the platform chain or a name that is no chain)."""
    prefix, _, number = (chain or "").partition(":")
    return int(number) if prefix == "case" and number.isascii() and number.isdigit() else None


def chain_label(chain: str) -> str:
    """How people name a chain: a case's chain by its case number, the platform chain by its name."""
    case_id = case_id_of(chain)
    number = db.session.scalar(sa.select(Case.number).where(Case.id == case_id)) if case_id is not None else None
    return number or chain


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


def entry_fields(ev) -> dict:
    """The fields an entry's hash covers, in the form written to the court export (by its hash
    version: an entry made before version 2 has the version-1 fields, and no ``v``)."""
    fields = {
        "chain": ev.chain,
        "seq": ev.seq,
        "actor": ev.actor,
        "action": ev.action,
        "payload": ev.payload,
        "time": ev.created_at.isoformat(timespec="microseconds") + "Z",
        "prev_hash": ev.prev_hash,
    }
    version = ev.hash_version or HASH_VERSION
    if version >= 2:
        fields.update(v=version, case_id=ev.case_id, actor_id=ev.actor_id)
    return fields


def compute_hash(ev) -> str:
    return hashlib.sha256(canonical_json(entry_fields(ev))).hexdigest()


def record(case: Case | None, actor, action: str, payload: dict | None = None) -> Event:
    """Append an event to the case's chain (or the platform chain) in the current transaction.

    An agent's or helper's entry says whom they acted for (``payload["on_behalf_of"]``).

    :raise odr.cases.representation.ReadOnlyRefused: the actor represents a party of the case with
        the read scope only: nothing they do is kept.
    """
    from odr.cases.representation import on_behalf_of

    chain = chain_name(case)
    behalf = on_behalf_of(case, actor) if case is not None and not isinstance(actor, ApiClient) else None
    if behalf is not None:
        payload = {**(payload or {}), "on_behalf_of": behalf}
    if case is not None:
        # Serialises appends to one chain on PostgreSQL; SQLite serialises all writers. FOR NO KEY
        # UPDATE, not FOR UPDATE: the change being recorded has usually inserted a row referring to
        # the case already (a room message, evidence), which holds FOR KEY SHARE on the case row;
        # two such writers asking FOR UPDATE then wait for each other (deadlock, an error 500 for
        # one of them, found by bench/soak.py). NO KEY UPDATE waits for another NO KEY UPDATE only.
        db.session.execute(sa.select(Case.id).where(Case.id == case.id).with_for_update(key_share=True))
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
        hash_version=HASH_VERSION,
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
    #: How people name the chain (a case number); the chain's own name when not given.
    label: str | None = None

    def __str__(self):
        return f"{self.label or self.chain} entry {self.seq}: {self.reason}"


@dataclass(frozen=True)
class Witnessed:
    """A chain's head as a signed checkpoint states it: the chain had ``seq`` entries, the last
    one's hash was ``head``."""

    seq: int
    head: str
    #: The checkpoint that says so, as a broken link names it ("the checkpoint 1a2b3c4d5e6f of …").
    source: str


def verify_events(chain: str, events, witnessed: Iterable[Witnessed] = ()) -> BrokenLink | None:
    """Recompute a chain from its events in order; return the first broken link, if any. An
    event may also be given as a string: the reason it could not be read."""
    def entries():
        for ev in events:
            if isinstance(ev, str):
                yield ev
            else:
                yield _columns_disagree(chain, ev) or {**entry_fields(ev), "hash": ev.hash}

    return verify_entries(chain, entries(), witnessed)


def _columns_disagree(chain: str, ev) -> str | None:
    """What is wrong with the columns a version-1 hash does not cover: the case must be the
    chain's, the actor's account the one its label names ("user:12 Li Wei": account 12)."""
    if ev.case_id != case_id_of(chain):
        return f"its case (case_id {ev.case_id}) is not the chain's"
    named = ev.actor.split(" ", 1)[0] if isinstance(ev.actor, str) else ""
    if (f"user:{ev.actor_id}" if ev.actor_id is not None else None) != (named if named.startswith("user:") else None):
        return f"its actor's account (actor_id {ev.actor_id}) is not the one its actor names"
    return None


def verify_entries(chain: str, entries, witnessed: Iterable[Witnessed] = ()) -> BrokenLink | None:
    """The same for entries as the court export writes them (``entry_fields`` plus ``hash``),
    e.g. the lines of a bundle's ``audit.jsonl``: a missing, added, reordered or changed entry is
    the first broken link; so is a chain that disagrees with a ``witnessed`` head: another hash at
    its position (changed, every later hash computed again), or fewer entries than it counted (cut
    off at the end). An entry may also be given as a string: the reason it could not be read."""
    heads: dict[int, list[Witnessed]] = {}
    for head in witnessed:
        heads.setdefault(head.seq, []).append(head)
    prev = GENESIS
    expected_seq = 1
    version = None
    for entry in entries:
        if isinstance(entry, str):
            return BrokenLink(chain, expected_seq, entry)
        seq = entry.get("seq") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("chain") != chain:
            return BrokenLink(chain, expected_seq, "an entry of another chain, or not an entry")
        if seq != expected_seq:
            return BrokenLink(chain, expected_seq, f"entry {expected_seq} is missing (found {seq})")
        problem = _version_problem(chain, entry, version)
        if problem:
            return BrokenLink(chain, seq, problem)
        version = entry.get("v", 1)
        if entry.get("prev_hash") != prev:
            return BrokenLink(chain, seq, "does not link to the previous entry")
        fields = {k: v for k, v in entry.items() if k != "hash"}
        if hashlib.sha256(canonical_json(fields)).hexdigest() != entry.get("hash"):
            return BrokenLink(chain, seq, "content does not match its hash")
        for head in heads.get(seq, ()):
            if head.head != entry["hash"]:
                return BrokenLink(chain, seq, f"its hash is not the one {head.source} states: the chain was "
                                              "changed up to here and its hashes computed again")
        prev = entry["hash"]
        expected_seq += 1
    count = expected_seq - 1
    longest = max(heads, default=0)
    if longest > count:
        return BrokenLink(chain, count + 1, f"is missing: {heads[longest][0].source} counted {longest} entries, "
                                            f"the chain has {count} (its end was cut off)")
    return None


def _version_problem(chain: str, entry: dict, before: int | None) -> str | None:
    """Whether the entry has exactly the fields of its hash version, and that version may follow
    the one ``before`` it: never an older one; from 1 to 2 only at the re-anchoring entry."""
    version = entry.get("v", 1)
    if type(version) is not int or version not in FIELDS:
        return f"unknown hash version {version!r}"
    if set(entry) - {"hash"} != FIELDS[version]:
        return f"its fields are not those of hash version {version}"
    if before is not None and version < before:
        return f"hash version {version} after version {before}: a chain never goes back to an older formula"
    if before == 1 and version == 2 and entry.get("action") != REANCHORED:
        return f"the hash formula changes without the {REANCHORED} entry"
    if version >= 2 and entry.get("case_id") != case_id_of(chain):
        return f"its case (case_id {entry.get('case_id')}) is not the chain's"
    return None


class _AsStored(sa.types.TypeDecorator):
    """A column read as the database driver gives it: a payload that is not JSON or a time that
    is no time (SQLite keeps whatever is written) is then named as a broken link, not raised."""

    impl = sa.String
    cache_ok = True


@dataclass
class _Stored:
    """An entry as read from its columns (what :func:`entry_fields` needs)."""

    chain: str
    seq: int
    case_id: int | None
    actor_id: int | None
    actor: str
    action: str
    payload: object
    created_at: datetime
    prev_hash: str
    hash: str
    hash_version: int


def _read(row) -> _Stored | str:
    """An entry from its stored columns, or the reason it cannot be read."""
    payload, created_at = row.payload, row.created_at
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except ValueError:
            return "its payload is not JSON"
    if isinstance(created_at, str):
        try:
            created_at = datetime.fromisoformat(created_at)
        except ValueError:
            return f"its time cannot be read ({created_at[:40]!r})"
    if not isinstance(created_at, datetime):
        return "its time cannot be read"
    return _Stored(**{**row._mapping, "payload": payload, "created_at": created_at})


def stored_events(chain: str):
    """The chain's entries in order as stored, each an event-like row or the reason it cannot be
    read. Streams: a chain of any length."""
    e = Event
    rows = db.session.execute(
        sa.select(e.chain, e.seq, e.case_id, e.actor_id, e.actor, e.action,
                  sa.type_coerce(e.payload, _AsStored()).label("payload"),
                  sa.type_coerce(e.created_at, _AsStored()).label("created_at"), e.prev_hash, e.hash,
                  e.hash_version)
        .where(e.chain == chain).order_by(e.seq).execution_options(yield_per=1000))
    try:
        for row in rows:
            yield _read(row)
    finally:
        rows.close()


def verify_chain(chain: str, witnessed: Iterable[Witnessed] = ()) -> BrokenLink | None:
    """Check the stored chain, also against the ``witnessed`` heads; the first broken link is
    named by the case's number."""
    events = stored_events(chain)
    try:
        broken = verify_events(chain, events, witnessed)
    finally:
        events.close()  # the chain may be left unread after a broken link
    if broken is not None:
        broken.label = chain_label(chain)
    return broken


def all_chains() -> list[str]:
    return list(db.session.scalars(sa.select(Event.chain).distinct().order_by(Event.chain)))


#: Models whose rows are written once: the ORM refuses to change or delete them.
APPEND_ONLY: list[type] = [Event]


def append_only(model):
    """Class decorator: rows of ``model`` are refused changes and deletions, like audit entries."""
    if model not in APPEND_ONLY:
        APPEND_ONLY.append(model)
    return model


def install_append_only_guard() -> None:
    """Refuse, in every session, a flush that changes or deletes an append-only row (``cases.init_app``)."""
    if not sa_event.contains(Session, "before_flush", _refuse_changes_to_events):
        sa_event.listen(Session, "before_flush", _refuse_changes_to_events)


def _refuse_changes_to_events(session, flush_context, instances):
    kinds = tuple(APPEND_ONLY)
    for obj in session.deleted:
        if isinstance(obj, kinds):
            raise AuditTamperingError(f"audit entries cannot be deleted ({obj!r})")
    for obj in session.dirty:
        if isinstance(obj, kinds) and session.is_modified(obj):
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
