"""Direct negotiation end to end, on two phones (360×640): the claimant opens with an offer from
a letter template, the respondent counters with two instalments, the claimant accepts; both read
and sign the settlement agreement with keys their browsers make (WebCrypto), the platform seals it,
and the case is settled without a mediator. pyHanko finds two valid signatures and the seal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.cases import audit
from odr.cases.models import Case, Outcome, Stage
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.documents.verify import verify
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_document, sign_in

pytestmark = pytest.mark.e2e

CLAIMANT, RESPONDENT = "+8613800138031", "+8613900139031"


def seed(server, in_mediation: bool = False) -> str:
    """A debt case in assessment, both parties joined; ``in_mediation``: moved on to mediation and
    given its mediator (so the parties may choose to negotiate first)."""
    from odr.auth.models import Role
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Category, Channel, Organization, OrgType

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        db.session.add(org)
        db.session.flush()
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(category=Category.debt, amount_claimed=3000,
                                                            description="李四借款三千元未还。", claim="归还借款三千元。"),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        if in_mediation:
            staff = auth_ops.create_user("staff@example.com", "Staff Wu", PASSWORD)
            ops.grant_role(staff, Role.staff, org)
            mediator = auth_ops.create_user("mediator@example.com", "调解员王", PASSWORD)
            ops.grant_role(mediator, Role.mediator, org)
            workflow.move(case, Stage.mediation, staff)
            ops.assign_handler(case, staff, mediator=mediator)
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_two_parties_negotiate_counter_accept_sign_and_settle(phone, server, shot, layout):
    number = seed(server)
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    respondent = phone().new_page()
    sign_in(respondent, RESPONDENT)

    # The claimant finds the negotiation on the case page and starts from the payment-request letter.
    claimant.goto(f"/cases/{number}")
    claimant.locator("#negotiate").tap()
    expect(claimant).to_have_url(re.compile(rf"/negotiate/{number}$"))
    layout.check(claimant)
    claimant.locator("#letter-payment_request").tap()
    expect(claimant.locator("textarea[name=message]")).to_contain_text(number)
    claimant.fill("input[name=amount]", "3000")
    claimant.fill("textarea[name=terms]", "李四于2027年1月31日前归还借款三千元。")
    layout.check(claimant)
    claimant.locator("#new-offer form button").tap()
    expect(claimant.locator("section.proposal")).to_have_count(1)
    expect(claimant.locator("#negotiation-status")).to_contain_text("进行中")
    shot(claimant, "1-offer")

    # The respondent counters: 2,400 yuan in two instalments. The claimant's page stays open.
    expect(claimant.locator("#case-live")).to_have_attribute("data-watching", "1")
    respondent.goto(f"/negotiate/{number}")
    expect(respondent.locator("section.proposal").first).to_contain_text("3000")
    layout.check(respondent)
    respondent.locator("section.proposal a[href$='/counter']").first.tap()
    respondent.fill("input[name=amount]", "2400")
    respondent.fill("textarea[name=terms]", "李四分两期归还借款两千四百元。")
    respondent.locator("details.schedule summary").tap()
    respondent.fill("input[name='schedule-0-due']", "2027-01-31")
    respondent.fill("input[name='schedule-0-amount']", "1200")
    respondent.fill("input[name='schedule-1-due']", "2027-02-28")
    respondent.fill("input[name='schedule-1-amount']", "1200")
    layout.check(respondent)
    respondent.locator("#new-offer form button").tap()
    expect(respondent).to_have_url(re.compile(rf"/negotiate/{number}$"))
    shot(respondent, "2-counter")

    # Without reloading, the claimant's page shows the counter-offer and says so in its live region.
    counter = claimant.locator("section.proposal").filter(has_text="2400").first
    expect(counter.locator("input[name=decision][value=accept]")).to_be_visible()
    expect(claimant.locator("#announce")).to_have_text(re.compile(r"对方对第\d+号方案提出了反方案"))

    # The claimant accepts the counter-offer and lands on the agreement to sign.
    counter.locator("input[name=decision][value=accept]").check()
    counter.locator("details.confirm summary").tap()  # the answer is final: a second step confirms it
    counter.locator("form button").first.tap()
    expect(claimant).to_have_url(re.compile(r"/documents/\d+$"))
    expect(claimant.locator("h1")).to_contain_text("和解协议书")
    layout.check(claimant)

    # Each party reads the exact PDF, confirms with a code, draws a signature and signs.
    for page, contact in ((claimant, CLAIMANT), (respondent, RESPONDENT)):
        page.goto(f"/negotiate/{number}")
        page.locator("#agreement a").tap()
        expect(page.locator("#sign")).to_be_visible()
        expect(page.locator(".pages img").first).to_have_js_property("complete", True)
        layout.check(page)
        sign_document(page, server, contact)
    respondent.goto(f"/negotiate/{number}")
    expect(respondent.locator("#agreement")).to_contain_text("双方已签名")
    expect(respondent.locator("#negotiation-status")).to_contain_text("和解")
    layout.check(respondent)
    shot(respondent, "3-settled")
    respondent.goto(f"/cases/{number}")
    layout.check(respondent)

    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.outcome is Outcome.settled and case.stage is Stage.assessment and case.mediator_id is None
        assert case.settlement_amount == 2400
        assert audit.verify_chain(f"case:{case.id}") is None
        document = db.session.query(SignedDocument).filter_by(case_id=case.id).one()
        report = verify(storage.get(document.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok, report.lines()
    assert [s.signer for s in report.signatures] == ["张三", "李四", "ODR Platform Seal"]
    layout.assert_all_fit()


def test_both_choose_to_negotiate_first_in_mediation_and_settle_without_a_session(phone, server, layout):
    """Issue 19, negotiation as the first step of mediation: both parties choose it on their phones,
    one offers, the other accepts, both sign; the case settles from mediation with no mediator session."""
    from odr.mediate.models import MediationSession

    number = seed(server, in_mediation=True)
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    respondent = phone().new_page()
    sign_in(respondent, RESPONDENT)

    claimant.goto(f"/cases/{number}")
    claimant.locator("#negotiate").tap()
    expect(claimant).to_have_url(re.compile(rf"/negotiate/{number}$"))
    claimant.locator("#choose-first").tap()
    expect(claimant.locator("#chosen")).to_be_visible()
    layout.check(claimant)

    respondent.goto(f"/negotiate/{number}")
    expect(respondent.locator("#other-chose")).to_be_visible()
    respondent.locator("#choose-first").tap()
    expect(respondent.locator("#in-mediation")).to_be_visible()
    respondent.fill("input[name=amount]", "2600")
    respondent.fill("textarea[name=terms]", "李四于2027年1月31日前归还借款两千六百元。")
    layout.check(respondent)
    expect(respondent.locator("#case-live")).to_have_attribute("data-watching", "1")
    respondent.locator("#new-offer form button").tap()
    expect(respondent.locator("section.proposal")).to_have_count(1)

    claimant.goto(f"/negotiate/{number}")
    offer = claimant.locator("section.proposal").filter(has_text="2600").first
    offer.locator("input[name=decision][value=accept]").check()
    offer.locator("details.confirm summary").tap()
    offer.locator("form button").first.tap()
    expect(claimant).to_have_url(re.compile(r"/documents/\d+$"))
    # The respondent's open page hears the acceptance and shows the agreement to sign.
    expect(respondent.locator("#announce")).to_have_text(re.compile(r"第\d+号方案已被接受"))
    respondent.locator("#agreement a").tap()

    for page, contact in ((claimant, CLAIMANT), (respondent, RESPONDENT)):
        expect(page.locator("#sign")).to_be_visible()
        expect(page.locator(".pages img").first).to_have_js_property("complete", True)
        sign_document(page, server, contact)
    respondent.goto(f"/negotiate/{number}")
    expect(respondent.locator("#agreement")).to_contain_text("双方已签名")
    layout.check(respondent)

    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.outcome is Outcome.settled and case.stage is Stage.mediation and case.settlement_amount == 2600
        assert db.session.query(MediationSession).filter_by(case_id=case.id).count() == 0
        assert "negotiation_settled" in [ev.action for ev in audit.case_events(case)]
        assert audit.verify_chain(f"case:{case.id}") is None
    layout.assert_all_fit()
