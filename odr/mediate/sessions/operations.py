"""Mediation sessions: the mediator offers times, the parties pick, the earliest common time is
fixed, everyone is invited (with a calendar entry) and reminded, and attendance is recorded.

Times are stored as naive UTC (``odr.timeutil``); people enter and read them in the display
time zone, ``BABEL_DEFAULT_TIMEZONE``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import outbox
from odr.auth.models import User
from odr.cases import audit, labels, rooms
from odr.cases.service.operations import Served, path_of, records_of, serve, serve_parties
from odr.cases.rooms import HOST
from odr.cases.notices import joined_parties, joined_users, tell_representatives
from odr.cases.models import Case, CaseParty, PartyStatus, Side, Stage
from odr.extensions import db
from odr.links import absolute_url
from odr.mediate.access import is_mediator
from odr.mediate.models import (
    Attendance, MediationSession, NonAttendance, SessionMode, SessionSlot, SessionStatus, SlotPick,
)
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

MIN_SLOTS, MAX_SLOTS = 2, 5
MIN_MINUTES, MAX_MINUTES = 15, 8 * 60
OPEN_STATUSES = (SessionStatus.proposed, SessionStatus.scheduled)

#: The audit actions this module records, with what people read for each (registered by ``init_app``).
ACTIONS = {
    "session_proposed": _l("Session times proposed"),
    "session_slots_picked": _l("Session times chosen"),
    "session_no_common_time": _l("No common session time"),
    "session_scheduled": _l("Session scheduled"),
    "session_reminder_sent": _l("Session reminder sent"),
    "session_held": _l("Session held"),
    "session_cancelled": _l("Session cancelled"),
    "session_pick_reminder": _l("Reminder to choose session times"),
    "session_no_show": _l("A party did not come to the session"),
    "mediation_failed_non_attendance": _l("Mediation ended for non-attendance"),
}
#: The served notices that tell a party when a session takes place: their proof of service.
NOTICE_KINDS = ("session_notice", "session_reminder")
MEDIATOR, PLATFORM = "mediator", "platform"


class SessionError(Refused):
    """A session request that cannot be done; ``reason`` is shown to the person.

    ``status``: 400 for a bad request, 409 when the session's state does not allow it.
    """

    def __init__(self, reason, status: int = 400):
        super().__init__(reason)
        self.status = status


# --- time zone ---------------------------------------------------------------------------

def when(value: datetime) -> str:
    """A UTC time as people read it in messages."""
    return labels.when(value)


# --- who takes part ----------------------------------------------------------------------

def participants(session: MediationSession) -> list:
    return joined_users(session.case) + [session.mediator]


def for_case(case: Case) -> list[MediationSession]:
    """The case's sessions, newest first."""
    return list(db.session.scalars(sa.select(MediationSession).where(MediationSession.case_id == case.id)
                                   .order_by(MediationSession.id.desc())))


def picks_of(session: MediationSession, user) -> set[int]:
    """Ids of the slots ``user`` said they can make."""
    return {slot.id for slot in session.slots for pick in slot.picks if pick.user_id == user.id}


def has_started(session: MediationSession) -> bool:
    return session.starts_at is not None and utcnow() >= session.starts_at


def can_record_attendance(session: MediationSession, user) -> bool:
    return (session.status is SessionStatus.scheduled and has_started(session)
            and is_mediator(session.case, user))


def where(session: MediationSession) -> str:
    """The address, or the link to the case's video room."""
    if session.mode is SessionMode.in_person:
        return session.location or ""
    return absolute_url("mediate.session_video", number=session.case.number, sid=session.id)


def _check_open(case: Case) -> None:
    if not case.is_open or case.stage is not Stage.mediation:
        raise SessionError(_l("The case is not in mediation any more."), 409)
    if non_attendance(case) is not None:
        raise SessionError(_l("The mediation ended because a party did not come to its sessions."), 409)


def _check_mediator(case: Case, actor) -> None:
    if not is_mediator(case, actor):
        raise SessionError(_l("Only the mediator of the case arranges its sessions."), 403)


# --- messages ----------------------------------------------------------------------------

def sessions_url(case: Case) -> str:
    return absolute_url("mediate.sessions", number=case.number)


def calendar_url(session: MediationSession) -> str:
    return absolute_url("mediate.session_calendar", number=session.case.number, sid=session.id)


def _tell(users, case: Case, subject: str, body: str, attachment: outbox.Attachment | None = None,
          served: Served | None = None) -> None:
    """Tell ``users``; with ``served``, the case's parties among them are served with proof."""
    users = list(users)
    done = serve_parties(case, users, body, served, subject=subject, attachment=attachment) \
        if served is not None else set()
    parties = {p.user_id: p for p in joined_parties(case)}
    for user in users:
        if user is not None and user.contact and user.id not in done:
            outbox.enqueue(user.contact, subject, body, case=case, attachment=attachment)
            if user.id in parties:  # the party's agents and helpers get a copy
                tell_representatives(case, parties[user.id], subject, body, attachment=attachment)


def calendar_file(session: MediationSession) -> bytes:
    """The scheduled session as an iCalendar file (RFC 5545), times in UTC."""
    import icalendar  # on first use, not at app start

    case = session.case
    cal = icalendar.Calendar()
    cal.add("prodid", "-//odr//mediation sessions//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    host = absolute_url("mediate.sessions", number=case.number).split("/")[2]
    event.add("uid", f"mediation-session-{session.id}@{host}")
    event.add("dtstamp", (session.created_at or utcnow()).replace(tzinfo=timezone.utc))
    start = session.starts_at.replace(tzinfo=timezone.utc)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.minutes))
    event.add("summary", _("Mediation session, case %(number)s", number=case.number))
    event.add("location", where(session))
    event.add("url", sessions_url(case))
    event.add("description", _("Mediation of case %(number)s with %(mediator)s. Details: %(url)s",
                               number=case.number, mediator=session.mediator.name, url=sessions_url(case)))
    cal.add_component(event)
    return cal.to_ical()


def _invite(session: MediationSession) -> None:
    """Tell everyone the fixed time: e-mail with the calendar file, SMS with a link to it."""
    case = session.case
    subject = _("Mediation session fixed: %(time)s (%(number)s)", time=when(session.starts_at), number=case.number)
    body = _("The mediation session of case %(number)s takes place on %(time)s (%(minutes)s minutes). "
             "Where: %(where)s. Details: %(url)s Calendar entry: %(calendar)s",
             number=case.number, time=when(session.starts_at), minutes=session.minutes, where=where(session),
             url=sessions_url(case), calendar=calendar_url(session))
    ics = outbox.Attachment(filename=f"mediation-{case.number}-{session.id}.ics",
                            mimetype="text/calendar", text=calendar_file(session).decode())
    _tell(participants(session), case, subject, body, attachment=ics,
          served=Served.link("session_notice", sessions_url(case)))


# --- use cases ---------------------------------------------------------------------------

def propose(case: Case, actor, mode: SessionMode, location: str | None, minutes: int,
            slots: list[datetime]) -> MediationSession:
    """The mediator offers 2–5 future times (naive UTC); the parties are asked to pick.

    A session still being arranged is replaced by the new offer.
    """
    _check_mediator(case, actor)
    _check_open(case)
    location = (location or "").strip() or None
    if mode is SessionMode.in_person and not location:
        raise SessionError(_l("Give the address of an in-person session."))
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise SessionError(_l("A session lasts between %(low)s and %(high)s minutes.", low=MIN_MINUTES,
                              high=MAX_MINUTES))
    if not MIN_SLOTS <= len(slots) <= MAX_SLOTS:
        raise SessionError(_l("Offer between %(low)s and %(high)s times.", low=MIN_SLOTS, high=MAX_SLOTS))
    if len(set(slots)) != len(slots):
        raise SessionError(_l("The same time is offered twice."))
    now = utcnow()
    if any(start <= now for start in slots):
        raise SessionError(_l("Offer only times in the future."))
    for old in db.session.scalars(sa.select(MediationSession).where(
            MediationSession.case_id == case.id, MediationSession.status == SessionStatus.proposed)):
        old.status = SessionStatus.cancelled
        audit.record(case, actor, "session_cancelled", {"session": old.id, "reason": "replaced"})
    session = MediationSession(case_id=case.id, mediator_id=actor.id, mode=mode,
                               location=location if mode is SessionMode.in_person else None, minutes=minutes,
                               status=SessionStatus.proposed, created_at=now,
                               slots=[SessionSlot(starts_at=start) for start in sorted(slots)])
    db.session.add(session)
    db.session.flush()
    audit.record(case, actor, "session_proposed", {
        "session": session.id, "mode": mode, "location": session.location, "minutes": minutes,
        "slots": [s.starts_at for s in session.slots]})
    _tell(joined_users(case), case, _("Choose a time for mediation (%(number)s)", number=case.number),
          _("%(mediator)s proposes times for a mediation session in case %(number)s. "
            "Choose every time you can make: %(url)s", mediator=actor.name, number=case.number,
            url=sessions_url(case)))
    logger.info("Session %s proposed in case %s by %s", session.id, case, actor)
    return session


def pick(session: MediationSession, actor, slot_ids: set[int]) -> None:
    """A party says which of the offered times they can make (none: none of them).

    When every joined party has picked, the earliest time they all can make is fixed.
    """
    case = session.case
    side = case.side_of(actor)
    if side is None:
        raise SessionError(_l("Only the parties choose session times."), 403)
    _check_open(case)
    _lock(session)
    if session.status is not SessionStatus.proposed:
        raise SessionError(_l("The time of this session can no longer be chosen."), 409)
    by_id = {slot.id: slot for slot in session.slots}
    if not slot_ids <= by_id.keys():
        raise SessionError(_l("Choose among the times offered."))
    now = utcnow()
    if any(by_id[i].starts_at <= now for i in slot_ids):
        raise SessionError(_l("One of the times you chose has already passed."))
    for slot in session.slots:
        mine = next((p for p in slot.picks if p.user_id == actor.id), None)
        if mine is not None and slot.id not in slot_ids:
            slot.picks.remove(mine)
        elif mine is None and slot.id in slot_ids:
            slot.picks.append(SlotPick(user_id=actor.id))
    db.session.flush()
    audit.record(case, actor, "session_slots_picked", {
        "session": session.id, "side": side, "slots": sorted(by_id[i].starts_at for i in slot_ids)})
    if not slot_ids:
        _no_common_time(session, _("%(name)s can make none of the times offered.", name=actor.name))
        return
    _schedule_if_agreed(session)


def _lock(session: MediationSession) -> None:
    """Serialise changes to one session (both parties picking at once) and reload its state."""
    db.session.refresh(session, with_for_update=True)


def _schedule_if_agreed(session: MediationSession) -> None:
    parties = {user.id for user in joined_users(session.case)}
    if not parties:
        return
    # Read from the table, not the loaded collections: the other party may have just committed.
    pickers: dict[int, set[int]] = {slot.id: set() for slot in session.slots}
    for slot_id, user_id in db.session.execute(sa.select(SlotPick.slot_id, SlotPick.user_id).join(SessionSlot)
                                               .where(SessionSlot.session_id == session.id)):
        pickers[slot_id].add(user_id)
    if not parties <= set().union(*pickers.values()):
        return  # someone has not answered yet
    now = utcnow()
    common = [slot for slot in session.slots if slot.starts_at > now and parties <= pickers[slot.id]]
    if not common:
        _no_common_time(session, _("The parties have no time in common."))
        return
    session.status = SessionStatus.scheduled
    session.starts_at = min(slot.starts_at for slot in common)
    audit.record(session.case, None, "session_scheduled", {
        "session": session.id, "starts_at": session.starts_at, "mode": session.mode,
        "location": session.location, "minutes": session.minutes})
    _invite(session)
    logger.info("Session %s of case %s fixed for %s", session.id, session.case, session.starts_at)


def _no_common_time(session: MediationSession, why: str) -> None:
    case = session.case
    audit.record(case, None, "session_no_common_time", {"session": session.id})
    _tell([session.mediator], case, _("No common time for mediation (%(number)s)", number=case.number),
          _("%(why)s Propose other times for case %(number)s: %(url)s", why=why, number=case.number,
            url=absolute_url("mediate.session_new", number=case.number)))


def record_attendance(session: MediationSession, actor, present: dict[int, bool]) -> None:
    """After the start, the mediator says who came; the session is then held. Each no-show is
    recorded with the proof that the session notice was served to them.

    :param present: every joined party's user id → came or not.
    """
    case = session.case
    _check_mediator(case, actor)
    _check_open(case)
    _lock(session)
    _hold(session, actor, present, MEDIATOR)


def _hold(session: MediationSession, actor, present: dict[int, bool], by: str) -> None:
    case = session.case
    if session.status is not SessionStatus.scheduled:
        raise SessionError(_l("Attendance is recorded for a scheduled session."), 409)
    if not has_started(session):
        raise SessionError(_l("Attendance can be recorded once the session has started."), 409)
    parties = joined_users(case)
    if {u.id for u in parties} != present.keys():
        raise SessionError(_l("Say for every party whether they came."))
    proofs = {u.id: notice_proof(session, u) for u in parties if not present[u.id]}
    session.attendance = [Attendance(user_id=u.id, present=present[u.id],
                                     notice_served=bool(proofs[u.id]) if u.id in proofs else None) for u in parties]
    session.status = SessionStatus.held
    session.attendance_by = by
    audit.record(case, actor, "session_held", {
        "session": session.id, "starts_at": session.starts_at, "by": by,
        "present": [{"user": u.id, "name": u.name, "side": case.side_of(u)} for u in parties if present[u.id]],
        "no_shows": [{"user": u.id, "name": u.name, "side": case.side_of(u)} for u in parties
                     if not present[u.id]]})
    for user in parties:
        if not present[user.id]:
            audit.record(case, actor, "session_no_show", {
                "session": session.id, "starts_at": session.starts_at, "by": by, "user": user.id,
                "name": user.name, "side": case.side_of(user), "notice_served": bool(proofs[user.id]),
                "served": proofs[user.id], "no_shows": no_show_count(case, user)})
    logger.info("Session %s of case %s held (attendance by the %s)", session.id, case, by)


# --- no-shows ------------------------------------------------------------------------------------

def party_of(case: Case, user) -> CaseParty | None:
    return next((p for p in case.parties if p.user_id == user.id and p.status is PartyStatus.joined), None)


def notice_proof(session: MediationSession, user) -> list[dict]:
    """The proof that ``user`` was told of ``session``: the session notices and reminders served to
    them between its arrangement and its start."""
    party = party_of(session.case, user)
    if party is None or session.starts_at is None:
        return []
    since = session.created_at or session.starts_at
    return [{"record": r.id, "kind": r.kind, "channel": r.channel, "address": r.address,
             "document_sha256": r.document_sha256, "sent_at": r.sent_at, "accepted_at": r.accepted_at,
             "first_opened_at": r.first_opened_at}
            for r in records_of(session.case)
            if r.party_id == party.id and r.kind in NOTICE_KINDS and since <= r.sent_at <= session.starts_at]


def no_show_count(case: Case, user) -> int:
    """How many of the case's sessions ``user`` did not come to although the notice was served."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Attendance).join(MediationSession)
        .where(MediationSession.case_id == case.id, Attendance.user_id == user.id,
               Attendance.present.is_(False), Attendance.notice_served.is_(True))) or 0


def no_show_limit() -> int:
    return int(current_app.config["SESSION_NO_SHOW_LIMIT"])


def absent_party(case: Case):
    """The joined party (user) who reached the no-show limit, else ``None``."""
    for user in joined_users(case):
        if no_show_count(case, user) >= no_show_limit():
            return user
    return None


def non_attendance(case: Case) -> NonAttendance | None:
    return db.session.get(NonAttendance, case.id)


def may_end_for_non_attendance(case: Case, user) -> bool:
    return (is_mediator(case, user) and case.is_open and case.stage is Stage.mediation
            and non_attendance(case) is None and absent_party(case) is not None)


def end_for_non_attendance(case: Case, actor) -> NonAttendance:
    """The mediator ends the mediation as failed: a party did not come to ``SESSION_NO_SHOW_LIMIT``
    sessions whose notice was served. Sessions still open are cancelled; the other party is told
    and, when the claimant is the one who came, offered the court hand-off.

    :raise SessionError: not the mediator, the case left mediation, or nobody reached the limit.
    """
    _check_mediator(case, actor)
    _check_open(case)
    db.session.refresh(case, with_for_update=True)
    if non_attendance(case) is not None:
        raise SessionError(_l("The mediation ended because a party did not come to its sessions."), 409)
    absent = absent_party(case)
    if absent is None:
        raise SessionError(_l("No party has missed %(n)s sessions yet.", n=no_show_limit()), 409)
    side = case.side_of(absent)
    now = utcnow()
    for session in for_case(case):
        if session.status in OPEN_STATUSES:
            session.status = SessionStatus.cancelled
            audit.record(case, actor, "session_cancelled", {"session": session.id, "reason": "non_attendance"})
    missed = [{"session": s.id, "starts_at": s.starts_at, "served": notice_proof(s, absent)}
              for s in for_case(case) if s.status is SessionStatus.held
              and any(a.user_id == absent.id and not a.present and a.notice_served for a in s.attendance)]
    ended = NonAttendance(case_id=case.id, user_id=absent.id, side=side, no_shows=len(missed), ended_at=now,
                          ended_by_id=actor.id)
    db.session.add(ended)
    db.session.flush()
    audit.record(case, actor, "mediation_failed_non_attendance", {
        "user": absent.id, "name": absent.name, "side": side, "no_shows": missed, "limit": no_show_limit()})
    other = next((p for p in case.parties if p.status is PartyStatus.joined and p.user_id not in (None, absent.id)),
                 None)
    if other is not None:
        if other.side is Side.claimant:
            text = _("The other party did not come to %(n)s mediation sessions of case %(number)s although they "
                     "were served; the mediation has ended. You may take the case to court: the platform's proof "
                     "of service goes with it.", n=len(missed), number=case.number)
        else:
            text = _("The mediation of case %(number)s has ended because the other party did not come to its "
                     "sessions.", number=case.number)
        serve(case, other, "no_show", text, path_of("cases.show", number=case.number), audit_action="served")
    logger.info("Case %s: mediation ended for non-attendance of the %s", case, side)
    return ended


def claimant_offered_court(case: Case) -> bool:
    """The respondent's non-attendance ended the mediation: the claimant may take the case to court."""
    ended = non_attendance(case)
    return ended is not None and ended.side == Side.respondent.value


def record_video_no_shows(now: datetime) -> int:
    """After a video session whose room was opened, record who never came into the room
    (``SESSION_NO_SHOW_GRACE_MINUTES`` after its end), unless the mediator recorded it."""
    grace = timedelta(minutes=float(current_app.config["SESSION_NO_SHOW_GRACE_MINUTES"]))
    due = db.session.scalars(sa.select(MediationSession).where(
        MediationSession.status == SessionStatus.scheduled, MediationSession.mode == SessionMode.video,
        MediationSession.starts_at <= now).order_by(MediationSession.starts_at).limit(200)).all()
    count = 0
    for session in due:
        case = session.case
        if now < session.starts_at + timedelta(minutes=session.minutes) + grace:
            continue
        if not case.is_open or case.stage is not Stage.mediation or non_attendance(case) is not None:
            continue
        if video_room(session) is None:
            continue  # the room was never opened: the mediator says what happened
        came = rooms.keeper().attendees(session.id)
        parties = joined_users(case)
        if not parties:
            continue
        # a party's agent who came in attends for them
        sides = {case.side_of(user) for user in db.session.scalars(sa.select(User).where(User.id.in_(came)))} - {None}
        _hold(session, None, {u.id: u.id in came or case.side_of(u) in sides for u in parties}, PLATFORM)
        count += 1
    db.session.flush()
    return count


def cancel(session: MediationSession, actor) -> None:
    """The mediator calls a session off; the parties are told."""
    case = session.case
    _check_mediator(case, actor)
    _check_open(case)
    _lock(session)
    if session.status not in OPEN_STATUSES:
        raise SessionError(_l("Only a session that has not taken place can be cancelled."), 409)
    was = session.status
    session.status = SessionStatus.cancelled
    audit.record(case, actor, "session_cancelled", {"session": session.id, "was": was,
                                                    "starts_at": session.starts_at})
    text = (_("The mediation session of case %(number)s on %(time)s is cancelled.", number=case.number,
              time=when(session.starts_at)) if session.starts_at else
            _("The mediator withdrew the proposed session times of case %(number)s.", number=case.number))
    _tell(joined_users(case), case, _("Mediation session cancelled (%(number)s)", number=case.number),
          text + " " + sessions_url(case))
    logger.info("Session %s of case %s cancelled by %s", session.id, case, actor)


def send_session_reminders(now: datetime) -> int:
    """Remind everyone of a scheduled session starting within ``SESSION_REMINDER_HOURS``, once."""
    horizon = now + timedelta(hours=current_app.config["SESSION_REMINDER_HOURS"])
    due = db.session.scalars(sa.select(MediationSession).where(
        MediationSession.status == SessionStatus.scheduled, MediationSession.reminded_at.is_(None),
        MediationSession.starts_at > now, MediationSession.starts_at <= horizon)
        .order_by(MediationSession.starts_at)).all()
    count = 0
    for session in due:
        case = session.case
        if not case.is_open or case.stage is not Stage.mediation:
            continue
        session.reminded_at = now
        _tell(participants(session), case,
              _("Reminder: mediation session %(time)s (%(number)s)", time=when(session.starts_at),
                number=case.number),
              _("Reminder: the mediation session of case %(number)s starts on %(time)s. Where: %(where)s. "
                "Details: %(url)s", number=case.number, time=when(session.starts_at), where=where(session),
                url=sessions_url(case)),
              served=Served.link("session_reminder", sessions_url(case)))
        audit.record(case, None, "session_reminder_sent", {"session": session.id, "starts_at": session.starts_at})
        count += 1
    count += _remind_pickers(now)
    db.session.flush()
    return count


def _remind_pickers(now: datetime) -> int:
    """Serve a reminder, once, to each party who has not picked a time of a session whose first
    offered time is within ``SESSION_PICK_REMINDER_HOURS``."""
    horizon = now + timedelta(hours=float(current_app.config["SESSION_PICK_REMINDER_HOURS"]))
    first = sa.select(sa.func.min(SessionSlot.starts_at)).where(SessionSlot.session_id == MediationSession.id) \
        .correlate(MediationSession).scalar_subquery()
    due = db.session.scalars(sa.select(MediationSession).where(
        MediationSession.status == SessionStatus.proposed, MediationSession.pick_reminded_at.is_(None),
        first > now, first <= horizon).order_by(MediationSession.id).limit(200)).all()
    count = 0
    for session in due:
        case = session.case
        if not case.is_open or case.stage is not Stage.mediation or non_attendance(case) is not None:
            continue
        session.pick_reminded_at = now
        waiting = [u for u in joined_users(case) if not picks_of(session, u)]
        if not waiting:
            continue
        text = _("Reminder: choose the times you can make for the mediation session of case %(number)s; the "
                 "first one offered is %(time)s. If you do not answer, the session may take place without you: "
                 "%(url)s", number=case.number, time=when(session.slots[0].starts_at), url=sessions_url(case))
        done = serve_parties(case, waiting, text, Served.link("session_reminder", sessions_url(case)),
                             subject=_("Choose a time for mediation (%(number)s)", number=case.number))
        audit.record(case, None, "session_pick_reminder", {"session": session.id, "users": sorted(done)})
        count += 1
    return count


# --- the session's video room (kept by odr.video, reached through odr.cases.rooms) ---------------

def mediation_role(case: Case, host_id: int, user) -> str | None:
    """Who is who in a mediation session's room: the case's mediator hosts it (also after a
    change of mediator); the joined parties take their side's seat."""
    return HOST if is_mediator(case, user) else case.side_of(user)


def video_room(session: MediationSession):
    """The session's room (:class:`odr.cases.rooms.RoomRef`), if it was ever opened."""
    return rooms.keeper().of_session(session.id)


def may_open_video(session: MediationSession, user) -> bool:
    case = session.case
    return (is_mediator(case, user) and session.mode is SessionMode.video and session.status is SessionStatus.scheduled
            and case.is_open and case.stage is Stage.mediation)


def open_video(session: MediationSession, actor):
    """The mediator opens (or opens again) the session's video room.

    :raise SessionError: not the mediator, the case left mediation, not a scheduled video session.
    """
    case = session.case
    if not is_mediator(case, actor):
        raise SessionError(_l("Only the mediator can open the video room."), 403)
    _check_open(case)
    if session.mode is not SessionMode.video or session.status is not SessionStatus.scheduled:
        raise SessionError(_l("Only a scheduled video session has a video room."), 409)
    return rooms.keeper().open(case, actor, "mediation", session_id=session.id)
