"""Counter verification: the case's staff check a party's ID card; the number is stored encrypted,
shown masked, and the audit entry is written in the same transaction. Everyone else is refused."""

import logging

import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases.models import Event
from odr.extensions import db
from odr.identity import crypto
from odr.identity.models import AssuranceLevel, IdentityVerification

NUMBER = "11010519491231002X"


def _url(m, user=None):
    party = m.case.claimant if user is None else next(p for p in m.case.parties if p.user_id == user.id)
    return f"/identity/counter/{m.case.number}/parties/{party.id}"


def _verify(client, m, number=NUMBER, name="张三", checked="y"):
    data = {"legal_name": name, "id_number": number}
    if checked:
        data["card_checked"] = checked
    return client.post(_url(m), data=data)


def test_staff_verify_a_party_at_the_counter(app, client, login_en, mediation, caplog):
    m = mediation
    login_en(client, m.staff)
    assert 'id="identity-check"' in client.get(f"/cases/{m.case.number}").text
    assert client.get(f"/identity/counter/{m.case.number}").status_code == 200
    page = client.get(_url(m))
    assert page.status_code == 200 and "Zhang San" in page.text
    with caplog.at_level(logging.DEBUG):
        resp = _verify(client, m)
    assert resp.status_code == 303, resp.text
    found = db.session.scalar(sa.select(IdentityVerification).where(IdentityVerification.user_id == m.claimant.id))
    assert found.level is AssuranceLevel.counter and found.legal_name == "张三"
    assert found.verified_by_id == m.staff.id and found.organization_id == m.org.id
    # encrypted at rest, shown masked, never in the log
    assert NUMBER not in found.id_number_encrypted and crypto.decrypt(found.id_number_encrypted) == NUMBER
    assert found.id_number_masked == "1101**********002X"
    assert NUMBER not in caplog.text
    event = db.session.scalar(sa.select(Event).where(Event.case_id == m.case.id, Event.action == "identity_verified"))
    assert event.actor_id == m.staff.id and event.payload["id_number"] == "1101**********002X"
    assert NUMBER not in str(event.payload)
    listing = client.get(f"/identity/counter/{m.case.number}")
    assert "1101**********002X" in listing.text and NUMBER not in listing.text
    # the party sees it on their own page
    login_en(client, m.claimant)
    mine = client.get("/identity/")
    assert "Verified in person at a counter" in mine.text and "1101**********002X" in mine.text


def test_a_malformed_number_is_refused_and_nothing_is_written(app, client, login_en, mediation):
    login_en(client, mediation.staff)
    resp = _verify(client, mediation, number="110105194912310021")
    assert resp.status_code == 422
    assert "does not match the others" in resp.text
    assert "110105194912310021" not in resp.text  # the number is not sent back
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityVerification)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
        Event.action == "identity_verified")) == 0


def test_the_card_must_be_confirmed_as_checked(app, client, login_en, mediation):
    login_en(client, mediation.staff)
    resp = _verify(client, mediation, checked=None)
    assert resp.status_code == 422 and "checked the ID card" in resp.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityVerification)) == 0


def test_one_number_verifies_one_account(app, client, login_en, mediation):
    login_en(client, mediation.staff)
    assert _verify(client, mediation).status_code == 303
    other = next(p for p in mediation.case.parties if p.user_id == mediation.respondent.id)
    resp = client.post(f"/identity/counter/{mediation.case.number}/parties/{other.id}",
                       data={"legal_name": "李四", "id_number": NUMBER, "card_checked": "y"})
    assert resp.status_code == 409 and "already verified for another account" in resp.text


def test_others_are_refused(app, client, login_en, mediation, make_user, make_org):
    m = mediation
    other_staff = make_user(Role.staff, make_org(name="Another centre"))
    for user, status in ((m.mediator, 403), (m.claimant, 403), (other_staff, 404), (m.outsider, 404)):
        login_en(client, user)
        if status == 403:
            assert 'id="identity-check"' not in client.get(f"/cases/{m.case.number}").text
        assert client.get(_url(m)).status_code == status, user
        assert _verify(client, m).status_code == status, user
        assert client.get(f"/identity/counter/{m.case.number}").status_code == status, user
    client.post("/auth/logout")
    assert _verify(client, m).status_code == 302  # to sign in
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityVerification)) == 0


def test_a_party_of_another_case_is_not_found(app, client, login_en, mediation, make_case, make_user):
    other = make_case(claimant=make_user(), organization=mediation.org)
    login_en(client, mediation.staff)
    resp = client.post(f"/identity/counter/{mediation.case.number}/parties/{other.claimant.id}",
                       data={"legal_name": "张三", "id_number": NUMBER, "card_checked": "y"})
    assert resp.status_code == 404
