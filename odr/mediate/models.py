"""The mediation stage: mediator profiles, assignments, sessions, the case room, proposals, outcomes.

Organisations themselves are ``odr.cases.models.Organization`` (the directory lists the
mediation kinds); a mediator is a ``User`` holding ``Role.mediator`` in an organisation, with
a :class:`MediatorProfile` for what the directory and the assignment suggestion need.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import User, enum_column
from odr.cases.models import Case, Organization
from odr.extensions import db
from odr.timeutil import utcnow


# --- mediators and assignment -------------------------------------------------------------

class MediatorProfile(db.Model):
    """What a mediator offers: specialties (case categories), languages, a short introduction."""

    __tablename__ = "mediator_profile"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    #: Case categories (``Category`` values), space-separated, e.g. ``"neighbour property"``.
    specialties: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Language codes, space-separated, e.g. ``"zh en"``.
    languages: Mapped[str] = mapped_column(sa.String(100), default="zh")
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    #: Staff can take a mediator off new assignments (leave, full diary) without removing them.
    accepting: Mapped[bool] = mapped_column(default=True)
    #: Open cases this mediator can carry; the suggestion ranks fuller mediators lower.
    capacity: Mapped[int] = mapped_column(default=10)

    user: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()

    @property
    def specialty_list(self) -> list[str]:
        return self.specialties.split()

    @property
    def language_list(self) -> list[str]:
        return self.languages.split()


class AssignmentStatus(enum.Enum):
    offered = "offered"      # waiting for the mediator's answer
    accepted = "accepted"    # the mediator handles the case
    declined = "declined"    # the mediator said no (with a reason)
    expired = "expired"      # no answer before the deadline: escalated to staff
    replaced = "replaced"    # accepted once, later replaced (a party asked, or staff changed it)
    withdrawn = "withdrawn"  # staff took the offer back before an answer


class Assignment(db.Model):
    """An offer of a case to a mediator, and its answer. A case has at most one open offer."""

    __tablename__ = "mediation_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"))
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    offered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    status: Mapped[AssignmentStatus] = mapped_column(enum_column(AssignmentStatus), default=AssignmentStatus.offered)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The mediator must answer before this; afterwards the offer expires and staff are told.
    answer_by: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    #: Why the mediator declined, or why the assignment ended.
    reason: Mapped[str | None] = mapped_column(sa.Text)

    case: Mapped[Case] = relationship()
    organization: Mapped[Organization] = relationship()
    mediator: Mapped[User] = relationship(foreign_keys=[mediator_id])
    offered_by: Mapped[User] = relationship(foreign_keys=[offered_by_id])

    __table_args__ = (sa.Index("ix_mediation_assignment_open", "status", "answer_by"),)


class ChangeRequest(db.Model):
    """A party's request for another mediator: once per party per case, with a reason."""

    __tablename__ = "mediator_change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: The mediator the party asked to replace.
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when staff have assigned someone else.
    resolved_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    mediator: Mapped[User] = relationship(foreign_keys=[mediator_id])

    __table_args__ = (sa.UniqueConstraint("case_id", "user_id", name="one_change_per_party"),)


class MediatorRating(db.Model):
    """A party's rating of the mediator once the case has closed: 1–5 stars and a comment."""

    __tablename__ = "mediator_rating"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)


# --- sessions -----------------------------------------------------------------------------

class SessionMode(enum.Enum):
    video = "video"
    in_person = "in_person"


class SessionStatus(enum.Enum):
    proposed = "proposed"    # slots offered, parties picking
    scheduled = "scheduled"  # a slot every party can make is fixed
    held = "held"            # took place; attendance recorded
    cancelled = "cancelled"


class MediationSession(db.Model):
    __tablename__ = "mediation_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    mode: Mapped[SessionMode] = mapped_column(enum_column(SessionMode))
    #: Address for an in-person session.
    location: Mapped[str | None] = mapped_column(sa.String(300))
    minutes: Mapped[int] = mapped_column(default=60)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus), default=SessionStatus.proposed)
    #: UTC start, set when scheduled.
    starts_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]
    #: When the parties who had not picked a time yet were reminded (served).
    pick_reminded_at: Mapped[datetime | None]
    #: Who recorded the attendance: ``mediator``, or ``platform`` (from the video room's seats).
    attendance_by: Mapped[str | None] = mapped_column(sa.String(16))

    case: Mapped[Case] = relationship()
    mediator: Mapped[User] = relationship()
    slots: Mapped[list[SessionSlot]] = relationship(back_populates="session", order_by="SessionSlot.starts_at",
                                                    cascade="all, delete-orphan")
    attendance: Mapped[list[Attendance]] = relationship(back_populates="session", cascade="all, delete-orphan")

    __table_args__ = (sa.Index("ix_mediation_session_due", "status", "starts_at"),)


class SessionSlot(db.Model):
    """A time the mediator offers; parties say which ones they can make."""

    __tablename__ = "mediation_session_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_session.id"), index=True)
    starts_at: Mapped[datetime]

    session: Mapped[MediationSession] = relationship(back_populates="slots")
    picks: Mapped[list[SlotPick]] = relationship(back_populates="slot", cascade="all, delete-orphan")


class SlotPick(db.Model):
    __tablename__ = "mediation_slot_pick"

    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_session_slot.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)

    slot: Mapped[SessionSlot] = relationship(back_populates="picks")


class Attendance(db.Model):
    """Who came to a held session; ``present=False`` is a recorded no-show."""

    __tablename__ = "mediation_attendance"

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_session.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    present: Mapped[bool]
    #: For a no-show: the session notice was served to the party (the proof is in the audit entry);
    #: only such no-shows count towards ending the mediation for non-attendance.
    notice_served: Mapped[bool | None]

    session: Mapped[MediationSession] = relationship(back_populates="attendance")
    user: Mapped[User] = relationship()


class NonAttendance(db.Model):
    """The mediation ended as failed because a party did not come to its sessions; the claimant
    is offered the court hand-off."""

    __tablename__ = "mediation_non_attendance"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    #: The party who did not come.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    side: Mapped[str] = mapped_column(sa.String(20))
    #: Their no-shows with the session notice served.
    no_shows: Mapped[int]
    ended_at: Mapped[datetime]
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))


# --- the case room --------------------------------------------------------------------------

class RoomChannel(enum.Enum):
    """Who a room message is for: everyone, or the mediator with one side only."""

    joint = "joint"
    claimant = "claimant"
    respondent = "respondent"


class RoomMessage(db.Model):
    __tablename__ = "mediation_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"))
    channel: Mapped[RoomChannel] = mapped_column(enum_column(RoomChannel))
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sender: Mapped[User] = relationship()

    __table_args__ = (sa.Index("ix_mediation_message_case_channel", "case_id", "channel", "id"),)


# --- proposals ------------------------------------------------------------------------------

class ProposalStatus(enum.Enum):
    open = "open"
    accepted = "accepted"        # every party it was put to said yes
    rejected = "rejected"        # a party said no
    countered = "countered"      # answered with a counter-proposal
    withdrawn = "withdrawn"      # its author took it back


class Proposal(db.Model):
    """A settlement offer by a party or the mediator; a counter-proposal points to the one it answers."""

    __tablename__ = "mediation_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: ``claimant``, ``respondent`` or ``mediator``.
    author_role: Mapped[str] = mapped_column(sa.String(16))
    answers_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mediation_proposal.id"))
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    terms: Mapped[str] = mapped_column(sa.Text)
    #: Instalments: ``[{"due": "2026-12-01", "amount": "500.00"}, …]``; empty means one payment.
    schedule: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The offer stands until this date (inclusive).
    respond_by: Mapped[datetime | None]
    status: Mapped[ProposalStatus] = mapped_column(enum_column(ProposalStatus), default=ProposalStatus.open)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    author: Mapped[User] = relationship()
    answers: Mapped[Proposal | None] = relationship(remote_side=[id])
    responses: Mapped[list[ProposalResponse]] = relationship(back_populates="proposal",
                                                             cascade="all, delete-orphan")


class ProposalResponse(db.Model):
    __tablename__ = "mediation_proposal_response"

    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_proposal.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    side: Mapped[str] = mapped_column(sa.String(16))
    accepted: Mapped[bool]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="responses")


# --- outcomes -------------------------------------------------------------------------------

class OutcomeKind(enum.Enum):
    agreement = "agreement"                # 调解协议书
    undisputed_facts = "undisputed_facts"  # 无争议事实记载


class OutcomeStatus(enum.Enum):
    draft = "draft"          # the mediator is editing
    approval = "approval"    # put to the parties; each approves or asks for changes
    approved = "approved"    # every party approved this version
    superseded = "superseded"


class OutcomeDocument(db.Model):
    """The agreement or the record of undisputed facts, one row per version the mediator puts out."""

    __tablename__ = "mediation_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    kind: Mapped[OutcomeKind] = mapped_column(enum_column(OutcomeKind))
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[OutcomeStatus] = mapped_column(enum_column(OutcomeStatus), default=OutcomeStatus.draft)
    #: The document's sections as the template defines them (facts, terms, payment, default …).
    content: Mapped[dict] = mapped_column(sa.JSON)
    #: Agreements: the proposal it was drafted from, if any.
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("mediation_proposal.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]

    approvals: Mapped[list[OutcomeApproval]] = relationship(back_populates="document",
                                                            cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("case_id", "kind", "version", name="one_row_per_version"),)


class OutcomeApproval(db.Model):
    """A party's answer to a version: approved, or changes asked for (with what to change)."""

    __tablename__ = "mediation_outcome_approval"

    document_id: Mapped[int] = mapped_column(sa.ForeignKey("mediation_outcome.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    side: Mapped[str] = mapped_column(sa.String(16))
    approved: Mapped[bool]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[OutcomeDocument] = relationship(back_populates="approvals")
