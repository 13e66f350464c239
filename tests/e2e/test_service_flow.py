"""A silent respondent, and the way to court with proof of service, in the browsers of the people
involved (phones at 360×640, the staff at a desk).

The case is filed nine days ago (the platform clock moved back, then forward day by day while the
periodic jobs run): the respondent is served the invitation by SMS with a link of their own, then
reminded on day 1 and day 3 by SMS (they gave no e-mail address), a call task reaches the staff on
day 5, and on day 7 the case records that the respondent did not respond. Back at the real time,
the claimant finds the court hand-off offered on the to-do list, takes the case to court, signs the
complaint on the phone (it says how the defendant was served); the staff see every served notice
and the call task, record the call, and hand the case to the court; the court bundle verifies with
its sealed proof of service. Bad input: a service link opened by another account is refused, and
a malformed address for service is refused with the reason.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases.models import Case, Outcome
from odr.cases.operations import grant_role
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import clock_moved_back, sign_document, sign_in, step_days

pytestmark = pytest.mark.e2e

STAFF = "staff-service@example.com"
CLAIMANT, RESPONDENT = "+8613800138041", "+8613900139041"


def seed_silent_case(server) -> str:
    """File the case nine days ago and let the jobs run through the days that followed."""
    from odr.cases import operations as ops
    from odr.cases.models import Channel, Organization, OrgType

    with clock_moved_back(days=9) as clock, server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        court = Organization(name="朝阳区人民法院", type=OrgType.court, district="朝阳区")
        db.session.add_all([org, court])
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Staff Wu", PASSWORD)
        grant_role(staff, Role.staff, org)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=3000),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        db.session.commit()
        number = case.number
        step_days(clock, 8)
        db.session.remove()
    return number


def test_a_silent_respondent_reaches_court_with_proof_of_service(phone, server, shot, layout, tmp_path):
    number = seed_silent_case(server)
    from odr.cases.service.models import ServiceRecord

    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        kinds = [r.kind for r in db.session.query(ServiceRecord).filter_by(party_id=case.respondent.id)]
        told = db.session.query(ServiceRecord).filter_by(kind="no_response").one()
        link = f"/s/{told.token}"
        db.session.remove()
    assert kinds == ["invitation", "reminder", "reminder"]

    # The claimant is offered the court hand-off on the phone.
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    claimant.goto(link)  # the claimant's own link (the notice that the respondent did not respond)
    expect(claimant).to_have_url(re.compile(rf"/cases/{number}$"))
    todo = claimant.locator(".todo-item[data-kind=respondent_silent]")
    expect(todo).to_be_visible()
    layout.check(claimant)
    shot(claimant, "1-offered-court")

    # Bad input: a malformed address for service is refused with the reason, nothing changes.
    claimant.locator("#service-link").tap()
    claimant.fill("input[name=service_phones]", "12345")
    claimant.fill("input[name=service_emails]", "")
    claimant.locator("#service_consent").check()
    claimant.locator("#confirm-addresses").tap()
    expect(claimant.locator("#service-error")).to_contain_text("12345")
    layout.check(claimant)
    claimant.fill("input[name=service_phones]", CLAIMANT)
    claimant.locator("#confirm-addresses").tap()
    expect(claimant.locator("#my-addresses")).to_contain_text("已于")

    # To court straight from the consultation: two taps, the first shows what will happen.
    claimant.goto(f"/cases/{number}")
    claimant.locator("#move-litigation summary").tap()
    expect(claimant.locator("#move-litigation .consequence")).to_be_visible()
    claimant.locator("#move-litigation button[name=to]").tap()
    expect(claimant).to_have_url(re.compile(rf"/cases/{number}"))

    # The claimant prepares the complaint and signs it on the phone.
    claimant.goto(f"/court/{number}")
    claimant.locator("#complaint-link").tap()
    claimant.select_option("select[name=court]", label="朝阳区人民法院")
    claimant.fill("input[name=respondent_address]", "北京市朝阳区安贞里二号楼")
    claimant.locator("#prepare-complaint").tap()
    expect(claimant.locator("#sign")).to_be_visible()
    layout.check(claimant)
    sign_document(claimant, server, CLAIMANT)
    shot(claimant, "2-complaint-signed")

    # Another account opening the claimant's service link is refused, and nothing is recorded for it.
    staff = phone(desk=True).new_page()
    sign_in(staff, STAFF)
    staff.goto(link)
    expect(staff.locator("#service-refused")).to_be_visible()

    # The staff see what was served, make the call the schedule asked for, and hand the case over.
    staff.goto(f"/cases/{number}/service")
    expect(staff.locator("#no-response")).to_be_visible()
    expect(staff.locator(".served[data-kind=reminder]")).to_have_count(2)
    staff.locator("#call-tasks textarea").fill("拨打未接通。")
    staff.locator("#call-tasks button").click()
    expect(staff.locator("#call-tasks")).to_have_count(0)
    staff.goto(f"/court/{number}")
    staff.locator("#hand-off-link").click()
    expect(staff.locator("select[name=court] option:checked")).to_have_text("朝阳区人民法院")
    staff.locator("#hand-off").click()
    expect(staff).to_have_url(re.compile(rf"/cases/{number}"))
    shot(staff, "3-handed-off")

    from odr.court import operations as court_ops
    from odr.court.verify_bundle import verify_bundle
    from odr.documents.ca import platform_ca

    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.outcome is Outcome.handed_to_court
        opened = db.session.query(ServiceRecord).filter_by(kind="no_response").one().first_opened_at
        report = verify_bundle(court_ops.bundle_path(court_ops.current_handoff(case)), [platform_ca().ca.asn1_cert])
        db.session.remove()
    assert opened is not None
    assert report.ok, report.problems
    assert "service/proof-of-service.pdf: 1 signatures intact and trusted" in report.checked
    assert any(line.startswith("service/service.json: ") for line in report.checked)
    layout.assert_all_fit()
