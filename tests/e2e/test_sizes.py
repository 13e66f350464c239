"""Measured in Chromium at 360×640: tap targets of at least 44×44 px on every page visited; in
elderly mode body text 20 px, main text at least 18 px, main controls at least 60×60 px, line
spacing at least 1.3; a party reaches a pending step from the first screen in one tap."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Channel, Stage
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_in

CLAIMANT = "+8613800000101"

MEASURE = """([selector, minimum]) => [...document.querySelectorAll(selector)]
    .filter(e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
    .map(e => { const r = e.getBoundingClientRect();
                return [e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.textContent || e.value || '').trim().slice(0, 20) + '"',
                        Math.round(r.width * 10) / 10, Math.round(r.height * 10) / 10]; })
    .filter(([, w, h]) => w < minimum - 0.5 || h < minimum - 0.5)"""

FONTS = """(minimum) => [...document.querySelectorAll('main p, main li, main label, main summary, main a, main button, main td')]
    .filter(e => e.offsetParent !== null && (e.textContent || '').trim())
    .map(e => { const s = getComputedStyle(e); const size = parseFloat(s.fontSize);
                const line = s.lineHeight === 'normal' ? size * 1.2 : parseFloat(s.lineHeight);
                return [e.tagName.toLowerCase() + ' "' + e.textContent.trim().slice(0, 20) + '"', size, line / size]; })
    .filter(([, size, ratio]) => size < minimum - 0.1 || ratio < 1.3)"""

TARGETS = "nav a, nav button, .timeline a, .top button, main .button, main button:not([hidden]), main summary.button, .todo-link"


def _case(server) -> str:
    with server.app.app_context():
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(), ops.PartyDetails("张三", phone=CLAIMANT),
                             ops.PartyDetails("李四", phone="+8613800000102"))
        workflow.move(case, Stage.assessment, claimant)
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_tap_targets_and_elderly_mode_sizes(phone, server, layout, shot):
    number = _case(server)
    page = phone().new_page()
    pages = ["/", "/auth/login", "/consult/kb", "/verify", "/mediate/directory"]
    for path in pages:
        page.goto(path)
        assert page.evaluate(MEASURE, [TARGETS, 44]) == [], path
    sign_in(page, CLAIMANT)
    # The first screen after signing in is the to-do list; each step is one tap away.
    expect(page).to_have_url(re.compile(r":\d+/$"))
    steps = page.locator("#todo-list .todo-link")
    expect(steps).to_have_count(2)  # invite the other party; answer the assessment
    page.locator("[data-kind=answer_assessment] a").tap()
    expect(page).to_have_url(re.compile(rf"/assess/{number}/questionnaire$"))
    signed_in = ["/", f"/cases/{number}", "/cases/", "/cases/new", "/auth/account"]
    for path in signed_in:
        page.goto(path)
        assert page.evaluate(MEASURE, [TARGETS, 44]) == [], path

    page.goto("/")
    assert page.locator(TARGETS).count() >= 10
    assert page.evaluate(FONTS, 18) != []  # the standard view's 16 px text: the measure sees it
    page.locator("#elderly-switch").tap()
    expect(page.locator("body.elderly")).to_have_count(1)
    for path in signed_in + ["/verify", "/consult/kb"]:
        page.goto(path)
        assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 20, path
        assert page.evaluate(FONTS, 18) == [], path
        assert page.evaluate(MEASURE, ["main .button, main button:not([hidden]), main input:not([type=hidden]), "
                                       "main select, main summary.button, .todo-link", 60]) == [], path
        assert page.evaluate(MEASURE, [TARGETS, 44]) == [], path
        layout.check(page)
    shot(page, "elderly-case-page")
    layout.assert_all_fit()
