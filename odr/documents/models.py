"""Documents being signed: one row per version, one row per person who must sign it; and the
signed checkpoints of the audit chains (:mod:`odr.documents.checkpoints`).

A version's file changes with each signature (each is an incremental update), but every file
ever current is kept, by its SHA-256, in the document store (:mod:`odr.documents.storage`).
``current_sha256`` moves only when a signature is complete and in the same transaction as its
audit entry, so a crash mid-signing leaves the previous file current.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User, enum_column
from odr.cases import audit
from odr.cases.models import Case
from odr.extensions import db
from odr.timeutil import utcnow


class SigningStatus(enum.StrEnum):
    signing = "signing"        # collecting signatures
    complete = "complete"      # everyone signed and the platform sealed it: immutable
    superseded = "superseded"  # replaced by a new version before it was complete


class SignerStatus(enum.StrEnum):
    pending = "pending"    # has not started
    prepared = "prepared"  # certificate issued, the document prepared; waiting for the browser's signature
    signed = "signed"


class SignedDocument(db.Model):
    """One version of a document that several people sign, then the platform seals."""

    __tablename__ = "signed_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    #: What it is (``mediation_agreement``, ``undisputed_facts``, ``award`` …): completion hooks
    #: and labels are looked up by it.
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The row it was rendered from, e.g. ``mediation_outcome:12``.
    subject: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    lang: Mapped[str] = mapped_column(sa.String(8), default="zh")
    status: Mapped[SigningStatus] = mapped_column(enum_column(SigningStatus), default=SigningStatus.signing)
    unsigned_sha256: Mapped[str] = mapped_column(sa.String(64))
    current_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    superseded_reason: Mapped[str] = mapped_column(sa.Text, default="")

    case: Mapped[Case] = relationship()
    signers: Mapped[list[DocumentSigner]] = relationship(
        back_populates="document", order_by="DocumentSigner.position", cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("case_id", "kind", "version", name="one_signed_row_per_version"),)

    def signer_for(self, user) -> DocumentSigner | None:
        """The signature ``user`` gives: their own, or that of the party whose agent they are with the
        ``sign`` scope (``odr.cases.representation.signs_for``; helpers never sign)."""
        from odr.cases.representation import signs_for

        uid = getattr(user, "id", None)
        own = next((s for s in self.signers if s.user_id == uid), None)
        if own is not None or uid is None:
            return own
        party_user = signs_for(self.case, user)
        return next((s for s in self.signers if party_user is not None and s.user_id == party_user), None)

    @property
    def known_files(self) -> set[str]:
        """Every file this version has been: unsigned, then after each signature (and sealed)."""
        return {self.unsigned_sha256, self.current_sha256} | {s.signed_sha256 for s in self.signers if s.signed_sha256}

    @property
    def waiting_for(self) -> list[DocumentSigner]:
        return [s for s in self.signers if s.status is not SignerStatus.signed]


class DocumentSigner(db.Model):
    """A person who must sign a document version, and their signature's progress."""

    __tablename__ = "document_signer"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("signed_document.id"), index=True)
    #: Order on the page: where the visible stamp goes.
    position: Mapped[int]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: In what capacity: claimant, respondent, mediator, arbitrator …
    role: Mapped[str] = mapped_column(sa.String(16))
    #: The name as printed on the stamp and in the certificate.
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[SignerStatus] = mapped_column(enum_column(SignerStatus), default=SignerStatus.pending)
    #: The browser's public key (DER SubjectPublicKeyInfo) and the certificate issued for it.
    public_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    cert_der: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    cert_expires_at: Mapped[datetime | None]
    # The prepared state between the two requests of a signature (see odr.documents.pades).
    base_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    prepared_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    to_be_signed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    document_digest: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    reserved_start: Mapped[int | None]
    reserved_end: Mapped[int | None]
    prepared_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    signed_sha256: Mapped[str | None] = mapped_column(sa.String(64))

    document: Mapped[SignedDocument] = relationship(back_populates="signers")
    user: Mapped[User] = relationship()

    __table_args__ = (sa.UniqueConstraint("document_id", "position", name="one_signer_per_slot"),)


class CheckpointReason(enum.StrEnum):
    periodic = "periodic"  # the periodic job: every chain that moved since the last one
    handoff = "handoff"    # a case handed to a court: its chain as the bundle holds it


@audit.append_only
class AuditCheckpoint(db.Model):
    """A statement signed by the platform seal: the Merkle root over the heads of some audit chains
    (:class:`CheckpointHead`, one leaf each) at a time. Written once, never changed."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The time the statement gives: when the heads were read.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[CheckpointReason] = mapped_column(enum_column(CheckpointReason))
    #: How many chains' heads it holds (the Merkle tree's leaves).
    heads: Mapped[int]
    root: Mapped[str] = mapped_column(sa.String(64))
    #: SHA-256 of ``statement``: how witnesses outside name the checkpoint.
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: The signed bytes: the statement's canonical JSON (UTF-8).
    statement: Mapped[str] = mapped_column(sa.Text)
    #: Detached CMS signature (DER) of ``statement`` by the platform seal, with an RFC 3161
    #: signature timestamp when a timestamp authority is configured.
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: The timestamp authority's time, when timestamped.
    timestamped_at: Mapped[datetime | None]
    #: A periodic checkpoint: the last audit event it read (the next one reads on from there).
    events_through: Mapped[int | None] = mapped_column(sa.BigInteger)

    def __repr__(self):
        return f"<AuditCheckpoint {self.id} {self.reason} {self.heads} heads {self.sha256[:12]}>"


@audit.append_only
class CheckpointHead(db.Model):
    """One chain's head in a checkpoint: the leaf at ``position`` of its Merkle tree."""

    __tablename__ = "audit_checkpoint_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_checkpoint.id"))
    position: Mapped[int]
    chain: Mapped[str] = mapped_column(sa.String(32))
    #: The chain's case (none for the platform chain): whose parties and court receive it.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"))
    #: The case's number as the leaf states it.
    case_number: Mapped[str | None] = mapped_column(sa.String(20))
    #: The chain had this many entries; the last one's hash was ``head``.
    seq: Mapped[int]
    head: Mapped[str] = mapped_column(sa.String(64))

    checkpoint: Mapped[AuditCheckpoint] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("checkpoint_id", "position", name="one_head_per_leaf"),
        sa.Index("ix_audit_checkpoint_head_chain", "chain", "seq"),
        sa.Index("ix_audit_checkpoint_head_case", "case_id", "id"),
    )

    def __repr__(self):
        return f"<CheckpointHead {self.chain}#{self.seq} in {self.checkpoint_id}>"
