"""The tables of electronic service: a party's confirmed addresses and response state, each
served notice, and the staff's follow-up tasks (call the party, try another channel)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.cases.models import Case, CaseParty
from odr.extensions import db
from odr.outbox import OutboxMessage
from odr.timeutil import utcnow


class PartyService(db.Model):
    """One party's service address confirmation (送达地址确认书) and, for an invited respondent,
    how long they have to answer and whether the deadline passed without an answer."""

    __tablename__ = "party_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"), unique=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    #: Phone numbers (E.164) at which the party accepts service; empty until confirmed.
    phones: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: E-mail addresses at which the party accepts service.
    emails: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The party consented to electronic service.
    consent: Mapped[bool] = mapped_column(default=False)
    #: When the party confirmed (or last changed) the addresses; ``None``: not confirmed.
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: The invited party must answer (join or decline) by then; ``None``: nothing awaited.
    response_due_at: Mapped[datetime | None]
    #: Indexes (in the configured schedule) of the reminders already sent.
    reminders_done: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The deadline passed without an answer (recorded once, with the proof of service).
    no_response_at: Mapped[datetime | None]

    party: Mapped[CaseParty] = relationship()
    case: Mapped[Case] = relationship()

    __table_args__ = (
        # The reminder job reads the parties still awaited, by deadline.
        sa.Index("ix_party_service_awaited", "no_response_at", "response_due_at"),
    )

    def __repr__(self):
        return f"<PartyService party {self.party_id} confirmed={self.confirmed_at is not None}>"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None and self.consent


class ServiceRecord(db.Model):
    """One notice served to one address: what (its SHA-256), to whom, how, and what became of it.

    Sent is when it was queued; the carrier's acceptance is the outbox message's ``sent_at``
    (the SMTP or SMS sender took it), its refusal the message's ``last_error``.
    """

    __tablename__ = "service_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"))
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"), index=True)
    #: The recipient's account, when they have one (the link refuses every other account).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: What kind of notice: invitation, session_notice, proposal, document, arbitration_accepted,
    #: claim, defence, award, handoff, reminder, no_response.
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The notice's text as served.
    text: Mapped[str] = mapped_column(sa.Text)
    #: SHA-256 of the served document (the PDF when there is one, else the notice's text).
    document_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: ``sms`` or ``email``.
    channel: Mapped[str] = mapped_column(sa.String(8))
    address: Mapped[str] = mapped_column(sa.String(254))
    #: The secret of the per-recipient link ``/s/<token>``.
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Where the link leads (a path on the platform).
    target: Mapped[str] = mapped_column(sa.String(500))
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_message.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_opened_at: Mapped[datetime | None]
    #: A failed delivery a staff member dealt with (called, or served by the other channel).
    handled_at: Mapped[datetime | None]

    message: Mapped[OutboxMessage | None] = relationship()

    __table_args__ = (sa.Index("ix_service_record_case", "case_id", "id"),)

    def __repr__(self):
        return f"<ServiceRecord {self.id} {self.kind} {self.channel} to {self.address}>"

    @property
    def accepted_at(self) -> datetime | None:
        return self.message.sent_at if self.message is not None else None

    @property
    def error(self) -> str | None:
        if self.message is None or self.message.sent_at is not None:
            return None
        return self.message.last_error

    @property
    def failed(self) -> bool:
        return self.error is not None


class ServiceTask(db.Model):
    """Something the centre's staff must do to reach a party: call them (the reminder schedule's
    last step, or a delivery that failed on every channel), or serve by the other channel."""

    __tablename__ = "service_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"))
    #: ``call`` or ``other_channel``.
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: Why, for the staff member ("reminder day 5", "SMS to +86… failed: …").
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: What the staff member noted (reached, no answer …).
    note: Mapped[str | None] = mapped_column(sa.String(1000))

    party: Mapped[CaseParty] = relationship()

    def __repr__(self):
        return f"<ServiceTask {self.id} {self.kind} case {self.case_id}>"
