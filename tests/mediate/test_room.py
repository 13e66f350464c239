"""The case room: who reads and writes which thread, evidence visibility, uploads refused cleanly."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import sqlalchemy as sa

from odr import uploads
from odr.cases import workflow
from odr.cases.models import Event, Outcome
from odr.extensions import db
from odr.mediate.room import operations as room
from odr.cases.evidence import Evidence, Visibility
from odr.mediate.models import RoomChannel, RoomMessage
from odr.outbox import OutboxMessage
from tests.mediate.permissions_room import PNG

SECRET = "Between us: I would accept 3000 yuan."
SECRET_NOTE = "Bank statement showing my real income"

MP3_ID3 = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\xff\xfb\x90\x64" + b"\x00" * 200
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 200
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 200
OGG = b"OggS\x00\x02" + b"\x00" * 200
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"\x00" * 200
AMR = b"#!AMR\n" + b"\x3c" * 200
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm" \
    + b"\x00" * 200
PDF = b"%PDF-1.7\n%\xe2\xe3\n1 0 obj<<>>endobj\n"


@pytest.fixture
def folder(app, tmp_path):
    """Uploads go to a folder of this test's own, so "nothing left behind" can be checked."""
    path = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(path)
    app.config["EVIDENCE_MAX_BYTES"] = 4096  # small, so the tests need no large uploads
    return path


def stored_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def as_user(app, login):
    """A signed-in client reading the pages in English."""

    def make(user):
        client = app.test_client()
        login(client, user)
        with client.session_transaction() as session:
            session["lang"] = "en"
        return client

    return make


def page(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code)
    return resp.get_data(as_text=True)


def upload(client, case, content, name, visibility="all", description=""):
    with client.post(f"/mediate/{case.number}/evidence",
                     data={"file": (io.BytesIO(content), name), "visibility": visibility,
                           "description": description},
                     content_type="multipart/form-data") as resp:
        resp.get_data()
    return resp


def events(case, action):
    return list(db.session.scalars(sa.select(Event).where(Event.case_id == case.id, Event.action == action)
                                   .order_by(Event.seq)))


# --- threads ------------------------------------------------------------------------------------

def test_who_reads_which_thread(mediation):
    m, case = mediation, mediation.case
    assert room.readable_threads(case, m.mediator) == [RoomChannel.joint, RoomChannel.claimant,
                                                      RoomChannel.respondent]
    assert room.readable_threads(case, m.claimant) == [RoomChannel.joint, RoomChannel.claimant]
    assert room.readable_threads(case, m.respondent) == [RoomChannel.joint, RoomChannel.respondent]
    assert room.readable_threads(case, m.staff) == [RoomChannel.joint]  # caucus confidentiality
    assert room.readable_threads(case, m.other_mediator) == []
    assert room.readable_threads(case, m.outsider) == []
    assert room.writable_threads(case, m.staff) == []
    assert room.writable_threads(case, m.respondent) == [RoomChannel.joint, RoomChannel.respondent]


def test_private_thread_stays_with_its_side_and_the_mediator(mediation, as_user):
    m, case = mediation, mediation.case
    claimant, respondent, mediator, staff = (as_user(u) for u in (m.claimant, m.respondent, m.mediator, m.staff))
    resp = claimant.post(f"/mediate/{case.number}/room", data={"thread": "claimant", "body": SECRET})
    assert resp.status_code == 303 and "thread=claimant" in resp.location
    resp = mediator.post(f"/mediate/{case.number}/room", data={"thread": "claimant", "body": "Noted, in private."})
    assert resp.status_code == 303

    assert SECRET in page(claimant, f"/mediate/{case.number}/room?thread=claimant")
    assert SECRET in page(mediator, f"/mediate/{case.number}/room?thread=claimant")
    # The other side and the centre: not on the default (joint) page, and the thread itself is refused.
    for client in (respondent, staff):
        assert SECRET not in page(client, f"/mediate/{case.number}/room")
        assert SECRET not in page(client, f"/mediate/{case.number}/room?thread=claimant", 403)
        assert SECRET not in page(client, f"/mediate/{case.number}")
        assert SECRET not in page(client, f"/cases/{case.number}")
    assert "thread-claimant" not in page(respondent, f"/mediate/{case.number}/room")
    assert "thread-respondent" in page(respondent, f"/mediate/{case.number}/room")
    assert "thread-claimant" not in page(staff, f"/mediate/{case.number}/room")
    # The respondent's stage page counts their own threads only.
    stage = page(respondent, f"/mediate/{case.number}")
    assert 'id="room-count-claimant"' not in stage and 'id="room-count-respondent"' in stage
    assert "Messages: 2" in page(mediator, f"/mediate/{case.number}")

    # The audit trail records the caucus message without its words.
    ev = events(case, "room_message")
    assert [e.payload["thread"] for e in ev] == ["claimant", "claimant"]
    assert all("body" not in e.payload and e.payload["private"] == "claimant" for e in ev)
    assert all(SECRET not in (o.body + o.subject) for o in db.session.scalars(sa.select(OutboxMessage)))


def test_nobody_writes_in_a_thread_that_is_not_theirs(mediation, as_user):
    m, case = mediation, mediation.case
    resp = as_user(m.respondent).post(f"/mediate/{case.number}/room", data={"thread": "claimant", "body": "Hi"})
    assert resp.status_code == 403
    resp = as_user(m.staff).post(f"/mediate/{case.number}/room", data={"thread": "joint", "body": "Hi"})
    assert resp.status_code == 403
    for user in (m.outsider, m.other_mediator):
        assert as_user(user).post(f"/mediate/{case.number}/room",
                                  data={"thread": "joint", "body": "Hi"}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(RoomMessage.id))) == 0
    assert events(case, "room_message") == []


def test_joint_thread_is_read_by_everyone_in_the_case(mediation, as_user):
    m, case = mediation, mediation.case
    resp = as_user(m.respondent).post(f"/mediate/{case.number}/room",
                                      data={"thread": "joint", "body": "We can meet on Saturday."})
    assert resp.status_code == 303
    for user in (m.claimant, m.respondent, m.mediator, m.staff):
        assert "We can meet on Saturday." in page(as_user(user), f"/mediate/{case.number}/room")
    (ev,) = events(case, "room_message")
    assert ev.payload["thread"] == "joint" and ev.payload["body"] == "We can meet on Saturday."


@pytest.mark.parametrize("body, error", [
    ("", "Write a message first."),
    ("   ", "Write a message first."),
    ("x" * 2001, "2000"),
    ("bad\x07bell", "control characters"),
])
def test_bad_messages_are_refused(mediation, as_user, body, error):
    client = as_user(mediation.claimant)
    resp = client.post(f"/mediate/{mediation.case.number}/room", data={"thread": "joint", "body": body})
    assert resp.status_code == 400
    assert error in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(RoomMessage.id))) == 0


def test_unknown_thread(mediation, as_user):
    client = as_user(mediation.mediator)
    assert client.get(f"/mediate/{mediation.case.number}/room?thread=everyone").status_code == 404
    resp = client.post(f"/mediate/{mediation.case.number}/room", data={"thread": "everyone", "body": "Hi"})
    assert resp.status_code == 400


def test_outsiders_get_404_everywhere(mediation, as_user, folder):
    m, case = mediation, mediation.case
    item = room.add_evidence(case, m.claimant, io.BytesIO(PNG), "shared.png", Visibility.all, "")
    db.session.commit()
    for user in (m.outsider, m.other_mediator):
        client = as_user(user)
        for url in (f"/mediate/{case.number}/room", f"/mediate/{case.number}/evidence",
                    f"/mediate/{case.number}/evidence/{item.id}"):
            assert client.get(url).status_code == 404, (user.name, url)
        assert upload(client, case, PNG, "x.png").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 1


def test_after_mediation_the_room_is_read_only(mediation, as_user):
    m, case = mediation, mediation.case
    client = as_user(m.claimant)
    client.post(f"/mediate/{case.number}/room", data={"thread": "joint", "body": "Before the end."})
    workflow.move(case, Outcome.withdrawn, m.claimant)
    db.session.commit()
    resp = client.post(f"/mediate/{case.number}/room", data={"thread": "joint", "body": "After the end."})
    assert resp.status_code == 409
    assert upload(client, case, PNG, "late.png").status_code == 409
    text = page(client, f"/mediate/{case.number}/room")
    assert "Before the end." in text and "After the end." not in text and 'name="body"' not in text
    assert 'type="file"' not in page(client, f"/mediate/{case.number}/evidence")


# --- evidence -----------------------------------------------------------------------------------

def test_mediator_only_evidence_never_reaches_the_other_side(mediation, as_user, folder):
    m, case = mediation, mediation.case
    claimant, respondent, mediator, staff = (as_user(u) for u in (m.claimant, m.respondent, m.mediator, m.staff))
    resp = upload(claimant, case, PNG, "payslip-june.png", "mediator", SECRET_NOTE)
    assert resp.status_code == 303
    item = db.session.scalar(sa.select(Evidence))
    assert item.visibility is Visibility.mediator and item.filename == "payslip-june.png"
    assert item.sha256 == hashlib.sha256(PNG).hexdigest() and item.size == len(PNG)
    assert uploads.path_for(item.sha256).read_bytes() == PNG
    download = f"/mediate/{case.number}/evidence/{item.id}"

    for client in (claimant, mediator):
        text = page(client, f"/mediate/{case.number}/evidence")
        assert "payslip-june.png" in text and SECRET_NOTE in text
        with client.get(download) as got:
            assert got.status_code == 200 and got.get_data() == PNG
            assert got.headers["Content-Type"] == "image/png"
            assert got.headers["Content-Disposition"].startswith("attachment")
            assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert "Files: 1" in page(client, f"/mediate/{case.number}")

    for client in (respondent, staff):
        for url in (f"/mediate/{case.number}/evidence", f"/mediate/{case.number}", f"/cases/{case.number}",
                    f"/mediate/{case.number}/room"):
            text = page(client, url)
            assert "payslip-june" not in text and SECRET_NOTE not in text and item.sha256[:12] not in text
            assert download not in text
        assert "Files: 0" in page(client, f"/mediate/{case.number}")
        # 404 like an id that does not exist: its existence is not revealed.
        with client.get(download) as hidden, client.get(f"/mediate/{case.number}/evidence/{item.id + 99}") as none:
            assert hidden.status_code == none.status_code == 404
            assert hidden.get_data() == none.get_data().replace(str(item.id + 99).encode(), str(item.id).encode())

    (ev,) = events(case, "evidence_added")
    assert ev.payload["sha256"] == item.sha256 and ev.payload["visibility"] == "mediator"
    assert ev.payload["filename"] == "payslip-june.png" and ev.payload["private"] == "mediator"
    assert "description" not in ev.payload
    for msg in db.session.scalars(sa.select(OutboxMessage)):
        assert "payslip" not in msg.body and SECRET_NOTE not in msg.body and download not in msg.body


def test_shared_evidence_is_seen_by_everyone_in_the_case(mediation, as_user, folder):
    m, case = mediation, mediation.case
    assert upload(as_user(m.respondent), case, PDF, "receipt.pdf", "all", "The repair receipt").status_code == 303
    item = db.session.scalar(sa.select(Evidence))
    for user in (m.claimant, m.respondent, m.mediator, m.staff):
        client = as_user(user)
        assert "The repair receipt" in page(client, f"/mediate/{case.number}/evidence")
        with client.get(f"/mediate/{case.number}/evidence/{item.id}") as got:
            assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
    (ev,) = events(case, "evidence_added")
    assert ev.payload["description"] == "The repair receipt" and ev.payload["visibility"] == "all"


def test_the_mediators_own_private_note_is_theirs_alone(mediation, as_user, folder):
    m, case = mediation, mediation.case
    assert upload(as_user(m.mediator), case, PNG, "notes.png", "mediator").status_code == 303
    item = db.session.scalar(sa.select(Evidence))
    for user in (m.claimant, m.respondent, m.staff):
        assert as_user(user).get(f"/mediate/{case.number}/evidence/{item.id}").status_code == 404


def test_staff_do_not_upload(mediation, as_user, folder):
    resp = upload(as_user(mediation.staff), mediation.case, PNG, "x.png")
    assert resp.status_code == 403
    assert stored_files(folder) == []


@pytest.mark.parametrize("content, name, status, error", [
    (b"MZ\x90\x00" + b"\x00" * 100, "photo.jpg", 400, "not accepted"),      # a program named like a photo
    (b"Just some text, not a PDF.\n", "contract.pdf", 400, "not accepted"),
    (b"<svg onload=alert(1)>", "x.svg", 400, "not accepted"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska" + b"\x00" * 50, "film.webm", 400, "not accepted"),
    (b"", "empty.png", 400, "empty"),
    (PNG + b"\x00" * 5000, "big.png", 400, "larger than"),                # over the limit, under the request cap
    (PNG + b"\x00" * 100_000, "huge.png", 413, "larger than"),            # over the request cap
    (PNG, "../../etc/passwd", 400, "file name"),
    (PNG, "..\\..\\windows\\win.ini", 400, "file name"),
    (PNG, "photo\x00.png", 400, "file name"),
    (PNG, "photo\x1b[2J.png", 400, "file name"),          # a terminal escape
    (PNG, ".htaccess", 400, "file name"),
    (PNG, "x" * 300 + ".png", 400, "file name"),
    (PNG, "", 400, "Choose a file"),
])
def test_bad_uploads_are_refused_and_leave_nothing(mediation, as_user, folder, content, name, status, error):
    resp = upload(as_user(mediation.claimant), mediation.case, content, name, "mediator", SECRET_NOTE)
    assert resp.status_code == status
    assert error in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 0
    assert stored_files(folder) == []
    assert events(mediation.case, "evidence_added") == []


def test_upload_without_a_file_or_with_bad_details(mediation, as_user, folder):
    client = as_user(mediation.claimant)
    resp = client.post(f"/mediate/{mediation.case.number}/evidence", data={"visibility": "all"},
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and "Choose a file" in resp.get_data(as_text=True)
    assert upload(client, mediation.case, PNG, "a.png", visibility="everyone").status_code == 400
    assert upload(client, mediation.case, PNG, "a.png", description="x" * 301).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 0
    assert stored_files(folder) == []


@pytest.mark.parametrize("content, name, mimetype, shown", [
    (MP3_ID3, "call.mp3", "audio/mpeg", "call.mp3"),
    (MP3_FRAME, "call", "audio/mpeg", "call.mp3"),
    (M4A, "voice memo.m4a", "audio/mp4", "voice memo.m4a"),
    (OGG, "note.ogg", "audio/ogg", "note.ogg"),
    (WAV, "recording.wav", "audio/wav", "recording.wav"),
    (AMR, "wechat-voice.amr", "audio/amr", "wechat-voice.amr"),
    (WEBM, "browser.webm", "audio/webm", "browser.webm"),
    (WAV, "recording.jpg", "audio/wav", "recording.wav"),   # the type is the content's, not the name's
])
def test_audio_is_accepted(mediation, as_user, folder, content, name, mimetype, shown):
    client = as_user(mediation.claimant)
    assert upload(client, mediation.case, content, name).status_code == 303
    item = db.session.scalar(sa.select(Evidence))
    assert item.mimetype == mimetype and item.filename == shown
    with client.get(f"/mediate/{mediation.case.number}/evidence/{item.id}") as got:
        assert got.status_code == 200 and got.headers["Content-Type"] == mimetype
        assert got.get_data() == content


def test_sniffing_keeps_the_old_types():
    assert uploads.sniff(PNG[:64]) == "image/png"
    assert uploads.sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert uploads.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert uploads.sniff(b"\xff\x00\x00\x00") is None
    assert uploads.sniff(b"\x00\x00\x00\x20ftypqt  ") is None
    assert uploads.clean_filename("a.mp3", "audio/mpeg") == "a.mp3"


HOSTILE = ["", " ", "\x00", "\x1b[31m", "<script>alert(1)</script>", "../../etc/passwd", "joint", "claimant",
           "respondent", "mediator", "all", "x" * 5000, "😀" * 300, "\u202e", "%00"]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(thread=VALUES, body=VALUES, visibility=VALUES, description=VALUES, name=VALUES)
def test_hostile_values_never_break_the_room(mediation, as_user, folder, thread, body, visibility, description,
                                              name):
    client = as_user(mediation.respondent)
    before = (db.session.scalar(sa.select(sa.func.count(RoomMessage.id))),
              db.session.scalar(sa.select(sa.func.count(Evidence.id))),
              db.session.scalar(sa.select(sa.func.count(Event.id))))
    sent = client.post(f"/mediate/{mediation.case.number}/room", data={"thread": thread, "body": body})
    assert sent.status_code in (303, 400, 403)
    uploaded = upload(client, mediation.case, b"GIF89a" + b"\x00" * 20, name, visibility, description)
    assert uploaded.status_code in (303, 400)
    db.session.expire_all()
    after = (db.session.scalar(sa.select(sa.func.count(RoomMessage.id))),
             db.session.scalar(sa.select(sa.func.count(Evidence.id))),
             db.session.scalar(sa.select(sa.func.count(Event.id))))
    assert after[0] == before[0] + (sent.status_code == 303)
    assert after[1] == before[1] + (uploaded.status_code == 303)
    assert after[2] == before[2] + (sent.status_code == 303) + (uploaded.status_code == 303)
    # The same bytes every time: one stored file once any upload went through, none before.
    assert len(stored_files(folder)) == (1 if after[1] else 0)
