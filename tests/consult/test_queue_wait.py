"""The queue promises a wait only when a consultant is on duty to keep it."""

from __future__ import annotations

import re

from odr.auth.models import Role
from odr.consult import operations as ops


def status_line(client, url) -> str:
    """The chat page's live status line (``role=status``)."""
    return re.search(r'<p id="status"[^>]*>(.*?)</p>', client.get(url).get_data(as_text=True), re.S).group(1)


def test_no_minutes_promised_while_nobody_is_on_duty(app, client, login, make_user, make_org):
    person = make_user()
    login(client, person)
    with client.session_transaction() as session:
        session["lang"] = "en"
    resp = client.post("/consult/", data={"topic": "My landlord keeps the deposit", "category": "property"})
    assert resp.status_code == 303
    page = status_line(client, resp.location)
    assert "No consultant is on duty right now" in page and "Estimated wait" not in page

    consultant = make_user(Role.consultant, make_org())
    login(client, consultant)
    assert client.post("/consult/desk/duty", data={"on_duty": "1"}).status_code == 303
    login(client, person)
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = status_line(client, resp.location)
    assert "Estimated wait: about" in page and "No consultant is on duty" not in page


def test_eta_figures():
    assert ops.eta_minutes(3, 8.0, 0) is None
    assert ops.eta_minutes(3, 8.0, 2) == 12
    assert ops.eta_minutes(1, 0.2, 4) == 1
