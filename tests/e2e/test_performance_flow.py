"""Performance end to end, on two phones (360×640) and a staff desk: the respondent uploads the
receipt of an instalment, the claimant confirms it; an earlier instalment left unpaid turns the
case red for both parties and on the centre's dashboard."""

from __future__ import annotations

import re
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
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.e2e

CLAIMANT, RESPONDENT, STAFF = "+8613800138041", "+8613900139041", "staff41@example.com"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")


def seed(server) -> str:
    """A case settled by negotiation whose first instalment was due ten days ago and is unpaid."""
    from odr.cases import operations as ops
    from odr.cases.models import Channel, Organization, OrgType, Stage

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        db.session.add(org)
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Staff Wu", PASSWORD)
        grant_role(staff, Role.staff, org)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=2400),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        case.outcome, case.closed_at = Outcome.settled, case.created_at  # as a sealed agreement leaves it
        today = performance.local_today()
        performance.create_schedule(case, [
            performance.PlannedItem(today - timedelta(days=10), "第1期：1,200.00元", Decimal("1200")),
            performance.PlannedItem(today + timedelta(days=20), "第2期：1,200.00元", Decimal("1200"))],
            payer_side="respondent", source="e2e")
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_instalment_paid_and_confirmed_a_missed_one_turns_red(phone, server, shot, layout, tmp_path):
    number = seed(server)
    receipt = tmp_path / "转账凭证.png"
    receipt.write_bytes(PNG)

    respondent = phone().new_page()
    sign_in(respondent, RESPONDENT)
    respondent.goto(f"/cases/{number}")
    respondent.locator("#performance").tap()
    expect(respondent).to_have_url(re.compile(rf"/perform/{number}$"))
    layout.check(respondent)
    second = respondent.locator("section.proposal").nth(1)
    second.locator("input[type=file]").set_input_files(str(receipt))
    second.locator("button").tap()
    expect(respondent.locator("section.proposal").nth(1)).to_contain_text("等待确认")
    layout.check(respondent)

    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    claimant.goto(f"/perform/{number}")
    claimant.locator("section.proposal").nth(1).locator("form button").first.tap()
    expect(claimant.locator("section.proposal").nth(1)).to_contain_text("已确认")
    expect(claimant.locator("section.proposal").first).to_contain_text("已过履行期限")
    layout.check(claimant)

    # The first instalment is ten days late: red (the confirmation recomputed it; the job keeps it so).
    with server.app.app_context():
        jobs.run_all()
        case = db.session.query(Case).filter_by(number=number).one()
        assert performance.schedule_of(case).alert is performance.Alert.red
        db.session.remove()
    claimant.reload()
    expect(claimant.locator("#performance-state")).to_contain_text("严重逾期")
    shot(claimant, "1-red")

    staff = phone(desk=True).new_page()
    sign_in(staff, STAFF)
    staff.goto("/ops/")
    expect(staff.locator("#performance")).to_contain_text("严重逾期：1")
    shot(staff, "2-dashboard")
    layout.assert_all_fit()
