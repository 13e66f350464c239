"""Signed checkpoints of the audit chains, handed to witnesses.

A hash chain shows a changed entry, but not a chain cut off at its end, nor one changed and then
hashed again from there on: whoever holds the database can do both. So the platform signs what
the chains' heads are, and hands that to people who keep it:

1. **When.** Periodically — the job :func:`sign_periodic_checkpoints`, every
   ``AUDIT_CHECKPOINT_MINUTES`` — every chain that moved since the last periodic checkpoint (the
   entries written since then, older than ``AUDIT_CHECKPOINT_LAG_SECONDS``: an open transaction
   may still commit a lower id; the first run covers every chain), at most
   ``AUDIT_CHECKPOINT_MAX_HEADS`` heads a checkpoint and ``AUDIT_CHECKPOINT_MAX_PER_RUN`` a run.
   And at each court hand-off, the case's chain as its bundle holds it (:func:`checkpoint_case`).
2. **What.** A *statement*: format, time, reason, the number of heads and the root of an RFC 9162
   Merkle tree (SHA-256) whose leaves are the heads, ``{"chain", "case", "seq", "head"}`` — the
   chain had ``seq`` entries, the last one's hash was ``head``. It is signed by the platform seal
   (detached CMS, :mod:`odr.documents.cms`), with an RFC 3161 signature timestamp when
   ``SIGNING_TSA_URL`` is set. One chain's checkpoint (:func:`chain_document`) is the signed
   statement with that chain's leaf and its inclusion proof: it tells nothing of other cases.
3. **Witnesses.** A court gets the checkpoints of the cases handed to it (in each bundle, from
   its API and its inbox); the parties and whoever else may see a case get the case's latest; and
   anyone gets a signed statement by its id or SHA-256 (:func:`public_document`), to keep where
   the platform cannot reach it.
4. **Verification** (:class:`AuditVerification`, ``odr audit verify``; ``odr verify-bundle``):
   the signature must be the platform seal's, certified by the platform CA (and its timestamp,
   if any, must hold); the leaf's proof must lead to the signed root; then the chain must have at
   least ``seq`` entries, the ``seq``-th with hash ``head`` (:class:`odr.cases.audit.Witnessed`).

The statement and the leaves are hashed and signed as canonical JSON
(:func:`odr.cases.audit.canonical_json`: keys sorted, no whitespace, UTF-8 — for these
documents the same bytes as RFC 8785). Creating a checkpoint writes no audit entry: it would
move the platform chain each time, and the checkpoint is itself the signed, append-only record
(a hand-off's entry names its checkpoint).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from odr import jobs
from odr.cases import audit
from odr.cases.models import Case, Event
from odr.documents import cms
from odr.documents.models import AuditCheckpoint, CheckpointHead, CheckpointReason
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

FORMAT = "odr-audit-checkpoint"
FORMAT_VERSION = "1.0"
TREE = "rfc9162-sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: Audit entries read at a time while looking for the chains that moved.
_READ = 10_000


class CheckpointError(Refused):
    """A checkpoint cannot be signed now (the timestamp authority did not answer)."""


# --- the Merkle tree (RFC 9162, section 2.1) --------------------------------------------------

def leaf_hash(leaf: dict) -> bytes:
    return hashlib.sha256(b"\x00" + audit.canonical_json(leaf)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """The tree bottom up: each level pairs the one below, an odd last node going up as it is —
    the same tree as RFC 9162's split at the largest power of two below the size."""
    levels = [list(hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([_node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
                      + ([below[-1]] if len(below) % 2 else []))
    return levels


def merkle_root(hashes: list[bytes]) -> bytes:
    return _levels(hashes)[-1][0]


def inclusion_proof(hashes: list[bytes] | list[list[bytes]], index: int) -> list[bytes]:
    """The audit path of leaf ``index``: the sibling subtrees' hashes, from the leaf up. Given the
    tree's levels (:func:`_levels`) instead of its leaves, nothing is hashed again."""
    levels = hashes if hashes and isinstance(hashes[0], list) else _levels(hashes)
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index //= 2
    return path


def root_from_proof(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """The root the audit ``path`` of leaf ``index`` in a tree of ``size`` leaves leads to, or
    ``None`` when the path cannot be one (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# --- signing ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Head:
    chain: str
    case_id: int | None
    case_number: str | None
    seq: int
    head: str

    @property
    def leaf(self) -> dict:
        return {"chain": self.chain, "case": self.case_number, "seq": self.seq, "head": self.head}


def leaf_of(row: CheckpointHead) -> dict:
    return {"chain": row.chain, "case": row.case_number, "seq": row.seq, "head": row.head}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def sign_heads(heads: list[Head], reason: CheckpointReason, now: datetime | None = None,
               events_through: int | None = None) -> AuditCheckpoint:
    """Sign a checkpoint of ``heads`` and store it (in the caller's transaction; flushes).

    :raise CheckpointError: the timestamp authority did not answer.
    """
    from odr.documents.operations import timestamper

    if not heads:
        raise ValueError("a checkpoint signs at least one chain head")
    now = now or utcnow()
    heads = sorted(heads, key=lambda h: h.chain)
    root = merkle_root([leaf_hash(h.leaf) for h in heads]).hex()
    statement = audit.canonical_json({"format": FORMAT, "format_version": FORMAT_VERSION, "created_at": _iso(now),
                                      "reason": reason.value, "heads": len(heads), "tree": TREE, "root": root})
    try:
        signature = cms.sign_detached(statement, timestamper())
    except OSError as exc:  # pyHanko's TimestampRequestError
        logger.error("Timestamp authority failed while signing an audit checkpoint: %s", exc)
        raise CheckpointError(_l("The timestamp service did not answer. Please try again in a minute.")) from None
    checkpoint = AuditCheckpoint(created_at=now, reason=reason, heads=len(heads), root=root,
                                 sha256=hashlib.sha256(statement).hexdigest(), statement=statement.decode(),
                                 signature=signature, timestamped_at=cms.timestamp_of(signature),
                                 events_through=events_through)
    db.session.add(checkpoint)
    db.session.flush()
    rows = [{"checkpoint_id": checkpoint.id, "position": i, "chain": h.chain, "case_id": h.case_id,
             "case_number": h.case_number, "seq": h.seq, "head": h.head} for i, h in enumerate(heads)]
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(CheckpointHead), rows[start:start + 1000])
    logger.info("Audit checkpoint %s signed (%s): %d chain heads, root %s", checkpoint.id, reason.value,
                len(heads), root[:12])
    return checkpoint


def current_heads(chains: list[str]) -> list[Head]:
    """The last entry of each chain as stored now."""
    heads = []
    other = aliased(Event)
    last = sa.select(sa.func.max(other.seq)).where(other.chain == Event.chain).scalar_subquery()
    for start in range(0, len(chains), 500):
        chunk = chains[start:start + 500]
        rows = db.session.execute(sa.select(Event.chain, Event.seq, Event.hash)
                                  .where(Event.chain.in_(chunk), Event.seq == last)).all()
        ids = {audit.case_id_of(r.chain) for r in rows} - {None}
        numbers = dict(db.session.execute(sa.select(Case.id, Case.number).where(Case.id.in_(ids))).all()) \
            if ids else {}
        for r in rows:
            case_id = audit.case_id_of(r.chain)
            heads.append(Head(r.chain, case_id if case_id in numbers else None, numbers.get(case_id), r.seq, r.hash))
    return heads


def checkpoint_case(case: Case, reason: CheckpointReason = CheckpointReason.handoff) -> AuditCheckpoint:
    """Sign a checkpoint of the case's chain as it is now (a court hand-off: as its bundle holds it).

    :raise CheckpointError: the timestamp authority did not answer.
    """
    return sign_heads(current_heads([audit.chain_name(case)]), reason)


@jobs.register
def sign_periodic_checkpoints(now: datetime) -> int:
    """Every ``AUDIT_CHECKPOINT_MINUTES``: a checkpoint of each chain that moved since the last
    periodic one. Returns the heads signed."""
    return checkpoint_moved_chains(now)


def checkpoint_moved_chains(now: datetime | None = None, *, force: bool = False) -> int:
    """Sign checkpoints of the chains with entries since the last periodic checkpoint (every
    chain, the first time), unless the last was less than ``AUDIT_CHECKPOINT_MINUTES`` ago and
    left nothing behind (``force``: now anyway). Returns the heads signed."""
    cfg = current_app.config
    now = now or utcnow()
    lag = timedelta(seconds=cfg["AUDIT_CHECKPOINT_LAG_SECONDS"])
    last = db.session.scalar(sa.select(AuditCheckpoint).where(AuditCheckpoint.reason == CheckpointReason.periodic)
                             .order_by(AuditCheckpoint.id.desc()).limit(1))
    through = (last.events_through or 0) if last is not None else 0
    if last is not None and not force and now - last.created_at < timedelta(minutes=cfg["AUDIT_CHECKPOINT_MINUTES"]) \
            and not _left_behind(through, last.created_at - lag):
        return 0
    signed = 0
    for _run in range(cfg["AUDIT_CHECKPOINT_MAX_PER_RUN"]):
        chains, through_now, more = _moved_chains(through, now - lag, cfg["AUDIT_CHECKPOINT_MAX_HEADS"])
        if not chains:
            break
        signed += sign_heads(current_heads(chains), CheckpointReason.periodic, now, events_through=through_now).heads
        through = through_now
        if not more:
            break
    return signed


def _left_behind(through: int, before: datetime) -> bool:
    """Whether entries old enough for the last periodic checkpoint were left to a later run."""
    return db.session.scalar(sa.select(Event.id).where(Event.id > through, Event.created_at <= before).limit(1)) \
        is not None


def _moved_chains(after: int, cutoff: datetime, limit: int) -> tuple[list[str], int, bool]:
    """The chains of the entries after id ``after`` written by ``cutoff``, at most ``limit`` of
    them: ``(chains, id of the last entry read, whether more are left)``."""
    chains: dict[str, None] = {}
    through = after
    while True:
        rows = db.session.execute(sa.select(Event.id, Event.chain, Event.created_at).where(Event.id > through)
                                  .order_by(Event.id).limit(_READ)).all()
        for row in rows:
            if row.created_at > cutoff:
                return list(chains), through, False
            if row.chain not in chains and len(chains) >= limit:
                return list(chains), through, True
            chains[row.chain] = None
            through = row.id
        if len(rows) < _READ:
            return list(chains), through, False


# --- what witnesses receive -------------------------------------------------------------------

def _leaf_hashes(checkpoint_id: int) -> list[bytes]:
    rows = db.session.execute(sa.select(CheckpointHead.chain, CheckpointHead.case_number, CheckpointHead.seq,
                                        CheckpointHead.head).where(CheckpointHead.checkpoint_id == checkpoint_id)
                              .order_by(CheckpointHead.position))
    return [leaf_hash({"chain": r.chain, "case": r.case_number, "seq": r.seq, "head": r.head}) for r in rows]


def public_document(checkpoint: AuditCheckpoint) -> dict:
    """The signed statement as anyone may have it: ``checkpoint`` (the statement; its canonical
    JSON is what was signed), ``signature`` (base64 DER CMS), and its id and SHA-256."""
    return {
        "id": checkpoint.id,
        "sha256": checkpoint.sha256,
        "checkpoint": json.loads(checkpoint.statement),
        "signature": base64.b64encode(checkpoint.signature).decode(),
        "timestamped_at": _iso(checkpoint.timestamped_at) if checkpoint.timestamped_at else None,
    }


def chain_document(row: CheckpointHead) -> dict:
    """One chain's checkpoint: the signed statement, the chain's leaf (``chain``) and the proof
    that the leaf is in the signed tree (``proof``: its index and audit path, hex)."""
    return chain_documents([row])[0]


def chain_documents(rows: list[CheckpointHead]) -> list[dict]:
    """The checkpoints of several chain heads, each checkpoint's leaves read once (a page of a
    court's feed is often one periodic checkpoint's)."""
    trees: dict[int, list[list[bytes]]] = {}
    documents = []
    for row in rows:
        if row.checkpoint_id not in trees:
            trees[row.checkpoint_id] = _levels(_leaf_hashes(row.checkpoint_id))
        path = inclusion_proof(trees[row.checkpoint_id], row.position)
        documents.append({**public_document(row.checkpoint), "chain": leaf_of(row),
                          "proof": {"index": row.position, "path": [h.hex() for h in path]}})
    return documents


def case_heads(case: Case) -> list[CheckpointHead]:
    """Every checkpoint of the case's chain, oldest first."""
    return list(db.session.scalars(sa.select(CheckpointHead).where(CheckpointHead.chain == audit.chain_name(case))
                                   .order_by(CheckpointHead.checkpoint_id)))


def latest_head(case: Case) -> CheckpointHead | None:
    """The case's checkpoint that counts the most entries (the newest of those)."""
    return db.session.scalar(sa.select(CheckpointHead).where(CheckpointHead.chain == audit.chain_name(case))
                             .order_by(CheckpointHead.seq.desc(), CheckpointHead.checkpoint_id.desc()).limit(1))


def find(reference: str) -> AuditCheckpoint | None:
    """A checkpoint by its id or its SHA-256 (hex)."""
    if reference.isascii() and reference.isdigit() and len(reference) < 10:
        return db.session.get(AuditCheckpoint, int(reference))
    if _HEX64.fullmatch(reference):
        return db.session.scalar(sa.select(AuditCheckpoint).where(AuditCheckpoint.sha256 == reference)
                                 .order_by(AuditCheckpoint.id).limit(1))
    return None


# --- verification -----------------------------------------------------------------------------

SIGNATURE_PROBLEMS = {
    "unreadable": "its signature cannot be read",
    "changed": "its signature does not match it (the statement was changed, or the signature is not its own)",
    "untrusted": "it is not signed by the platform seal certified by the platform CA",
    "bad_timestamp": "its signature timestamp does not hold",
}


def statement_problem(statement, signature: bytes, roots) -> str | None:
    """What is wrong with a signed statement: its shape, or its signature."""
    if not isinstance(statement, dict) or statement.get("format") != FORMAT:
        return "not an audit checkpoint"
    heads, root = statement.get("heads"), statement.get("root")
    if type(heads) is not int or heads < 1 or not isinstance(root, str) or not _HEX64.fullmatch(root) \
            or statement.get("tree") != TREE or not isinstance(statement.get("created_at"), str):
        return "its statement is not of the documented shape"
    checked = cms.check_detached(audit.canonical_json(statement), signature, roots)
    return SIGNATURE_PROBLEMS[checked.problem] if checked.problem else None


def describe(statement: dict, sha256: str | None = None) -> str:
    """How a broken link names a checkpoint: "the checkpoint 1a2b3c4d5e6f of 2026-11-02 01:00:00 UTC"."""
    sha = sha256 or hashlib.sha256(audit.canonical_json(statement)).hexdigest()
    when = str(statement.get("created_at", "?")).replace("T", " ").split(".")[0].rstrip("Z")
    return f"the checkpoint {sha[:12]} of {when} UTC"


def check_chain_document(document, roots) -> tuple[str, audit.Witnessed] | str:
    """A chain's checkpoint as a witness holds it: ``(chain, what it witnesses)``, or what is wrong."""
    if not isinstance(document, dict):
        return "not an audit checkpoint"
    statement, leaf, proof = document.get("checkpoint"), document.get("chain"), document.get("proof")
    try:
        signature = base64.b64decode(document.get("signature") or "", validate=True)
    except (ValueError, TypeError):
        return "its signature is not base64"
    problem = statement_problem(statement, signature, roots)
    if problem:
        return problem
    if not (isinstance(leaf, dict) and set(leaf) == {"chain", "case", "seq", "head"}
            and isinstance(leaf["chain"], str) and type(leaf["seq"]) is int and leaf["seq"] >= 1
            and isinstance(leaf["head"], str) and _HEX64.fullmatch(leaf["head"])
            and (leaf["case"] is None or isinstance(leaf["case"], str))):
        return "its chain head is not of the documented shape"
    if not (isinstance(proof, dict) and type(proof.get("index")) is int and isinstance(proof.get("path"), list)
            and all(isinstance(h, str) and _HEX64.fullmatch(h) for h in proof["path"])):
        return "its proof is not of the documented shape"
    root = root_from_proof(leaf_hash(leaf), proof["index"], statement["heads"], [bytes.fromhex(h) for h in proof["path"]])
    if root is None or root.hex() != statement["root"]:
        return "its chain head is not in the signed statement (the proof does not lead to the signed root)"
    return leaf["chain"], audit.Witnessed(leaf["seq"], leaf["head"], describe(statement))


def documents_in(data) -> list:
    """The checkpoints a file holds: one chain's or a public one, a list of them, or a bundle's
    ``audit-checkpoints.json`` (``{"checkpoints": [...]}``)."""
    if isinstance(data, dict) and isinstance(data.get("checkpoints"), list):
        return data["checkpoints"]
    return data if isinstance(data, list) else [data]


@dataclass
class AuditVerification:
    """``odr audit verify``: every chain (or one), each against every checkpoint of it in the
    database and in the given files; problems as the lines the command prints."""

    roots: list
    problems: list[str] = field(default_factory=list)
    chains: int = 0
    #: Checkpoints read from files.
    given: int = 0
    #: Checkpoints given in files: chain → what they witness.
    _given: dict[str, list[audit.Witnessed]] = field(default_factory=dict)
    #: Stored checkpoints checked: id → what is wrong (``None``: it holds).
    _stored: dict[int, str | None] = field(default_factory=dict)

    def add_file(self, name: str, data) -> None:
        """The checkpoints in a witness's file: each must hold, and each chain must agree with it."""
        for document in documents_in(data):
            self.given += 1
            if isinstance(document, dict) and "chain" in document:
                found = check_chain_document(document, self.roots)
                if isinstance(found, str):
                    self.problems.append(f"checkpoint in {name}: {found}")
                else:
                    chain, witnessed = found
                    self._given.setdefault(chain, []).append(
                        audit.Witnessed(witnessed.seq, witnessed.head, f"{witnessed.source} ({name})"))
            else:
                self._add_public(name, document)

    def _add_public(self, name: str, document) -> None:
        """A signed statement without heads: the database must hold it, with leaves that lead to its
        root; then those leaves are witnessed too."""
        if not isinstance(document, dict):
            self.problems.append(f"checkpoint in {name}: not an audit checkpoint")
            return
        statement = document.get("checkpoint")
        try:
            signature = base64.b64decode(document.get("signature") or "", validate=True)
        except (ValueError, TypeError):
            self.problems.append(f"checkpoint in {name}: its signature is not base64")
            return
        problem = statement_problem(statement, signature, self.roots)
        if problem:
            self.problems.append(f"checkpoint in {name}: {problem}")
            return
        sha = hashlib.sha256(audit.canonical_json(statement)).hexdigest()
        stored = find(sha)
        label = f"{describe(statement, sha)} ({name})"
        if stored is None or hashlib.sha256(stored.statement.encode()).hexdigest() != sha:
            self.problems.append(f"{label} is not in the database: it was removed")
            return
        problem = self.stored_problem(stored)
        if problem:
            self.problems.append(f"{label}: the database's copy {problem}")
            return
        for row in db.session.scalars(sa.select(CheckpointHead).where(CheckpointHead.checkpoint_id == stored.id)):
            self._given.setdefault(row.chain, []).append(audit.Witnessed(row.seq, row.head, label))

    @property
    def checkpoints(self) -> int:
        """Checkpoints checked: those in files and those in the database."""
        return self.given + len(self._stored)

    def stored_problem(self, checkpoint: AuditCheckpoint) -> str | None:
        """What is wrong with a stored checkpoint: its signature, or leaves that do not lead to its root."""
        if checkpoint.id not in self._stored:
            statement = _statement_of(checkpoint)
            problem = statement_problem(statement, checkpoint.signature, self.roots)
            if problem is None:
                hashes = _leaf_hashes(checkpoint.id)
                if len(hashes) != statement["heads"] or merkle_root(hashes).hex() != statement["root"]:
                    problem = "has chain heads that do not lead to its signed root (changed, added or removed)"
            self._stored[checkpoint.id] = problem
        return self._stored[checkpoint.id]

    def check_chain(self, chain: str) -> None:
        self.chains += 1
        witnessed = list(self._given.get(chain, ()))
        for row in db.session.scalars(sa.select(CheckpointHead).where(CheckpointHead.chain == chain)
                                      .order_by(CheckpointHead.checkpoint_id)):
            checkpoint = row.checkpoint
            label = describe(_statement_of(checkpoint) or {}, checkpoint.sha256)
            problem = self.stored_problem(checkpoint)
            if problem:
                self.problems.append(f"{audit.chain_label(chain)}: {label} in the database: {problem}")
            else:
                witnessed.append(audit.Witnessed(row.seq, row.head, label))
        broken = audit.verify_chain(chain, witnessed)
        if broken is not None:
            self.problems.append(str(broken))

    def check_all(self) -> None:
        """Every chain there is, or that a checkpoint names; and every stored checkpoint has its heads."""
        chains = set(audit.all_chains()) | set(self._given) \
            | set(db.session.scalars(sa.select(CheckpointHead.chain).distinct()))
        for chain in sorted(chains):
            self.check_chain(chain)
        heads = sa.select(sa.func.count(CheckpointHead.id)).where(
            CheckpointHead.checkpoint_id == AuditCheckpoint.id).scalar_subquery()
        for checkpoint in db.session.scalars(sa.select(AuditCheckpoint).where(AuditCheckpoint.heads != heads)):
            self.problems.append(f"{describe(_statement_of(checkpoint) or {}, checkpoint.sha256)} in the database: "
                                 f"{checkpoint.heads} chain heads signed, the database holds another number")


def _statement_of(checkpoint: AuditCheckpoint) -> dict | None:
    try:
        statement = json.loads(checkpoint.statement)
    except ValueError:
        return None
    return statement if isinstance(statement, dict) else None
