"""axe-core (axe-playwright-python) on the pages a visitor and a party reach, in Chinese and English,
in the standard view and elderly mode, at 360×640: no serious or critical violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from odr.auth import operations as auth_ops
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Channel, Stage
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_in

CLAIMANT = "+8613800000201"
VISITOR_PAGES = ["/", "/auth/login", "/auth/signup", "/auth/code", "/consult/kb", "/verify", "/mediate/directory"]


def serious(page) -> list[str]:
    results = Axe().run(page)
    return [f"{page.url} {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_serious_violations_for_visitors_and_parties(phone, server, lang):
    with server.app.app_context():
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(), ops.PartyDetails("张三", phone=CLAIMANT),
                             ops.PartyDetails("李四", phone="+8613800000202"))
        workflow.move(case, Stage.assessment, claimant)
        db.session.commit()
        number = case.number
        db.session.remove()
    page = phone().new_page()
    page.goto("/")
    if lang == "en":
        page.locator("form.lang button").click()
    found = []
    party_pages = ["/", f"/cases/{number}", "/cases/", "/cases/new", "/auth/account", f"/assess/{number}/questionnaire",
                   "/consult/", f"/cases/{number}/representatives"]
    for elderly in (False, True):
        for path in VISITOR_PAGES:
            page.goto(path)
            assert page.locator("body.elderly").count() == int(elderly), path
            found += serious(page)
        sign_in(page, CLAIMANT)
        for path in party_pages:
            page.goto(path)
            assert page.locator("body.elderly").count() == int(elderly), path
            found += serious(page)
        page.goto("/")
        page.locator("nav.menu form[action$='/logout'] button").click()
        if not elderly:
            page.locator("#elderly-switch").click()
    assert not found, "\n".join(found)


WORKERS = ["consultant", "mediator", "arbitrator", "staff", "commission", "manager", "clerk"]
#: Each worker's pages in Chinese in the standard view and in English in elderly mode: every role
#: is audited in both languages and both modes without running axe four times on each page.
VIEWS = [("zh", False), ("en", True)]


def test_no_serious_violations_on_the_workers_pages(phone, server):
    """Each worker of the demo signs in, lands on their work, and every page their navigation
    leads to, and the first case it lists, is audited."""
    from odr import demo

    with server.app.app_context():
        demo.load()
        db.session.commit()
        db.session.remove()
    found, audited = [], 0
    for lang, elderly in VIEWS:
        for who in WORKERS:
            page = phone().new_page()
            page.goto("/auth/login")
            if lang == "en":
                page.locator("form.lang button").click()
            if elderly:
                page.locator("#elderly-switch").click()
            page.fill("input[name=contact]", f"{who}@demo.odr.example")
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
    assert audited >= 2 * len(WORKERS)
    assert not found, "\n".join(found)
