"""A direct negotiation between the parties of a case and the offers they exchange."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User, enum_column
from odr.cases.models import Case
from odr.extensions import db
from odr.timeutil import utcnow


class NegotiationStatus(enum.Enum):
    #: The parties exchange offers.
    open = "open"
    #: An offer was accepted; the settlement agreement is being signed.
    agreed = "agreed"
    #: The agreement was sealed and the case settled.
    settled = "settled"
    #: Time ran out; the case went on to mediation.
    timed_out = "timed_out"
    #: The case left the assessment some other way (a path chosen, withdrawn, closed).
    ended = "ended"


class OfferStatus(enum.Enum):
    open = "open"
    accepted = "accepted"
    rejected = "rejected"
    countered = "countered"
    withdrawn = "withdrawn"


class Negotiation(db.Model):
    """A case's one direct negotiation, from its first offer to its end."""

    __tablename__ = "negotiation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    #: The party who made the first offer.
    started_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the negotiation ends unless an offer was accepted (``NEGOTIATION_DAYS`` after the start).
    deadline_at: Mapped[datetime]
    status: Mapped[NegotiationStatus] = mapped_column(enum_column(NegotiationStatus), default=NegotiationStatus.open)
    #: The settlement agreement's content (language, title, sections, amount) once an offer was accepted.
    agreement: Mapped[dict | None] = mapped_column(sa.JSON)
    ended_at: Mapped[datetime | None]
    #: Opened inside mediation, because both parties chose to negotiate before the mediator
    #: (:class:`NegotiationChoice`); when it ends unsettled the case stays with the mediator.
    in_mediation: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    case: Mapped[Case] = relationship()
    offers: Mapped[list[Offer]] = relationship(back_populates="negotiation", order_by="Offer.id",
                                               cascade="all, delete-orphan")

    __table_args__ = (
        # The deadline job reads the running negotiations in deadline order.
        sa.Index("ix_negotiation_status_deadline", "status", "deadline_at"),
        sa.CheckConstraint("(status IN ('open', 'agreed')) = (ended_at IS NULL)", name="ended_when_over"),
    )

    def __repr__(self):
        return f"<Negotiation {self.id} case {self.case_id} {self.status.value}>"


class Offer(db.Model):
    """One party's offer to the other; a counter-offer points to the offer it answers."""

    __tablename__ = "negotiation_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    negotiation_id: Mapped[int] = mapped_column(sa.ForeignKey("negotiation.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: ``claimant`` or ``respondent``: the side the author acts for.
    side: Mapped[str] = mapped_column(sa.String(16))
    answers_id: Mapped[int | None] = mapped_column(sa.ForeignKey("negotiation_offer.id"))
    #: What is offered in yuan, if money is involved.
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    terms: Mapped[str] = mapped_column(sa.Text)
    #: A covering letter (often started from a letter template).
    message: Mapped[str] = mapped_column(sa.Text, default="")
    #: Instalments: ``[{"due": "2026-12-01", "amount": "500.00"}, …]``; empty means one payment.
    schedule: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The offer stands until this date (inclusive, the platform's time zone).
    respond_by: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus), default=OfferStatus.open)
    #: Who accepted or rejected it, and what they said.
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    answer_comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    negotiation: Mapped[Negotiation] = relationship(back_populates="offers")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    answers: Mapped[Offer | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
        sa.CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_when_answered"),
    )

    def __repr__(self):
        return f"<Offer {self.id} by {self.side} {self.status.value}>"


class NegotiationChoice(db.Model):
    """A party chose to negotiate directly for a while before the mediator steps in (one per side)."""

    __tablename__ = "negotiation_choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"))
    #: ``claimant`` or ``respondent``.
    side: Mapped[str] = mapped_column(sa.String(16))
    #: Who chose (the party, or their agent).
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("case_id", "side"),)

    def __repr__(self):
        return f"<NegotiationChoice case {self.case_id} {self.side}>"
