"""Mediation fails, the case goes to court: in the browsers of everyone involved.

The record of undisputed facts is approved by both parties (set up through the operations);
the claimant, on a phone, takes the case towards court, prepares the complaint to the court and
signs it (a key made in the phone's browser; the platform seals it); staff at a desk hand it to
that court (the bundle, with the sealed complaint, is written); the court clerk, at a desk, finds it in the court inbox, downloads the
case file (which verifies), records receipt and the docket number; the claimant sees the docket
number on the phone, and was told by message.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases.models import Case, Outcome
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_document, sign_in

pytestmark = pytest.mark.e2e

STAFF, MEDIATOR, CLERK = "staff@example.com", "mediator@example.com", "clerk@example.com"
CLAIMANT, RESPONDENT = "+8613800138031", "+8613900139031"
DOCKET = "(2026)京0105民初888号"


def seed(server) -> str:
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Channel, Organization, OrgType, Stage
    from odr.mediate.outcomes import operations as outcomes
    from odr.mediate.models import OutcomeKind

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区")
        court = Organization(name="朝阳区人民法院", type=OrgType.court, district="朝阳区")
        db.session.add_all([org, court])
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Staff Wu", PASSWORD)
        grant_role(staff, Role.staff, org)
        mediator = auth_ops.create_user(MEDIATOR, "Mediator Li", PASSWORD)
        grant_role(mediator, Role.mediator, org)
        clerk = auth_ops.create_user(CLERK, "Clerk Chen", PASSWORD)
        grant_role(clerk, Role.court_clerk, court)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=3000),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        workflow.move(case, Stage.mediation, claimant)
        ops.assign_handler(case, staff, mediator=mediator)
        content = outcomes.draft_content(case, OutcomeKind.undisputed_facts, "zh")
        texts = {s["id"]: s["text"] or "双方确认房屋漏水发生于五月。" for s in content["sections"]}
        record = outcomes.save(case, OutcomeKind.undisputed_facts, mediator, texts)
        outcomes.send(record, case, mediator)
        for party in (claimant, respondent):
            outcomes.answer(record, case, party, approve=True)
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_failed_mediation_to_court_docket(phone, server, shot, layout, tmp_path):
    number = seed(server)
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)

    # The claimant takes the case on towards court from the outcome page.
    claimant.goto(f"/mediate/{number}/outcome")
    expect(claimant.locator("#next-step")).to_be_visible()
    layout.check(claimant)
    # Nothing irreversible at one tap: the first tap shows what will happen, the second confirms.
    expect(claimant.locator("#to-court")).to_be_hidden()
    claimant.locator("#confirm-court summary").tap()
    expect(claimant.locator("#confirm-court .consequence")).to_be_visible()
    claimant.locator("#to-court").tap()
    expect(claimant).to_have_url(re.compile(rf"/cases/{number}"))

    # The claimant prepares the complaint to the court and signs it on the phone.
    claimant.goto(f"/court/{number}")
    claimant.locator("#complaint-link").tap()
    claimant.select_option("select[name=court]", label="朝阳区人民法院")
    claimant.fill("input[name=respondent_address]", "北京市朝阳区安贞里二号楼")
    layout.check(claimant)
    claimant.locator("#prepare-complaint").tap()
    expect(claimant.locator("#sign")).to_be_visible()
    expect(claimant.locator(".pages img").first).to_have_js_property("complete", True)
    layout.check(claimant)
    sign_document(claimant, server, CLAIMANT)  # signed and sealed: the page reloads
    shot(claimant, "1-complaint-signed")

    # Staff hand it to the court of the complaint.
    staff = phone(desk=True).new_page()
    sign_in(staff, STAFF)
    staff.goto(f"/court/{number}")
    expect(staff.locator("#hand-off-link")).not_to_have_class(re.compile("secondary"))  # the complaint is sealed
    staff.locator("#hand-off-link").click()
    expect(staff.locator("select[name=court] option:checked")).to_have_text("朝阳区人民法院")
    staff.locator("#hand-off").click()
    expect(staff).to_have_url(re.compile(rf"/cases/{number}"))

    # The clerk finds it in the inbox, downloads the case file, records receipt and the docket number.
    clerk = phone(desk=True).new_page()
    sign_in(clerk, CLERK)
    clerk.locator("nav a[href='/court/inbox']").click()
    clerk.locator("#handoffs a", has_text=number).click()
    with clerk.expect_download() as download:
        clerk.locator("#download-bundle").click()
    path = tmp_path / "bundle.zip"
    download.value.save_as(path)
    clerk.locator("#record-receipt").click()
    clerk.fill("input[name=docket_number]", DOCKET)
    clerk.locator("#docket-form button").click()
    expect(clerk.locator("#docket")).to_contain_text(DOCKET)
    shot(clerk, "2-clerk-docketed")

    # The claimant sees it on the phone, and was told.
    claimant.goto(f"/court/{number}")
    expect(claimant.locator("#court-handoff")).to_contain_text(DOCKET)
    layout.check(claimant)
    shot(claimant, "3-party-sees-docket")

    from odr.court.verify_bundle import verify_bundle
    from odr.documents.ca import platform_ca
    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.outcome is Outcome.handed_to_court
        told = [m.body for m in db.session.query(OutboxMessage).filter_by(recipient=CLAIMANT)]
        report = verify_bundle(path, [platform_ca().ca.asn1_cert])
    assert any(DOCKET in body for body in told)
    assert report.ok, report.problems
    assert any(line.startswith("documents/civil_complaint-v1.pdf: 2 signatures intact") for line in report.checked)
    layout.assert_all_fit()
