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
    leads to, and the first case it lists, is audited."""
    from odr import demo

    with server.app.app_context():
        load_demo()
    found, audited = [], 0
    for lang, elderly in VIEWS:
        for contact in WORKERS.values():
            # 32 sign-ins from one address in about a minute: past the login limit (10 a minute)
            # on a quick machine. Each is a different person; the limit has its own tests.
            limiter.reset()
            page = phone().new_page()
            page.goto("/auth/login")
            if lang == "en":
                page.locator("form.lang button").click()
            if elderly:
                page.locator("#elderly-switch").click()
            page.fill("input[name=contact]", contact)
            page.fill("input[name=password]", demo.PASSWORD)
            page.locator("main form button").click()
            page.wait_for_load_state()
            found += serious(page)
            links = page.eval_on_selector_all("nav a[data-workplace]", "els => els.map(e => e.getAttribute('href'))")
            case_links = page.eval_on_selector_all("main a[href*='/cases/ODR-']", "els => els.map(e => e.getAttribute('href'))")
            for path in [*links, *case_links[:1]]:
                page.goto(path)
                assert page.locator("html").get_attribute("lang").startswith(lang), path
                assert page.locator("body.elderly").count() == int(elderly), path
                found += serious(page)
                audited += 1
            page.context.close()
    assert audited >= len(VIEWS) * len(WORKERS)
    assert not found, "\n".join(found)
