"""No-shows at mediation sessions, the pattern of the silent respondent (issue 18): reminders served
to a party who has not picked a time and before a fixed session; after a session, a party who did
not come (recorded by the mediator, or by the platform from who came into the video room) is a
no-show with the proof that the session notice was served; after ``SESSION_NO_SHOW_LIMIT`` of
them the mediator may end the mediation for non-attendance and the claimant is offered the court
hand-off, which the complaint states. All on a stopped clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from odr import jobs
from odr.cases import audit
from odr.cases.service.models import ServiceRecord
from odr.cases import todo
from odr.extensions import db
from odr.mediate.models import Attendance, MediationSession, NonAttendance, SessionStatus
from odr.mediate.sessions import operations as session_ops
from tests.mediate.test_sessions import all_sessions, attendance, hours, local, pick, propose


def steps(case, user):
    from flask import current_app

    with current_app.test_request_context():
        return [t.kind for t in todo.for_case(case, user)]


def actions(case):
    return [ev.action for ev in audit.case_events(case)]


def events(case, action):
    return [ev for ev in audit.case_events(case) if ev.action == action]


def served(party_user, kind):
    return db.session.scalars(sa.select(ServiceRecord).where(ServiceRecord.user_id == party_user.id,
                                                             ServiceRecord.kind == kind)
                              .order_by(ServiceRecord.id)).all()


@pytest.fixture
def m(mediation, client, login, clock):
    login(client, mediation.mediator)
    return mediation


def schedule(m, client, login, clock, days=3, mode="video", location=""):
    """A session fixed ``days`` ahead, both parties picked; the mediator signed in again."""
    start = clock.now + timedelta(days=days)
    assert propose(client, m.case, [start, start + hours(24)], mode=mode, location=location).status_code == 303
    session = all_sessions()[-1]
    for party in (m.claimant, m.respondent):
        login(client, party)
        assert pick(client, m.case, session, [session.slots[0]]).status_code == 303
    login(client, m.mediator)
    db.session.refresh(session)
    assert session.status is SessionStatus.scheduled
    return session


def miss(m, client, clock, session):
    """After the start, the mediator records that the respondent did not come."""
    clock.now = session.starts_at + timedelta(minutes=10)
    values = {f"p{m.claimant.id}": "present", f"p{m.respondent.id}": "absent"}
    assert attendance(client, m.case, session, values).status_code == 303


# --- reminders ------------------------------------------------------------------------------

def test_a_party_who_has_not_picked_is_served_a_reminder_once(m, client, login, clock):
    start = clock.now + timedelta(days=4)
    assert propose(client, m.case, [start, start + hours(24)]).status_code == 303
    [session] = all_sessions()
    login(client, m.claimant)
    assert pick(client, m.case, session, [session.slots[0]]).status_code == 303
    assert jobs.run_all()["send_session_reminders"] == 0  # four days ahead: not yet
    clock.now = start - hours(47)
    assert jobs.run_all()["send_session_reminders"] == 1
    db.session.expire_all()
    # Only the respondent, who has not picked, is served; the claimant already answered.
    [reminder] = served(m.respondent, "session_reminder")
    assert f"/mediate/{m.case.number}/sessions" == reminder.target
    assert reminder.message.recipient == m.respondent.contact
    assert served(m.claimant, "session_reminder") == []
    [entry] = events(m.case, "session_pick_reminder")
    assert entry.payload["users"] == [m.respondent.id]
    assert all_sessions()[0].pick_reminded_at == clock.now
    clock.advance(hours=1)
    assert jobs.run_all()["send_session_reminders"] == 0  # once only


def test_the_reminder_before_a_fixed_session_is_served_to_the_parties(m, client, login, clock):
    session = schedule(m, client, login, clock)
    clock.now = session.starts_at - hours(23)
    assert jobs.run_all()["send_session_reminders"] == 1
    for party in (m.claimant, m.respondent):
        [record] = served(party, "session_reminder")
        assert record.document_sha256 and record.message is not None


# --- no-shows recorded by the mediator --------------------------------------------------------

def test_a_no_show_is_recorded_with_the_proof_the_notice_was_served(m, client, login, clock):
    session = schedule(m, client, login, clock)
    [notice] = served(m.respondent, "session_notice")
    miss(m, client, clock, session)
    rows = {a.user_id: (a.present, a.notice_served) for a in db.session.scalars(sa.select(Attendance))}
    assert rows == {m.claimant.id: (True, None), m.respondent.id: (False, True)}
    [entry] = events(m.case, "session_no_show")
    assert entry.payload["user"] == m.respondent.id and entry.payload["by"] == "mediator"
    assert entry.payload["notice_served"] is True and entry.payload["no_shows"] == 1
    assert [p["record"] for p in entry.payload["served"]] == [notice.id]
    assert entry.payload["served"][0]["document_sha256"] == notice.document_sha256
    # The no-show's entry is in the same transaction as the held session's.
    held = events(m.case, "session_held")[0]
    assert entry.seq == held.seq + 1
    page = client.get(f"/mediate/{m.case.number}/sessions").get_data(as_text=True)
    assert "送达" in page  # session notice served (zh is the default)


def test_a_no_show_without_a_served_notice_does_not_count(m, client, login, clock):
    session = schedule(m, client, login, clock)
    db.session.execute(sa.delete(ServiceRecord).where(ServiceRecord.user_id == m.respondent.id))
    db.session.commit()
    miss(m, client, clock, session)
    [entry] = events(m.case, "session_no_show")
    assert entry.payload["notice_served"] is False and entry.payload["served"] == []
    assert session_ops.no_show_count(m.case, m.respondent) == 0


# --- no-shows recorded by the platform from the video room --------------------------------------

def join_video(app, client, login, user, room_id):
    login(client, user)
    sio = app.extensions["socketio"].test_client(app, namespace="/video", flask_test_client=client)
    assert sio.emit("join", {"room_id": room_id}, namespace="/video", callback=True)["ok"] is True
    sio.disconnect(namespace="/video")


def test_the_platform_records_who_never_came_into_the_video_room(app, m, client, login, clock):
    from odr.cases.models import Case

    session = schedule(m, client, login, clock)
    case_id, claimant_id, respondent_id = m.case.id, m.claimant.id, m.respondent.id
    clock.now = session.starts_at - timedelta(minutes=5)
    resp = client.post(f"/mediate/{m.case.number}/sessions/{session.id}/video/open")
    assert resp.status_code == 303
    [session] = all_sessions()
    room = session_ops.video_room(session)
    ends = session.starts_at + timedelta(minutes=session.minutes)
    join_video(app, client, login, m.claimant, room.id)  # the claimant comes; the respondent never does
    clock.now = ends + timedelta(minutes=29)
    assert jobs.run_all()["record_video_no_shows"] == 0  # within the grace period
    clock.advance(minutes=2)
    assert jobs.run_all()["record_video_no_shows"] == 1
    db.session.expire_all()
    [held] = all_sessions()
    assert held.status is SessionStatus.held and held.attendance_by == "platform"
    assert {a.user_id: a.present for a in held.attendance} == {claimant_id: True, respondent_id: False}
    [entry] = events(db.session.get(Case, case_id), "session_no_show")
    assert entry.actor_id is None and entry.payload["by"] == "platform" and entry.payload["notice_served"]
    assert entry.payload["user"] == respondent_id
    assert jobs.run_all()["record_video_no_shows"] == 0  # once


def test_no_record_by_the_platform_when_the_room_was_never_opened(m, client, login, clock):
    session = schedule(m, client, login, clock)
    clock.now = session.starts_at + timedelta(days=1)
    assert jobs.run_all()["record_video_no_shows"] == 0
    assert all_sessions()[0].status is SessionStatus.scheduled  # the mediator says what happened


def test_no_record_by_the_platform_for_an_in_person_session(m, client, login, clock):
    session = schedule(m, client, login, clock, mode="in_person", location="Room 2")
    clock.now = session.starts_at + timedelta(days=1)
    assert jobs.run_all()["record_video_no_shows"] == 0


# --- ending the mediation for non-attendance ------------------------------------------------------

def end(client, case):
    return client.post(f"/mediate/{case.number}/sessions/end-for-non-attendance")


def test_second_no_show_lets_the_mediator_end_and_offers_the_claimant_court(app, m, client, login, clock):
    first = schedule(m, client, login, clock)
    miss(m, client, clock, first)
    assert end(client, m.case).status_code == 409  # one no-show is not enough
    assert db.session.get(NonAttendance, m.case.id) is None
    for party in (m.claimant, m.respondent):
        login(client, party)
        assert end(client, m.case).status_code == 403
    login(client, m.mediator)

    second = schedule(m, client, login, clock)
    miss(m, client, clock, second)
    assert steps(m.case, m.mediator).count("end_for_non_attendance") == 1
    page = client.get(f"/mediate/{m.case.number}/sessions").get_data(as_text=True)
    assert 'id="non-attendance"' in page
    # A third session being arranged is cancelled when the mediation ends.
    start = clock.now + timedelta(days=2)
    assert propose(client, m.case, [start, start + hours(1)]).status_code == 303
    resp = end(client, m.case)
    assert resp.status_code == 303
    ended = db.session.get(NonAttendance, m.case.id)
    assert ended.user_id == m.respondent.id and ended.side == "respondent" and ended.no_shows == 2
    assert all_sessions()[-1].status is SessionStatus.cancelled
    [entry] = events(m.case, "mediation_failed_non_attendance")
    assert entry.actor_id == m.mediator.id and len(entry.payload["no_shows"]) == 2
    assert all(s["served"] for s in entry.payload["no_shows"])
    # The claimant is served the news with the offer, and finds the court hand-off on their list.
    [notice] = served(m.claimant, "no_show")
    assert notice.target == f"/cases/{m.case.number}"
    login(client, m.claimant)
    assert "mediation_no_show" in steps(m.case, m.claimant)
    page = client.get(f"/mediate/{m.case.number}/sessions").get_data(as_text=True)
    assert "#move-litigation" in page
    # Ended once; no new session afterwards.
    login(client, m.mediator)
    assert end(client, m.case).status_code == 409
    assert propose(client, m.case, [start, start + hours(2)]).status_code == 400
    assert len(all_sessions()) == 3


def test_the_limit_is_configurable(app, m, client, login, clock):
    app.config["SESSION_NO_SHOW_LIMIT"] = 1
    session = schedule(m, client, login, clock)
    miss(m, client, clock, session)
    assert end(client, m.case).status_code == 303


def test_the_complaint_states_the_non_attendance(app, m, client, login, clock):
    from odr.court.complaint import _service

    app.config["SESSION_NO_SHOW_LIMIT"] = 1
    session = schedule(m, client, login, clock)
    miss(m, client, clock, session)
    assert end(client, m.case).status_code == 303
    from odr.court.complaint import LABELS
    from odr.documents import layout

    zh = _service(m.case, layout.words("zh", LABELS), "zh")
    en = _service(m.case, layout.words("en", LABELS), "en")
    assert "未出席1次调解会议" in zh and "ended the mediation for non-attendance" in en
    # The court bundle's case.json says so too, with the served notices of each missed session.
    from odr.court.bundle import service_summary

    summary = service_summary(m.case)
    [notice] = served(m.respondent, "session_notice")
    assert summary["mediation_ended_for_non_attendance_at"] is not None
    assert [s["served_records"] for s in summary["respondent_missed_sessions"]] == [[notice.id]]


def test_an_expired_form_is_refused_and_nothing_is_written(app, m, client, login, clock):
    app.config["SESSION_NO_SHOW_LIMIT"] = 1
    session = schedule(m, client, login, clock)
    miss(m, client, clock, session)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert end(client, m.case).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.get(NonAttendance, m.case.id) is None
    assert "mediation_failed_non_attendance" not in actions(m.case)


def test_not_in_mediation_or_unknown_case(m, client, login, clock):
    assert client.post("/mediate/ODR-2026-999999/sessions/end-for-non-attendance").status_code == 404
    assert client.get(f"/mediate/{m.case.number}/sessions/end-for-non-attendance").status_code == 405


def test_an_agent_who_came_into_the_room_attends_for_their_party(app, m, client, login, clock, make_user):
    from tests.cases.test_representation import active_agent

    agent, _rep = active_agent(client, login, m, make_user)
    agent_id, claimant_id, respondent_id = agent.id, m.claimant.id, m.respondent.id
    login(client, m.mediator)
    session = schedule(m, client, login, clock)
    clock.now = session.starts_at - timedelta(minutes=5)
    assert client.post(f"/mediate/{m.case.number}/sessions/{session.id}/video/open").status_code == 303
    [session] = all_sessions()
    room = session_ops.video_room(session)
    ends = session.starts_at + timedelta(minutes=session.minutes)
    clock.now = session.starts_at + timedelta(minutes=2)
    join_video(app, client, login, agent, room.id)
    clock.now = ends + timedelta(minutes=31)
    assert jobs.run_all()["record_video_no_shows"] == 1
    [held] = all_sessions()
    assert {a.user_id: a.present for a in held.attendance} == {claimant_id: True, respondent_id: False}
    assert agent_id not in {a.user_id for a in held.attendance}
