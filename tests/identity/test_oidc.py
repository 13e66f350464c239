"""Signing in through a real OpenID Connect provider (oidc-provider on Node.js): the full flow,
claims mapped and the identity recorded at level ``oidc``; and refusals for a forged ID token, an
expired one, a wrong state, a wrong nonce and a wrong PKCE verifier — nothing written for any."""

import sqlalchemy as sa
import requests

from odr.auth.models import User
from odr.extensions import db
from odr.identity import crypto
from odr.identity.models import AssuranceLevel, ExternalAccount, IdentityVerification
from tests.identity.conftest import provider_sign_in


def _start(client):
    with client.session_transaction() as session:
        session["lang"] = "en"  # messages are asserted in English
    resp = client.post("/identity/oidc/login", data={"next": "/identity/"})
    assert resp.status_code == 302, resp.text
    return resp.headers["Location"]


def _state_key(client):
    with client.session_transaction() as session:
        return next(k for k in session if k.startswith("_state_provider_"))


def _nothing_written():
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalAccount)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityVerification)) == 0


def test_the_login_page_offers_the_provider(oidc_app, client):
    page = client.get("/auth/login")
    assert "Test Province ID" in page.text and 'id="oidc-login"' in page.text


def test_a_full_sign_in_creates_the_account_and_records_the_identity(oidc_app, client):
    authorize = _start(client)
    assert "code_challenge_method=S256" in authorize and "nonce=" in authorize and "state=" in authorize
    back = provider_sign_in(authorize, "zhang")
    resp = client.get(back.replace("http://localhost", ""))
    assert resp.status_code == 303, resp.text
    assert resp.headers["Location"].endswith("/identity/")
    user = db.session.scalar(sa.select(User).where(User.phone == "+8613800138001"))
    assert user is not None and user.name == "张三"
    link = db.session.scalar(sa.select(ExternalAccount).where(ExternalAccount.user_id == user.id))
    assert link.subject == "zhang" and link.issuer == oidc_app.config["OIDC_ISSUER"]
    found = db.session.scalar(sa.select(IdentityVerification).where(IdentityVerification.user_id == user.id))
    assert found.level is AssuranceLevel.oidc and found.legal_name == "张三"
    assert crypto.decrypt(found.id_number_encrypted) == "11010519491231002X"
    page = client.get("/identity/")
    assert page.status_code == 200 and "1101**********002X" in page.text
    # signing in again finds the same account
    client.post("/auth/logout")
    again = client.get(provider_sign_in(_start(client), "zhang").replace("http://localhost", ""))
    assert again.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.phone == "+8613800138001")) == 1


def test_a_forged_id_token_is_refused(oidc_app, client, oidc_provider):
    requests.get(f"{oidc_provider}/__mode", params={"set": "forge"}, timeout=5)
    resp = client.get(provider_sign_in(_start(client), "zhang").replace("http://localhost", ""))
    assert resp.status_code == 400 and "could not be verified" in resp.text
    _nothing_written()


def test_an_expired_id_token_is_refused(oidc_app, client, oidc_provider):
    requests.get(f"{oidc_provider}/__mode", params={"set": "expired"}, timeout=5)
    resp = client.get(provider_sign_in(_start(client), "zhang").replace("http://localhost", ""))
    assert resp.status_code == 400 and "could not be verified" in resp.text
    _nothing_written()


def test_a_wrong_state_is_refused(oidc_app, client):
    back = provider_sign_in(_start(client), "zhang")
    state = back.split("state=")[1].split("&")[0]
    resp = client.get(back.replace("http://localhost", "").replace(f"state={state}", "state=not-the-state"))
    assert resp.status_code == 400 and "not the one we started" in resp.text
    # and a callback in another browser (no state in its session) is refused the same way
    other = oidc_app.test_client()
    assert other.get(back.replace("http://localhost", "")).status_code == 400
    _nothing_written()


def test_a_wrong_nonce_is_refused(oidc_app, client):
    authorize = _start(client)
    key = _state_key(client)
    with client.session_transaction() as session:
        stored = session[key]
        stored["data"]["nonce"] = "a-nonce-the-provider-never-saw"
        session[key] = stored
    resp = client.get(provider_sign_in(authorize, "zhang").replace("http://localhost", ""))
    assert resp.status_code == 400 and "could not be verified" in resp.text
    _nothing_written()


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(oidc_app, client):
    authorize = _start(client)
    key = _state_key(client)
    with client.session_transaction() as session:
        stored = session[key]
        stored["data"]["code_verifier"] = "x" * 64
        session[key] = stored
    resp = client.get(provider_sign_in(authorize, "zhang").replace("http://localhost", ""))
    assert resp.status_code == 400 and "did not sign you in" in resp.text
    _nothing_written()


def test_a_provider_account_without_contact_cannot_make_an_account(oidc_app, client):
    resp = client.get(provider_sign_in(_start(client), "nophone").replace("http://localhost", ""))
    assert resp.status_code == 400 and "no verified phone number" in resp.text
    _nothing_written()


def test_unconfigured_there_is_no_provider_sign_in(app, client):
    assert client.post("/identity/oidc/login").status_code == 404
    assert client.get("/identity/oidc/callback?code=x&state=y").status_code == 404
    assert 'id="oidc-login"' not in client.get("/auth/login").text


def test_a_signed_in_account_is_linked_and_keeps_its_counter_verification(oidc_app, client, login, mediation):
    from odr.identity import operations as identity
    m = mediation
    identity.verify_at_counter(m.staff, m.case, m.case.claimant, legal_name="张三", id_number="110101199003074477",
                               card_checked=True)
    db.session.commit()
    login(client, m.claimant)
    resp = client.get(provider_sign_in(_start(client), "zhang").replace("http://localhost", ""))
    assert resp.status_code == 303, resp.text
    link = db.session.scalar(sa.select(ExternalAccount))
    assert link.user_id == m.claimant.id and link.subject == "zhang"
    found = db.session.scalar(sa.select(IdentityVerification).where(IdentityVerification.user_id == m.claimant.id))
    assert found.level is AssuranceLevel.counter and crypto.decrypt(found.id_number_encrypted) == "110101199003074477"
    # the provider's subject now belongs to that account: another account signed in is refused
    login(client, m.respondent)
    resp = client.get(provider_sign_in(_start(client), "zhang").replace("http://localhost", ""))
    assert resp.status_code == 400 and "already linked to another account" in resp.text


def test_the_sign_in_form_may_be_sent_on_to_the_provider_and_nowhere_else(oidc_app, client, app):
    policy = client.get("/auth/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {oidc_app.config['OIDC_ISSUER']};" in policy


def test_without_a_provider_forms_go_here_only(app, client):
    assert "form-action 'self';" in client.get("/auth/login").headers["Content-Security-Policy"]
