"""``odr api-token create/list/revoke``: bearer tokens of the systems that transfer cases."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from odr.cases.models import ApiClient, Case, Event
from odr.extensions import db

TOKEN_LINE = re.compile(r"^Token \(shown once\): (\S+)$", re.MULTILINE)

CASE = {
    "reference": "HL-1", "category": "neighbour", "description": "Loud music every night after midnight.",
    "claim": "Quiet after 22:00.", "district": "朝阳区", "claimant_name": "Wang Fang",
    "claimant_phone": "13800138000", "respondent_name": "Li Lei", "respondent_email": "li@example.com",
}


def create(runner, name, org_id):
    return runner.invoke(args=["api-token", "create", "--name", name, "--org", str(org_id)])


def transfer(client, token, reference="HL-1"):
    return client.post("/api/v1/intake", json={**CASE, "reference": reference},
                       headers={"Authorization": f"Bearer {token}"})


def all_stored_text() -> str:
    """Every value in the tables a token could leak into."""
    rows = [*db.session.execute(sa.select(ApiClient.__table__)), *db.session.execute(sa.select(Event.__table__))]
    return "\n".join(str(value) for row in rows for value in row)


def test_create_prints_the_token_once_and_stores_its_hash(runner, make_org, client):
    org = make_org(name="Chaoyang People's Mediation")

    result = create(runner, "hotline-12345", org.id)

    assert result.exit_code == 0, result.output
    tokens = TOKEN_LINE.findall(result.output)
    assert len(tokens) == 1
    token = tokens[0]
    assert token.startswith("odr_") and len(token) > 40
    assert result.output.count(token) == 1
    assert "hotline-12345" in result.output and org.name in result.output

    api_client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "hotline-12345"))
    assert api_client.organization_id == org.id and api_client.revoked_at is None
    assert api_client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in all_stored_text()
    created = db.session.scalar(sa.select(Event).where(Event.action == "api_client_created"))
    assert created.payload == {"client": api_client.id, "name": "hotline-12345", "organization": org.id}

    resp = transfer(client, token)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    case = db.session.scalar(sa.select(Case).where(Case.number == resp.get_json()["case_number"]))
    assert case.organization_id == org.id and case.api_client_id == api_client.id


def test_each_system_gets_its_own_token(runner, make_org):
    org = make_org()
    first = TOKEN_LINE.findall(create(runner, "hotline-12345", org.id).output)
    second = TOKEN_LINE.findall(create(runner, "police-110", org.id).output)
    assert len(first) == len(second) == 1 and first != second


def test_list_shows_clients_without_secrets(runner, make_org):
    org = make_org()
    token = TOKEN_LINE.findall(create(runner, "hotline-12345", org.id).output)[0]
    assert create(runner, "police-110", org.id).exit_code == 0
    assert runner.invoke(args=["api-token", "revoke", "police-110"]).exit_code == 0

    result = runner.invoke(args=["api-token", "list"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert re.search(rf"hotline-12345\s+org {org.id}\s+active$", lines[0])
    assert re.search(rf"police-110\s+org {org.id}\s+revoked \d{{4}}-\d{{2}}-\d{{2}}$", lines[1])
    hashes = db.session.scalars(sa.select(ApiClient.token_hash)).all()
    assert token not in result.output and not any(h in result.output for h in hashes)


def test_revoked_token_is_refused_by_the_api(runner, make_org, client):
    org = make_org()
    token = TOKEN_LINE.findall(create(runner, "hotline-12345", org.id).output)[0]
    assert transfer(client, token, "before").status_code == 201

    result = runner.invoke(args=["api-token", "revoke", "hotline-12345"])

    assert result.exit_code == 0, result.output
    assert "Revoked hotline-12345." in result.output
    api_client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "hotline-12345"))
    assert api_client.revoked_at is not None
    revoked = db.session.scalar(sa.select(Event).where(Event.action == "api_client_revoked"))
    assert revoked.payload == {"client": api_client.id, "name": "hotline-12345"}
    cases = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    for reference in ("after", "before"):
        resp = transfer(client, token, reference)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="odr"'
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == cases


def test_revoking_twice_or_an_unknown_client_fails(runner, make_org):
    org = make_org()
    assert create(runner, "hotline-12345", org.id).exit_code == 0
    assert runner.invoke(args=["api-token", "revoke", "hotline-12345"]).exit_code == 0

    for name in ("hotline-12345", "nobody"):
        result = runner.invoke(args=["api-token", "revoke", name])
        assert result.exit_code != 0
        assert f"No active client named '{name}'" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).where(Event.action == "api_client_revoked")) == 1


def test_unknown_organisation_is_refused(runner, make_org):
    org = make_org()

    result = create(runner, "hotline-12345", org.id + 1000)

    assert result.exit_code != 0
    assert f"No organisation {org.id + 1000}" in result.output
    assert "Token" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiClient)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(Event.action == "api_client_created")) == 0


def test_duplicate_name_is_refused(runner, make_org):
    org = make_org()
    first = TOKEN_LINE.findall(create(runner, "hotline-12345", org.id).output)[0]

    result = create(runner, "hotline-12345", make_org().id)

    assert result.exit_code != 0
    assert "exists already" in result.output and "Token" not in result.output
    api_client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == "hotline-12345"))
    assert api_client.token_hash == hashlib.sha256(first.encode()).hexdigest()


def test_create_needs_name_and_org(runner):
    for args in (["--name", "hotline-12345"], ["--org", "1"]):
        result = runner.invoke(args=["api-token", "create", *args])
        assert result.exit_code != 0
        assert "Missing option" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiClient)) == 0
