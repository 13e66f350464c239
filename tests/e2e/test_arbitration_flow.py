"""Arbitration end to end: both parties on phones, the commission's staff and the arbitrator at desks.

The claimant asks for arbitration from the case page and both parties sign the arbitration
agreement with keys their browsers make; the commission accepts the small claim for a decision on
the documents; both parties name the same arbitrator, whom the commission appoints; the
arbitrator declares independence; the claim and the defence come in from the phones; the
arbitrator drafts the award and signs it; the platform seals it, the case ends with the award,
and pyHanko and poppler's pdfsig both find it signed and intact.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import audit
from odr.cases.models import Case, Outcome, Stage
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.documents.verify import verify
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.documents.signing import pdfsig
from tests.e2e.pages import sign_document, sign_in

pytestmark = pytest.mark.e2e

STAFF, ARBITRATOR = "commission@example.com", "arbitrator@example.com"
CLAIMANT, RESPONDENT = "+8613800138031", "+8613900139031"


def seed(server) -> str:
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Channel, Organization, OrgType

    with server.app.app_context():
        commission = Organization(name="北京仲裁委员会", type=OrgType.arbitration_commission, district="朝阳区")
        db.session.add(commission)
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Staff Qian", PASSWORD)
        grant_role(staff, Role.staff, commission)
        arbitrator = auth_ops.create_user(ARBITRATOR, "仲裁员周", PASSWORD)
        grant_role(arbitrator, Role.arbitrator, commission)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=8000, claim="归还借款八千元。"),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT))
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def sign(page: Page, server, contact: str, touch: bool):
    """On a document's page, once its page images have loaded."""
    expect(page.locator("#sign")).to_be_visible()
    expect(page.locator(".pages img").first).to_have_js_property("complete", True)
    sign_document(page, server, contact, touch)


def test_arbitration_from_agreement_to_signed_award(phone, server, shot, layout, tmp_path):
    number = seed(server)
    stage = f"/arbitrate/{number}"

    # The claimant, on a phone, asks for arbitration and signs the agreement naming the commission.
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    claimant.goto(f"/cases/{number}")
    claimant.locator("#ask-arbitration").tap()
    expect(claimant).to_have_url(re.compile(rf"/arbitrate/{number}/request$"))
    layout.check(claimant)
    claimant.locator("select[name=commission]").select_option(label="北京仲裁委员会")
    claimant.locator("#send-request").tap()
    expect(claimant).to_have_url(re.compile(r"/documents/\d+$"))
    expect(claimant.locator("h1")).to_contain_text("仲裁协议")
    layout.check(claimant)
    sign(claimant, server, CLAIMANT, touch=True)

    respondent = phone().new_page()
    sign_in(respondent, RESPONDENT)
    respondent.goto(stage)
    respondent.locator("#agreement-link").tap()
    sign(respondent, server, RESPONDENT, touch=True)
    respondent.goto(stage)
    expect(respondent.locator("#arbitration-status")).to_contain_text("已提交，等待受理")
    layout.check(respondent)
    shot(respondent, "1-filed")

    # The commission accepts it, to be decided on the documents.
    staff = phone(desk=True).new_page()
    sign_in(staff, STAFF)
    staff.goto("/arbitrate/")
    staff.locator(f"#commission-cases a:text('{number}')").click()
    expect(staff.locator("#arbitration-acceptance")).to_contain_text("430.00")
    staff.locator("#accept-form input[value=documents_only]").check()
    staff.locator("#accept").click()
    expect(staff.locator("#arbitration-fee")).to_contain_text("430.00")

    # Both parties name the same arbitrator from the roster; the commission appoints.
    for page in (claimant, respondent):
        page.goto(stage)
        page.locator("#nominate-form select").select_option(label="仲裁员周")
        page.locator("#nominate").tap()
        expect(page.locator("#nominate-form")).to_have_count(0)
    layout.check(claimant)
    staff.goto(stage)
    staff.locator("#appoint").click()
    expect(staff.locator("#tribunal")).to_contain_text("双方共同选定")

    # The arbitrator declares independence.
    arbitrator = phone(desk=True).new_page()
    sign_in(arbitrator, ARBITRATOR)
    arbitrator.goto("/arbitrate/")
    arbitrator.locator(f"#my-seats a:text('{number}')").click()
    arbitrator.locator("#declare-form input[value=yes]").check()
    arbitrator.locator("#declare").click()
    expect(arbitrator.locator("#tribunal")).to_contain_text("已声明独立")

    # The claim and the defence, from the phones.
    claimant.goto(stage)
    expect(claimant.locator("#claim-form textarea")).to_have_value("归还借款八千元。")
    claimant.locator("#submit-claim").tap()
    expect(claimant.locator("#claim-text")).to_contain_text("归还借款八千元")
    respondent.goto(stage)
    respondent.fill("#defence-form textarea", "已归还三千元。")
    respondent.locator("#submit-defence").tap()
    expect(respondent.locator("#defence-text")).to_contain_text("已归还三千元")
    layout.check(respondent)

    # The arbitrator drafts the award and signs it; the platform seals it.
    arbitrator.goto(stage)
    form = arbitrator.locator("#award-form")
    form.locator("textarea[name=facts]").fill("被申请人借款八千元，已归还三千元。")
    form.locator("textarea[name=reasoning]").fill("借条真实有效，还款事实双方无争议。")
    form.locator("textarea[name=decision]").fill("被申请人向申请人归还借款五千元。\n驳回申请人的其他请求。")
    arbitrator.locator("#draft-award").click()
    expect(arbitrator).to_have_url(re.compile(r"/documents/\d+$"))
    expect(arbitrator.locator("h1")).to_contain_text("裁决书")
    sign(arbitrator, server, ARBITRATOR, touch=False)

    # The parties see the award on their phones.
    claimant.goto(stage)
    expect(claimant.locator("#award")).to_contain_text("仲裁庭已签署并盖章")
    layout.check(claimant)
    shot(claimant, "2-award")
    claimant.locator("#award-link").tap()
    expect(claimant.locator("h1")).to_contain_text("裁决书")
    layout.check(claimant)

    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.outcome is Outcome.award_issued
        assert audit.verify_chain(f"case:{case.id}") is None
        award = db.session.query(SignedDocument).filter_by(case_id=case.id, kind="arbitral_award").one()
        pdf = storage.get(award.current_sha256)
        report = verify(pdf, [platform_ca().ca.asn1_cert])
        assert report.ok, report.lines()
        path = tmp_path / "award.pdf"
        path.write_bytes(pdf)
        out = pdfsig(path, platform_ca().pem(), tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    layout.assert_all_fit()
