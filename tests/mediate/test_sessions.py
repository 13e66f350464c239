"""Mediation sessions: proposing times, picking, automatic scheduling with invitations and a
calendar file, reminders on a controlled clock, attendance and no-shows, cancelling, refusals."""

from __future__ import annotations

import email
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
import sqlalchemy as sa

from odr import jobs, outbox
from odr.cases import audit, workflow
from odr.cases.models import Outcome
from odr.extensions import db
from odr.mediate.sessions import operations as session_ops
from odr.mediate.models import Attendance, MediationSession, SessionStatus
from odr.outbox import OutboxMessage


def local(utc: datetime) -> str:
    """What a person in Beijing types into ``<input type=datetime-local>`` for a UTC time."""
    return (utc + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")


def propose(client, case, slots, mode="video", location="", minutes="60"):
    return client.post(f"/mediate/{case.number}/sessions/new",
                       data={"mode": mode, "location": location, "minutes": minutes,
                             "slots": [local(s) if isinstance(s, datetime) else s for s in slots]})


def pick(client, case, session, slots):
    return client.post(f"/mediate/{case.number}/sessions/{session.id}/pick",
                       data={"slots": [str(s.id) for s in slots]})


def all_sessions():
    db.session.expire_all()
    return db.session.scalars(sa.select(MediationSession).order_by(MediationSession.id)).all()


def messages(after_id=0):
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > after_id)
                              .order_by(OutboxMessage.id)).all()


def last_message_id():
    return db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0


def actions(case):
    return [ev.action for ev in audit.case_events(case)]


def hours(n):
    return timedelta(hours=n)


@pytest.fixture
def m(mediation, client, login, clock):
    """The mediation world with the mediator signed in on ``client``."""
    login(client, mediation.mediator)
    return mediation


@pytest.fixture
def scheduled(m, client, login, clock):
    """A video session fixed three days ahead (both parties picked the first slot)."""
    start = clock.now + timedelta(days=3)
    assert propose(client, m.case, [start, start + hours(24)]).status_code == 303
    session = all_sessions()[-1]
    for party in (m.claimant, m.respondent):
        login(client, party)
        assert pick(client, m.case, session, [session.slots[0]]).status_code == 303
    login(client, m.mediator)
    db.session.refresh(session)
    assert session.status is SessionStatus.scheduled
    return session


# --- proposing ------------------------------------------------------------------------------

def test_mediator_proposes_times_and_parties_are_asked_to_pick(m, client, clock):
    a, b = clock.now + timedelta(days=2), clock.now + timedelta(days=1)
    page = client.get(f"/mediate/{m.case.number}/sessions/new")
    assert page.status_code == 200 and page.get_data(as_text=True).count('type="datetime-local"') == 5
    before = last_message_id()
    resp = propose(client, m.case, [a, b], minutes="90")
    assert resp.status_code == 303
    [session] = all_sessions()
    assert session.status is SessionStatus.proposed and session.mediator_id == m.mediator.id
    assert session.minutes == 90 and session.location is None
    # Entered in Beijing time, stored in UTC, earliest first.
    assert [s.starts_at for s in session.slots] == [b, a]
    assert "session_proposed" in actions(m.case)
    sent = messages(before)
    assert {msg.recipient for msg in sent} == {m.claimant.contact, m.respondent.contact}
    assert all(f"http://odr.test/mediate/{m.case.number}/sessions" in msg.body for msg in sent)
    # The parties see the times as they entered them, in Beijing time.
    page = client.get(f"/mediate/{m.case.number}/sessions").get_data(as_text=True)
    assert local(b).replace("T", " ") in page


def test_in_person_session_keeps_its_address(m, client, clock):
    start = clock.now + timedelta(days=1)
    resp = propose(client, m.case, [start, start + hours(2)], mode="in_person", location="朝阳区调解室 3 号")
    assert resp.status_code == 303
    [session] = all_sessions()
    assert session.mode.value == "in_person" and session.location == "朝阳区调解室 3 号"


@pytest.mark.parametrize("what, slots, extra", [
    ("past slot", ["past", "future"], {}),
    ("no slot", [], {}),
    ("one slot", ["future"], {}),
    ("more than five", ["future", "+1", "+2", "+3", "+4", "+5"], {}),
    ("duplicate", ["future", "future"], {}),
    ("in person without address", ["future", "+1"], {"mode": "in_person", "location": "  "}),
    ("not a time", ["future", "tomorrow at ten"], {}),
    ("unknown mode", ["future", "+1"], {"mode": "phone"}),
    ("too short", ["future", "+1"], {"minutes": "5"}),
    ("minutes not a number", ["future", "+1"], {"minutes": "an hour"}),
])
def test_bad_proposals_are_refused_and_nothing_is_stored(m, client, clock, what, slots, extra):
    future = clock.now + timedelta(days=1)

    def resolve(name):
        if name == "past":
            return clock.now - hours(1)
        if name == "future":
            return future
        return future + hours(int(name[1:])) if name.startswith("+") else name

    times = [resolve(s) for s in slots]
    before = last_message_id()
    resp = propose(client, m.case, times, **extra)
    assert resp.status_code == 400, what
    assert all_sessions() == []
    assert "session_proposed" not in actions(m.case)
    assert messages(before) == []
    assert 'class="error"' in resp.get_data(as_text=True)


def test_new_proposal_replaces_one_still_being_chosen(m, client, clock):
    start = clock.now + timedelta(days=1)
    propose(client, m.case, [start, start + hours(1)])
    propose(client, m.case, [start + hours(5), start + hours(6)])
    old, new = all_sessions()
    assert old.status is SessionStatus.cancelled and new.status is SessionStatus.proposed


def test_only_the_cases_mediator_proposes(mediation, client, login, clock):
    start = clock.now + timedelta(days=1)
    for user, status in ((mediation.claimant, 403), (mediation.respondent, 403), (mediation.staff, 403),
                         (mediation.other_mediator, 404), (mediation.outsider, 404)):
        login(client, user)
        assert client.get(f"/mediate/{mediation.case.number}/sessions/new").status_code == status
        assert propose(client, mediation.case, [start, start + hours(1)]).status_code == status
    assert all_sessions() == []


def test_no_proposal_once_the_case_left_mediation(m, client, clock):
    workflow.move(m.case, Outcome.withdrawn, m.claimant)
    db.session.commit()
    start = clock.now + timedelta(days=1)
    assert propose(client, m.case, [start, start + hours(1)]).status_code == 409
    assert all_sessions() == []


# --- picking and scheduling -----------------------------------------------------------------

def test_earliest_common_slot_is_fixed_and_everyone_invited(m, client, login, clock):
    a = clock.now + timedelta(days=1)
    b, c = a + hours(3), a + hours(27)
    propose(client, m.case, [c, a, b], mode="video")
    [session] = all_sessions()
    slot_a, slot_b, slot_c = session.slots
    # The respondent gets texts: the invitation carries a link to the calendar file instead.
    m.respondent.phone, m.respondent.email = "+8613912345678", None
    db.session.commit()

    login(client, m.claimant)
    page = client.get(f"/mediate/{m.case.number}/sessions").get_data(as_text=True)
    assert page.count('type="checkbox"') == 3
    assert pick(client, m.case, session, [slot_b, slot_c]).status_code == 303
    assert all_sessions()[0].status is SessionStatus.proposed  # the respondent has not answered

    before = last_message_id()
    login(client, m.respondent)
    assert pick(client, m.case, session, [slot_a, slot_b, slot_c]).status_code == 303
    [session] = all_sessions()
    assert session.status is SessionStatus.scheduled and session.starts_at == b
    assert "session_scheduled" in actions(m.case)

    invitations = {msg.recipient: msg for msg in messages(before)}
    assert set(invitations) == {m.claimant.email, "+8613912345678", m.mediator.contact}
    calendar_link = f"http://odr.test/mediate/{m.case.number}/sessions/{session.id}/calendar.ics"
    for msg in invitations.values():
        assert f"http://odr.test/mediate/{m.case.number}/sessions" in msg.body
        assert calendar_link in msg.body
    sms = invitations["+8613912345678"]
    assert sms.channel == "sms" and sms.attachment is None
    mail = invitations[m.claimant.email]
    assert mail.channel == "email" and mail.attachment["mimetype"] == "text/calendar"
    [event] = icalendar.Calendar.from_ical(mail.attachment["text"]).walk("VEVENT")
    assert event.decoded("dtstart") == b.replace(tzinfo=timezone.utc)
    assert event.decoded("dtend") == (b + hours(1)).replace(tzinfo=timezone.utc)
    assert str(event["location"]) == f"http://odr.test/mediate/{m.case.number}/sessions/{session.id}/video"
    assert m.case.number in str(event["description"])
    assert str(event["uid"]) == f"mediation-session-{session.id}@odr.test"

    # The same entry is served to the parties and the mediator; the UID stays the same.
    for user in (m.claimant, m.respondent, m.mediator):
        login(client, user)
        resp = client.get(f"/mediate/{m.case.number}/sessions/{session.id}/calendar.ics")
        assert resp.status_code == 200 and resp.mimetype == "text/calendar"
        [served] = icalendar.Calendar.from_ical(resp.data).walk("VEVENT")
        assert served["uid"] == event["uid"] and served.decoded("dtstart") == event.decoded("dtstart")


def test_in_person_invitation_gives_the_address(m, client, login, clock):
    start = clock.now + timedelta(days=1)
    propose(client, m.case, [start, start + hours(1)], mode="in_person", location="Room 3, 1 Chaoyang Rd")
    [session] = all_sessions()
    for party in (m.claimant, m.respondent):
        login(client, party)
        pick(client, m.case, session, [session.slots[1]])
    mail = next(msg for msg in messages() if msg.attachment)
    [event] = icalendar.Calendar.from_ical(mail.attachment["text"]).walk("VEVENT")
    assert str(event["location"]) == "Room 3, 1 Chaoyang Rd"
    assert event.decoded("dtstart") == (start + hours(1)).replace(tzinfo=timezone.utc)


def test_a_party_can_change_their_answer_until_the_time_is_fixed(m, client, login, clock, scheduled):
    start = clock.now + timedelta(days=5)
    propose(client, m.case, [start, start + hours(1)])
    session = all_sessions()[-1]
    login(client, m.claimant)
    pick(client, m.case, session, [session.slots[0]])
    pick(client, m.case, session, [session.slots[1]])
    assert session_ops.picks_of(all_sessions()[-1], m.claimant) == {session.slots[1].id}
    # Once fixed, the answer is closed.
    resp = pick(client, m.case, scheduled, [scheduled.slots[1]])
    assert resp.status_code == 409
    assert all_sessions()[0].starts_at == scheduled.slots[0].starts_at


def test_no_common_slot_tells_the_mediator(m, client, login, clock):
    start = clock.now + timedelta(days=1)
    propose(client, m.case, [start, start + hours(1)])
    [session] = all_sessions()
    login(client, m.claimant)
    pick(client, m.case, session, [session.slots[0]])
    before = last_message_id()
    login(client, m.respondent)
    pick(client, m.case, session, [session.slots[1]])
    [session] = all_sessions()
    assert session.status is SessionStatus.proposed and session.starts_at is None
    [told] = messages(before)
    assert told.recipient == m.mediator.contact
    assert f"http://odr.test/mediate/{m.case.number}/sessions/new" in told.body
    assert "session_no_common_time" in actions(m.case)


def test_a_party_who_can_make_no_time_tells_the_mediator(m, client, login, clock):
    start = clock.now + timedelta(days=1)
    propose(client, m.case, [start, start + hours(1)])
    [session] = all_sessions()
    before = last_message_id()
    login(client, m.claimant)
    assert pick(client, m.case, session, []).status_code == 303
    assert [msg.recipient for msg in messages(before)] == [m.mediator.contact]
    assert all_sessions()[0].status is SessionStatus.proposed


def test_picks_are_checked(m, client, login, clock, make_case):
    start = clock.now + timedelta(days=1)
    propose(client, m.case, [start, start + hours(1)])
    [session] = all_sessions()
    login(client, m.claimant)
    resp = client.post(f"/mediate/{m.case.number}/sessions/{session.id}/pick", data={"slots": ["999999"]})
    assert resp.status_code == 400
    resp = client.post(f"/mediate/{m.case.number}/sessions/{session.id}/pick", data={"slots": ["x"]})
    assert resp.status_code == 400
    assert client.post(f"/mediate/{m.case.number}/sessions/999999/pick").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("mediation_slot_pick"))) == 0


def test_only_parties_pick(mediation, client, login, clock):
    login(client, mediation.mediator)
    start = clock.now + timedelta(days=1)
    propose(client, mediation.case, [start, start + hours(1)])
    [session] = all_sessions()
    for user, status in ((mediation.mediator, 403), (mediation.staff, 403), (mediation.other_mediator, 404),
                         (mediation.outsider, 404)):
        login(client, user)
        assert pick(client, mediation.case, session, [session.slots[0]]).status_code == status
    assert session_ops.picks_of(all_sessions()[0], mediation.mediator) == set()


# --- reminders ------------------------------------------------------------------------------

def test_reminder_once_within_the_reminder_window(m, clock, scheduled, runner):
    start = scheduled.starts_at
    before = last_message_id()
    assert jobs.run_all()["send_session_reminders"] == 0  # three days ahead
    clock.now = start - timedelta(days=2)
    assert jobs.run_all()["send_session_reminders"] == 0
    assert messages(before) == []

    clock.now = start - hours(23)
    assert jobs.run_all()["send_session_reminders"] == 1
    reminders = messages(before)
    assert {msg.recipient for msg in reminders} == {m.claimant.contact, m.respondent.contact, m.mediator.contact}
    assert all(msg.sent_at is not None for msg in reminders)  # the tick also delivers what it queued
    [session] = all_sessions()
    assert session.reminded_at == clock.now
    assert actions(m.case).count("session_reminder_sent") == 1

    clock.advance(hours=1)
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0 and "send_session_reminders: 0" in result.output
    assert len(messages(before)) == len(reminders)
    assert actions(m.case).count("session_reminder_sent") == 1


def test_no_reminder_for_cancelled_or_past_sessions(m, client, clock, scheduled):
    clock.now = scheduled.starts_at + hours(1)
    assert jobs.run_all()["send_session_reminders"] == 0
    clock.now = scheduled.starts_at - hours(2)
    client.post(f"/mediate/{m.case.number}/sessions/{scheduled.id}/cancel")
    assert jobs.run_all()["send_session_reminders"] == 0


def test_a_failing_job_does_not_stop_the_others(app, monkeypatch):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "JOBS", [broken, session_ops.send_session_reminders])
    assert jobs.run_all() == {"broken": "failed", "send_session_reminders": 0}


def test_the_tests_run_no_periodic_jobs(app):
    from odr.serve import run_jobs_until_stopped

    assert app.config["JOBS_INTERVAL_SECONDS"] == 0
    run_jobs_until_stopped(app)  # returns at once: with an interval it would loop until stopped


# --- attendance -----------------------------------------------------------------------------

def attendance(client, case, session, values):
    return client.post(f"/mediate/{case.number}/sessions/{session.id}/attendance", data=values)


def test_attendance_after_the_start_records_no_shows(m, client, login, clock, scheduled):
    values = {f"p{m.claimant.id}": "present", f"p{m.respondent.id}": "absent"}
    assert attendance(client, m.case, scheduled, values).status_code == 409  # not started yet
    assert all_sessions()[0].status is SessionStatus.scheduled

    clock.now = scheduled.starts_at + timedelta(minutes=5)
    page = client.get(f"/mediate/{m.case.number}/sessions").get_data(as_text=True)
    assert f'name="p{m.respondent.id}"' in page
    assert attendance(client, m.case, scheduled, {f"p{m.claimant.id}": "present"}).status_code == 400
    assert attendance(client, m.case, scheduled, {**values, f"p{m.claimant.id}": "maybe"}).status_code == 400
    for party in (m.claimant, m.respondent):
        login(client, party)
        assert attendance(client, m.case, scheduled, values).status_code == 403
    assert all_sessions()[0].status is SessionStatus.scheduled

    login(client, m.mediator)
    assert attendance(client, m.case, scheduled, values).status_code == 303
    [session] = all_sessions()
    assert session.status is SessionStatus.held
    rows = {a.user_id: a.present for a in db.session.scalars(sa.select(Attendance))}
    assert rows == {m.claimant.id: True, m.respondent.id: False}
    [held] = [ev for ev in audit.case_events(m.case) if ev.action == "session_held"]
    assert [p["user"] for p in held.payload["no_shows"]] == [m.respondent.id]
    assert [p["user"] for p in held.payload["present"]] == [m.claimant.id]
    # Recorded once only.
    assert attendance(client, m.case, scheduled, values).status_code == 409


# --- cancelling -----------------------------------------------------------------------------

def test_mediator_cancels_and_parties_are_told(m, client, login, clock, scheduled):
    for party in (m.claimant, m.respondent):
        login(client, party)
        assert client.post(f"/mediate/{m.case.number}/sessions/{scheduled.id}/cancel").status_code == 403
    login(client, m.mediator)
    before = last_message_id()
    assert client.post(f"/mediate/{m.case.number}/sessions/{scheduled.id}/cancel").status_code == 303
    assert all_sessions()[0].status is SessionStatus.cancelled
    assert {msg.recipient for msg in messages(before)} == {m.claimant.contact, m.respondent.contact}
    assert "session_cancelled" in actions(m.case)
    assert client.post(f"/mediate/{m.case.number}/sessions/{scheduled.id}/cancel").status_code == 409
    # A cancelled session has no calendar entry any more.
    assert client.get(f"/mediate/{m.case.number}/sessions/{scheduled.id}/calendar.ics").status_code == 404


# --- who sees what --------------------------------------------------------------------------

def test_calendar_and_list_refusals(mediation, client, login, clock, scheduled, make_case):
    url = f"/mediate/{mediation.case.number}/sessions/{scheduled.id}/calendar.ics"
    for user, status in ((mediation.staff, 403), (mediation.other_mediator, 404), (mediation.outsider, 404)):
        login(client, user)
        assert client.get(url).status_code == status
    for user, status in ((mediation.staff, 200), (mediation.other_mediator, 404), (mediation.outsider, 404)):
        login(client, user)
        assert client.get(f"/mediate/{mediation.case.number}/sessions").status_code == status
    # A session id of another case is not found through this one.
    other = make_case(claimant=mediation.claimant, respondent=mediation.respondent, organization=mediation.org)
    login(client, mediation.claimant)
    assert client.get(f"/mediate/{other.number}/sessions/{scheduled.id}/calendar.ics").status_code == 404
    assert client.get(f"/mediate/ODR-2026-999999/sessions/{scheduled.id}/calendar.ics").status_code == 404


def test_stage_page_summarises_sessions(m, client, clock, scheduled):
    page = client.get(f"/mediate/{m.case.number}").get_data(as_text=True)
    assert 'id="sessions-summary"' in page and local(scheduled.starts_at).replace("T", " ") in page


# --- the outbox's attachment ----------------------------------------------------------------

def test_attachments_go_with_email_only_and_smtp_sends_them(app, monkeypatch):
    ics = outbox.Attachment("x.ics", "text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    text = outbox.enqueue("+8613912345678", "S", "see the link", attachment=ics)
    mail = outbox.enqueue("a@example.com", "S", "attached", attachment=ics)
    db.session.flush()
    assert text.attachment is None and mail.attachment["filename"] == "x.ics"

    sent = []

    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message.as_bytes())

    monkeypatch.setattr(outbox.smtplib, "SMTP", FakeSMTP)
    outbox.SmtpSender(app).send(mail)
    parsed = email.message_from_bytes(sent[0])
    [part] = [p for p in parsed.walk() if p.get_filename()]
    assert part.get_filename() == "x.ics" and part.get_content_type() == "text/calendar"
    assert part.get_payload(decode=True).startswith(b"BEGIN:VCALENDAR")
