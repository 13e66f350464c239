"""A respondent who twice does not come to the mediation sessions they were served, in the browsers
of the mediator and the claimant (phones at 360×640).

Seeded on a clock moved back: the mediation with two sessions fixed and served, each held with the
respondent recorded as a no-show. At the real time the mediator, on the phone, sees that the
respondent missed two sessions although served and ends the mediation for non-attendance; the
claimant finds the court hand-off offered on the sessions page and follows it to the case page.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases.models import Stage
from odr.cases.operations import grant_role
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import clock_moved_back, sign_in

pytestmark = pytest.mark.e2e

MEDIATOR = "mediator-noshow@example.com"
CLAIMANT, RESPONDENT = "+8613800138061", "+8613900139061"


def seed(server) -> str:
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Channel, Organization, OrgType
    from odr.mediate.models import MediatorProfile, SessionMode
    from odr.mediate.sessions import operations as sessions

    with clock_moved_back(days=20) as clock, server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        db.session.add(org)
        db.session.flush()
        staff = auth_ops.create_user("staff-noshow@example.com", "Staff Wu", PASSWORD)
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
        ops.assign_handler(case, staff, mediator=mediator)
        db.session.commit()
        for _ in range(2):
            start = clock.now + timedelta(days=2)
            session = sessions.propose(case, mediator, SessionMode.in_person, "调解室 1", 60,
                                       [start, start + timedelta(days=1)])
            for user in (claimant, respondent):
                sessions.pick(session, user, {session.slots[0].id})
            db.session.commit()
            clock.now = start + timedelta(minutes=10)
            sessions.record_attendance(session, mediator, {claimant.id: True, respondent.id: False})
            db.session.commit()
            clock.advance(days=1)
        number = case.number
        db.session.remove()
    return number


def test_the_mediator_ends_for_non_attendance_and_the_claimant_may_go_to_court(phone, server, shot, layout):
    number = seed(server)

    mediator = phone().new_page()
    sign_in(mediator, MEDIATOR)
    mediator.goto(f"/mediate/{number}/sessions")
    section = mediator.locator("#non-attendance")
    expect(section).to_contain_text("李四")
    expect(mediator.locator("section.session.held").first).to_contain_text("会议通知已送达")
    layout.check(mediator)
    section.locator("button").click()
    expect(mediator.locator("#non-attendance [role=status]")).to_contain_text("调解已于")
    expect(mediator.locator("#propose-link")).to_have_count(0)
    shot(mediator, "mediator-ended")
    layout.check(mediator)

    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    claimant.goto(f"/mediate/{number}/sessions")
    court = claimant.locator("#non-attendance a.button")
    expect(court).to_contain_text("将案件移交法院")
    layout.check(claimant)
    court.click()
    expect(claimant.locator("#move-litigation")).to_have_count(1)
    shot(claimant, "claimant-court")
    layout.assert_all_fit()
