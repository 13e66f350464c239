"""An agent, end to end on phones (360×640): the claimant appoints a lawyer with a power of attorney
(a program renamed .pdf is refused first), the lawyer accepts, the mediator accepts the power of
attorney at the desk, the lawyer writes in the case room and accepts the mediator's proposal for the
claimant — the history reads "on behalf of" — then the claimant revokes, and the lawyer's next page
and the form still open on their phone are refused, with nothing written, and the page following
the case live stops and says why.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases import audit
from odr.cases.models import Case, Representation, RepresentationStatus, Stage
from odr.cases.operations import grant_role
from odr.extensions import db
from odr.mediate.models import Proposal, ProposalStatus, RoomMessage
from odr.outbox import OutboxMessage
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.e2e

MEDIATOR, LAWYER = "mediator@example.com", "lawyer.wang@example.com"
CLAIMANT, RESPONDENT = "+8613800138031", "+8613900139031"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def seed(server) -> str:
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Channel, Organization, OrgType
    from odr.mediate.outcomes import proposals

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                           takes_intake=True)
        db.session.add(org)
        db.session.flush()
        mediator = auth_ops.create_user(MEDIATOR, "李调解", PASSWORD)
        grant_role(mediator, Role.mediator, org)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        auth_ops.create_user(LAWYER, "王律师", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=3000),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        workflow.move(case, Stage.mediation, claimant)
        ops.assign_handler(case, None, mediator=mediator)
        proposals.make_proposal(case, mediator, amount=None, terms="晚上十点后停止施工。", schedule=[], respond_by=None)
        db.session.commit()
        number = case.number
        db.session.remove()
    return number


def test_agent_appointed_accepted_acts_and_is_refused_after_revocation(phone, server, shot, layout):
    number = seed(server)

    # The claimant, on a phone: first a program renamed .pdf (refused, nothing kept), then the real one.
    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT[3:])
    claimant.goto(f"/cases/{number}")
    claimant.locator("#representatives-link").tap()
    expect(claimant).to_have_url(re.compile(rf"/cases/{number}/representatives$"))
    layout.check(claimant)

    def appoint(name, data):
        claimant.select_option("select[name=kind]", "agent")
        claimant.fill("input[name=name]", "王律师")
        claimant.fill("input[name=email]", LAWYER)
        claimant.select_option("select[name=scope]", "act")
        claimant.set_input_files("#power_of_attorney", {"name": name, "mimeType": "application/pdf", "buffer": data})
        claimant.locator("#appoint button").tap()

    appoint("授权委托书.pdf", EXE)
    expect(claimant.locator("#rep-error")).to_contain_text("PDF")
    layout.check(claimant)
    appoint("授权委托书.pdf", PDF)
    expect(claimant.locator("#representatives")).to_contain_text("王律师")
    layout.check(claimant)
    shot(claimant, "agent-1-appointed")
    with server.app.app_context():
        rep = db.session.scalars(sa.select(Representation)).one()
        rep_id, token = rep.id, rep.invite_token
        invitation = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == LAWYER))
        assert f"/cases/represent/{token}" in invitation.body
        db.session.remove()

    # The lawyer opens the link on their phone, signs in and accepts.
    lawyer = phone().new_page()
    sign_in(lawyer, LAWYER)
    lawyer.goto(f"/cases/represent/{token}")
    expect(lawyer.locator("main")).to_contain_text("张三")
    layout.check(lawyer)
    lawyer.locator("#accept").tap()
    expect(lawyer).to_have_url(re.compile(r"/cases/$"))
    # Not yet: the power of attorney is under review.
    lawyer.goto(f"/cases/{number}")
    expect(lawyer.locator("h1")).not_to_contain_text(number)

    # The mediator, at the desk, reads the power of attorney and accepts it.
    mediator = phone(desk=True).new_page()
    sign_in(mediator, MEDIATOR)
    mediator.goto(f"/cases/{number}/representatives")
    with mediator.expect_download() as download:
        mediator.locator(f"#rep-{rep_id} a[href$='/power-of-attorney']").click()
    with open(download.value.path(), "rb") as f:
        assert f.read() == PDF
    mediator.locator(f"#rep-{rep_id} select[name=decision]").select_option("accept")
    mediator.locator(f"#review-{rep_id}").click()
    expect(mediator.locator(f"#rep-{rep_id}")).to_have_attribute("data-status", "active")

    # The lawyer acts for the claimant: a message in the case room, the answer to the proposal.
    lawyer.goto(f"/cases/{number}")
    expect(lawyer.locator("#acting-for")).to_be_visible()
    layout.check(lawyer)
    lawyer.goto(f"/mediate/{number}/room")
    lawyer.fill("textarea[name=body]", "我代表张三发言：请晚上十点后停止施工。")
    lawyer.locator("form.compose button").tap()
    expect(lawyer.locator("#messages")).to_contain_text("我代表张三发言")
    layout.check(lawyer)
    lawyer.goto(f"/mediate/{number}/proposals")
    proposal = lawyer.locator("section.proposal").first
    proposal.locator("input[name=decision][value=accept]").check()
    proposal.locator("details.confirm summary").tap()
    proposal.locator("details.confirm button").tap()
    expect(lawyer.locator("section.proposal").first).to_contain_text(re.compile("已接受|accepted", re.I))
    layout.check(lawyer)
    shot(lawyer, "agent-2-acted")

    # Everyone reads in the history that the lawyer acted on the claimant's behalf.
    claimant.goto(f"/cases/{number}")
    expect(claimant.locator("ol.history")).to_contain_text("王律师（代表张三）")
    layout.check(claimant)

    # The lawyer keeps the room open with a message typed, and the proposals following the case live
    # in another tab; the claimant revokes meanwhile.
    following = lawyer.context.new_page()
    following.goto(f"/mediate/{number}/proposals")
    expect(following.locator("#case-live")).to_have_attribute("data-watching", "1")
    lawyer.goto(f"/mediate/{number}/room")
    lawyer.fill("textarea[name=body]", "撤销之后还能发吗？")
    claimant.goto(f"/cases/{number}/representatives")
    claimant.locator(f"#rep-{rep_id} details.confirm summary").tap()
    claimant.locator(f"#revoke-{rep_id}").tap()
    expect(claimant.locator(f"#rep-{rep_id}")).to_have_attribute("data-status", "revoked")
    shot(claimant, "agent-3-revoked")
    # The page following the case is taken out of it at once: it says so and updates no more.
    expect(following.locator("#case-live-lost")).to_contain_text("不再自动更新")
    expect(following.locator("#case-live")).to_have_attribute("data-lost", "1")

    lawyer.locator("form.compose button").tap()
    expect(lawyer.locator("main h1")).not_to_contain_text("案件")  # the error page, not the room
    lawyer.goto(f"/cases/{number}")
    expect(lawyer.locator("main")).not_to_contain_text("晚上十点后停止施工")
    lawyer.goto("/cases/")
    expect(lawyer.locator("main")).not_to_contain_text(number)
    layout.check(lawyer)
    shot(lawyer, "agent-4-refused")

    with server.app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert [m.body for m in db.session.scalars(sa.select(RoomMessage))] == ["我代表张三发言：请晚上十点后停止施工。"]
        # The mediator's proposal waits for the respondent; the claimant's answer is in, given by the lawyer.
        proposal = db.session.scalars(sa.select(Proposal)).one()
        assert proposal.status is ProposalStatus.open
        assert [(r.side, r.accepted) for r in proposal.responses] == [("claimant", True)]
        assert db.session.get(Representation, rep_id).status is RepresentationStatus.revoked
        acted = [e for e in audit.case_events(case) if "on_behalf_of" in e.payload]
        assert {e.action for e in acted} == {"room_message", "proposal_answered"}
        assert all(e.payload["on_behalf_of"]["party"] == "张三" for e in acted)
        assert audit.verify_chain(audit.chain_name(case)) is None
        db.session.remove()
    layout.assert_all_fit()
