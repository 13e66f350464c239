"""Values read as words, not as codes: every enum, audit action and configured name a page shows
has its Chinese and English text, and dates are written the way the page's language writes them.

The demo's accounts (party, consultant, mediator, arbitrator, staff, manager, clerk …) each walk
the pages their navigation and their first screens lead to, in Chinese and in English."""

from __future__ import annotations

import enum
import re
from html.parser import HTMLParser

import pytest

from odr import demo
from odr.cases.labels import ACTION
from odr.documents.ca import SEAL_NAME
from odr.extensions import db
from tests.snapshot import load_demo

#: Pages anyone may reach that show configured names (the directory, the session form's time zone).
EXTRA = ["/mediate/directory", "/cases/new", "/verify", "/consult/kb"]
PAGES_PER_ACCOUNT = 30


class VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, code (hashes, file names) or attributes."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\S+@\S+", " ", " ".join(parser.parts))  # e-mail addresses are not words


def raw_values() -> set[str]:
    """Every enum value of the platform, every audit action's code name, and the configured names
    that must not reach a page as they are stored."""
    values = {"Asia/Shanghai", SEAL_NAME, *ACTION}
    pending = list(enum.Enum.__subclasses__())
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        if kind.__module__.startswith("odr."):
            values |= {str(m.value) for m in kind if isinstance(m.value, str) and len(m.value) > 2}
    return values


def walk(app, contact, lang):
    """The pages an account reaches from its first screen: (path, visible text) pairs."""
    client = app.test_client()
    client.post("/lang", data={"lang": lang})
    client.post("/auth/login", data={"contact": contact, "password": demo.PASSWORD})
    queue, seen = ["/", *EXTRA], set()
    while queue and len(seen) < PAGES_PER_ACCOUNT:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        resp = client.get(path)
        if resp.status_code != 200 or not resp.content_type.startswith("text/html"):
            continue
        html = resp.get_data(as_text=True)
        yield path, visible_text(html)
        for href in re.findall(r'href="(/[^"#?]*)"', html):
            if not href.startswith("/static") and not re.search(r"\.(pdf|zip|csv|pem|cer|json)$|logout", href):
                queue.append(href)


@pytest.fixture
def demo_app(app):
    load_demo()
    return app


def test_no_raw_values_on_chinese_pages(demo_app):
    raw = raw_values()
    found = set()
    for _role, contact, _name in demo.ACCOUNTS:
        for path, text in walk(demo_app, contact, "zh"):
            words = set(re.findall(r"[A-Za-z][A-Za-z_/]+", text)) | {SEAL_NAME} & {text}
            found |= {f"{path}: {w}" for w in words & raw}
            assert SEAL_NAME not in text, path
            assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}\b", text), path
    assert not found, "\n".join(sorted(found))


def test_english_pages_write_dates_and_districts_in_english(demo_app):
    dates, districts = 0, 0
    for contact in ("+8613800138001", "staff@demo.odr.example"):
        for path, text in walk(demo_app, contact, "en"):
            assert not re.search(r"\d{1,2}/\d{1,2}/\d{2}\b", text), f"US-style short date on {path}"
            assert "中国时间" not in text
            dates += len(re.findall(r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M", text))
            districts += len(re.findall(r"\b(?:Chaoyang|Haidian|Dongcheng) District\b", text))
            # The stored Chinese district names show only inside organisations' own names.
            for d in demo_app.config["DISTRICTS"]:
                assert not re.search(rf"(^|[\s·]){d}($|[\s·])", text), f"{d} on {path}"
    assert dates > 5 and districts > 2


def test_the_time_zone_and_the_seal_by_name(demo_app, client, login):
    from odr.auth.models import User
    from odr.cases.models import Case, Stage
    from odr.documents.models import SignedDocument
    import sqlalchemy as sa

    with demo_app.test_request_context():
        from flask_babel import force_locale

        from odr.cases import labels

        with force_locale("zh"):
            assert labels.zone("Asia/Shanghai") == "中国时间"
        with force_locale("en"):
            assert labels.zone("Asia/Shanghai") == "China Time"
    mediator = db.session.scalar(sa.select(User).where(User.email == "mediator@demo.odr.example"))
    # A document the platform seals once every party has signed (an arbitration agreement, say, is
    # complete without a seal): the first mediation agreement, whatever order the database keeps.
    sealed = db.session.scalars(sa.select(SignedDocument).where(SignedDocument.completed_at.is_not(None),
                                                                SignedDocument.kind == "mediation_agreement")
                                .order_by(SignedDocument.id)).first()
    mediating = db.session.scalars(sa.select(Case).where(Case.stage == Stage.mediation, Case.closed_at.is_(None),
                                                         Case.mediator_id == mediator.id)).first()
    login(client, mediator)
    page = client.get(f"/mediate/{mediating.number}/sessions/new").get_data(as_text=True)
    assert "中国时间" in page and "Asia/Shanghai" not in page
    pdf = client.get(f"/documents/{sealed.id}/file.pdf").data
    report = client.post("/verify", data={"file": (__import__("io").BytesIO(pdf), "a.pdf")},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert "平台印章" in report and SEAL_NAME not in report
