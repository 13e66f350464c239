"""A case handed to a court: which court, the bundle it received, and what the court did with it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import enum_column
from odr.cases.models import Case, Organization
from odr.extensions import db
from odr.timeutil import utcnow


class HandoffKind(enum.StrEnum):
    confirmation = "confirmation"  # a settlement, for judicial confirmation (司法确认)
    filing = "filing"              # mediation failed: the claimant's filing package (立案材料)
    enforcement = "enforcement"    # an agreement or award not performed: application for enforcement (申请强制执行)


class HandoffStatus(enum.StrEnum):
    sent = "sent"
    received = "received"
    docketed = "docketed"
    decided = "decided"


class CourtResult(enum.StrEnum):
    confirmed = "confirmed"
    not_confirmed = "not_confirmed"
    judgment = "judgment"
    withdrawn = "withdrawn"
    # An application for enforcement: the court took it up (立案执行), enforced it in full (执行完毕),
    # or refused it (不予执行, with the court's reason in ``result_note``).
    enforcement_accepted = "enforcement_accepted"
    executed = "executed"
    enforcement_refused = "enforcement_refused"


#: The results a court may report on an application for enforcement (and only on one).
ENFORCEMENT_RESULTS = (CourtResult.enforcement_accepted, CourtResult.executed, CourtResult.enforcement_refused)


def results_for(kind: HandoffKind) -> tuple[CourtResult, ...]:
    """The results a court may report on a hand-off of ``kind``."""
    if kind is HandoffKind.enforcement:
        return ENFORCEMENT_RESULTS + (CourtResult.withdrawn,)
    return tuple(r for r in CourtResult if r not in ENFORCEMENT_RESULTS)

#: A result after which the court may still report another (the one it may be followed by).
FOLLOWED_BY = {CourtResult.enforcement_accepted: (CourtResult.executed, CourtResult.enforcement_refused)}


class Handoff(db.Model):
    __tablename__ = "court_handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"))
    kind: Mapped[HandoffKind] = mapped_column(enum_column(HandoffKind))
    status: Mapped[HandoffStatus] = mapped_column(enum_column(HandoffStatus), default=HandoffStatus.sent)
    #: The bundle as written at hand-off, stored by its SHA-256.
    bundle_sha256: Mapped[str] = mapped_column(sa.String(64))
    bundle_size: Mapped[int] = mapped_column(sa.BigInteger)
    docket_number: Mapped[str | None] = mapped_column(sa.String(64))
    result: Mapped[CourtResult | None] = mapped_column(enum_column(CourtResult))
    result_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    docketed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    court: Mapped[Organization] = relationship()

    __table_args__ = (sa.Index("ix_court_handoff_inbox", "court_id", "status", "created_at"),)
