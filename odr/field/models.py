"""Grids, the workers on duty in them, and the dispatches that send a worker to a dispute."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import Role, User, enum_column
from odr.cases.models import Case, Organization
from odr.extensions import db
from odr.timeutil import utcnow


class Grid(db.Model):
    """An area of a district that one organisation answers for, with its workers."""

    __tablename__ = "field_grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: The organisation responsible (its staff run the command room for this grid).
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    #: Named places in the grid (streets, estates, markets): a transfer naming one lands here.
    places: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: A simple polygon, ``[[lat, lng], …]`` (at least three corners), or empty.
    polygon: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()
    workers: Mapped[list[GridWorker]] = relationship(back_populates="grid", cascade="all, delete-orphan")

    def __repr__(self):
        return f"<Grid {self.id} {self.name}>"

    def can_command(self, user) -> bool:
        """Staff of the responsible organisation, and admins, dispatch in this grid."""
        return user.is_authenticated and (user.is_admin or self.organization_id in user.organizations_for(Role.staff))


class GridWorker(db.Model):
    """A grid worker's membership of a grid, and whether they are on duty now."""

    __tablename__ = "field_grid_worker"

    grid_id: Mapped[int] = mapped_column(sa.ForeignKey("field_grid.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    on_duty: Mapped[bool] = mapped_column(default=False)
    #: When they last went on or off duty.
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    grid: Mapped[Grid] = relationship(back_populates="workers")
    user: Mapped[User] = relationship()

    def __repr__(self):
        return f"<GridWorker {self.user_id}@{self.grid_id} {'on' if self.on_duty else 'off'}>"


class DispatchStatus(enum.Enum):
    #: No worker yet (nobody on duty, or no grid matched): the command room must dispatch.
    waiting = "waiting"
    #: Sent to a worker who has not accepted yet.
    dispatched = "dispatched"
    accepted = "accepted"
    contacted = "contacted"
    on_scene = "on_scene"
    resolved = "resolved"
    referred = "referred"


OPEN_STATUSES = (DispatchStatus.waiting, DispatchStatus.dispatched, DispatchStatus.accepted,
                 DispatchStatus.contacted, DispatchStatus.on_scene)
#: The order a dispatch moves in; a step is recorded once.
STEPS = {DispatchStatus.accepted: DispatchStatus.dispatched, DispatchStatus.contacted: DispatchStatus.accepted,
         DispatchStatus.on_scene: DispatchStatus.contacted}


class Dispatch(db.Model):
    """A transferred dispute sent out to a grid worker; its times are measured from ``received_at``
    against the 1-3-8 targets (accept, contact the party, be on the scene)."""

    __tablename__ = "field_dispatch"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    #: None when no grid matched the place: the command room picks the worker.
    grid_id: Mapped[int | None] = mapped_column(sa.ForeignKey("field_grid.id"))
    worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The organisation whose command room sees it (the grid's, else the transfer's).
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"))
    api_client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_client.id"))
    status: Mapped[DispatchStatus] = mapped_column(enum_column(DispatchStatus), default=DispatchStatus.waiting)
    #: Where, as the sender gave it.
    place: Mapped[str | None] = mapped_column(sa.String(200))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    received_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    contacted_at: Mapped[datetime | None]
    on_scene_at: Mapped[datetime | None]
    #: Where the worker's phone said they were when checking in (when they allowed it).
    scene_lat: Mapped[float | None]
    scene_lng: Mapped[float | None]
    #: Metres between the check-in and the place given, when both are known.
    scene_distance_m: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    #: When it was left unaccepted past the acceptance target and raised in the command room.
    escalated_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    grid: Mapped[Grid | None] = relationship()
    worker: Mapped[User | None] = relationship()

    __table_args__ = (
        # The command room's live list and the escalation job: open dispatches by arrival.
        sa.Index("ix_field_dispatch_open", "organization_id", "closed_at", "received_at"),
        sa.Index("ix_field_dispatch_received", "received_at"),
        # Every open dispatch (the dashboard's live table for a center's manager or an admin).
        sa.Index("ix_field_dispatch_closed", "closed_at", "received_at"),
        sa.CheckConstraint("(status = 'waiting') OR worker_id IS NOT NULL", name="worker_when_dispatched"),
    )

    def __repr__(self):
        return f"<Dispatch {self.id} case {self.case_id} {self.status.value}>"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def can_work(self, user) -> bool:
        """The worker it is dispatched to does its steps."""
        return user.is_authenticated and self.worker_id == user.id

    def can_see(self, user) -> bool:
        """Its worker, the workers of its grid, and the command room of its organisation."""
        if not user.is_authenticated:
            return False
        if self.can_work(user) or self.can_command(user):
            return True
        return self.grid_id is not None and db.session.scalar(
            sa.select(GridWorker.user_id).where(GridWorker.grid_id == self.grid_id, GridWorker.user_id == user.id)
        ) is not None

    def can_command(self, user) -> bool:
        return user.is_authenticated and (user.is_admin or self.organization_id in user.organizations_for(Role.staff))


class IdentityCheck(db.Model):
    """A party who signed the on-site agreement without a phone code: the worker checked their ID
    card in person and recorded its number (kept as ``odr.identity`` keeps numbers: encrypted, shown
    masked, found by a keyed digest), and why not by phone when the party has one on record."""

    __tablename__ = "field_identity_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The on-site agreement and the signer's place in it.
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("signed_document.id", ondelete="CASCADE"))
    position: Mapped[int]
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"), index=True)
    #: The worker who checked the card.
    checked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: Fernet token of the resident ID number.
    id_number_encrypted: Mapped[str] = mapped_column(sa.Text)
    #: The number as shown (``1101**********1234``).
    id_number_masked: Mapped[str] = mapped_column(sa.String(18))
    #: Keyed hash of the number (not unique: one person may settle several disputes).
    id_number_digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: Why no code went to the phone on record (``None``: the party has no phone on record).
    no_code_reason: Mapped[str | None] = mapped_column(sa.Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)

    checked_by: Mapped[User] = relationship()

    __table_args__ = (sa.UniqueConstraint("document_id", "position"),)

    def __repr__(self):
        return f"<IdentityCheck document {self.document_id} signer {self.position}>"
