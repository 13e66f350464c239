"""An arbitration: its basis, the commission and fee, the tribunal, the parties' statements, the hearing.

One :class:`Arbitration` per case, made when a party asks for arbitration. The arbitrators are
:class:`ArbitratorSeat` rows (one, or three for large claims); a seat that a party challenged
successfully, or whose arbitrator declared a conflict, is vacated and filled again, so a case keeps
the history of its tribunal. The award itself is a signed document
(``odr.documents``, kind ``arbitral_award``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User, enum_column
from odr.cases.models import ArbitrationBasis, Case, Organization
from odr.extensions import db
from odr.timeutil import utcnow


class ArbitrationStatus(enum.StrEnum):
    #: A party asked; the basis is not established yet (agreement being signed, clause to confirm).
    requested = "requested"
    #: Commission staff found the uploaded clause does not cover the dispute; a party may ask again.
    rejected = "rejected"
    #: The basis holds and the case is with the commission, which has not accepted it yet.
    filed = "filed"
    #: The commission accepted the case and set the fee: tribunal, statements, hearing, award.
    accepted = "accepted"
    #: The award is signed and sealed.
    awarded = "awarded"


class Procedure(enum.StrEnum):
    #: An oral hearing in the video room, the arbitrator in charge.
    hearing = "hearing"
    #: Decided on the statements and evidence alone (small claims).
    documents_only = "documents_only"


class Arbitration(db.Model):
    __tablename__ = "arbitration"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), primary_key=True)
    commission_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    status: Mapped[ArbitrationStatus] = mapped_column(enum_column(ArbitrationStatus))
    basis: Mapped[ArbitrationBasis] = mapped_column(enum_column(ArbitrationBasis))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: For a clause: the uploaded contract (stored by SHA-256 in the uploads folder) and the clause's words.
    contract_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    contract_filename: Mapped[str | None] = mapped_column(sa.String(120))
    contract_mimetype: Mapped[str | None] = mapped_column(sa.String(64))
    clause_text: Mapped[str] = mapped_column(sa.Text, default="")
    #: Commission staff's answer to the clause (confirmed, or rejected with a reason).
    basis_decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    basis_decided_at: Mapped[datetime | None]
    rejection_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: Set when the commission accepts the case.
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    fee: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    tribunal_size: Mapped[int | None]
    procedure: Mapped[Procedure | None] = mapped_column(enum_column(Procedure))
    #: Parties name their arbitrator before this; then the commission appoints.
    nomination_due: Mapped[datetime | None]
    claim_due: Mapped[datetime | None]
    claim_text: Mapped[str] = mapped_column(sa.Text, default="")
    claim_submitted_at: Mapped[datetime | None]
    defence_due: Mapped[datetime | None]
    defence_text: Mapped[str] = mapped_column(sa.Text, default="")
    defence_submitted_at: Mapped[datetime | None]
    #: When the hearing is to be held (the room is opened by the presiding arbitrator).
    hearing_at: Mapped[datetime | None]
    hearing_room_id: Mapped[int | None] = mapped_column(sa.ForeignKey("video_room.id"))

    case: Mapped[Case] = relationship()
    commission: Mapped[Organization] = relationship()
    seats: Mapped[list[ArbitratorSeat]] = relationship(back_populates="arbitration", order_by="ArbitratorSeat.id",
                                                       cascade="all, delete-orphan")

    def __repr__(self):
        return f"<Arbitration case {self.case_id} {self.status.value}>"

    @property
    def active_seats(self) -> list[ArbitratorSeat]:
        return [s for s in self.seats if s.active]

    def seat_of(self, user) -> ArbitratorSeat | None:
        return next((s for s in self.active_seats if s.user_id == getattr(user, "id", None)), None)

    def chair(self) -> ArbitratorSeat | None:
        """The sole or presiding arbitrator's seat, who runs the procedure and drafts the award."""
        return next((s for s in self.active_seats if s.role in (SeatRole.sole, SeatRole.presiding)), None)

    def is_chair(self, user) -> bool:
        seat = self.chair()
        return seat is not None and seat.user_id == getattr(user, "id", None)

    def nominations(self) -> dict[str, Nomination]:
        """The arbitrator each party named, by side."""
        rows = db.session.scalars(sa.select(Nomination).where(Nomination.case_id == self.case_id))
        return {n.side: n for n in rows}

    def nominations_closed(self) -> bool:
        """Both parties named their arbitrator, or their time to do so is over."""
        return len(self.nominations()) == 2 or (self.nomination_due is not None and utcnow() >= self.nomination_due)

    def open_challenges(self) -> list[Challenge]:
        return [c for s in self.seats for c in s.challenges if c.decided_at is None]

    def tribunal_formed(self) -> bool:
        """Every seat is filled by an arbitrator who declared independence, and no challenge is pending."""
        seats = self.active_seats
        return (self.tribunal_size is not None and len(seats) == self.tribunal_size
                and all(s.status is SeatStatus.serving for s in seats) and not self.open_challenges())

    def open_seats(self) -> list[tuple[SeatRole, str | None]]:
        """The seats still to fill, each with the side whose member it is (in a tribunal of three)."""
        filled = self.active_seats
        if self.tribunal_size == 1:
            return [] if filled else [(SeatRole.sole, None)]
        # The parties' members first, so the commission's choice of presiding arbitrator cannot take a
        # party's nominee away from them.
        out = [(SeatRole.member, side) for side in ("claimant", "respondent")
               if not any(s.role is SeatRole.member and s.side == side for s in filled)]
        if not any(s.role is SeatRole.presiding for s in filled):
            out.append((SeatRole.presiding, None))
        return out

    def vacated(self) -> set[int]:
        """Arbitrators who left this case (recused or removed): not appointed again."""
        return {s.user_id for s in self.seats if not s.active}


class SeatRole(enum.StrEnum):
    sole = "sole"
    presiding = "presiding"
    member = "member"


class SeatStatus(enum.StrEnum):
    #: Appointed; the arbitrator has not declared yet.
    appointed = "appointed"
    #: Declared independent (possibly disclosing circumstances the parties may challenge on).
    serving = "serving"
    #: Declared a conflict and stood down.
    recused = "recused"
    #: Removed after a party's challenge was upheld.
    removed = "removed"


class ArbitratorSeat(db.Model):
    __tablename__ = "arbitrator_seat"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("arbitration.case_id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    role: Mapped[SeatRole] = mapped_column(enum_column(SeatRole))
    #: In a tribunal of three, the side whose member this is (named by that side or, failing that,
    #: chosen for it by the commission).
    side: Mapped[str | None] = mapped_column(sa.String(20))
    #: ``claimant``, ``respondent``, ``parties`` (both named the same person) or ``commission``.
    chosen_by: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[SeatStatus] = mapped_column(enum_column(SeatStatus), default=SeatStatus.appointed)
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)
    declared_at: Mapped[datetime | None]
    #: What the arbitrator discloses (relations with a party or counsel, earlier involvement …).
    disclosure: Mapped[str] = mapped_column(sa.Text, default="")
    ended_at: Mapped[datetime | None]

    arbitration: Mapped[Arbitration] = relationship(back_populates="seats")
    user: Mapped[User] = relationship()
    challenges: Mapped[list[Challenge]] = relationship(back_populates="seat", order_by="Challenge.id")

    @property
    def active(self) -> bool:
        return self.status in (SeatStatus.appointed, SeatStatus.serving)


class Nomination(db.Model):
    """The arbitrator a party names: for a sole arbitrator, their choice (the same person named by
    both is jointly chosen); for a tribunal of three, their own party-appointed member."""

    __tablename__ = "arbitrator_nomination"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("arbitration.case_id"), primary_key=True)
    side: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class Challenge(db.Model):
    """A party's challenge of an arbitrator (申请回避), decided by the commission."""

    __tablename__ = "arbitrator_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(sa.ForeignKey("arbitrator_seat.id"), index=True)
    side: Mapped[str] = mapped_column(sa.String(20))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    upheld: Mapped[bool | None]
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")

    seat: Mapped[ArbitratorSeat] = relationship(back_populates="challenges")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
