"""Following a sealed agreement through: the payer reports each item done with a receipt, the payee
confirms or disputes it, reminders go out before due dates, and late items turn the case yellow,
then red, on the dashboard (the schedule and its alert live in ``odr.cases.performance``).

Every step writes its audit entry in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import uploads
from odr.cases import audit
from odr.cases.models import Case
from odr.cases.notices import joined_parties, notify_users
from odr.cases.performance import (
    ItemStatus, PerformanceItem, PerformanceSchedule, apply_open_moves, local_today, refresh,
)
from odr.extensions import db
from odr.links import absolute_url
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: A receipt is a photo or a PDF, recognised by its content.
RECEIPT_TYPES = {"image/jpeg", "image/png", "image/webp", "application/pdf"}
MAX_REASON_CHARS = 2000

ACTIONS = {
    "performance_item_reported": _l("Reported done, with a receipt"),
    "performance_item_confirmed": _l("Confirmed as done"),
    "performance_item_disputed": _l("Disputed: not done as reported"),
}


class PerformanceError(Refused):
    """A performance step that cannot be done now; ``reason`` is shown to the person."""


class InvalidStep(PerformanceError):
    """What was sent does not make a valid report or answer (422, nothing stored)."""

    status = 422


def side_users(case: Case, side: str) -> list:
    return [p.user for p in joined_parties(case) if p.side.value == side]


def is_payer(case: Case, schedule: PerformanceSchedule, user) -> bool:
    return case.side_of(user) == schedule.payer_side


def is_payee(case: Case, schedule: PerformanceSchedule, user) -> bool:
    return case.side_of(user) == schedule.payee_side


def may_report(item: PerformanceItem, case: Case, user) -> bool:
    return is_payer(case, item.schedule, user) and item.status in (ItemStatus.pending, ItemStatus.disputed)


def may_answer(item: PerformanceItem, case: Case, user) -> bool:
    return is_payee(case, item.schedule, user) and item.status is ItemStatus.reported


def _link(case: Case) -> str:
    return absolute_url("perform.show", number=case.number)


def report_done(item: PerformanceItem, case: Case, user, stream, filename: str | None) -> None:
    """The payer says the item is done and sends the receipt (a photo or PDF).

    :raise PerformanceError: not the payer, or the item is not waiting for a report.
    :raise uploads.UploadError: no file, empty, too large, or not a photo or PDF by its content.
    """
    if not is_payer(case, item.schedule, user):
        raise PerformanceError(_l("Only the side that pays or performs reports an item done."))
    if item.status not in (ItemStatus.pending, ItemStatus.disputed):
        raise PerformanceError(_l("This item is not waiting for a report."))
    if stream is None:
        raise InvalidStep(_l("Attach the receipt: a photo or a PDF."))
    stored = uploads.store(stream, filename, RECEIPT_TYPES, current_app.config["RECEIPT_MAX_BYTES"],
                           wrong_type=_l("A receipt must be a photo (JPEG, PNG, WebP) or a PDF."))
    item.status = ItemStatus.reported
    item.receipt_sha256, item.receipt_mimetype, item.receipt_filename = stored.sha256, stored.mimetype, stored.filename
    item.reported_at = utcnow()
    item.reported_by_id = user.id
    item.answered_at = item.answered_by_id = None
    audit.record(case, user, "performance_item_reported", {
        "item": item.id, "due_on": item.due_on, "amount": item.amount, "receipt_sha256": stored.sha256,
        "receipt_type": stored.mimetype, "size": stored.size})
    logger.info("Case %s: item %s reported done by %s", case, item.id, audit.actor_label(user))
    notify_users(case, side_users(case, item.schedule.payee_side),
                 _("The other party reports an item of case %(number)s done. Please confirm it or say what is wrong: %(link)s",
                   number=case.number, link=_link(case)))


def confirm(item: PerformanceItem, case: Case, user) -> None:
    """The payee confirms a reported item; the last confirmation makes the case performed.

    :raise PerformanceError: not the payee, or the item is not reported.
    """
    if not may_answer(item, case, user):
        raise PerformanceError(_l("Only the receiving side confirms an item reported done."))
    item.status = ItemStatus.confirmed
    item.answered_at = utcnow()
    item.answered_by_id = user.id
    audit.record(case, user, "performance_item_confirmed", {"item": item.id, "amount": item.amount})
    refresh(item.schedule, actor=user)
    logger.info("Case %s: item %s confirmed by %s", case, item.id, audit.actor_label(user))


def dispute(item: PerformanceItem, case: Case, user, reason: str) -> None:
    """The payee says a reported item was not done as reported (saying why); the payer may report again.

    :raise InvalidStep: no reason, or too long.
    :raise PerformanceError: not the payee, or the item is not reported.
    """
    if not may_answer(item, case, user):
        raise PerformanceError(_l("Only the receiving side confirms an item reported done."))
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise InvalidStep(_l("Say what is wrong (at most %(n)s characters).", n=MAX_REASON_CHARS))
    item.status = ItemStatus.disputed
    item.answered_at = utcnow()
    item.answered_by_id = user.id
    item.dispute_reason = reason
    audit.record(case, user, "performance_item_disputed", {"item": item.id, "reason": reason})
    refresh(item.schedule, actor=user)
    logger.info("Case %s: item %s disputed by %s", case, item.id, audit.actor_label(user))
    notify_users(case, side_users(case, item.schedule.payer_side),
                 _("The other party disputes an item of case %(number)s: %(reason)s %(link)s",
                   number=case.number, reason=reason, link=_link(case)))


# --- periodic jobs ----------------------------------------------------------------------------------

def send_performance_reminders(now: datetime) -> int:
    """Remind the payer of each item not yet done whose due date is ``PERFORMANCE_REMINDER_DAYS`` away
    or less (once per item). :return: how many items were reminded of."""
    today = local_today(now)
    horizon = today + timedelta(days=current_app.config["PERFORMANCE_REMINDER_DAYS"])
    items = db.session.scalars(
        sa.select(PerformanceItem).join(PerformanceSchedule)
        .where(PerformanceItem.status.in_([ItemStatus.pending, ItemStatus.disputed]),
               PerformanceItem.due_on >= today, PerformanceItem.due_on <= horizon,
               PerformanceItem.reminded_at.is_(None), PerformanceSchedule.performed_at.is_(None))
        .order_by(PerformanceItem.due_on).limit(1000)).all()
    for item in items:
        case = item.schedule.case
        what = f"¥{item.amount}" if item.amount is not None else item.description
        notify_users(case, side_users(case, item.schedule.payer_side),
                     _("Reminder: in case %(number)s, %(what)s is due on %(due)s. When it is done, send the receipt: %(link)s",
                       number=case.number, what=what, due=item.due_on.isoformat(), link=_link(case)))
        item.reminded_at = now
    return len(items)


def update_performance_alerts(now: datetime) -> int:
    """Turn schedules with an unconfirmed item past its due date yellow, then red (and back when
    confirmed). :return: how many schedules changed colour."""
    today = local_today(now)
    late = sa.select(PerformanceItem.schedule_id).where(PerformanceItem.status != ItemStatus.confirmed,
                                                        PerformanceItem.due_on < today)
    schedules = db.session.scalars(
        sa.select(PerformanceSchedule).where(PerformanceSchedule.performed_at.is_(None),
                                             PerformanceSchedule.id.in_(late)).limit(5000)).all()
    changed = 0
    # The dashboard's open counts move once, at the end, in key order (see apply_open_moves).
    moves = Counter()
    for schedule in schedules:
        before = schedule.alert
        refresh(schedule, now, moves=moves)
        if schedule.alert is not before:
            changed += 1
            logger.info("Case %s: performance %s -> %s", schedule.case, before.value, schedule.alert.value)
    apply_open_moves(moves)
    return changed


