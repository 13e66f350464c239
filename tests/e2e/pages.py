"""Page helpers shared by the browser tests: layout checks at phone width, signing up and in,
signing a document, and the server's clock moved back and stepped forward while a case is seeded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from odr import jobs, timeutil
from tests.conftest import PASSWORD, Clock

PHONE_WIDTH = 360


class Layout:
    """Checks each page visited for horizontal overflow at phone width.

    Overflows are collected rather than raised at once, so one run walks the whole flow and
    lists every page that does not fit; ``assert_all_fit`` ends each test.
    """

    def __init__(self):
        self.overflows: list[str] = []

    def check(self, page: Page):
        width, offenders = page.evaluate("""() => {
            const limit = document.documentElement.clientWidth;
            const bad = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > limit + 0.5)
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                          + (typeof e.className === 'string' && e.className
                             ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                          + ' "' + (e.textContent || '').trim().slice(0, 20) + '"');
            return [document.documentElement.scrollWidth, bad];
        }""")
        if width > PHONE_WIDTH:
            self.overflows.append(f"{page.url} is {width}px wide; overflowing: {offenders}")

    def assert_all_fit(self):
        if self.overflows:
            raise AssertionError(f"pages wider than {PHONE_WIDTH}px:\n" + "\n".join(self.overflows))


def sign_up(page: Page, layout: Layout, contact: str, name: str):
    page.fill("input[name=contact]", contact)
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    layout.check(page)
    page.locator("main form button").tap()


def sign_in(page: Page, contact: str):
    """Sign in through the form (click, not tap: works on phone and desktop contexts alike)."""
    page.goto("/auth/login")
    page.fill("input[name=contact]", contact)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button").click()


def draw_signature(page: Page, selector: str = "#pad", touch: bool = True):
    """Draw a zigzag on the signature pad: with a finger (CDP touch events) on a phone, with the
    mouse at a desk."""
    pad = page.locator(selector)
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    points = [(box["x"] + 20 + i * box["width"] / 14, box["y"] + box["height"] * (0.3 + 0.4 * (i % 2)))
              for i in range(12)]
    if touch:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
        for x, y in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()
    else:
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y)
        page.mouse.up()


def sign_document(page: Page, server, contact: str, touch: bool = True):
    """On a document's page: tick "read", ask for the one-time code (read back from the outbox),
    draw a signature and sign; waits until the page has reloaded without the signing form."""
    from playwright.sync_api import expect

    from tests.documents.signing import last_code

    page.locator("#read-all").check()
    page.locator("#send-code").click()
    expect(page.locator("#sign-status")).not_to_be_empty()
    with server.app.app_context():
        code = last_code(contact)
    page.fill("#sign-code", code)
    draw_signature(page, touch=touch)
    page.locator("#sign-now").click()
    expect(page.locator("#sign-status")).not_to_have_class("error", timeout=1_000)
    expect(page.locator("#sign")).to_have_count(0, timeout=15_000)  # signed: the page reloads without it


@contextmanager
def clock_moved_back(**delta) -> Iterator[Clock]:
    """The platform's clock — the live server's too, which runs in this process — stopped ``delta``
    (e.g. ``days=9``) before the real time, for seeding a case's past: it moves only when told
    (``clock.advance(days=1)``, ``clock.now = …``, :func:`step_days`). The real clock is back when
    the block ends, also on failure, so the browser then works at the real time."""
    clock = Clock(datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(**delta))
    timeutil.set_clock(clock)
    try:
        yield clock
    finally:
        timeutil.set_clock(None)


def step_days(clock: Clock, days: int) -> None:
    """Move ``clock`` forward one day at a time, running the periodic jobs after each step (as the
    served job runner would have): reminders, deadlines and escalations happen on the day they fall
    due. Needs an app context."""
    for _day in range(days):
        clock.advance(days=1)
        jobs.run_all()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    results = Axe().run(page)
    return [f"{page.url} {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


class Audit:
    """axe-core on the pages a person reaches by following links, each page route once per side of
    the platform (``party`` or ``worker``) and view (language and mode): a crawl that grows with
    the routes, not with the data. ``found`` collects the violations, ``endpoints`` the routes
    audited; :data:`tests.e2e.audited.NOT_PAGES` are never opened (files, data, redirects)."""

    def __init__(self, app):
        from tests.e2e.audited import NOT_PAGES

        self.routes = app.url_map.bind("localhost")
        self.skip = set(NOT_PAGES)
        self.found: list[str] = []
        self.endpoints: set[str] = set()
        self.done: set[tuple] = set()
        self.opened: set[tuple] = set()
        self.cases_opened: dict[tuple, int] = {}

    def endpoint(self, href: str) -> str | None:
        from urllib.parse import urlsplit

        from werkzeug.exceptions import HTTPException

        parts = urlsplit(href)
        if parts.scheme not in ("", "http", "https") or (parts.netloc and not parts.netloc.startswith("127.0.0.1")):
            return None
        try:
            endpoint, _args = self.routes.match(parts.path, method="GET")
        except HTTPException:  # not a route, or one that redirects
            return None
        return None if endpoint in self.skip else endpoint

    def check(self, page: Page, key: tuple = ()) -> None:
        """Audit the page as it is, with every ``<details>`` open (a confirmation step, a schedule)
        so that what they hide is audited too."""
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        self.found += serious_violations(page)
        if (endpoint := self.endpoint(page.url)) is not None:
            self.endpoints.add(endpoint)
            self.done.add((*key, endpoint))

    def crawl(self, page: Page, start: list[str], key: tuple, depth: int = 6) -> int:
        """Follow the links of ``main`` and of the navigation breadth first from ``start``,
        auditing each route not yet audited under ``key``; how many pages were audited. Case pages
        are opened even when audited already (up to :attr:`CASES` per ``key``, whoever crawls):
        each stage of a case links to pages of its own."""
        audited, frontier = 0, list(start)
        for _level in range(depth):
            following = []
            for href in dict.fromkeys(frontier):
                endpoint = self.endpoint(href)
                if endpoint is None or (*key, href) in self.opened:
                    continue
                fresh = (*key, endpoint) not in self.done
                if not fresh:
                    if endpoint != "cases.show" or self.cases_opened.get(key, 0) >= self.CASES:
                        continue
                    self.cases_opened[key] = self.cases_opened.get(key, 0) + 1
                self.opened.add((*key, href))
                response = page.goto(href)
                if response is None or not response.ok:  # a refusal is not the page: not counted
                    continue
                if fresh:
                    self.check(page, key)
                    audited += 1
                following += page.eval_on_selector_all(
                    "main a[href], nav a[href]", "els => els.map(e => e.getAttribute('href'))")
            frontier = following
        return audited

    #: Case pages opened again, at most, per key.
    CASES = 10
