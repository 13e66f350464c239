"""Filing a dispute, the case page, invitations, counter intake and routing through the pages."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases import audit
from odr.cases.models import Case, CaseParty, Channel, Event, PartyStatus, Stage
from odr.extensions import db
from odr.cases.service.models import ServiceRecord
from odr.outbox import OutboxMessage

GOOD = {
    "category": "property", "description": "The landlord keeps the whole deposit after I moved out.",
    "claim": "Return the 6000 yuan deposit.", "amount_claimed": "6000.00", "district": "海淀区",
    "respondent_name": "房东张先生", "respondent_phone": "139 0013 9000", "respondent_email": "",
}


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in
                 (Case, CaseParty, Event, OutboxMessage))


def test_party_files_a_case_and_gets_number_timeline_and_invitation(client, login, make_user):
    user = make_user(name="李娜")
    login(client, user)
    resp = client.post("/cases/new", data=GOOD)
    assert resp.status_code == 303
    case = db.session.scalar(sa.select(Case))
    assert re.fullmatch(r"ODR-\d{4}-\d{6}", case.number)
    assert resp.location.endswith(f"/cases/{case.number}")
    assert case.channel is Channel.web and case.stage is Stage.consultation
    assert case.amount_claimed == Decimal("6000.00") and case.district == "海淀区"
    assert case.claimant.user_id == user.id and case.claimant.status is PartyStatus.joined
    assert case.respondent.phone == "+8613900139000" and case.respondent.status is PartyStatus.invited
    # The invitation was served by SMS with a link of the respondent's own, leading to the invitation.
    sms = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "+8613900139000"))
    served = db.session.scalar(sa.select(ServiceRecord).where(ServiceRecord.outbox_message_id == sms.id))
    assert f"/s/{served.token}" in sms.body and sms.sent_at is not None and served.kind == "invitation"
    assert served.target == f"/cases/join/{case.respondent.invite_token}"
    page = client.get(resp.location).get_data(as_text=True)
    assert case.number in page and 'aria-current="step"' in page
    assert f"http://odr.test/cases/join/{case.respondent.invite_token}" in page
    qr = client.get(f"/cases/{case.number}/invitation/respondent.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert [e.action for e in audit.case_events(case)] == ["case_filed"]


def test_case_numbers_count_up_within_the_year(client, login, make_user):
    login(client, make_user())
    for _ in range(3):
        client.post("/cases/new", data=GOOD)
    numbers = db.session.scalars(sa.select(Case.number).order_by(Case.id)).all()
    assert [int(n[-6:]) for n in numbers] == [1, 2, 3]


@pytest.mark.parametrize("field, value, message", [
    ("category", "aliens", "Not a valid choice"),
    ("district", "Atlantis", "Not a valid choice"),
    ("description", "short", "10 to 4000"),
    ("description", "x" * 4001, "10 to 4000"),
    ("claim", "", "required"),
    ("amount_claimed", "-1", "negative"),
    ("amount_claimed", "12.345", "two decimals"),
    ("amount_claimed", "abc", "1200.50"),
    ("amount_claimed", "NaN", "1200.50"),
    ("amount_claimed", "1e3", "1200.50"),
    ("amount_claimed", "1,2,0,0", "1200.50"),
    ("amount_claimed", "9999999999999", "too large"),
    ("respondent_phone", "12", "valid phone"),
    ("respondent_email", "not-an-email", "valid e-mail"),
    ("respondent_name", "", "required"),
])
def test_bad_dispute_input_is_shown_next_to_the_field_and_saves_nothing(client, login, make_user, field, value,
                                                                         message):
    login(client, make_user())
    client.post("/lang", data={"lang": "en"})
    before = counts()
    resp = client.post("/cases/new", data=GOOD | {field: value})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    assert counts() == before


def test_respondent_contact_is_required(client, login, make_user):
    login(client, make_user())
    client.post("/lang", data={"lang": "en"})
    resp = client.post("/cases/new", data=GOOD | {"respondent_phone": ""})
    assert resp.status_code == 400 and "phone or e-mail" in resp.get_data(as_text=True)


def test_other_party_joins_through_the_invitation(client, login, make_case, make_user):
    case = make_case()
    token = case.respondent.invite_token
    anon_page = client.get(f"/cases/join/{token}")
    assert anon_page.status_code == 200 and case.description in anon_page.get_data(as_text=True)
    assert f"next=/cases/join/{token}" in anon_page.get_data(as_text=True).replace("%2F", "/")
    respondent = make_user(name="Respondent R")
    login(client, respondent)
    resp = client.post(f"/cases/join/{token}/accept")
    assert resp.status_code == 303 and resp.location.endswith(f"/cases/{case.number}")
    db.session.refresh(case.respondent)
    assert case.respondent.user_id == respondent.id and case.respondent.status is PartyStatus.joined
    assert case.respondent.invite_token is None
    assert client.get(f"/cases/{case.number}").status_code == 200
    # The link is spent: a second use finds nothing.
    assert client.get(f"/cases/join/{token}").status_code == 404
    assert audit.case_events(case)[-1].action == "party_joined"


def test_other_party_declines_with_a_reason(client, login, make_case, make_user):
    case = make_case()
    token = case.respondent.invite_token
    login(client, make_user())
    client.post("/lang", data={"lang": "en"})
    resp = client.post(f"/cases/join/{token}/decline", data={"reason": ""})
    assert resp.status_code == 400 and case.respondent.status is PartyStatus.invited
    resp = client.post(f"/cases/join/{token}/decline", data={"reason": "I already paid the deposit back."})
    assert resp.status_code == 303 and resp.location.endswith(f"/cases/declined/{case.number}")
    db.session.refresh(case.respondent)
    assert case.respondent.status is PartyStatus.declined
    assert case.respondent.decline_reason == "I already paid the deposit back."
    ev = audit.case_events(case)[-1]
    assert ev.action == "party_declined" and ev.payload["reason"] == "I already paid the deposit back."
    # The claimant hears of it and sees it on the case page.
    note = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert note.recipient == case.claimant.user.email and "I already paid" in note.body
    login(client, case.claimant.user)
    assert "I already paid the deposit back." in client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_claimant_cannot_take_the_respondent_seat(client, login, make_case):
    case = make_case()
    login(client, case.claimant.user)
    resp = client.post(f"/cases/join/{case.respondent.invite_token}/accept")
    assert resp.status_code == 409
    assert case.respondent.status is PartyStatus.invited


def test_unknown_or_overlong_tokens_are_404(client):
    assert client.get("/cases/join/nope").status_code == 404
    assert client.get("/cases/join/" + "x" * 300).status_code == 404


def test_counter_intake_invites_the_visitor_and_lands_in_the_org_queue(client, login, make_user, make_org):
    center = make_org(takes_intake=True)
    staff = make_user(Role.staff, center)
    login(client, staff)
    resp = client.post("/staff/cases/new", data=GOOD | {"claimant_name": "王大爷", "claimant_phone": "13700137000",
                                                        "claimant_email": ""})
    assert resp.status_code == 303
    case = db.session.scalar(sa.select(Case))
    assert case.channel is Channel.counter and case.organization_id == center.id
    assert case.created_by_id == staff.id
    assert case.claimant.status is PartyStatus.invited and case.claimant.phone == "+8613700137000"
    recipients = set(db.session.scalars(sa.select(OutboxMessage.recipient)))
    assert {"+8613700137000", "+8613900139000"} <= recipients
    queue = client.get("/staff/").get_data(as_text=True)
    assert case.number in queue
    # The visitor claims the case later from the SMS link.
    visitor = make_user()
    login(client, visitor)
    client.post(f"/cases/join/{case.claimant.invite_token}/accept")
    assert "claimant" in case.roles_of(visitor)


def test_counter_intake_needs_visitor_contact(client, login, make_user, make_org):
    login(client, make_user(Role.staff, make_org()))
    before = counts()
    resp = client.post("/staff/cases/new", data=GOOD | {"claimant_name": "王大爷"})
    assert resp.status_code == 400 and counts() == before


def test_queue_shows_only_the_staff_members_cases(client, login, make_user, make_org, make_case):
    center, other = make_org(takes_intake=True), make_org()
    mine, theirs, unrouted = make_case(organization=center), make_case(organization=other), make_case()
    login(client, make_user(Role.staff, other))
    page = client.get("/staff/").get_data(as_text=True)
    assert theirs.number in page and mine.number not in page and unrouted.number not in page
    login(client, make_user(Role.staff, center))
    page = client.get("/staff/").get_data(as_text=True)
    assert mine.number in page and unrouted.number in page and theirs.number not in page


def test_staff_route_a_case(client, login, make_user, make_org, make_case):
    center, other = make_org(takes_intake=True), make_org(name="Consumer mediation")
    case = make_case()
    login(client, make_user(Role.staff, center))
    resp = client.post(f"/cases/{case.number}/route", data={"organization": str(other.id)})
    assert resp.status_code == 303
    db.session.refresh(case)
    assert case.organization_id == other.id
    ev = audit.case_events(case)[-1]
    assert ev.action == "case_routed" and ev.payload["to"] == other.id
    for bad in ("abc", "999999", ""):
        assert client.post(f"/cases/{case.number}/route", data={"organization": bad}).status_code in (400, 404)


def test_workflow_refusal_is_shown_with_its_reason(client, login, make_case):
    case = make_case()
    login(client, case.claimant.user)
    client.post("/lang", data={"lang": "en"})
    resp = client.post(f"/cases/{case.number}/move", data={"to": "litigation"})
    # straight to court only once the respondent let the time to answer pass (odr.cases.service)
    assert resp.status_code == 409 and "still has time to answer" in resp.get_data(as_text=True)
    # a case at consultation settles only through the platform's seal of an on-site agreement (odr.field)
    resp = client.post(f"/cases/{case.number}/move", data={"to": "settled"})
    assert resp.status_code == 409 and "may not make this change" in resp.get_data(as_text=True)
    resp = client.post(f"/cases/{case.number}/move", data={"to": "arbitration"})
    assert resp.status_code == 409 and "cannot go from" in resp.get_data(as_text=True)
    resp = client.post(f"/cases/{case.number}/move", data={"to": "nonsense"})
    assert resp.status_code == 400
    resp = client.post(f"/cases/{case.number}/move", data={"to": "assessment"})
    assert resp.status_code == 303
    db.session.refresh(case)
    assert case.stage is Stage.assessment


def test_stage_pages_show_the_case_state(client, login, make_case):
    case = make_case(stages=(Stage.assessment,))
    login(client, case.claimant.user)
    client.post("/lang", data={"lang": "en"})
    assert "has passed this stage" in client.get(f"/consult/{case.number}").get_data(as_text=True)
    assert "at this stage now" in client.get(f"/assess/{case.number}").get_data(as_text=True)
    assert "not reached" in client.get(f"/mediate/{case.number}").get_data(as_text=True)
