"""Elderly mode (长辈版): a switch on every page, remembered for the browser (cookie session) and,
signed in, for the account (``user.elderly``); the pages carry ``class="elderly"``."""

from __future__ import annotations

from odr.extensions import db
from tests.conftest import PASSWORD


def is_elderly(client, path="/") -> bool:
    page = client.get(path).get_data(as_text=True)
    assert 'id="elderly-switch"' in page
    return '<body class="elderly">' in page


def test_switch_on_every_page_remembered_in_the_browser(client):
    for path in ("/", "/auth/login", "/consult/kb", "/verify", "/mediate/directory"):
        assert not is_elderly(client, path)
    resp = client.post("/elderly", data={"on": "1", "next": "/consult/kb"})
    assert resp.status_code == 303 and resp.location.endswith("/consult/kb")
    assert is_elderly(client, "/consult/kb") and is_elderly(client, "/auth/login")
    assert client.post("/elderly", data={"on": "0"}).location.endswith("/")
    assert not is_elderly(client)


def test_remembered_for_the_account_on_another_browser(app, client, login, make_user):
    user = make_user()
    login(client, user)
    client.post("/elderly", data={"on": "1"})
    db.session.refresh(user)
    assert user.elderly is True
    other = app.test_client()
    assert not is_elderly(other)
    other.post("/auth/login", data={"contact": user.email, "password": PASSWORD})
    assert is_elderly(other)
    # This browser's own choice wins over the account's.
    other.post("/elderly", data={"on": "0"})
    db.session.refresh(user)
    assert user.elderly is False and not is_elderly(other)


def test_chosen_before_signing_in_it_stays_on(client, make_user):
    user = make_user()
    client.post("/elderly", data={"on": "1"})
    client.post("/auth/login", data={"contact": user.email, "password": PASSWORD})
    assert is_elderly(client)


def test_an_outside_next_is_not_followed(client):
    assert client.post("/elderly", data={"on": "1", "next": "https://evil.example/"}).location.endswith("/")
