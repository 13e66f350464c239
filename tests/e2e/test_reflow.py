"""Reflow (WCAG 1.4.10) and resize text (1.4.4): a party's pages at 320 CSS px wide, and at phone
width with the browser's text size doubled (Chromium's own font-size setting, through the
DevTools protocol), never scroll sideways."""

from __future__ import annotations

from odr import demo
from tests.e2e.conftest import TIMEOUT_MS
from tests.snapshot import load_demo

CLAIMANT = "+8613800138001"  # the demo's 王芳: cases at every stage
PAGES = ["/", "/cases/", "/cases/new", "/auth/account", "/consult/", "/consult/kb", "/mediate/directory", "/verify"]
OVERFLOW = """() => {
    const root = document.scrollingElement;
    const limit = root.clientWidth;
    const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > limit + 0.5)
        .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
    return root.scrollWidth > root.clientWidth ? `${root.scrollWidth} > ${root.clientWidth}: ${wide.join(', ')}` : '';
}"""


def party_pages(page) -> list[str]:
    """The fixed pages, each of the party's cases, and the stage pages the first cases link to."""
    page.goto("/cases/")
    cases = page.eval_on_selector_all("main a[href^='/cases/ODR-']", "els => els.map(e => e.getAttribute('href'))")
    found = [*PAGES, *dict.fromkeys(cases)]
    for case in cases[:6]:
        page.goto(case)
        found += page.eval_on_selector_all(
            "main a[href^='/mediate/ODR-'], main a[href^='/arbitrate/ODR-'], main a[href^='/court/ODR-'],"
            " main a[href^='/assess/ODR-'], main a[href^='/negotiate/ODR-'], main a[href^='/documents/']",
            "els => els.map(e => e.getAttribute('href'))")
    return [p for p in dict.fromkeys(found) if not p.endswith((".pdf", ".zip", ".png"))]


def test_party_pages_reflow_at_320px_and_at_double_text(browser, server):
    with server.app.app_context():
        load_demo()
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/auth/login")
        page.fill("input[name=contact]", CLAIMANT)
        page.fill("input[name=password]", demo.PASSWORD)
        page.locator("main form button").click()
        page.wait_for_load_state()
        paths = party_pages(page)
        assert len(paths) > 15
        problems = []
        for path in paths:
            page.goto(path)
            if wide := page.evaluate(OVERFLOW):
                problems.append(f"320px {path}: {wide}")
        page.set_viewport_size({"width": 360, "height": 640})
        cdp = context.new_cdp_session(page)
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
        for path in paths:
            page.goto(path)
            size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
            assert size >= 32, f"{path}: the text did not grow with the browser's setting ({size}px)"
            if wide := page.evaluate(OVERFLOW):
                problems.append(f"200% text {path}: {wide}")
        assert not problems, "\n".join(problems)
    finally:
        context.close()
