"""The room pages (invitation link, opening, the room), the join link on the stage page, ICE
configuration with short-lived TURN credentials, and the self-signed certificate for HTTPS."""

import base64
import hashlib
import hmac

import sqlalchemy as sa

from odr.cases.models import Event
from odr.extensions import db
from odr.mediate.models import MediationSession, SessionMode, SessionStatus
from odr.timeutil import utcnow
from odr.video import ice, rooms
from odr.cases.rooms import RoomStatus
from odr.video.models import VideoRoom


def video_session(m, mode=SessionMode.video, status=SessionStatus.scheduled):
    session = MediationSession(case_id=m.case.id, mediator_id=m.mediator.id, mode=mode, status=status,
                               starts_at=utcnow(), minutes=60)
    db.session.add(session)
    db.session.commit()
    return session


def test_mediator_opens_the_room_and_parties_follow_the_link(client, mediation, login_en):
    m = mediation
    session = video_session(m)
    link = f"/mediate/{m.case.number}/sessions/{session.id}/video"
    login_en(client, m.claimant)
    page = client.get(link)
    assert page.status_code == 200 and b"has not opened the video room yet" in page.data
    assert b'id="open-room"' not in page.data
    assert client.post(f"{link}/open").status_code == 403
    stage = client.get(f"/mediate/{m.case.number}")
    assert link.encode() in stage.data  # "Join the video room" on the stage page

    login_en(client, m.mediator)
    assert b'id="open-room"' in client.get(link).data
    opened = client.post(f"{link}/open")
    assert opened.status_code == 303
    room = db.session.scalar(sa.select(VideoRoom))
    assert opened.location.endswith(f"/video/{m.case.number}/rooms/{room.id}")
    assert client.post(f"{link}/open").location == opened.location  # opening twice: the same room
    assert [e.action for e in db.session.scalars(sa.select(Event).where(Event.action == "video_room_opened"))] \
        == ["video_room_opened"]
    page = client.get(opened.location)
    assert page.status_code == 200 and b'data-role="host"' in page.data and b"video.js" in page.data

    login_en(client, m.claimant)
    assert client.get(link).location.endswith(f"/rooms/{room.id}")
    assert b'data-role="claimant"' in client.get(f"/video/{m.case.number}/rooms/{room.id}").data


def test_refusals(client, mediation, login_en):
    m = mediation
    in_person = video_session(m, mode=SessionMode.in_person)
    proposed = video_session(m, status=SessionStatus.proposed)
    login_en(client, m.mediator)
    assert client.get(f"/mediate/{m.case.number}/sessions/{in_person.id}/video").status_code == 404
    assert client.get(f"/mediate/{m.case.number}/sessions/99999/video").status_code == 404
    refused = client.post(f"/mediate/{m.case.number}/sessions/{proposed.id}/video/open")
    assert refused.status_code == 409 and b"Only a scheduled video session has a video room." in refused.data
    assert db.session.scalar(sa.select(sa.func.count(VideoRoom.id))) == 0
    assert client.get(f"/video/{m.case.number}/rooms/12345").status_code == 404
    # Another mediator of the organisation does not host this case's rooms.
    session = video_session(m)
    room = rooms.open_room(session.case, m.mediator, "mediation", session_id=session.id)
    db.session.commit()
    assert rooms.role_in_room(room, m.other_mediator) is None
    assert rooms.role_in_room(room, m.staff) is None
    login_en(client, m.staff)
    assert client.get(f"/video/{m.case.number}/rooms/{room.id}").status_code == 403
    # An ended room says so.
    rooms.end(room, m.mediator)
    db.session.commit()
    login_en(client, m.claimant)
    ended = client.get(f"/video/{m.case.number}/rooms/{room.id}")
    assert ended.status_code == 410 and b"This video session has ended." in ended.data
    assert room.status is RoomStatus.ended


def test_ice_servers_come_from_configuration_with_short_lived_turn_credentials():
    assert ice.servers_for({}, 7) == []  # nothing built in: no public STUN server
    config = {"VIDEO_STUN_URLS": ["stun:turn.example.org:3478"], "VIDEO_TURN_URLS": ["turn:turn.example.org:3478"],
              "VIDEO_TURN_SECRET": "s3cret", "VIDEO_TURN_TTL": 600}
    stun, turn = ice.servers_for(config, 7)
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    expiry, user = turn["username"].split(":")
    assert user == "7" and 0 < int(expiry) - __import__("time").time() <= 600
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected  # what coturn's use-auth-secret checks
    assert ice.turn_credentials("s3cret", 7, 600, now=1000) == ("1600:7", base64.b64encode(
        hmac.new(b"s3cret", b"1600:7", hashlib.sha1).digest()).decode())


def test_self_signed_certificate_for_https(app):
    from cryptography import x509

    from odr.cli import self_signed_certificate

    cert, key = self_signed_certificate(app, "192.0.2.10")
    from pathlib import Path

    loaded = x509.load_pem_x509_certificate(Path(cert).read_bytes())
    assert "192.0.2.10" in str(loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    assert self_signed_certificate(app, "192.0.2.10") == (cert, key)  # made once, then reused
