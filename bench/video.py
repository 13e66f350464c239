"""Video rooms: join → first remote frame with two headless Chromiums, and media-bridge CPU per
recorded three-person 360p/15 fps room.

1. **Join latency.** A mediator's browser sits in the room; a party's browser (fake camera,
   360×640) loads the room page and presses *Join* (already admitted: a reconnect into the
   same seat) ``--joins`` times. Time from the click to the first decoded remote frame
   (``videoWidth > 0`` seen by ``requestAnimationFrame``) in the page's own clock. Median and
   p95. Goal: median < 0.7 s.
2. **Bridge CPU.** ``--rooms`` rooms, each with three aiortc peers in this process sending
   640×360 15 fps moving bars and Opus, everyone consents, the media bridge (its own process,
   as ``odr run`` starts it) records for ``--seconds``; its CPU time (utime+stime from /proc)
   over the window gives CPU per recorded room and rooms per core. Goal: >= 4 rooms per core.

The app is served in this process by Werkzeug's threaded server (the signalling path is the
same code as under gunicorn), on a fresh SQLite database in a temporary instance folder,
loopback only, no ICE servers.

    .venv/bin/python bench/video.py [--joins 12] [--rooms 2] [--seconds 10]
"""

from __future__ import annotations

import sys

sys.path[:] = [p for p in sys.path if not p.rstrip("/").endswith("bench")] + [__file__.rsplit("/", 1)[0]]

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from _common import ROOT, log  # noqa: E402

sys.path.insert(0, ROOT)


def seed(app, rooms: int):
    """A case in mediation with ``rooms`` scheduled video sessions, each room opened."""
    from odr.auth import operations as auth_ops
    from odr.cases.operations import grant_role
    from odr.auth.models import Role
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Category, Channel, Organization, OrgType, Stage
    from odr.extensions import db
    from odr.mediate.models import MediationSession, SessionMode, SessionStatus
    from odr.timeutil import utcnow
    from odr.video import rooms as room_ops

    with app.app_context():
        org = Organization(name="Bench mediation", type=OrgType.peoples_mediation, district="朝阳区")
        db.session.add(org)
        db.session.flush()
        mediator = auth_ops.create_user("mediator@bench.example", "Mediator", "bench password 1")
        grant_role(mediator, Role.mediator, org)
        claimant = auth_ops.create_user("+8613800138991", "Claimant", "bench password 1")
        respondent = auth_ops.create_user("+8613900139991", "Respondent", "bench password 1")
        details = ops.DisputeDetails(category=Category.neighbour, description="Noise every night after ten.",
                                     claim="Quiet after 22:00.", district="朝阳区", amount_claimed=None)
        case = ops.file_case(claimant, Channel.web, details, ops.PartyDetails("Claimant", phone="+8613800138991"),
                             ops.PartyDetails("Respondent", phone="+8613900139991"), organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        workflow.move(case, Stage.mediation, claimant)
        case.mediator_id = mediator.id
        made = []
        for _ in range(rooms):
            session = MediationSession(case_id=case.id, mediator_id=mediator.id, mode=SessionMode.video,
                                       status=SessionStatus.scheduled, starts_at=utcnow(), minutes=60)
            db.session.add(session)
            db.session.flush()
            made.append(room_ops.open_room(session.case, mediator, "mediation", session_id=session.id).id)
        db.session.commit()
        return case.number, made, {"mediator": mediator.id, "claimant": claimant.id, "respondent": respondent.id}


def session_cookie(app, user_id):
    from odr.auth import sessions
    from odr.auth.models import User
    from odr.extensions import db

    client = app.test_client()
    with app.app_context(), client.session_transaction() as session:
        sessions.stamp(session, db.session.get(User, user_id))
        db.session.commit()
    return client.get_cookie("session").value


def join_latency(url, app, number, room_id, ids, joins: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream"]
    out, failed = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        pages = {}
        for who in ("mediator", "claimant"):
            ctx = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                                      base_url=url, permissions=["camera", "microphone"])
            ctx.add_cookies([{"name": "session", "value": session_cookie(app, ids[who]), "url": url}])
            pages[who] = ctx.new_page()
        host, party = pages["mediator"], pages["claimant"]
        room_url = f"/video/{number}/rooms/{room_id}"
        host.goto(room_url)
        host.wait_for_function("document.getElementById('preview').videoWidth > 0")
        host.locator("#join").click()
        host.locator("#call").wait_for()
        party.goto(room_url)
        party.wait_for_function("document.getElementById('preview').videoWidth > 0")
        party.locator("#join").click()
        host.locator("#lobby-list button.admit").click()  # the first time only: later joins keep the seat
        party.wait_for_function("[...document.querySelectorAll('#videos figure.remote video')].some(v => v.videoWidth > 0)")
        measure = """() => new Promise((resolve) => {
            const t0 = performance.now();
            document.getElementById('join').click();
            const check = () => {
                const v = document.querySelector('#videos figure.remote video');
                if (v && v.videoWidth > 0) resolve((performance.now() - t0) / 1000);
                else if (performance.now() - t0 > 20000) resolve(null);
                else setTimeout(check, 5);
            };
            check();
        })"""
        for i in range(joins):
            party.evaluate("sessionStorage.clear()")  # a fresh page load: join by hand, not automatically
            party.goto(room_url)
            party.wait_for_function("document.getElementById('preview').videoWidth > 0")
            seconds = party.evaluate(measure)
            if seconds is None:
                state = "() => [...document.querySelectorAll('#videos figure')].map(f => f.dataset.user + ':' + f.dataset.state)"
                log(f"join {i + 1}: NO remote frame within 20 s; party tiles {party.evaluate(state)}, "
                    f"host tiles {host.evaluate(state)}, party says {party.locator('#room-state').text_content()!r}")
                failed.append(i + 1)
                continue
            out.append(seconds)
            log(f"join {i + 1}: first remote frame after {seconds * 1000:.0f} ms")
        browser.close()
    return out, failed


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BenchPeer:
    def __init__(self, url, app, user_id, room_id, loop):
        import socketio

        from odr.video.mesh import AudioStreamTrack, MeshAgent, PatternVideoTrack

        self.room_id = room_id
        self.sio = socketio.Client(reconnection=False)
        self.roster = {}
        self.agent = MeshAgent(loop.loop, lambda e, d: self.sio.emit(e, d, namespace="/video"), room_id, user_id,
                               tracks=lambda uid: [AudioStreamTrack(), PatternVideoTrack(640, 360, 15, moving=True)])
        for event in ("roster", "signal", "hangup", "removed", "ended"):
            self.sio.on(event, self._on(event), namespace="/video")
        self.sio.connect(url, namespaces=["/video"], transports=["websocket"],
                         headers={"Cookie": f"session={session_cookie(app, user_id)}"})

    def _on(self, event):
        def handle(data):
            if event == "roster":
                self.roster = data
            self.agent.handle(event, data)
        return handle

    def call(self, event, **data):
        return self.sio.call(event, {"room_id": self.room_id, **data}, namespace="/video", timeout=10)


def wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.05)


def bridge_cpu(url, app, instance, room_ids, ids, seconds: float):
    from odr.video import bridge as web_bridge
    from odr.video.mesh import LoopThread

    with app.app_context():
        web_bridge.service_token()
    env = {**os.environ, "ODR_INSTANCE_PATH": instance}
    proc = subprocess.Popen([sys.executable, "-m", "odr", "media-bridge", "--url", url], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    loop = LoopThread()
    peers = []
    try:
        wait(lambda: web_bridge.bridge_sid() is not None, 30, "the media bridge")
        for rid in room_ids:
            host, a, b = (BenchPeer(url, app, ids[w], rid, loop) for w in ("mediator", "claimant", "respondent"))
            peers += [host, a, b]
            host.call("join")
            for p in (a, b):
                p.call("join")
                host.call("admit", user_id=p.agent.me)
            host.call("record", on=True)
            for p in (host, a, b):
                p.call("consent", consent=True)
        wait(lambda: all(0 in p.agent.pcs and p.agent.pcs[0][1].connectionState == "connected" for p in peers),
             30, "everyone connected to the recorder")
        time.sleep(2)  # warm-up: encoders and bitrate estimates settle
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(proc.pid), time.monotonic()
        for rid, host in zip(room_ids, peers[::3]):
            host.call("record", on=False)
        return (c1 - c0) / (t1 - t0)
    finally:
        for p in peers:
            p.sio.disconnect()
        loop.stop()
        proc.terminate()
        proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--joins", type=int, default=12)
    parser.add_argument("--rooms", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="odr-bench-video-")
    os.environ["ODR_INSTANCE_PATH"] = instance
    from werkzeug.serving import make_server

    from odr import create_app
    from odr.cli import upgrade_database

    import logging

    app = create_app({"SECRET_KEY": "bench-video", "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite"})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("odr").setLevel(logging.WARNING)
    with app.app_context():
        upgrade_database()
    number, room_ids, ids = seed(app, max(args.rooms, 1) + 1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log(f"serving on {url}, instance {instance}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")

    joins, failed = join_latency(url, app, number, room_ids[0], ids, args.joins)
    joins.sort()
    p95 = joins[min(len(joins) - 1, round(0.95 * (len(joins) - 1)))]
    median = statistics.median(joins)

    cores = bridge_cpu(url, app, instance, room_ids[1:1 + args.rooms], ids, args.seconds)
    per_room = cores / args.rooms
    server.shutdown()

    print()
    print(f"join -> first remote frame over {len(joins)} joins: median {median * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms  (goal: median < 700 ms)  {'OK' if median < 0.7 else 'MISSED'}"
          f"{f'; joins without a remote frame within 20 s: {failed}' if failed else ''}")
    print(f"media bridge: {cores:.2f} cores for {args.rooms} recorded 3-person 360p/15fps rooms = "
          f"{per_room:.3f} cores per room = {1 / per_room:.1f} rooms per core  (goal >= 4)  "
          f"{'OK' if 1 / per_room >= 4 else 'MISSED'}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
