"""The core flow on two phones: a visitor files a dispute, the other party answers the invitation.

Context A is the claimant, context B the other party, each a separate 360×640 touch browser.
The first test files the case through the web form; the second starts from a case made
directly in the database and has the claimant sign in instead.
Elements are found by name/id/data attributes; A switches the UI to English with the header's
language button (so the few text checks read the same whatever the translations say), B keeps
the default language. Every page visited must fit the 360px width without sideways scrolling.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from odr.auth import operations as auth_ops
from odr.cases import operations as ops
from odr.cases.models import Channel
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import Layout, sign_up

pytestmark = pytest.mark.e2e

CLAIMANT_PHONE = "13800138000"
CLAIMANT_E164 = "+8613800138000"
RESPONDENT = {"name": "李四", "phone": "13900139000", "e164": "+8613900139000", "email": "lisi@example.com"}
CASE_NUMBER = re.compile(r"ODR-\d{4}-\d{6}")
CASE_URL = re.compile(r"/cases/(ODR-\d{4}-\d{6})$")
def claimant_files_a_case(page: Page, layout: Layout, server, shot) -> tuple[str, str]:
    """Context A: sign up, file a dispute; returns the case number and the respondent's invitation link."""
    page.goto("/")
    layout.check(page)
    page.locator("form.lang button[name=lang][value=en]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("nav.menu a[href$='/auth/signup']").tap()
    expect(page).to_have_url(re.compile(r"/auth/signup"))
    sign_up(page, layout, CLAIMANT_PHONE, "张三")
    expect(page).to_have_url(re.compile(r":\d+/$"))  # the to-do list (nothing yet)
    layout.check(page)

    page.locator("nav.menu a[href$='/cases/new']").tap()
    expect(page).to_have_url(re.compile(r"/cases/new$"))
    page.select_option("select[name=category]", "neighbour")
    page.fill("textarea[name=description]", "楼上邻居每天晚上十一点以后还在装修，电钻声音很大，已经沟通过三次没有效果。")
    page.fill("textarea[name=claim]", "晚上十点以后停止施工，并赔偿损失。")
    page.fill("input[name=amount_claimed]", "1200.50")
    page.select_option("select[name=district]", "朝阳区")
    page.fill("input[name=respondent_name]", RESPONDENT["name"])
    page.fill("input[name=respondent_phone]", RESPONDENT["phone"])
    layout.check(page)
    page.locator("main form button").tap()

    expect(page).to_have_url(CASE_URL)
    number = page.locator("main h1").inner_text().strip()
    assert CASE_NUMBER.fullmatch(number), number
    assert page.url.endswith(f"/cases/{number}")
    expect(page.locator("p.flash.success")).to_contain_text(number)

    invite = page.locator("input[data-invite=respondent]")
    invite_url = invite.input_value()
    assert re.fullmatch(re.escape(server.url) + r"/cases/join/[A-Za-z0-9_-]{20,}", invite_url), invite_url
    qr = page.locator(".invite img")
    qr.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=qr.element_handle())
    assert qr.evaluate("img => img.naturalWidth") > 0, "the invitation QR code did not load"
    layout.check(page)
    shot(page, "1-case-filed-claimant")
    return number, invite_url


def other_party_signs_up_from(page: Page, layout: Layout, invite_url: str, shot):
    """Context B: open the invitation, sign up from it, land back on it."""
    path = invite_url.split("://", 1)[1].split("/", 1)[1]
    page.goto(invite_url)
    layout.check(page)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")  # B never chose a language
    expect(page.locator("button#join")).to_have_count(0)
    page.locator("main a.button[href*='/auth/signup']").tap()
    expect(page).to_have_url(re.compile(r"/auth/signup\?next="))
    assert page.locator("main input[name=next]").input_value() == "/" + path
    sign_up(page, layout, RESPONDENT["email"], RESPONDENT["name"])
    expect(page).to_have_url(invite_url)
    expect(page.locator("button#join")).to_have_count(1)
    layout.check(page)
    shot(page, "2-invitation-other-party")


def test_other_party_joins(phone, server, shot, layout):
    a = phone().new_page()
    number, invite_url = claimant_files_a_case(a, layout, server, shot)

    # The invitation was served by SMS to the number the claimant gave, with a link of the
    # respondent's own that leads to the invitation (odr.cases.service).
    from odr.cases.service.models import ServiceRecord

    with server.app.app_context():
        sms = OutboxMessage.query.filter_by(recipient=RESPONDENT["e164"]).one()
        served = ServiceRecord.query.filter_by(outbox_message_id=sms.id).one()
        assert f"/s/{served.token}" in sms.body and number in sms.subject
        assert invite_url.endswith(served.target)
        assert sms.sent_at is not None

    b = phone().new_page()
    other_party_signs_up_from(b, layout, invite_url, shot)
    # Joining confirms where one accepts service (送达地址确认书): the phone the invitation came to.
    expect(b.locator("input[name=service_phones]")).to_have_value(RESPONDENT["e164"])
    b.locator("#service_consent").check()
    b.locator("button#join").tap()
    expect(b).to_have_url(re.compile(rf"/cases/{number}$"))
    expect(b.locator(".parties .status")).to_have_count(2)
    expect(b.locator(".parties .status.joined")).to_have_count(2)
    expect(b.locator("input[data-invite]")).to_have_count(0)
    layout.check(b)
    shot(b, "3-case-joined-other-party")

    # The used invitation link is gone.
    assert b.goto(invite_url).status == 404

    a.reload()
    expect(a.locator(".parties .status.joined")).to_have_count(2)
    expect(a.locator("input[data-invite]")).to_have_count(0)
    history = a.locator("ol.history li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Case filed")
    expect(history.nth(1)).to_contain_text("Joined the case")
    expect(history.nth(1)).to_contain_text(RESPONDENT["name"])
    expect(history.nth(2)).to_contain_text("Service address confirmed")  # in the same transaction
    layout.check(a)
    shot(a, "4-case-joined-claimant")
    layout.assert_all_fit()


def seed_case(server) -> tuple[str, str]:
    """The claimant's account and case, made directly (the web filing is covered above)."""
    with server.app.app_context():
        claimant = auth_ops.create_user(CLAIMANT_E164, "张三", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(), ops.PartyDetails(claimant.name, phone=claimant.phone),
                             ops.PartyDetails(RESPONDENT["name"], phone=RESPONDENT["e164"]))
        db.session.commit()
        number, invite_url = case.number, ops.invitation_url(case.respondent)
        db.session.remove()
    return number, invite_url


def test_other_party_declines(phone, server, shot, layout):
    reason = "我不同意在线解决，希望当面协商。"
    number, invite_url = seed_case(server)

    # A signs in from the case link and switches to English on the case page itself.
    a = phone().new_page()
    a.goto(f"/cases/{number}")
    expect(a).to_have_url(re.compile(r"/auth/login\?next="))
    layout.check(a)
    a.fill("input[name=contact]", CLAIMANT_PHONE)
    a.fill("input[name=password]", PASSWORD)
    a.locator("main form button").tap()
    expect(a).to_have_url(re.compile(rf"/cases/{number}$"))
    a.locator("form.lang button[name=lang][value=en]").tap()
    expect(a.locator("html")).to_have_attribute("lang", "en")
    expect(a).to_have_url(re.compile(rf"/cases/{number}\??$"))
    assert a.locator("input[data-invite=respondent]").input_value() == invite_url
    layout.check(a)

    b = phone().new_page()
    other_party_signs_up_from(b, layout, invite_url, shot)
    b.locator("details summary").tap()
    b.fill("textarea[name=reason]", reason)
    layout.check(b)
    b.locator("form[action$='/decline'] button").tap()
    expect(b.locator("form[action$='/decline']")).to_have_count(0)
    expect(b.locator("main")).to_contain_text(number)
    layout.check(b)
    shot(b, "3-declined-other-party")

    # The claimant is told by SMS too, with the reason.
    with server.app.app_context():
        sms = OutboxMessage.query.filter_by(recipient=CLAIMANT_E164).one()
        assert number in sms.subject and reason in sms.body

    a.reload()
    respondent = a.locator(".parties li").nth(1)
    expect(respondent.locator(".status.declined")).to_have_count(1)
    expect(respondent).to_contain_text(reason)
    expect(a.locator("input[data-invite]")).to_have_count(0)
    history = a.locator("ol.history li")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("Declined to take part")
    layout.check(a)
    shot(a, "4-case-declined-claimant")
    layout.assert_all_fit()
