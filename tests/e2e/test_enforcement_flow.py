"""Enforcement end to end, on a phone (360×640) and the court's desk: an instalment of an agreement
the court confirmed is ten days late, so the case is red; the claimant applies for enforcement to the
court, signs the application on the phone, and the court's clerk finds it in the inbox and downloads a
case file that ``odr verify-bundle`` accepts, with the signed application in it."""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from odr import jobs
from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases import performance, workflow
from odr.cases.models import Case, Outcome
from odr.cases.operations import grant_role
from odr.extensions import db
from odr.timeutil import utcnow
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_document, sign_in

pytestmark = pytest.mark.e2e

CLAIMANT, RESPONDENT, CLERK = "+8613800138051", "+8613900139051", "clerk51@example.com"
COURT = "朝阳区人民法院"


def seed(server) -> str:
    """A settled case whose agreement the court confirmed; its first instalment is ten days late."""
    from odr.cases import operations as ops
    from odr.cases.models import Channel, Organization, OrgType, Stage
    from odr.court.models import CourtResult, Handoff, HandoffKind

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        court = Organization(name=COURT, type=OrgType.court, district="朝阳区")
        db.session.add_all([org, court])
        db.session.flush()
        clerk = auth_ops.create_user(CLERK, "Clerk Zhao", PASSWORD)
        grant_role(clerk, Role.court_clerk, court)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=2400),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        case.outcome, case.closed_at = Outcome.settled, case.created_at  # as a sealed agreement leaves it
        db.session.flush()
        db.session.add(Handoff(case_id=case.id, court_id=court.id, kind=HandoffKind.confirmation,
                               bundle_sha256="0" * 64, bundle_size=0, docket_number="（2026）京0105民特51号",
                               result=CourtResult.confirmed, created_at=utcnow(), decided_at=utcnow()))
        today = performance.local_today()
        performance.create_schedule(case, [
            performance.PlannedItem(today - timedelta(days=10), "第1期：1,200.00元", Decimal("1200")),
            performance.PlannedItem(today + timedelta(days=20), "第2期：1,200.00元", Decimal("1200"))],
            payer_side="respondent", source="e2e")
        db.session.commit()
        jobs.run_all()  # the alerts job: ten days late is red
        number = case.number
        db.session.remove()
    return number


def test_a_missed_instalment_turns_red_and_the_payee_applies_for_enforcement(phone, server, shot, layout,
                                                                              tmp_path):
    number = seed(server)
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    claimant.goto(f"/perform/{number}")
    expect(claimant.locator("#performance-state")).to_contain_text("严重逾期")
    layout.check(claimant)
    shot(claimant, "1-red")

    claimant.locator("#apply-enforcement").tap()
    expect(claimant).to_have_url(re.compile(rf"/court/{number}/enforcement$"))
    expect(claimant.locator("#remaining")).to_contain_text("2400")
    claimant.select_option("select[name=court]", label=COURT)
    layout.check(claimant)
    claimant.locator("#prepare-enforcement").tap()
    expect(claimant).to_have_url(re.compile(r"/documents/\d+$"))
    expect(claimant.locator("#sign")).to_be_visible()
    expect(claimant.locator(".pages img").first).to_have_js_property("complete", True)
    layout.check(claimant)
    sign_document(claimant, server, CLAIMANT)  # signed and sealed: handed to the court
    shot(claimant, "2-application-signed")

    clerk = phone(desk=True).new_page()
    sign_in(clerk, CLERK)
    clerk.goto("/court/inbox")
    row = clerk.locator("#handoffs tbody tr", has_text="强制执行申请书")
    expect(row).to_contain_text(number)
    row.locator("a").click()
    with clerk.expect_download() as download:
        clerk.locator("#download-bundle").click()
    path = tmp_path / "bundle.zip"
    download.value.save_as(path)
    shot(clerk, "3-clerk")
    layout.assert_all_fit()

    with zipfile.ZipFile(path) as zf:
        assert "documents/enforcement_application-v1.pdf" in zf.namelist()
    with server.app.app_context():
        result = server.app.test_cli_runner().invoke(args=["verify-bundle", str(path)])
        case = db.session.query(Case).filter_by(number=number).one()
        assert performance.schedule_of(case).enforcement_requested_at is not None
        db.session.remove()
    assert result.exit_code == 0, result.output
