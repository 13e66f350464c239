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
