"""Mediation end to end: staff and mediator at desks, both parties on phones.

Staff assign the case from the ranked suggestion, the mediator accepts the offer and proposes
session times, both parties pick a time and upload evidence (one of them for the mediator only),
the claimant proposes, the respondent counters, the claimant accepts; the mediator drafts the
agreement from the accepted terms and both parties approve it; both parties (on their phones)
and the mediator (at the desk) sign it with keys their browsers make (WebCrypto), the platform
seals it, and the case is settled. pyHanko and poppler's pdfsig both find four valid, trusted
signatures in the file.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import audit
from odr.cases.models import Case, Outcome, Stage
from odr.extensions import db
from odr.mediate.models import MediatorProfile
from tests.conftest import PASSWORD, dispute
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.documents.verify import verify
from tests.documents.signing import pdfsig
from tests.e2e.pages import sign_document, sign_in

pytestmark = pytest.mark.e2e

STAFF, MEDIATOR = "staff@example.com", "mediator@example.com"
CLAIMANT, RESPONDENT = "+8613800138021", "+8613900139021"
#: The smallest valid PNG and a one-page PDF, as a phone would send them.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


def seed(server) -> str:
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Channel, Organization, OrgType

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        db.session.add_all([org, Organization(name="朝阳区人民法院", type=OrgType.court, district="朝阳区")])
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Staff Wu", PASSWORD)
        grant_role(staff, Role.staff, org)
        mediator = auth_ops.create_user(MEDIATOR, "Mediator Li", PASSWORD)
        grant_role(mediator, Role.mediator, org)
        db.session.add(MediatorProfile(user_id=mediator.id, organization_id=org.id, specialties="neighbour"))
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=3000),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        workflow.move(case, Stage.mediation, claimant)
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_mediation_from_assignment_to_signed_agreement(phone, server, shot, layout, tmp_path):
    number = seed(server)

    # Staff, at a desk: the case is in the queue, needs a mediator; offer it to the top suggestion.
    staff = phone(desk=True).new_page()
    sign_in(staff, STAFF)
    staff.goto("/staff/")
    expect(staff.locator(f"a[href$='/mediate/{number}/assign']")).to_be_visible()
    staff.goto(f"/mediate/{number}/assign")
    staff.locator("form.suggestion button[name=mediator]").first.click()
    expect(staff.locator("#open-offer")).to_contain_text("Mediator Li")

    # The mediator accepts from their desk.
    mediator = phone(desk=True).new_page()
    sign_in(mediator, MEDIATOR)
    mediator.goto("/mediate/offers")
    mediator.locator(f"a.card:has-text('{number}')").first.click()
    mediator.locator("#accept-offer").click()
    expect(mediator).to_have_url(re.compile(rf"/mediate/{number}$"))
    expect(mediator.locator("#mediator")).to_contain_text("Mediator Li")

    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT[3:])
    claimant.goto(f"/mediate/{number}")
    expect(claimant.locator("#mediator")).to_contain_text("Mediator Li")
    layout.check(claimant)
    shot(claimant, "1-mediator-assigned")

    respondent = phone().new_page()
    sign_in(respondent, RESPONDENT[3:])

    # The mediator offers two times (tomorrow, Beijing time); each party ticks what suits them.
    tomorrow = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=1)).date().isoformat()
    mediator.goto(f"/mediate/{number}/sessions")
    mediator.locator("#propose-link").click()
    mediator.fill("#slot-1", f"{tomorrow}T10:00")
    mediator.fill("#slot-2", f"{tomorrow}T15:00")
    mediator.locator("main form button").click()
    expect(mediator).to_have_url(re.compile(rf"/mediate/{number}/sessions(#s\d+)?$"))

    claimant.goto(f"/mediate/{number}/sessions")
    layout.check(claimant)
    claimant.locator("input[name=slots]").nth(1).check()  # only the afternoon
    claimant.locator("main form button").first.tap()
    respondent.goto(f"/mediate/{number}/sessions")
    respondent.locator("input[name=slots]").nth(0).check()
    respondent.locator("input[name=slots]").nth(1).check()
    respondent.locator("main form button").first.tap()
    expect(respondent.locator("section.session.scheduled h2")).to_contain_text("15:00")
    expect(respondent.locator("a[href$='calendar.ics']")).to_be_visible()
    layout.check(respondent)
    shot(respondent, "2-session-scheduled")

    # Evidence: the claimant shares a photo with everyone, the respondent shows a PDF to the mediator only.
    def upload(page, name, mime, data, visibility, description):
        page.goto(f"/mediate/{number}/evidence")
        page.set_input_files("#file", {"name": name, "mimeType": mime, "buffer": data})
        page.locator(f"input[name=visibility][value={visibility}]").check()
        page.fill("textarea[name=description]", description)
        page.locator("main form button").last.tap()
        expect(page.locator("#evidence")).to_contain_text(name)
        layout.check(page)

    upload(claimant, "noise.png", "image/png", PNG, "all", "楼上深夜施工的照片")
    upload(respondent, "permit.pdf", "application/pdf", PDF, "mediator", "装修许可")
    claimant.reload()
    expect(claimant.locator("#evidence")).not_to_contain_text("permit.pdf")
    mediator.goto(f"/mediate/{number}/evidence")
    expect(mediator.locator("#evidence")).to_contain_text("permit.pdf")
    expect(mediator.locator("#evidence")).to_contain_text("noise.png")
    shot(claimant, "3-evidence")

    # Proposal → counter-proposal → acceptance.
    claimant.goto(f"/mediate/{number}/proposals")
    claimant.fill("input[name=amount]", "3000")
    claimant.fill("textarea[name=terms]", "赔偿三千元，晚上十点后停止施工。")
    claimant.locator("#new-proposal form button").tap()
    expect(claimant.locator("section.proposal")).to_have_count(1)
    expect(claimant.locator("#case-live")).to_have_attribute("data-watching", "1")  # the page follows the case
    respondent.goto(f"/mediate/{number}/proposals")
    respondent.locator("section.proposal a[href$='/counter']").first.tap()
    respondent.fill("input[name=amount]", "2000")
    respondent.fill("textarea[name=terms]", "赔偿两千元，晚上十点后停止施工。")
    layout.check(respondent)
    respondent.locator("main form button").last.tap()
    expect(respondent).to_have_url(re.compile(rf"/mediate/{number}/proposals"))
    # The claimant's open page shows the counter-proposal without a reload, and says so aloud.
    expect(claimant.locator("#announce")).to_have_text(re.compile(r"第\d+号方案收到了回应方案"))
    counter = claimant.locator("section.proposal").filter(has_text="2000").first
    counter.locator("input[name=decision][value=accept]").check()
    counter.locator("details.confirm summary").tap()  # the answer is final: a second step confirms it
    expect(counter.locator("details.confirm .consequence")).to_be_visible()
    counter.locator("details.confirm button").tap()
    expect(claimant.locator("section.proposal").filter(has_text="2000").first).to_contain_text(
        re.compile("已接受|accepted", re.I))
    # The answer's confirmation is said by a screen reader (the page's aria-live region).
    expect(claimant.locator("#announce")).to_have_text(claimant.locator("main .flash").first.inner_text())
    layout.check(claimant)
    shot(claimant, "4-proposal-accepted")

    # The mediator drafts the agreement from the accepted terms and sends it; both approve.
    mediator.goto(f"/mediate/{number}/outcome")
    mediator.locator("#draft-agreement").click()
    expect(mediator.locator("main form input[name=amount]")).to_have_value(re.compile(r"^2000(\.00)?$"))
    expect(mediator.locator("main form")).to_contain_text("赔偿两千元")
    mediator.locator("main form button").click()
    mediator.locator("#send-agreement").click()
    expect(mediator.locator("#agreement-status")).to_be_visible()
    for page in (claimant, respondent):
        page.goto(f"/mediate/{number}/outcome")
        expect(page.locator("#doc-agreement")).to_contain_text("2000")
        layout.check(page)
        page.locator("#answer-agreement input[name=decision][value=approve]").check()
        page.locator("#answer-agreement button").tap()
    expect(respondent.locator("#agreement-signing")).to_be_visible()

    # Each signer reads the exact PDF, confirms with a code, draws a signature and signs.
    for page, contact in ((claimant, CLAIMANT), (respondent, RESPONDENT), (mediator, MEDIATOR)):
        page.goto(f"/mediate/{number}/outcome")
        page.locator("#sign-agreement").click()
        expect(page.locator("#sign")).to_be_visible()
        expect(page.locator(".pages img").first).to_have_js_property("complete", True)
        assert page.locator(".pages img").first.evaluate("img => img.naturalWidth") > 0
        if page is not mediator:
            layout.check(page)
        sign_document(page, server, contact, touch=page is not mediator)
        if page is claimant:
            shot(page, "5-signed")
    respondent.goto(f"/mediate/{number}/outcome")
    expect(respondent.locator("#case-outcome")).to_be_visible()
    shot(respondent, "6-settled")

    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.mediator.name == "Mediator Li"
        assert case.outcome is Outcome.settled and case.settlement_amount == 2000
        assert audit.verify_chain(f"case:{case.id}") is None
        document = db.session.query(SignedDocument).filter_by(case_id=case.id).one()
        pdf = storage.get(document.current_sha256)
        report = verify(pdf, [platform_ca().ca.asn1_cert])
        ca_pem = platform_ca().pem()
    assert report.ok, report.lines()
    assert [s.signer for s in report.signatures] == ["张三", "李四", "Mediator Li", "ODR Platform Seal"]
    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf)
    listed = pdfsig(path, ca_pem, tmp_path)
    assert listed.count("Signature is Valid.") == 4 and listed.count("Certificate is Trusted.") == 4, listed

    # Anyone can check the file on the public page, on a phone.
    checker = phone().new_page()
    checker.goto("/verify")
    checker.set_input_files("#file", str(path))
    checker.locator("#verify-form button").tap()
    # Validating four signatures and a seal is seconds of CPU on a loaded 2-core machine.
    expect(checker.locator("#verdict")).to_contain_text("所有签名完整且可信", timeout=30_000)
    expect(checker.locator("#report li.ok")).to_have_count(4)
    layout.check(checker)
    checker.goto("/documents/ca")
    layout.check(checker)

    # The respondent asks the court to confirm the agreement: the application is prepared for both to sign.
    respondent.goto(f"/mediate/{number}/outcome")
    respondent.locator("#request-confirmation-link").tap()
    expect(respondent).to_have_url(re.compile(rf"/court/{number}/confirmation$"))
    layout.check(respondent)
    respondent.select_option("select[name=court]", label="朝阳区人民法院")
    respondent.locator("#request-confirmation").tap()
    expect(respondent).to_have_url(re.compile(r"/documents/\d+$"))
    expect(respondent.locator("h1")).to_contain_text("司法确认申请书")
    expect(respondent.locator("#sign")).to_be_visible()
    layout.check(respondent)
    layout.assert_all_fit()
