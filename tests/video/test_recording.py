"""Recording with consent through the media bridge, run as its own process (``python -m
odr.video.media_bridge``) against the live server: with everyone's consent one file per
participant that PyAV opens with a duration, hashes in the audit trail; without, no file."""

import hashlib
import io
import time

import av
import sqlalchemy as sa

from odr.cases.models import Event
from odr.extensions import db
from odr.video import bridge
from odr.video.models import VideoRecording
from tests.fixtures.media import joined_with_media
from tests.polling import eventually


def test_a_wrong_bridge_token_is_refused(media_bridge, server):
    import socketio

    client = socketio.Client(reconnection=False)
    try:
        client.connect(server.url, namespaces=["/video"], transports=["websocket"],
                       auth={"bridge_token": "guessed"}, wait_timeout=1)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        client.disconnect()
        raise AssertionError("a wrong bridge token was accepted")
    assert bridge.bridge_sid() is not None  # the real bridge is still the bridge


def recordings(server):
    with server.app.app_context():
        return db.session.scalars(sa.select(VideoRecording).order_by(VideoRecording.user_id)).all()


def test_recording_with_everyones_consent(media_bridge, server, video, peers, rtc, instance_path):
    host, a, b, agents = joined_with_media(video, peers, rtc)
    rid = video.room_id
    assert a.call("record", {"room_id": rid, "on": True})["ok"] is False  # only the host
    assert host.call("record", {"room_id": rid, "on": True})["ok"]
    r = a.roster(lambda r: r["recording"]["on"])
    assert r["recording"]["running"] is False  # nobody has answered yet
    for p in (host, a, b):
        assert p.call("consent", {"room_id": rid, "consent": True})["ok"]
    for p in (host, a, b):
        p.roster(lambda r: r["recording"]["running"] and any(x["role"] == "recorder" for x in r["peers"]))
    eventually(lambda: all(0 in agent.pcs and agent.pcs[0][1].connectionState == "connected"
                           for agent in agents.values()), timeout=20, what="everyone connected to the recorder")
    time.sleep(1.5)  # record a second and a half of media
    assert host.call("record", {"room_id": rid, "on": False})["ok"]
    eventually(lambda: len(recordings(server)) == 3, timeout=20, what="three recordings stored")

    stored = recordings(server)
    assert sorted(r.user_id for r in stored) == sorted([host.user_id, a.user_id, b.user_id])
    with server.app.app_context():
        events = db.session.scalars(sa.select(Event).where(Event.case_id == video.m.case.id)
                                    .where(Event.action == "video_recording_stored")).all()
        audited = {e.payload["sha256"] for e in events}
        actions = db.session.scalars(sa.select(Event.action).where(Event.case_id == video.m.case.id)).all()
    assert {"video_recording_started", "video_recording_stopped", "video_recording_consent"} <= set(actions)
    for rec in stored:
        path = instance_path / "recordings" / rec.filename
        assert hashlib.sha256(path.read_bytes()).hexdigest() == rec.sha256 and rec.sha256 in audited
        with av.open(str(path)) as container:
            assert container.duration and container.duration > 0
            kinds = {s.type for s in container.streams}
            assert kinds == {"video", "audio"}
            assert sum(1 for _ in container.decode(video=0)) > 5

    # The recordings go to court with the case: in the bundle, under their stored hashes.
    from odr.cases.models import Case
    from odr.court.bundle import export
    from odr.court.verify_bundle import verify_bundle
    from odr.documents.ca import platform_ca
    out = io.BytesIO()
    with server.app.app_context():
        manifest = export(db.session.get(Case, video.m.case.id), out)
        roots = [platform_ca().ca.asn1_cert]
        report = verify_bundle(io.BytesIO(out.getvalue()), roots)
    bundled = {f["sha256"] for f in manifest["files"] if f["name"].startswith("recordings/")}
    assert bundled == {rec.sha256 for rec in stored} and report.ok, report.problems


def test_nothing_is_recorded_when_someone_declines(media_bridge, server, video, peers, rtc, instance_path):
    host, a, b, agents = joined_with_media(video, peers, rtc)
    rid = video.room_id
    every_file = lambda: set((instance_path / "recordings").rglob("*.mkv"))  # noqa: E731
    before = every_file()
    assert host.call("record", {"room_id": rid, "on": True})["ok"]
    host.call("consent", {"room_id": rid, "consent": True})
    a.call("consent", {"room_id": rid, "consent": True})
    assert b.call("consent", {"room_id": rid, "consent": False})["ok"]
    r = host.roster(lambda r: r["recording"]["consents"].get(str(b.user_id)) is False)
    assert r["recording"]["running"] is False and not any(p["role"] == "recorder" for p in r["peers"])
    # The recorder is never offered to anyone: no signal from it reaches a participant.
    time.sleep(1.0)  # a quiet second: nothing may start
    for p in (host, a, b):
        assert not [e for e in p.history + list(p.events.queue) if e[0] == "signal" and e[1]["from"] == 0]
    assert every_file() == before
    assert recordings(server) == []


def test_a_participant_joining_later_is_asked_first(media_bridge, server, video, peers, rtc):
    m, rid = video.m, video.room_id
    host, a, b = peers(m.mediator), peers(m.claimant), peers(m.respondent)
    agents = {p.user_id: rtc(p, rid) for p in (host, a, b)}
    host.call("join", {"room_id": rid})
    a.call("join", {"room_id": rid})
    host.call("admit", {"room_id": rid, "user_id": a.user_id})
    host.call("record", {"room_id": rid, "on": True})
    for p in (host, a):
        p.call("consent", {"room_id": rid, "consent": True})
    eventually(lambda: all(0 in agents[p.user_id].pcs and agents[p.user_id].pcs[0][1].connectionState == "connected"
                           for p in (host, a)), timeout=20, what="recording the first two")
    time.sleep(1.0)  # record a second of media before the newcomer arrives
    b.call("join", {"room_id": rid})
    host.call("admit", {"room_id": rid, "user_id": b.user_id})
    # The newcomer has not answered: recording pauses (the files so far are stored) and they are asked.
    asked = b.roster(lambda r: r["state"] == "admitted")
    assert asked["recording"]["on"] and asked["recording"]["consents"][str(b.user_id)] is None
    assert not asked["recording"]["running"]
    eventually(lambda: len(recordings(server)) == 2, timeout=20, what="the first two files stored")
    assert b.call("consent", {"room_id": rid, "consent": True})["ok"]
    b.roster(lambda r: r["recording"]["running"] and any(p["role"] == "recorder" for p in r["peers"]))
