"""axe-core (axe-playwright-python) on the pages a visitor and a party reach, in Chinese and English,
in the standard view and elderly mode, at 360×640: no serious or critical violation. (The workers'
pages: test_axe_workers.py, a file of its own so that the two run side by side.)"""

from __future__ import annotations

import pytest
from odr.auth import operations as auth_ops
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Channel, Stage
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import serious_violations as serious
from tests.e2e.pages import sign_in

CLAIMANT = "+8613800000201"
VISITOR_PAGES = ["/", "/auth/login", "/auth/signup", "/auth/code", "/consult/kb", "/verify", "/mediate/directory"]


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
