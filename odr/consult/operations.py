"""Use cases of consultation: queue, take, chat, end, rate, attach, turn into a case."""

from __future__ import annotations

import functools
import logging
import statistics
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role, RoleGrant, User
from odr.cases import audit
from odr.cases import operations as case_ops
from odr.cases import workflow
from odr.cases.models import Category, Channel, Stage
from odr.consult.models import (
    ConsultAttachment, ConsultMessage, ConsultantDuty, Consultation, ConsultationStatus,
)
from odr.extensions import db
from odr.timeutil import utcnow
from odr import uploads
from odr.refusal import Refused

logger = logging.getLogger(__name__)

ATTACHMENT_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"}


class ConsultError(Refused):
    """A refusal with a readable reason."""


def start(user, topic: str, category: Category) -> Consultation:
    """Join the queue for an on-duty consultant."""
    open_one = db.session.scalar(sa.select(Consultation).where(
        Consultation.user_id == user.id, Consultation.status != ConsultationStatus.ended).limit(1))
    if open_one is not None:
        raise ConsultError(_l("You already have an open consultation. Continue it or end it first."))
    consultation = Consultation(user_id=user.id, topic=topic, category=category,
                                status=ConsultationStatus.waiting)
    db.session.add(consultation)
    db.session.flush()
    logger.info("Consultation %s opened by %s", consultation.id, user)
    return consultation


def set_duty(consultant, on_duty: bool) -> None:
    duty = db.session.get(ConsultantDuty, consultant.id) or ConsultantDuty(user_id=consultant.id)
    duty.on_duty = on_duty
    duty.changed_at = utcnow()
    db.session.add(duty)


def is_on_duty(user) -> bool:
    duty = db.session.get(ConsultantDuty, user.id)
    return bool(duty and duty.on_duty)


def waiting_queue(limit: int = 200) -> list[Consultation]:
    return list(db.session.scalars(
        sa.select(Consultation).where(Consultation.status == ConsultationStatus.waiting)
        .order_by(Consultation.created_at, Consultation.id).limit(limit)))


@dataclass
class QueuePlace:
    position: int
    #: ``None`` while no consultant is on duty: there is no wait to promise.
    eta_minutes: int | None
    consultants_on_duty: int


def typical_minutes() -> float:
    """Median length of the last 20 consultations that ended, or the configured default."""
    rows = db.session.execute(
        sa.select(Consultation.taken_at, Consultation.ended_at)
        .where(Consultation.ended_at.is_not(None), Consultation.taken_at.is_not(None))
        .order_by(Consultation.ended_at.desc()).limit(20)).all()
    if len(rows) < 3:
        return float(current_app.config["CONSULT_DEFAULT_MINUTES"])
    return max(1.0, statistics.median((e - t).total_seconds() / 60 for t, e in rows))


def eta_minutes(position: int, minutes: float, on_duty: int) -> int | None:
    """Expected wait of the ``position``-th person when ``on_duty`` consultants take ``minutes`` each;
    ``None`` when nobody is on duty (any figure would be a promise nobody keeps)."""
    if on_duty < 1:
        return None
    return max(1, round(position * minutes / on_duty))


def queue_place(consultation: Consultation) -> QueuePlace | None:
    if consultation.status is not ConsultationStatus.waiting:
        return None
    ahead = db.session.scalar(sa.select(sa.func.count(Consultation.id)).where(
        Consultation.status == ConsultationStatus.waiting,
        sa.or_(Consultation.created_at < consultation.created_at,
               sa.and_(Consultation.created_at == consultation.created_at, Consultation.id < consultation.id))))
    on_duty = len(consultants_on_duty())
    return QueuePlace(position=ahead + 1, eta_minutes=eta_minutes(ahead + 1, typical_minutes(), on_duty),
                      consultants_on_duty=on_duty)


def take_next(consultant) -> Consultation | None:
    """The on-duty consultant takes the person who has waited longest."""
    if not consultant.has_role(Role.consultant):
        raise ConsultError(_l("Only consultants take people from the queue."))
    query = (sa.select(Consultation).where(Consultation.status == ConsultationStatus.waiting,
                                           Consultation.user_id != consultant.id)
             .order_by(Consultation.created_at, Consultation.id).limit(1).with_for_update(skip_locked=True))
    consultation = db.session.scalar(query)
    if consultation is None:
        return None
    take(consultation, consultant)
    return consultation


def take(consultation: Consultation, consultant) -> None:
    if not consultation.can_take(consultant):
        raise ConsultError(_l("Someone else has already taken this consultation."))
    updated = db.session.execute(
        sa.update(Consultation)
        .where(Consultation.id == consultation.id, Consultation.status == ConsultationStatus.waiting)
        .values(status=ConsultationStatus.active, consultant_id=consultant.id, taken_at=utcnow())
    ).rowcount
    if not updated:  # another consultant was quicker
        raise ConsultError(_l("Someone else has already taken this consultation."))
    db.session.refresh(consultation)
    logger.info("Consultation %s taken by %s", consultation.id, consultant)


def end(consultation: Consultation, user) -> None:
    if not consultation.is_participant(user):
        raise ConsultError(_l("Only the people in this consultation can end it."))
    if consultation.status is ConsultationStatus.ended:
        return
    consultation.status = ConsultationStatus.ended
    consultation.ended_at = utcnow()


def rate(consultation: Consultation, user, stars: int, comment: str | None) -> None:
    if not consultation.can_rate(user):
        raise ConsultError(_l("You can rate a consultation once it has ended."))
    consultation.rating = stars
    consultation.rating_comment = comment


def post_message(consultation: Consultation, sender, client_id: str, body: str,
                 attachment_id: int | None = None) -> tuple[ConsultMessage, bool]:
    """Save a chat message once; a resend with the same ``client_id`` returns the saved one.

    :func:`check_message` then :func:`write_message`, in one session. The new message returned is
    not in the session (nothing else changes it).

    :return: the message and whether it is new.
    """
    checked = check_message(consultation, sender, client_id, body, attachment_id)
    if isinstance(checked, ConsultMessage):
        return checked, False
    values, attachment = checked
    message, new = write_message(values)
    if new:
        message.attachment = attachment
    return message, new


def check_message(consultation: Consultation, sender, client_id: str, body: str,
                  attachment_id: int | None = None) -> ConsultMessage | tuple[dict, ConsultAttachment | None]:
    """Whether ``sender`` may post this message now: the values :func:`write_message` writes and the
    attachment, or the message saved before the consultation ended (the answer to a resend).

    :raise ConsultError: not a participant, the consultation has ended, not the sender's attachment.
    """
    if not consultation.is_participant(sender):
        raise ConsultError(_l("You are not in this consultation."))
    if consultation.status is ConsultationStatus.ended:
        existing = _message_sent(consultation, sender, client_id)
        if existing is not None:  # the answer to a resend of what was saved before the end
            return existing
        raise ConsultError(_l("This consultation has ended."))
    attachment = None
    if attachment_id is not None:
        attachment = db.session.get(ConsultAttachment, attachment_id)
        if attachment is None or attachment.consultation_id != consultation.id or attachment.uploader_id != sender.id:
            raise ConsultError(_l("That attachment does not belong to this conversation."))
    values = {"consultation_id": consultation.id, "sender_id": sender.id, "client_id": client_id, "body": body,
              "attachment_id": attachment_id, "created_at": utcnow()}
    return values, attachment


def write_message(values: dict) -> tuple[ConsultMessage, bool]:
    """Write a message checked by :func:`check_message` (its ``values``), once per sender and
    ``client_id``.

    One statement that also tells whether the message is new (an insert that does nothing when the
    sender's ``client_id`` is already there): the chat's busiest write asks nothing first. A new
    message is returned outside the session, without its attachment; one saved before is read.

    :return: the message and whether it is new.
    """
    insert = _insert_new(ConsultMessage, ["consultation_id", "sender_id", "client_id"])
    saved = db.session.execute(insert.values(**values).returning(ConsultMessage.id)).first()
    if saved is None:
        return db.session.scalar(sa.select(ConsultMessage).where(
            ConsultMessage.consultation_id == values["consultation_id"],
            ConsultMessage.sender_id == values["sender_id"], ConsultMessage.client_id == values["client_id"])), False
    return ConsultMessage(id=saved.id, **values), True


def write_messages_of_members(messages: list[tuple[int, int, str, str]]) -> list[tuple[dict | None, bool, object]]:
    """Save chat messages without attachments, ``(consultation_id, sender_id, client_id, body)``
    each, once per sender and ``client_id``, in one statement that also checks that each sender is
    a participant of the consultation and that it has not ended: the insert takes its rows from the
    consultations, so the check and the write see the same state. The group-commit writer's batch
    of chat messages costs one insert, not one per message.

    Each message gets the message as sent to the room (:meth:`ConsultMessage.to_json`) and whether
    it is new, or ``None`` and the reason it was refused (a refusal is an answer, not a failure of
    the others). Only those the insert did not take are asked why (:func:`_not_inserted`: a resend,
    a refusal, the same message twice in the batch). The new ones are made as plain values, not as
    objects of the session: the batch's writer sends them on and forgets them.
    """
    now = utcnow()
    connection = db.session.connection()
    insert = _members_insert(connection.dialect, len(messages))
    inserted = {(cid, sender, client_id): id_ for id_, cid, sender, client_id in
                connection.exec_driver_sql(insert.sql, insert.parameters(messages, now))}
    results = []
    for cid, sender, client_id, body in messages:
        saved = inserted.pop((cid, sender, client_id), None)
        if saved is not None:
            results.append((ConsultMessage.json_of(saved, client_id, sender, body, now), True, None))
            continue
        try:
            message, new = _not_inserted(cid, sender, client_id, body)
            results.append((message.to_json(), new, None))
        except ConsultError as exc:
            results.append((None, False, exc.reason))
    return results


def _not_inserted(consultation_id: int, sender_id: int, client_id: str, body: str) -> tuple[ConsultMessage, bool]:
    """Why :func:`write_messages_of_members`' insert did not take a message: the message saved
    before (a resend), or the refusal :func:`check_message` gives.

    :raise ConsultError: as :func:`check_message`.
    """
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise ConsultError(_l("You are not in this consultation."))
    checked = check_message(consultation, db.session.get(User, sender_id), client_id, body)
    if isinstance(checked, ConsultMessage):
        return checked, False
    return write_message(checked[0])  # a resend while open: the insert finds the saved one


#: A chat message's values in :func:`write_messages_of_members`' insert, in the order of its rows.
_MEMBERS_COLUMNS = ("consultation_id", "sender_id", "client_id", "body", "created_at")


@dataclass(frozen=True)
class _MembersInsert:
    """:func:`write_messages_of_members`' insert of ``n`` messages in one database's own words: its
    SQL text and how each batch's values become its parameters (in the order and form the driver
    takes them, each column's own conversion applied, e.g. SQLite's text for a time)."""

    sql: str
    positional: bool
    names: tuple[str, ...]  # the parameters' names, in the statement's order
    convert: dict  # column name -> the database's conversion of its values (absent: none)
    fixed: dict  # the statement's own values (the state "ended"), converted

    def parameters(self, messages: list[tuple[int, int, str, str]], now) -> tuple | dict:
        values = dict(self.fixed)
        for i, message in enumerate(messages):
            for column, value in zip(_MEMBERS_COLUMNS, (*message, now)):
                convert = self.convert.get(column)
                values[f"{column}_{i}"] = convert(value) if convert is not None else value
        if self.positional:
            return tuple(values[name] for name in self.names)
        return values


@functools.lru_cache(maxsize=256)
def _members_insert(dialect: sa.Dialect, n: int) -> _MembersInsert:
    """:func:`write_messages_of_members`' insert of ``n`` messages, built and put in the database's
    words once per database kind and size: the messages as a table of bound rows (``SELECT … UNION
    ALL SELECT …``, which both databases read), joined to their consultations: each row is written
    only if its sender is a participant of its consultation and the consultation has not ended.
    Each batch then costs the driver's execution alone: not building, compiling, looking up or
    converting the statement's ``5 × n`` parameters through SQLAlchemy (half the writer's time on
    a busy chat went there)."""
    messages, consultations = ConsultMessage.__table__, Consultation.__table__
    columns = _MEMBERS_COLUMNS
    rows = sa.union_all(*(sa.select(*(sa.bindparam(f"{k}_{i}", type_=messages.c[k].type).label(k) for k in columns))
                          for i in range(n))).subquery("sent")
    row = sa.select(consultations.c.id, rows.c.sender_id, rows.c.client_id, rows.c.body, rows.c.created_at).join_from(
        consultations, rows, consultations.c.id == rows.c.consultation_id).where(
        consultations.c.status != ConsultationStatus.ended,
        sa.or_(consultations.c.user_id == rows.c.sender_id, consultations.c.consultant_id == rows.c.sender_id))
    insert = (_dialect_insert(dialect.name)(messages)
              .on_conflict_do_nothing(index_elements=["consultation_id", "sender_id", "client_id"]))
    compiled = insert.from_select(columns, row).returning(
        messages.c.id, messages.c.consultation_id, messages.c.sender_id, messages.c.client_id).compile(dialect=dialect)
    convert = {k: fn for k in columns if (fn := messages.c[k].type.dialect_impl(dialect).bind_processor(dialect))}
    fixed = {}
    for name, bind in compiled.binds.items():
        if bind.value is not None:
            fn = bind.type.dialect_impl(dialect).bind_processor(dialect)
            fixed[name] = fn(bind.value) if fn else bind.value
    return _MembersInsert(compiled.string, bool(compiled.positional), tuple(compiled.positiontup or ()), convert, fixed)


def _dialect_insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _message_sent(consultation: Consultation, sender, client_id: str) -> ConsultMessage | None:
    return db.session.scalar(sa.select(ConsultMessage).where(
        ConsultMessage.consultation_id == consultation.id, ConsultMessage.sender_id == sender.id,
        ConsultMessage.client_id == client_id))


def _insert_new(model, unique: list[str]):
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` in the session's database's own words (SQLite
    and PostgreSQL both have it)."""
    return _dialect_insert(db.session.get_bind().dialect.name)(model).on_conflict_do_nothing(index_elements=unique)


def mark(consultation: Consultation, reader, up_to_id: int, what: str) -> list[int]:
    """Mark the other side's messages up to ``up_to_id`` as delivered or read; return their ids."""
    if not consultation.is_participant(reader):
        raise ConsultError(_l("You are not in this consultation."))
    column = {"delivered": ConsultMessage.delivered_at, "read": ConsultMessage.read_at}[what]
    ids = list(db.session.scalars(sa.select(ConsultMessage.id).where(
        ConsultMessage.consultation_id == consultation.id, ConsultMessage.sender_id != reader.id,
        ConsultMessage.id <= up_to_id, column.is_(None))))
    if ids:
        values = {column.key: utcnow()}
        if what == "read":
            values["delivered_at"] = sa.func.coalesce(ConsultMessage.delivered_at, utcnow())
        db.session.execute(sa.update(ConsultMessage).where(ConsultMessage.id.in_(ids)).values(**values))
    return ids


def history(consultation: Consultation, after_id: int = 0, limit: int = 500) -> list[ConsultMessage]:
    return list(db.session.scalars(
        sa.select(ConsultMessage).where(ConsultMessage.consultation_id == consultation.id,
                                        ConsultMessage.id > after_id)
        .order_by(ConsultMessage.id).limit(limit)))


def attach(consultation: Consultation, uploader, stream, filename: str | None) -> ConsultAttachment:
    if not consultation.is_participant(uploader):
        raise ConsultError(_l("You are not in this consultation."))
    if consultation.status is ConsultationStatus.ended:
        raise ConsultError(_l("This consultation has ended."))
    try:
        stored = uploads.store(stream, filename, ATTACHMENT_TYPES,
                               current_app.config["CONSULT_ATTACHMENT_MAX_BYTES"])
    except uploads.UploadError as exc:
        raise ConsultError(exc.reason) from None
    attachment = ConsultAttachment(consultation_id=consultation.id, uploader_id=uploader.id,
                                   filename=stored.filename, mimetype=stored.mimetype, size=stored.size,
                                   sha256=stored.sha256)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def draft_from(consultation: Consultation) -> dict:
    """Dispute form values pre-filled from the conversation: the asker's own words."""
    own = [m.body for m in history(consultation) if m.sender_id == consultation.user_id and m.body.strip()]
    description = "\n".join([consultation.topic] + own)[:4000]
    return {"category": consultation.category.value, "description": description}


def file_case_from(consultation: Consultation, user, dispute, respondent):
    """File the case the consultation was about, link both ways and start its assessment."""
    if user.id != consultation.user_id:
        raise ConsultError(_l("Only the person who asked can turn the consultation into a case."))
    if consultation.case_id is not None:
        raise ConsultError(_l("This consultation is already a case."))
    me = case_ops.PartyDetails(name=user.name, phone=user.phone, email=user.email)
    case = case_ops.file_case(user, Channel.web, dispute, me, respondent)
    consultation.case_id = case.id
    audit.record(case, user, "consultation_linked", {"consultation": consultation.id, "topic": consultation.topic})
    workflow.move(case, Stage.assessment, user, reason="consultation")
    return case


def consultants_on_duty() -> list[int]:
    return list(db.session.scalars(
        sa.select(ConsultantDuty.user_id).join(RoleGrant, RoleGrant.user_id == ConsultantDuty.user_id)
        .where(ConsultantDuty.on_duty, RoleGrant.role == Role.consultant)))
