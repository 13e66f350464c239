"""Video rooms in headless Chromium with a fake camera at phone size (360×640): the mediator
opens the room, parties join from the invitation link and are admitted, and everyone sees the
others' video playing; a three-person private caucus separates the sides and brings them back;
a weak link degrades the video; switching the camera mid-call and sharing a desktop screen
reach the other side (what arrives there is checked, not only what the page meant to send);
a party with no direct path falls back to the media bridge's relay by itself."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Channel, Organization, OrgType, Stage
from odr.extensions import db
from odr.mediate.models import MediationSession, SessionMode, SessionStatus
from odr.timeutil import utcnow
from odr.video import presence, rooms
from odr.video.views import DEFAULT_MEDIA
from tests.conftest import PASSWORD, dispute, sign_in_cookie
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESK, PHONE, TIMEOUT_MS

pytestmark = pytest.mark.e2e

#: Three fake cameras. Chromium's fake devices say nothing about which way they face, so the
#: page takes the first as the front camera and the last as the back one (the second is a
#: depth camera whose frames a peer connection does not send). The fake permission prompt also
#: answers the screen picker, with a fake 1280×720 screen.
FAKE_MEDIA = ["--use-fake-device-for-media-stream=device-count=3", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def av_browser(browser):
    """Chromium with a fake camera and microphone that never asks for permission, launched by
    the session's Playwright (a second sync Playwright in one thread is not allowed)."""
    av = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + FAKE_MEDIA)
    try:
        yield av
    finally:
        av.close()


def seed(server):
    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区")
        db.session.add(org)
        db.session.flush()
        mediator = auth_ops.create_user("mediator@example.com", "Mediator Li", PASSWORD)
        grant_role(mediator, Role.mediator, org)
        claimant = auth_ops.create_user("+8613800138031", "张三", PASSWORD)
        respondent = auth_ops.create_user("+8613900139031", "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(), ops.PartyDetails("张三", phone="+8613800138031"),
                             ops.PartyDetails("李四", phone="+8613900139031"), organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        workflow.move(case, Stage.mediation, claimant)
        case.mediator_id = mediator.id
        session = MediationSession(case_id=case.id, mediator_id=mediator.id, mode=SessionMode.video,
                                   status=SessionStatus.scheduled, starts_at=utcnow(), minutes=60)
        db.session.add(session)
        db.session.commit()
        return case.number, session.id, {"mediator": mediator.id, "claimant": claimant.id,
                                         "respondent": respondent.id}


@pytest.fixture
def people(server, av_browser):
    """``people(user_id)`` opens a signed-in 360×640 phone page for a user."""
    contexts, problems = [], []

    def make(user_id, desk=False):
        client = server.app.test_client()
        with server.app.app_context(), client.session_transaction() as session:
            sign_in_cookie(session, user_id)
            session["lang"] = "en"
        context = av_browser.new_context(viewport=DESK if desk else PHONE, is_mobile=not desk, has_touch=not desk,
                                         base_url=server.url, permissions=["camera", "microphone"])
        context.add_cookies([{"name": "session", "value": client.get_cookie("session").value,
                              "url": server.url}])
        context.set_default_timeout(TIMEOUT_MS)
        context.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def wait_for(page, predicate: str, arg=None, timeout: int = TIMEOUT_MS, polling: int = 100) -> None:
    """Wait until ``predicate`` (a JavaScript expression or function of ``arg``) holds in the page.

    Playwright's ``wait_for_function`` runs its predicate through ``eval`` inside the page,
    which the page's Content-Security-Policy refuses (no 'unsafe-eval'); ``evaluate`` goes
    through the DevTools protocol instead, so the predicate is asked from here, every
    ``polling`` milliseconds.
    """
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} ms: {predicate[:200]}")
        time.sleep(polling / 1000)


#: The predicates below are synchronous and compare each poll with the last (one poll is one
#: evaluation, as it was with Playwright's wait_for_function, which awaited no promise).
#: They count the video frames shown (``currentTime`` would go on with the audio alone).
FRAMES = "(v) => v.getVideoPlaybackQuality().totalVideoFrames"
PLAYING = f"""(count) => {{
    const frames = {FRAMES};
    const videos = [...document.querySelectorAll('#videos figure.remote video')];
    const seen = window.__seen;
    const now = new Map(videos.map(v => [v, frames(v)]));
    window.__seen = now;
    return videos.length === count && !!seen
        && videos.every(v => v.videoWidth > 0 && seen.has(v) && now.get(v) > seen.get(v));
}}"""


def remote_videos_playing(page, count, timeout=30_000):
    """Wait until exactly ``count`` remote videos show frames and their time advances. Three
    Chromiums sending and decoding each other's video beside another test worker on two cores
    took more than 15 s in one CI run on a slow machine; a caucus that never plays still fails."""
    page.evaluate("window.__seen = null")
    wait_for(page, PLAYING, arg=count, timeout=timeout, polling=200)


def join(page, number, session_id):
    page.goto(f"/mediate/{number}/sessions/{session_id}/video")
    expect(page.locator("#preview")).to_be_visible()
    wait_for(page, "document.getElementById('preview').videoWidth > 0")
    page.locator("#join").click()


def open_as_host(page, number, session_id):
    page.goto(f"/mediate/{number}/sessions/{session_id}/video")
    page.locator("#open-room").click()
    join(page, number, session_id)
    expect(page.locator("#call")).to_be_visible()


def admit(host, name):
    host.locator("#lobby-list li", has_text=name).locator("button.admit").click()


def test_two_people_join_get_admitted_and_see_each_other(server, people):
    number, sid, ids = seed(server)
    host, claimant = people(ids["mediator"]), people(ids["claimant"])
    open_as_host(host, number, sid)
    join(claimant, number, sid)
    expect(claimant.locator("#room-state")).to_contain_text("Waiting for the mediator")
    admit(host, "张三")
    # Being let in is said by a screen reader (the page's aria-live region); the host hears nothing.
    expect(claimant.locator("#announce")).to_have_text(claimant.locator("#video-room").get_attribute("data-t-admitted"))
    remote_videos_playing(host, 1)
    remote_videos_playing(claimant, 1)
    expect(host.locator("#announce")).to_be_empty()
    expect(claimant.locator("#who-hears")).to_contain_text("Mediator Li")
    for page in (host, claimant):
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the room is {width}px wide at phone size"
    # Chat, and the mediator's mute from the participant list.
    claimant.fill("#chat-body", "您好，我到了")
    claimant.locator("#chat-send").click()
    expect(host.locator("#chat-list")).to_contain_text("张三: 您好，我到了")
    expect(host.locator("#announce")).to_have_text("张三: 您好，我到了")
    host.locator("#participant-list li", has_text="张三").get_by_role("button", name="Mute").click()
    expect(claimant.locator("#problem")).to_have_text("The mediator has muted you.")
    expect(claimant.locator("#mute")).to_have_text("Unmute")
    # A reload puts the party back into the same seat: no second admission.
    claimant.reload()
    remote_videos_playing(claimant, 1)
    remote_videos_playing(host, 1)
    expect(host.locator("#lobby-list li")).to_have_count(0)


def test_three_person_caucus(server, people):
    number, sid, ids = seed(server)
    host, a, b = people(ids["mediator"]), people(ids["claimant"]), people(ids["respondent"])
    open_as_host(host, number, sid)
    join(a, number, sid)
    join(b, number, sid)
    admit(host, "张三")
    admit(host, "李四")
    for page in (host, a, b):
        remote_videos_playing(page, 2)

    host.locator("#caucus-claimant").click()
    expect(b.locator("#who-hears")).to_have_attribute("data-group", "apart-respondent")
    expect(b.locator("#who-hears")).to_contain_text("Nobody can see or hear you")
    expect(a.locator("#who-hears")).to_contain_text("Private caucus: only Mediator Li")
    expect(b.locator("#videos figure.remote")).to_have_count(0)
    remote_videos_playing(a, 1)
    remote_videos_playing(host, 1)

    host.locator("#caucus-end").click()
    expect(b.locator("#who-hears")).to_have_attribute("data-group", "joint")
    for page in (host, a, b):
        remote_videos_playing(page, 2)


#: The measured outgoing bandwidth is what the page adapts to; headless Chromium cannot throttle
#: WebRTC, so this replaces the number in the stats the page reads (``window.__available``).
WEAK_LINK = """(() => {
  const original = RTCPeerConnection.prototype.getStats;
  RTCPeerConnection.prototype.getStats = async function (...args) {
    const report = await original.apply(this, args);
    if (!window.__available) return report;
    const changed = new Map();
    report.forEach((s, key) => changed.set(key, s.type === "candidate-pair" && s.nominated
      ? { ...s, availableOutgoingBitrate: window.__available } : s));
    return changed;
  };
})();"""

RECEIVED_HEIGHT = "() => { const v = document.querySelector('#videos figure.remote video'); return v ? v.videoHeight : 0; }"
#: The remote video shows the same frame for 1.5 s.
FROZEN = f"""() => {{
    const v = document.querySelector('#videos figure.remote video');
    const now = performance.now(), last = window.__still, shown = v && ({FRAMES})(v);
    if (!v || !last || last.v !== v || last.shown !== shown) {{
        window.__still = {{ v, shown, since: now }};
        return false;
    }}
    return now - last.since >= 1500;
}}"""


def remote_video_frozen(page, timeout=15_000):
    page.evaluate("window.__still = null")
    wait_for(page, FROZEN, timeout=timeout, polling=250)


def test_a_weak_link_drops_to_180p_then_to_audio_only_and_video_comes_back(server, people):
    number, sid, ids = seed(server)
    host, claimant = people(ids["mediator"]), people(ids["claimant"])
    claimant.add_init_script(WEAK_LINK)
    open_as_host(host, number, sid)
    join(claimant, number, sid)
    admit(host, "张三")
    remote_videos_playing(host, 1)
    wait_for(host, f"({RECEIVED_HEIGHT})() > 200", timeout=15_000, polling=250)  # 360p while the link is good
    # Less than the 360p bitrate, more than the audio-only floor: the 180p tier.
    claimant.evaluate("window.__available = 120000")
    wait_for(host, f"({RECEIVED_HEIGHT})() > 0 && ({RECEIVED_HEIGHT})() <= 200", timeout=30_000, polling=500)
    expect(claimant.locator("#weak-link")).to_be_hidden()
    # Below the floor: audio only; the page says why, and the other side gets no more frames.
    claimant.evaluate("window.__available = 40000")
    expect(claimant.locator("#weak-link")).to_be_visible(timeout=15_000)
    expect(claimant.locator("#audio-only")).to_have_attribute("aria-pressed", "true")
    remote_video_frozen(host)
    # The link recovers; the participant turns video back on by hand, then switches the camera off and on.
    claimant.evaluate("window.__available = 0")
    claimant.locator("#audio-only").click()
    expect(claimant.locator("#audio-only")).to_have_attribute("aria-pressed", "false")
    remote_videos_playing(host, 1)
    claimant.locator("#camera").click()
    remote_video_frozen(host)
    claimant.locator("#camera").click()
    remote_videos_playing(host, 1)


#: Every RTCPeerConnection the page makes, for reading what its senders send.
PEER_CONNECTIONS = """(() => {
  const Original = RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Original(...args); window.__pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Original.prototype;
})();"""
CONNECTED = "window.__pcs.filter(pc => pc.connectionState === 'connected')"
SENT_CAMERA = (f"() => {CONNECTED}.flatMap(pc => pc.getSenders())"
               ".filter(s => s.track && s.track.kind === 'video').map(s => s.track.label).join()")


def test_mid_call_the_camera_switches_and_a_desktop_screen_is_shared_on_the_same_connection(server, people):
    number, sid, ids = seed(server)
    host, claimant = people(ids["mediator"], desk=True), people(ids["claimant"])
    claimant.add_init_script(PEER_CONNECTIONS)
    open_as_host(host, number, sid)
    join(claimant, number, sid)
    admit(host, "张三")
    remote_videos_playing(host, 1)
    wait_for(claimant, f"({SENT_CAMERA})() === 'fake_device_0'", polling=100)
    claimant.evaluate(f"window.__first = {CONNECTED}[0]")
    # The party's back camera: the same connection now sends the other camera, and the mediator
    # keeps receiving frames (a failed switch freezes the picture there).
    claimant.locator("#camera-switch").click()
    wait_for(claimant, f"({SENT_CAMERA})() === 'fake_device_2'", polling=100)
    expect(claimant.locator("#camera-switch")).to_have_text("Front camera")
    remote_videos_playing(host, 1)
    # And the front camera again, still without a new connection.
    claimant.locator("#camera-switch").click()
    wait_for(claimant, f"({SENT_CAMERA})() === 'fake_device_0'", polling=100)
    remote_videos_playing(host, 1)
    assert claimant.evaluate(f"{CONNECTED}.length === 1 && {CONNECTED}[0] === window.__first")
    self_view = "document.getElementById('self-view').srcObject.getVideoTracks()[0].label"
    assert claimant.evaluate(self_view) == "fake_device_0"

    # The mediator shares the desktop screen: the fake screen is 1280×720 and keeps its
    # resolution at the other end, where the camera arrives with at most 360 lines.
    wait_for(claimant, f"({RECEIVED_HEIGHT})() > 0 && ({RECEIVED_HEIGHT})() <= 360", polling=200)
    host.locator("#share-screen").click()
    wait_for(claimant, f"({RECEIVED_HEIGHT})() >= 700", timeout=15_000, polling=200)
    remote_videos_playing(claimant, 1)
    host.locator("#share-screen").click()  # sharing stops: the camera again
    wait_for(claimant, f"({RECEIVED_HEIGHT})() > 0 && ({RECEIVED_HEIGHT})() <= 360", timeout=15_000,
                               polling=200)
    remote_videos_playing(claimant, 1)


#: No direct path from this page: toward a browser peer (its descriptions offer trickle ICE) it
#: exchanges no ICE candidates at all, so no candidate pair can be formed; the media bridge
#: (aiortc, whose offers carry their candidates) is reached as usual.
NO_DIRECT_PATH = """(() => {
  const P = RTCPeerConnection.prototype;
  const strip = (d) => ({ type: d.type, sdp: d.sdp.replace(/a=candidate:.*\\r\\n/g, "") });
  const setRemote = P.setRemoteDescription;
  P.setRemoteDescription = function (d) {
    if (d && /a=ice-options:trickle/.test(d.sdp || "")) { this.noDirect = true; d = strip(d); }
    return setRemote.call(this, d);
  };
  const addCandidate = P.addIceCandidate;
  P.addIceCandidate = function (c) { return this.noDirect ? Promise.resolve() : addCandidate.call(this, c); };
  const local = Object.getOwnPropertyDescriptor(P, "localDescription");
  Object.defineProperty(P, "localDescription", { get() {
    const d = local.get.call(this);
    return d && this.noDirect ? strip(d) : d;
  } });
  const handler = Object.getOwnPropertyDescriptor(P, "onicecandidate");
  Object.defineProperty(P, "onicecandidate", { set(fn) {
    handler.set.call(this, (e) => { if (!this.noDirect) fn(e); });
  }, get() { return handler.get.call(this); } });
})();"""


@pytest.fixture
def quick_watchdog(server):
    """A negotiation that has not connected starts again after 1 s instead of 8 s."""
    server.app.config["VIDEO_MEDIA"] = {**DEFAULT_MEDIA, "stall_ms": 1000}
    yield
    server.app.config.pop("VIDEO_MEDIA")


def test_without_a_direct_path_the_page_falls_back_to_the_relay_by_itself(server, people, media_bridge,
                                                                          quick_watchdog):
    number, sid, ids = seed(server)
    host, claimant = people(ids["mediator"]), people(ids["claimant"])
    claimant.add_init_script(NO_DIRECT_PATH)
    open_as_host(host, number, sid)
    join(claimant, number, sid)
    admit(host, "张三")
    # Nobody asks for the relay by hand: the mediator's page, which offers, finds twice that no
    # direct connection comes up, asks for it, and from then on both talk through the bridge.
    remote_videos_playing(host, 1, timeout=20_000)
    remote_videos_playing(claimant, 1, timeout=20_000)  # the bridge's own offer to the claimant follows
    with server.app.app_context():
        room = rooms.room_of_session(sid)
        assert presence.MEMORY.relayed(room.id) == {ids["mediator"]}
    expect(claimant.locator("#problem")).to_be_hidden()
