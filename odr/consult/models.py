"""Consultations with on-duty consultants, their messages and attachments; the knowledge base."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import Role, User, enum_column
from odr.cases.models import Case, Category
from odr.extensions import db
from odr.timeutil import utcnow


class ConsultationStatus(enum.Enum):
    waiting = "waiting"
    active = "active"
    ended = "ended"


class Consultation(db.Model):
    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The person asking.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    topic: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[Category] = mapped_column(enum_column(Category))
    status: Mapped[ConsultationStatus] = mapped_column(enum_column(ConsultationStatus))
    consultant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: The case this consultation turned into, if any.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    taken_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(sa.Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    consultant: Mapped[User | None] = relationship(foreign_keys=[consultant_id])
    case: Mapped[Case | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
        sa.CheckConstraint("status != 'active' OR consultant_id IS NOT NULL", name="active_has_consultant"),
        sa.Index("ix_consultation_queue", "status", "created_at"),
    )

    def __repr__(self):
        return f"<Consultation {self.id} {self.status.value}>"

    def is_participant(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id in (self.user_id, self.consultant_id))

    def can_view(self, user) -> bool:
        """The asker, the consultant who took it, admins; on-duty consultants see waiting ones."""
        if not (user and user.is_authenticated):
            return False
        if self.is_participant(user) or user.is_admin:
            return True
        return self.status is ConsultationStatus.waiting and user.has_role(Role.consultant)

    def can_take(self, user) -> bool:
        return (self.status is ConsultationStatus.waiting and user.is_authenticated
                and user.has_role(Role.consultant) and user.id != self.user_id)

    def can_rate(self, user) -> bool:
        return self.status is ConsultationStatus.ended and user.is_authenticated and user.id == self.user_id


class ConsultMessage(db.Model):
    __tablename__ = "consult_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: Id the sender's browser gave the message; a resend with the same id is the same message.
    client_id: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)
    attachment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("consult_attachment.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]

    attachment: Mapped[ConsultAttachment | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("consultation_id", "sender_id", "client_id"),
        sa.Index("ix_consult_message_history", "consultation_id", "id"),
    )

    def to_json(self) -> dict:
        return self.json_of(self.id, self.client_id, self.sender_id, self.body, self.created_at,
                            delivered=self.delivered_at is not None, read=self.read_at is not None,
                            attachment=self.attachment.to_json() if self.attachment else None)

    @staticmethod
    def json_of(id: int, client_id: str, sender_id: int, body: str, created_at, *, delivered: bool = False,
                read: bool = False, attachment: dict | None = None) -> dict:
        """A message as sent to the room and the pages, from its values (a message just written
        needs no object to be told)."""
        return {"id": id, "client_id": client_id, "sender_id": sender_id, "body": body,
                "created_at": created_at.isoformat() + "Z", "delivered": delivered, "read": read,
                "attachment": attachment}


class ConsultAttachment(db.Model):
    __tablename__ = "consult_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: Cleaned file name, only for display and download.
    filename: Mapped[str] = mapped_column(sa.String(120))
    #: Type found from the content, not from the name.
    mimetype: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_json(self) -> dict:
        return {"id": self.id, "filename": self.filename, "mimetype": self.mimetype, "size": self.size,
                "url": f"/consult/c/{self.consultation_id}/attachments/{self.id}"}


class ConsultantDuty(db.Model):
    """Whether a consultant is taking people from the queue now."""

    __tablename__ = "consultant_duty"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    on_duty: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(db.Model):
    """A knowledge-base article in one language; ``slug`` ties the translations together."""

    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    lang: Mapped[str] = mapped_column(sa.String(8))
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[Category] = mapped_column(enum_column(Category))
    #: Space-separated keywords.
    tags: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    __table_args__ = (sa.UniqueConstraint("slug", "lang"),)

    def __repr__(self):
        return f"<Article {self.slug} {self.lang}>"
