"""axe-core (axe-playwright-python) on the pages a visitor and a party reach, in Chinese and English,
in the standard view and elderly mode, at 360×640: no serious or critical violation. (The workers'
pages: test_axe_demo.py, in the demo, with its parties; a file of its own so that the two run side by side.)"""

from __future__ import annotations

import pytest
from odr.auth import operations as auth_ops
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases import representation as reps
from odr.cases.models import Category, Channel, RepresentativeKind, Scope, Stage
from odr.consult import operations as consult_ops
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.audited import VISITOR_AND_PARTY
from tests.e2e.pages import Audit, sign_in
from tests.e2e.pages import serious_violations as serious  # noqa: F401 - the field flows' audits import it here

CLAIMANT = "+8613800000201"
VISITOR_PAGES = ["/", "/auth/login", "/auth/signup", "/auth/code", "/consult/kb", "/verify", "/mediate/directory"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_serious_violations_for_visitors_and_parties(phone, server, lang):
    with server.app.app_context():
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(), ops.PartyDetails("张三", phone=CLAIMANT),
                             ops.PartyDetails("李四", phone="+8613800000202"))
        workflow.move(case, Stage.assessment, claimant)
        helper = reps.appoint(case, claimant, RepresentativeKind.helper, Scope.act, "张小三", "+8613800000203", None)
        chat = consult_ops.start(claimant, "邻居装修噪音", Category.neighbour)
        db.session.commit()
        number, chat_id = case.number, chat.id
        # Pages a visitor opens from an SMS: the invitation to join, and to help.
        invited = [f"/cases/join/{case.respondent.invite_token}", f"/cases/represent/{helper.invite_token}"]
        db.session.remove()
    page = phone().new_page()
    page.goto("/")
    if lang == "en":
        page.locator("form.lang button").click()
    audit = Audit(server.app)
    # The rest of a party's pages are audited in the demo (test_axe_demo.py), in all their states.
    party_pages = ["/", f"/cases/{number}", f"/consult/c/{chat_id}", f"/consult/c/{chat_id}/case",
                   f"/cases/declined/{number}"]
    for elderly in (False, True):
        for path in [*VISITOR_PAGES, *invited]:
            assert page.goto(path).ok, path
            assert page.locator("body.elderly").count() == int(elderly), path
            audit.check(page)
        sign_in(page, CLAIMANT)
        for path in party_pages:
            assert page.goto(path).ok, path
            assert page.locator("body.elderly").count() == int(elderly), path
            audit.check(page)
        page.goto("/")
        page.locator("nav.menu form[action$='/logout'] button").click()
        if not elderly:
            page.locator("#elderly-switch").click()
    missing = VISITOR_AND_PARTY - audit.endpoints
    assert not missing, f"pages test_axe.py says it audits but did not reach: {sorted(missing)}"
    assert not audit.found, "\n".join(audit.found)
