"""Documents being signed: one row per version, one row per person who must sign it.

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
        uid = getattr(user, "id", None)
        return next((s for s in self.signers if s.user_id == uid), None)

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
