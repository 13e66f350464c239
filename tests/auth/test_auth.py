"""Sign-up and sign-in: passwords (argon2), one-time codes through the outbox, lockout, rate limits."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from odr.auth.models import OneTimeCode, User
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.conftest import PASSWORD


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _last_code_sent(to):
    msg = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == to).order_by(OutboxMessage.id.desc()).limit(1)
    )
    return re.search(r"\b(\d{6})\b", msg.body).group(1), msg


@pytest.mark.parametrize("typed, stored_as", [
    ("13812345678", ("phone", "+8613812345678")),
    ("+86 138-1234-5678", ("phone", "+8613812345678")),
    ("Li.Wei@Example.COM", ("email", "li.wei@example.com")),
])
def test_signup_normalises_contact_and_hashes_password(client, typed, stored_as):
    resp = client.post("/auth/signup", data={"contact": typed, "name": "李伟", "password": PASSWORD,
                                             "confirm": PASSWORD})
    assert resp.status_code == 303
    user = db.session.scalar(sa.select(User))
    assert getattr(user, stored_as[0]) == stored_as[1]
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert client.get("/cases/").status_code == 200  # signed in


@pytest.mark.parametrize("data, field_error", [
    ({"contact": "12345", "name": "A", "password": PASSWORD, "confirm": PASSWORD}, "valid phone"),
    ({"contact": "a@b", "name": "A", "password": PASSWORD, "confirm": PASSWORD}, "valid e-mail"),
    ({"contact": "13812345678", "name": "", "password": PASSWORD, "confirm": PASSWORD}, "required"),
    ({"contact": "13812345678", "name": "A", "password": "short", "confirm": "short"}, "8 to 128"),
    ({"contact": "13812345678", "name": "A", "password": PASSWORD, "confirm": PASSWORD + "x"}, "differ"),
    ({"contact": "13812345678", "name": "A\x00B", "password": PASSWORD, "confirm": PASSWORD}, "control"),
])
def test_signup_refuses_bad_input_next_to_the_field(client, data, field_error):
    client.post("/lang", data={"lang": "en"})
    resp = client.post("/auth/signup", data=data)
    assert resp.status_code == 400
    assert field_error in resp.get_data(as_text=True)
    assert _count(User) == 0


def test_signup_with_a_taken_contact_is_refused(client, make_user):
    make_user(contact="taken@example.com")
    resp = client.post("/auth/signup", data={"contact": "TAKEN@example.com", "name": "B", "password": PASSWORD,
                                             "confirm": PASSWORD})
    assert resp.status_code == 400 and _count(User) == 1


def test_password_login_and_safe_next(client, make_user):
    make_user(contact="+8613812345678")
    resp = client.post("/auth/login", data={"contact": "138 1234 5678", "password": PASSWORD,
                                            "next": "/cases/new"})
    assert resp.status_code == 303 and resp.location.endswith("/cases/new")
    client.post("/auth/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        resp = client.post("/auth/login", data={"contact": "13812345678", "password": PASSWORD, "next": evil})
        assert resp.status_code == 303 and "evil" not in resp.location
        client.post("/auth/logout")


def test_wrong_password_and_unknown_account_read_the_same(client, make_user):
    make_user(contact="known@example.com")
    client.post("/lang", data={"lang": "en"})
    wrong = client.post("/auth/login", data={"contact": "known@example.com", "password": "nope-nope-nope"})
    unknown = client.post("/auth/login", data={"contact": "who@example.com", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong phone/e-mail or password." in wrong.get_data(as_text=True)
    assert "Wrong phone/e-mail or password." in unknown.get_data(as_text=True)


def test_account_locks_after_repeated_failures_then_unlocks(app, client, make_user, monkeypatch):
    user = make_user(contact="lock@example.com")
    client.post("/lang", data={"lang": "en"})
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        client.post("/auth/login", data={"contact": "lock@example.com", "password": "wrong-password"})
    resp = client.post("/auth/login", data={"contact": "lock@example.com", "password": PASSWORD})
    assert resp.status_code == 400 and "locked" in resp.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locked_until is not None
    # Once the lock has passed, the right password works again.
    later = user.locked_until + timedelta(seconds=1)
    monkeypatch.setattr("odr.auth.operations.utcnow", lambda: later)
    resp = client.post("/auth/login", data={"contact": "lock@example.com", "password": PASSWORD})
    assert resp.status_code == 303


def test_login_is_rate_limited_per_address(app, client):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    statuses = [client.post("/auth/login", data={"contact": "x@example.com", "password": "whatever1"}).status_code
                for _ in range(limit + 1)]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429


def test_one_time_code_signs_in_existing_account(client, make_user):
    user = make_user(contact="+8613812345678")
    resp = client.post("/auth/code", data={"contact": "13812345678"})
    assert resp.status_code == 200
    code, msg = _last_code_sent("+8613812345678")
    assert msg.channel == "sms" and msg.sent_at is not None  # the console sender delivered it
    stored = db.session.scalar(sa.select(OneTimeCode))
    assert code not in stored.code_hash
    resp = client.post("/auth/code/verify", data={"contact": "+8613812345678", "code": code})
    assert resp.status_code == 303
    assert _count(User) == 1 and client.get("/cases/").status_code == 200
    # A code works once.
    client.post("/auth/logout")
    resp = client.post("/auth/code/verify", data={"contact": "+8613812345678", "code": code})
    assert resp.status_code == 400
    assert user.id


def test_one_time_code_creates_account_with_a_name(client):
    client.post("/auth/code", data={"contact": "new@example.com"})
    code, msg = _last_code_sent("new@example.com")
    assert msg.channel == "email"
    resp = client.post("/auth/code/verify", data={"contact": "new@example.com", "code": code})
    assert resp.status_code == 400 and _count(User) == 0  # asks for a name first
    resp = client.post("/auth/code/verify", data={"contact": "new@example.com", "code": code, "name": "王芳"})
    assert resp.status_code == 303
    assert db.session.scalar(sa.select(User.name)) == "王芳"


def test_wrong_codes_use_up_the_code(app, client, make_user):
    make_user(contact="c@example.com")
    client.post("/auth/code", data={"contact": "c@example.com"})
    code, _ = _last_code_sent("c@example.com")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(app.config["OTP_MAX_ATTEMPTS"]):
        assert client.post("/auth/code/verify", data={"contact": "c@example.com", "code": wrong}).status_code == 400
    resp = client.post("/auth/code/verify", data={"contact": "c@example.com", "code": code})
    assert resp.status_code == 400  # even the right code no longer works


def test_code_cannot_be_resent_at_once(client):
    client.post("/auth/code", data={"contact": "d@example.com"})
    resp = client.post("/auth/code", data={"contact": "d@example.com"})
    assert resp.status_code == 400 and _count(OneTimeCode) == 1


def test_expired_code_is_refused(client, make_user, monkeypatch):
    make_user(contact="e@example.com")
    client.post("/auth/code", data={"contact": "e@example.com"})
    code, _ = _last_code_sent("e@example.com")
    expires = db.session.scalar(sa.select(OneTimeCode.expires_at))
    monkeypatch.setattr("odr.auth.operations.utcnow", lambda: expires + timedelta(seconds=1))
    assert client.post("/auth/code/verify", data={"contact": "e@example.com", "code": code}).status_code == 400


def test_failing_sender_keeps_the_message_pending(app, client, monkeypatch):
    from odr import outbox

    def broken(self, msg):
        raise ConnectionError("SMS gateway down")

    monkeypatch.setattr(outbox.ConsoleSender, "send", broken)
    assert client.post("/auth/code", data={"contact": "f@example.com"}).status_code == 200
    msg = db.session.scalar(sa.select(OutboxMessage))
    assert msg.sent_at is None and msg.attempts == 1 and "gateway down" in msg.last_error
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["outbox", "flush"])
    assert "1 message(s) sent" in result.output
    db.session.refresh(msg)
    assert msg.sent_at is not None


def test_csrf_is_required_on_forms(database_url):
    from odr import create_app
    from tests.conftest import test_config

    app = create_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    resp = client.post("/auth/login", data={"contact": "a@example.com", "password": "whatever1"})
    assert resp.status_code == 400 and 'name="password"' not in resp.get_data(as_text=True)  # refused page
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/auth/login", data={"contact": "a@example.com", "password": "whatever1",
                                            "csrf_token": token})
    # With the token the form itself answers: the password field is marked wrong.
    assert resp.status_code == 400 and 'aria-invalid="true"' in resp.get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
