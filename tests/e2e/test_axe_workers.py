"""axe-core (axe-playwright-python) on every page each worker of the demo reaches from their
navigation, in Chinese and English, in the standard view and elderly mode, at 360×640: no serious
or critical violation."""

from __future__ import annotations

from odr.extensions import limiter
from tests.e2e.pages import serious_violations as serious
from tests.snapshot import load_demo

#: Who signs in with what (README's demo accounts): the grid worker signs in with a phone number.
WORKERS = {who: f"{who}@demo.odr.example"
           for who in ("consultant", "mediator", "arbitrator", "staff", "commission", "manager", "clerk")} \
    | {"grid_worker": "+8613800138010"}
#: Every page in both languages and both modes.
VIEWS = [("zh", False), ("zh", True), ("en", False), ("en", True)]


def test_no_serious_violations_on_the_workers_pages(phone, server):
    """Each worker of the demo signs in, lands on their work, and every page their navigation
    leads to, and the first case it lists, is audited — in each language and mode, switched with
    the page's own buttons (as a person would; one sign-in per worker)."""
    from odr import demo

    with server.app.app_context():
        load_demo()
    found, audited = [], 0
    for contact in WORKERS.values():
        limiter.reset()  # eight sign-ins from one address in a few seconds; the limit has its own tests
        page = phone().new_page()
        page.goto("/auth/login")
        page.fill("input[name=contact]", contact)
        page.fill("input[name=password]", demo.PASSWORD)
        page.locator("main form button").click()
        page.wait_for_load_state()
        landing = page.url
        assert "/auth/login" not in landing, contact
        now = ("zh", False)
        for lang, elderly in VIEWS:
            page.goto(landing)
            if lang != now[0]:
                page.locator("form.lang button").click()
                page.wait_for_load_state()
            if elderly != now[1]:
                page.locator("#elderly-switch").click()
                page.wait_for_load_state()
            now = (lang, elderly)
            found += serious(page)
            links = page.eval_on_selector_all("nav a[data-workplace]", "els => els.map(e => e.getAttribute('href'))")
            case_links = page.eval_on_selector_all("main a[href*='/cases/ODR-']", "els => els.map(e => e.getAttribute('href'))")
            for path in [*links, *case_links[:1]]:
                page.goto(path)
                assert page.locator("html").get_attribute("lang").startswith(lang), (contact, path)
                assert page.locator("body.elderly").count() == int(elderly), (contact, path)
                found += serious(page)
                audited += 1
        page.context.close()
    assert audited >= len(VIEWS) * len(WORKERS)
    assert not found, "\n".join(found)
