"""The case room: messages in the joint thread and in each side's private thread, and evidence.

Who reads what (caucus confidentiality):

- the joint thread: both parties, the mediator, and the case's staff and admins;
- a side's private thread (``claimant`` or ``respondent``): that side and the mediator only —
  never the other side, and not staff or admins either, so that what a party tells the
  mediator in private stays between them;
- evidence shared with everyone (``Visibility.all``): both parties, the mediator, staff, admins;
- evidence for the mediator only (``Visibility.mediator``): its uploader and the mediator.

Only the parties and the mediator write messages and upload evidence, and only while the
case is open and in mediation. Audit events of private things carry no content (no message
text, no description), so the case history everyone reads leaks nothing of them; their
payload says ``private`` so a history page can leave them out for the other side.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from odr.cases import audit, evidence as case_evidence
from odr.cases.evidence import Evidence, EvidenceError, Visibility
from odr.cases.models import Case, Stage
from odr.extensions import db
from odr.mediate.access import is_mediator
from odr.mediate.models import RoomChannel, RoomMessage
from odr.refusal import Refused

logger = logging.getLogger(__name__)

#: Longest room message, in characters.
MESSAGE_MAX_CHARS = 2000
class RoomError(Refused):
    """A refusal with a readable reason."""


# --- who may do what --------------------------------------------------------------------------

def readable_threads(case: Case, user) -> list[RoomChannel]:
    """The threads ``user`` may read, joint first."""
    if is_mediator(case, user):
        return list(RoomChannel)
    threads = []
    roles = case.roles_of(user)
    side = case.side_of(user)
    if side is not None or roles & {"staff", "admin"}:
        threads.append(RoomChannel.joint)
    if side is not None:
        threads.append(RoomChannel(side))
    return threads


def writable_threads(case: Case, user) -> list[RoomChannel]:
    """The threads ``user`` may write in: the mediator all, a party the joint one and their own."""
    if is_mediator(case, user):
        return list(RoomChannel)
    side = case.side_of(user)
    return [RoomChannel.joint, RoomChannel(side)] if side is not None else []


def can_read_room(case: Case, user) -> bool:
    return bool(readable_threads(case, user))


def can_upload(case: Case, user) -> bool:
    return is_mediator(case, user) or case.side_of(user) is not None


def can_see_evidence(case: Case, evidence: Evidence, user) -> bool:
    """Mediator-only evidence: its uploader and the mediator; shared evidence: whoever reads the room."""
    if evidence.case_id != case.id or not can_read_room(case, user):
        return False
    if is_mediator(case, user) or evidence.uploader_id == user.id:
        return True
    return evidence.visibility is Visibility.all


def _evidence_filter(case: Case, user):
    """The SQL condition matching the evidence of ``case`` that ``user`` may see."""
    if not can_read_room(case, user):
        return sa.false()
    if is_mediator(case, user):
        return Evidence.case_id == case.id
    return sa.and_(Evidence.case_id == case.id,
                   sa.or_(Evidence.visibility == Visibility.all, Evidence.uploader_id == user.id))


# --- reading ------------------------------------------------------------------------------------

def thread_messages(case: Case, thread: RoomChannel, limit: int = 500) -> list[RoomMessage]:
    """The latest ``limit`` messages of a thread, oldest first (the caller checked the reader)."""
    rows = db.session.scalars(sa.select(RoomMessage).where(RoomMessage.case_id == case.id,
                                                           RoomMessage.channel == thread)
                              .order_by(RoomMessage.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def message_counts(case: Case, user) -> dict[RoomChannel, int]:
    """How many messages each thread ``user`` may read holds."""
    threads = readable_threads(case, user)
    if not threads:
        return {}
    rows = db.session.execute(sa.select(RoomMessage.channel, sa.func.count(RoomMessage.id))
                              .where(RoomMessage.case_id == case.id, RoomMessage.channel.in_(threads))
                              .group_by(RoomMessage.channel)).all()
    counts = dict(rows)
    return {t: counts.get(t, 0) for t in threads}


def visible_evidence(case: Case, user) -> list[Evidence]:
    return list(db.session.scalars(sa.select(Evidence).where(_evidence_filter(case, user))
                                   .order_by(Evidence.id)))


def evidence_count(case: Case, user) -> int:
    return db.session.scalar(sa.select(sa.func.count(Evidence.id)).where(_evidence_filter(case, user)))


def evidence_for(case: Case, evidence_id: int, user) -> Evidence | None:
    """The evidence item if ``user`` may see it, else ``None`` (whether or not it exists)."""
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or not can_see_evidence(case, evidence, user):
        return None
    return evidence


# --- changes ------------------------------------------------------------------------------------

def _check_open(case: Case) -> None:
    if not case.is_open or case.stage is not Stage.mediation:
        raise RoomError(_l("The case is not in mediation any more."))


def post_message(case: Case, sender, thread: RoomChannel, body: str) -> RoomMessage:
    """Write a message in a thread the sender may write in.

    :raise RoomError: not in mediation, not the sender's thread, empty or too long.
    """
    _check_open(case)
    if thread not in writable_threads(case, sender):
        raise RoomError(_l("You cannot write in this thread."))
    body = (body or "").strip()
    if not body:
        raise RoomError(_l("Write a message first."))
    if len(body) > MESSAGE_MAX_CHARS:
        raise RoomError(_l("A message can have at most %(n)s characters.", n=MESSAGE_MAX_CHARS))
    message = RoomMessage(case_id=case.id, channel=thread, sender_id=sender.id, body=body)
    db.session.add(message)
    db.session.flush()
    payload = {"thread": thread, "message": message.id}
    if thread is RoomChannel.joint:
        payload["body"] = body
    else:
        payload["private"] = thread.value  # a caucus: no text in the case file
    audit.record(case, sender, "room_message", payload)
    logger.info("Room message %s in %s/%s by %s", message.id, case.number, thread.value, sender)
    return message


def add_evidence(case: Case, uploader, stream, filename: str | None, visibility: Visibility,
                 description: str = "") -> Evidence:
    """Store an uploaded file as evidence of the case, seen by everyone or by the mediator only.

    Every check that can fail comes before the file is written, so a refusal leaves nothing behind.

    :raise RoomError: not in mediation, not a party or the mediator, a hostile file name, an empty,
        too large or unaccepted file, a too long description.
    """
    _check_open(case)
    if not can_upload(case, uploader):
        raise RoomError(_l("Only the parties and the mediator can add evidence."))
    try:
        return case_evidence.add_evidence(case, uploader, stream, filename, visibility, description)
    except EvidenceError as exc:
        raise RoomError(exc.reason) from None
