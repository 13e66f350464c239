"""Consultation to chosen path, in two browsers: a party on a phone, a consultant at a desk.

The party asks a question and waits in the queue; the consultant goes on duty, sees the queue
grow live, takes the party and answers. Both sides' chat runs on ``static/consult.js`` over a
real Socket.IO connection to the live server. The party then turns the conversation into a case,
answers the assessment and picks mediation; the case page shows the mediation stage.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases.models import Case, Stage
from odr.consult import kb
from odr.consult.models import Consultation, ConsultMessage
from odr.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.pages import sign_in

pytestmark = pytest.mark.e2e

PARTY = "+8613800138011"
CONSULTANT = "consultant@example.com"
QUESTION = "房东不退押金怎么办？"
FIRST_WORDS = "我退租两个月了，房东一直拖着不退三千元押金。"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
ANSWER = "Keep the lease and the transfer record of the deposit. Ask for it back in writing first."


def seed(server):
    with server.app.app_context():
        auth_ops.create_user(PARTY, "王五", PASSWORD)
        consultant = auth_ops.create_user(CONSULTANT, "Lawyer Chen", PASSWORD)
        grant_role(consultant, Role.consultant)
        kb.import_folder()  # the shipped knowledge base, for the suggestions while waiting
        db.session.commit()
        db.session.remove()


def test_consult_then_case_then_mediation(phone, server, shot, layout):
    seed(server)

    desk = phone(desk=True).new_page()
    sign_in(desk, CONSULTANT)
    desk.goto("/consult/desk")
    desk.locator("#on-duty").click()
    expect(desk.locator("#take-next")).to_be_visible()
    expect(desk.locator("#queue-size")).to_have_text("0")

    party = phone().new_page()
    sign_in(party, PARTY[3:])
    party.goto("/consult/")
    layout.check(party)
    party.fill("input[name=topic]", QUESTION)
    party.select_option("select[name=category]", "property")
    party.locator("main form button").first.tap()
    expect(party).to_have_url(re.compile(r"/consult/c/\d+$"))
    status = party.locator("#status")
    expect(status).to_contain_text("1")  # first in the queue
    expect(party.locator("#suggested a.card").first).to_be_visible()  # articles to read while waiting
    layout.check(party)
    shot(party, "1-waiting")

    # The desk learns of the new person without a reload (queue_size pushed over Socket.IO).
    expect(desk.locator("#queue-size")).to_have_text("1")
    # The party writes while still waiting; the message is kept for the consultant.
    party.fill("#body", FIRST_WORDS)
    party.locator("#send").tap()
    mine = party.locator("#messages li.mine")
    expect(mine).to_have_count(1)
    expect(mine.first.locator(".meta")).not_to_have_text(re.compile("…|\\.\\.\\."))  # acknowledged, not pending

    desk.locator("#take-next").click()
    expect(desk).to_have_url(re.compile(r"/consult/c/\d+$"))
    expect(desk.locator("#messages li.theirs")).to_have_count(1)
    expect(desk.locator("#messages li.theirs").first).to_contain_text(FIRST_WORDS)
    # The party sees, live, who took them; then reads the answer as it arrives.
    expect(status).to_contain_text("Lawyer Chen")
    desk.fill("#body", ANSWER)
    desk.locator("#send").click()
    expect(party.locator("#messages li.theirs")).to_have_count(1)
    expect(party.locator("#messages li.theirs").first).to_contain_text(ANSWER)
    expect(party.locator("#announce")).to_have_text(ANSWER)  # said by a screen reader (aria-live)
    expect(party.locator("#typing")).to_be_hidden()  # the answer arrived: nobody is typing any more
    # The party's page is open and visible, so the consultant's answer is marked read, and the
    # consultant sees their own message marked read in turn.
    expect(desk.locator("#messages li.mine .meta")).to_have_text(desk.locator("#chat").get_attribute("data-t-read"))
    shot(party, "2-answered")

    # A reload shows the whole conversation once: nothing lost, nothing twice.
    party.reload()
    expect(party.locator("#messages li")).to_have_count(2)
    expect(party.locator("#messages li.mine")).to_contain_text(FIRST_WORDS)
    expect(party.locator("#messages li.theirs")).to_contain_text(ANSWER)
    with server.app.app_context():
        assert db.session.query(ConsultMessage).count() == 2
    # A photo sent in the chat: its upload is said by a screen reader when done.
    party.set_input_files("#file", {"name": "deposit.png", "mimeType": "image/png", "buffer": PNG})
    expect(party.locator("#announce")).to_contain_text("deposit.png")

    # One tap: the dispute form, pre-filled with the party's own words.
    party.locator("#to-case").tap()
    expect(party).to_have_url(re.compile(r"/consult/c/\d+/case$"))
    expect(party.locator("select[name=category]")).to_have_value("property")
    description = party.locator("textarea[name=description]").input_value()
    assert QUESTION in description and FIRST_WORDS in description and ANSWER not in description
    party.fill("textarea[name=claim]", "退还押金三千元。")
    party.fill("input[name=amount_claimed]", "3000")
    party.select_option("select[name=district]", "海淀区")
    party.fill("input[name=respondent_name]", "赵房东")
    party.fill("input[name=respondent_phone]", "13900139011")
    layout.check(party)
    party.locator("main form button").last.tap()

    # Straight to the assessment.
    expect(party).to_have_url(re.compile(r"/assess/ODR-\d{4}-\d{6}/questionnaire$"))
    number = re.search(r"ODR-\d{4}-\d{6}", party.url).group(0)
    layout.check(party)
    answers = {"written_agreement": "yes", "arbitration_clause": "no", "both_agree_arbitration": "no",
               "evidence": "strong", "other_side": "silent", "safety": "no"}
    for name, value in answers.items():
        party.locator(f"input[name={name}][value={value}]").check()
    party.fill("input[name=months_since]", "2")
    # Whatever else the category asks is answered "no" / first option.
    for fieldset in party.locator("fieldset.question").all():
        if fieldset.locator("input[type=radio]").count() and not fieldset.locator("input:checked").count():
            fieldset.locator("input[type=radio]").last.check()
    shot(party, "3-questionnaire")
    party.locator("main form.questionnaire button").tap()

    expect(party).to_have_url(re.compile(rf"/assess/{number}/result/\d+$"))
    mediation = party.locator("#path-mediation")
    expect(mediation).to_have_class(re.compile(r"\brecommended\b"))
    expect(party.locator("#path-arbitration")).to_have_class(re.compile(r"\bunavailable\b"))  # no clause, no agreement
    layout.check(party)
    shot(party, "4-options")
    mediation.locator("button[name=path][value=mediation]").tap()

    expect(party).to_have_url(re.compile(rf"/cases/{number}$"))
    expect(party.locator("p.flash.success")).to_be_visible()
    layout.check(party)
    shot(party, "5-case-in-mediation")
    with server.app.app_context():
        case = db.session.query(Case).filter_by(number=number).one()
        assert case.stage is Stage.mediation
        consultation = db.session.query(Consultation).one()
        assert consultation.case_id == case.id and consultation.topic == QUESTION
    layout.assert_all_fit()
