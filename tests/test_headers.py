"""Security headers on the answer of every GET route, signed out and signed in: a content security
policy without inline scripts or styles that no site may frame, a referrer policy that keeps
invitation tokens here, no camera or microphone but on the video room's page, no sniffing. The
templates hold no inline script, event handler or style the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter

from odr.extensions import db
from tests.video.conftest import opened_video_room

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def every_get_url(app, values: dict[str, str]) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route; path values from ``values`` by name, else 1 or "x"."""
    adapter = app.url_map.bind("odr.test")
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {}
        for name, conv in rule._converters.items():
            number = isinstance(conv, IntegerConverter)
            given = values.get(name)
            args[name] = given if given is not None and (given.isdigit() or not number) else "1" if number else "x"
        out.append((rule.endpoint, adapter.build(rule.endpoint, args)))
    return out


def assert_secure(resp, camera: bool = False, location: bool = False):
    headers = resp.headers
    csp = headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert headers.get("Referrer-Policy") == "same-origin"
    assert headers.get("X-Content-Type-Options") == "nosniff" and headers.get("X-Frame-Options") == "DENY"
    policy = headers.get("Permissions-Policy", "")
    assert ("geolocation=(self)" if location else "geolocation=()") in policy and "payment=()" in policy
    if camera:
        assert "camera=(self)" in policy and "microphone=(self)" in policy, policy
    else:
        assert "camera=()" in policy and "microphone=()" in policy, policy


@pytest.fixture
def open_room(mediation):
    room = opened_video_room(mediation)
    db.session.commit()
    return room


@pytest.mark.parametrize("who", ["anonymous", "mediator"])
def test_every_get_route_answers_with_the_security_headers(app, client, login, mediation, open_room, who):
    if who == "mediator":
        login(client, mediation.mediator)
    values = {"number": mediation.case.number, "room_id": str(open_room.id), "session_id": str(open_room.session_id)}
    checked = set()
    for endpoint, url in every_get_url(app, values):
        resp = client.get(url)
        assert resp.status_code < 500, (url, resp.status_code)
        # The field dispatch page asks for the phone's location at the check-in on the scene.
        assert_secure(resp, camera=endpoint == "video.room", location=endpoint == "field.show")
        checked.add((endpoint, resp.status_code))
    assert len(checked) > 70  # every GET route there is
    assert (("video.room", 200) in checked) is (who == "mediator")  # the room's page itself was checked


def test_error_answers_carry_them_too(app, client):
    assert_secure(client.get("/no/such/page"))
    assert_secure(client.post("/api/v1/intake", data="[" * 100, content_type="application/json"))


SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def test_the_pages_have_no_inline_script_handler_or_style():
    # templates/documents/*.html (not pages/) become PDFs with WeasyPrint: never served as pages.
    pdf_only = {p for p in (TEMPLATES / "documents").glob("*.html")}
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path in pdf_only:
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in (("inline script", SCRIPT), ("event handler", HANDLER), ("style", STYLE)):
            problems += [f"{path.relative_to(TEMPLATES)}: {name}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert problems == []
