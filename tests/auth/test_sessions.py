"""Sessions end on the server: a cookie kept after signing out (or after "sign out of all devices",
a password change, a role taken away, an administrator's action, or expiry) no longer opens a
page, sends a form or connects a Socket.IO client, and connections already open are closed.

Against the live server (CSRF on), with a person signing in through the form, a real
python-socketio client on /consult, and the platform clock moved for the time limits."""

from __future__ import annotations

import re
import time

import pytest
import socketio
import sqlalchemy as sa

from odr import create_app, relay
from odr.auth import operations as auth_ops
from odr.cases import operations as case_ops
from odr.auth import sessions
from odr.auth.models import LoginSession, Role, User
from odr.cases.models import Event
from odr.consult.models import ConsultMessage
from odr.extensions import db
from odr.mediate.models import RoomMessage
from tests import conftest
from tests.conftest import PASSWORD, sign_in_cookie

SIGN_IN = "/auth/login"


def token_of(page) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.get_data(as_text=True)).group(1)


class Browser:
    """One browser of a person: a Flask test client of the live app holding its own cookies."""

    def __init__(self, server, cookie: str | None = None):
        self.server = server
        self.client = server.app.test_client()
        if cookie is not None:
            self.client.set_cookie("session", cookie)

    def sign_in(self, user: User) -> Browser:
        token = token_of(self.client.get(SIGN_IN))
        resp = self.client.post(SIGN_IN, data={"csrf_token": token, "contact": user.email, "password": PASSWORD})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        return self

    @property
    def cookie(self) -> str:
        return self.client.get_cookie("session").value

    def post(self, url, data=None, page="/auth/account"):
        """A form sent as the page would send it (with the CSRF token of ``page``)."""
        token = token_of(self.client.get(page))
        return self.client.post(url, data={"csrf_token": token, **(data or {})})

    def signed_in(self) -> bool:
        resp = self.client.get("/auth/account")
        assert resp.status_code in (200, 302)
        return resp.status_code == 200

    def socket(self, namespace="/consult") -> socketio.Client:
        """A Socket.IO client sending this browser's cookie (raises when the connection is refused)."""
        sio = socketio.Client(reconnection=False)
        sio.connect(self.server.url, namespaces=[namespace], transports=["websocket"],
                    headers={"Cookie": f"session={self.cookie}"}, wait_timeout=5)
        return sio


def closed_soon(sio: socketio.Client, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not sio.connected:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def open_sockets():
    made = []
    yield made
    for sio in made:
        if sio.connected:
            sio.disconnect()


@pytest.fixture(autouse=True)
def live_sockets(server, app):
    """The Socket.IO server whose connections are closed is the live server's (the ``app``
    fixture, made after it, rebound the extension)."""


def refused_socket(browser: Browser, namespace="/consult") -> bool:
    try:
        browser.socket(namespace).disconnect()
    except socketio.exceptions.ConnectionError:
        return True
    return False


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_cookie_kept_after_signing_out_opens_nothing(server, mediation, open_sockets):
    m = mediation
    browser = Browser(server).sign_in(m.claimant)
    case_page = f"/cases/{m.case.number}"
    room = f"/mediate/{m.case.number}/room"
    assert browser.client.get(case_page).status_code == 200
    form_token = token_of(browser.client.get(room))
    kept = browser.cookie
    live = browser.socket()
    open_sockets.append(live)

    resp = browser.post("/auth/logout", page=case_page)
    assert resp.status_code == 303
    assert closed_soon(live), "the open /consult connection stayed open after signing out"

    thief = Browser(server, kept)
    page = thief.client.get(case_page)
    assert page.status_code == 302 and page.location.startswith(SIGN_IN)
    messages = count(RoomMessage)
    sent = thief.client.post(room, data={"csrf_token": form_token, "thread": "joint", "body": "Sent with a kept cookie"})
    assert sent.status_code == 302 and sent.location.startswith(SIGN_IN)
    db.session.expire_all()
    assert count(RoomMessage) == messages
    assert refused_socket(thief) and refused_socket(thief, "/video")


def test_signing_out_one_browser_leaves_the_others(server, mediation, open_sockets):
    phone, desk = Browser(server).sign_in(mediation.claimant), Browser(server).sign_in(mediation.claimant)
    desk_socket = desk.socket()
    open_sockets.append(desk_socket)
    phone.post("/auth/logout")
    assert not phone.signed_in() and desk.signed_in()
    assert desk_socket.connected and not closed_soon(desk_socket, 1)


def test_sign_out_of_all_devices_ends_every_session(server, mediation, open_sockets):
    user = mediation.claimant
    phone, desk = Browser(server).sign_in(user), Browser(server).sign_in(user)
    page = desk.client.get("/auth/account").get_data(as_text=True)
    assert "Sign out of all devices" in page or "退出所有设备" in page
    phone_socket, phone_video = phone.socket(), phone.socket("/video")
    open_sockets.extend([phone_socket, phone_video])
    # The form needs its CSRF token like every other.
    assert desk.client.post("/auth/account/sessions/end").status_code == 400 and phone.signed_in()

    resp = desk.post("/auth/account/sessions/end")
    assert resp.status_code == 303 and resp.location.endswith(SIGN_IN)
    assert not desk.signed_in() and not phone.signed_in()
    assert closed_soon(phone_socket) and closed_soon(phone_video)
    assert refused_socket(phone)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(LoginSession.user_id == user.id)) == 0
    event = db.session.scalars(sa.select(Event).where(Event.action == "sessions_ended")).one()
    assert event.payload == {"user": user.id, "reason": "signed_out_everywhere", "sessions": 2}


def test_a_password_change_ends_the_other_sessions(server, mediation, open_sockets):
    user = mediation.claimant
    phone, desk = Browser(server).sign_in(user), Browser(server).sign_in(user)
    phone_socket = phone.socket()
    open_sockets.append(phone_socket)
    wrong = desk.post("/auth/account/password", {"current": "not it", "password": "a new secret 7", "confirm": "a new secret 7"})
    assert wrong.status_code == 400 and phone.signed_in()

    resp = desk.post("/auth/account/password", {"current": PASSWORD, "password": "a new secret 7", "confirm": "a new secret 7"})
    assert resp.status_code == 303
    assert desk.signed_in() and not phone.signed_in() and closed_soon(phone_socket)
    db.session.expire_all()
    assert auth_ops.authenticate(user.email, "a new secret 7").id == user.id


def test_a_role_taken_away_or_an_administrator_ends_every_session(server, make_user, open_sockets, database_url):
    consultant = make_user(Role.consultant)
    browser = Browser(server).sign_in(consultant)
    live = browser.socket()
    open_sockets.append(live)
    with server.app.app_context():
        ended = case_ops.revoke_role(db.session.get(User, consultant.id), Role.consultant)
        db.session.commit()
        sessions.close_connections(ended)
    assert not browser.signed_in() and closed_soon(live)

    browser = Browser(server).sign_in(consultant)
    live = browser.socket()
    open_sockets.append(live)
    # The command runs in a process of its own, whose app serves no connections (as `odr
    # end-sessions` makes it): it hands the closing to the live relay, which the served worker's
    # poller carries out.
    command = create_app(conftest.test_config(database_url), sockets=False)
    with command.app_context():
        result = command.test_cli_runner().invoke(args=["end-sessions", consultant.email])
        db.session.remove()
    assert result.exit_code == 0 and "1 session" in result.output, result.output
    assert not browser.signed_in() and not closed_soon(live, 0.5)  # ended; the page not yet told
    with server.app.app_context():
        assert relay.deliver_pending() == 1  # what the served worker's poller runs
        db.session.remove()
    assert closed_soon(live)
    db.session.expire_all()
    reasons = [e.payload["reason"] for e in db.session.scalars(
        sa.select(Event).where(Event.action == "sessions_ended").order_by(Event.id))]
    assert reasons == ["role_removed", "ended_by_admin"]


@pytest.fixture
def limits(server):
    """The default time limits of sessions (the other tests' configuration lifts them)."""
    from odr import config

    kept = {k: server.app.config[k] for k in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS")}
    server.app.config.update(SESSION_IDLE_MINUTES=config.SESSION_IDLE_MINUTES, SESSION_MAX_HOURS=config.SESSION_MAX_HOURS)
    assert (config.SESSION_IDLE_MINUTES, config.SESSION_MAX_HOURS) == (30, 12)
    yield
    server.app.config.update(kept)


def test_a_session_ends_after_30_idle_minutes(server, mediation, clock, limits):
    browser = Browser(server).sign_in(mediation.claimant)
    for _ in range(4):  # used every 25 minutes: still signed in after 100
        clock.advance(minutes=25)
        assert browser.signed_in()
    clock.advance(minutes=31)
    assert not browser.signed_in()
    assert refused_socket(browser)


def test_a_session_ends_12_hours_after_signing_in_however_busy(server, mediation, clock, limits, open_sockets):
    browser = Browser(server).sign_in(mediation.claimant)
    live = browser.socket()
    open_sockets.append(live)
    # An open connection is activity: an hour without a page does not end the session.
    clock.advance(minutes=60)
    assert live.call("typing", {"consultation_id": 1, "typing": True}, namespace="/consult", timeout=5)["error"] \
        != "You were signed out. Sign in again."
    for _ in range(43):  # a page every 15 minutes, up to 11 hours 45 (the clock stands still in between)
        clock.advance(minutes=15)
        assert browser.signed_in()
    clock.advance(minutes=15)
    assert not browser.signed_in()
    told = []
    live.on("signed_out", told.append, namespace="/consult")
    # A chat message is checked without loading its sender (sessions.event_sender): the same limit.
    live.emit("send", {"consultation_id": 1, "client_id": "after-12-hours", "body": "hi"}, namespace="/consult")
    assert closed_soon(live) and told == [{}]
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultMessage).where(
            ConsultMessage.client_id == "after-12-hours")) == 0


def test_a_cookie_from_before_sessions_were_kept_is_refused(server, mediation):
    browser = Browser(server)
    with browser.client.session_transaction() as cookie:
        cookie["_user_id"], cookie["_fresh"] = str(mediation.claimant.id), True
    assert not browser.signed_in()
    with server.app.app_context(), browser.client.session_transaction() as cookie:
        sign_in_cookie(cookie, mediation.claimant)
        cookie["_user_id"] = str(mediation.respondent.id)  # someone else's id with one's own token
    assert not browser.signed_in()


def test_expired_sessions_are_deleted_by_the_periodic_job(app, make_user, clock):
    app.config["SESSION_MAX_HOURS"] = 12
    user = make_user()
    client = app.test_client()
    with client.session_transaction() as cookie:
        sign_in_cookie(cookie, user)
    clock.advance(hours=11)
    assert sessions.delete_expired_sessions(clock.now) == 0
    clock.advance(hours=1)
    assert sessions.delete_expired_sessions(clock.now) == 1


@pytest.mark.parametrize("config, secure", [({}, False), ({"PREFERRED_URL_SCHEME": "https"}, True),
                                             ({"SECURE_COOKIES": True}, True),
                                             ({"PREFERRED_URL_SCHEME": "https", "SECURE_COOKIES": False}, False)])
def test_cookies_are_secure_when_served_over_https(database_url, make_user, config, secure):
    from tests.conftest import new_app, test_config

    other = new_app(test_config(database_url, **config))
    with other.app_context():
        user = make_user()
        client = other.test_client()
        resp = client.post(SIGN_IN, data={"contact": user.email, "password": PASSWORD})
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_odr_run_with_a_certificate_sends_cookies_over_https_only(app, runner, monkeypatch, tmp_path):
    import odr.serve

    served = {}
    monkeypatch.setattr(odr.serve, "serve", lambda app, *a, **kw: served.update(app.config))
    assert runner.invoke(args=["run", "--no-media-bridge"]).exit_code == 0
    assert served["SESSION_COOKIE_SECURE"] is False
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"  # serve is not run: any files do
    assert runner.invoke(args=["run", "--no-media-bridge", "--cert", str(cert), "--key", str(key)]).exit_code == 0
    assert served["SESSION_COOKIE_SECURE"] is True and served["REMEMBER_COOKIE_SECURE"] is True
