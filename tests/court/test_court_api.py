"""The court API end to end: a real HTTP client (requests) against the live server.

Tried: no token, a wrong token, a revoked token, a mediation centre's token (401 each); another
court's hand-off (404); bodies of the wrong shape — not JSON, an array, unknown fields, a number
where a string goes, an unknown result (422); the same result twice (idempotent) and a different
one (409)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jsonschema
import pytest
import requests
import sqlalchemy as sa
import yaml

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.cases import workflow
from odr.cases.models import Channel, Organization, OrgType, Stage
from odr.court import operations as ops
from odr.court.models import Handoff
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.court.complaints import seal_complaint

pytestmark = pytest.mark.usefixtures("server")


def seed(server):
    with server.app.app_context():
        centre = Organization(name="调解中心", type=OrgType.peoples_mediation, district="朝阳区", takes_intake=True)
        court = Organization(name="朝阳区人民法院", type=OrgType.court, district="朝阳区")
        other = Organization(name="海淀区人民法院", type=OrgType.court, district="海淀区")
        db.session.add_all([centre, court, other])
        db.session.flush()
        staff = auth_ops.create_user("staff@example.com", "Staff", PASSWORD)
        grant_role(staff, Role.staff, centre)
        claimant = auth_ops.create_user("+8613800138001", "张三", PASSWORD)
        handoffs = []
        for target in (court, other):
            case = case_ops.file_case(claimant, Channel.web, dispute(), case_ops.PartyDetails("张三", phone="+8613800138001"),
                                      case_ops.PartyDetails("李四", phone="+8613900139001"), organization=centre)
            for stage in (Stage.assessment, Stage.litigation):
                workflow.move(case, stage, claimant)
            seal_complaint(case, target)
            handoffs.append(ops.hand_off(case, target, staff).id)
        _client, token = case_ops.issue_api_token("court-system", court)
        _c, centre_token = case_ops.issue_api_token("hotline", centre)
        revoked, revoked_token = case_ops.issue_api_token("old-court-system", court)
        revoked.revoked_at = revoked.created_at
        db.session.commit()
        return token, centre_token, revoked_token, handoffs


def test_the_court_system_takes_and_reports_back(server):
    token, centre_token, revoked_token, (mine, theirs) = seed(server)
    api = f"{server.url}/api/court/v1"
    auth = {"Authorization": f"Bearer {token}"}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {revoked_token}"},
                    {"Authorization": f"Bearer {centre_token}"}, {"Authorization": token}):
        resp = requests.get(f"{api}/handoffs", headers=headers, timeout=10)
        assert resp.status_code == 401 and resp.headers["Content-Type"] == "application/problem+json"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")

    listing = requests.get(f"{api}/handoffs", headers=auth, timeout=10).json()
    assert [h["id"] for h in listing["items"]] == [mine] and listing["total"] == 1
    assert requests.get(f"{api}/handoffs/{theirs}", headers=auth, timeout=10).status_code == 404
    assert requests.get(f"{api}/handoffs/{theirs}/bundle", headers=auth, timeout=10).status_code == 404
    assert requests.post(f"{api}/handoffs/{theirs}/receipt", headers=auth, timeout=10).status_code == 404
    assert requests.get(f"{api}/handoffs?status=lost", headers=auth, timeout=10).status_code == 422

    item = listing["items"][0]
    spec = yaml.safe_load((Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())
    jsonschema.validate(item, spec["components"]["schemas"]["Handoff"])  # the answer is what docs/ say
    bundle = requests.get(item["bundle"]["url"], headers=auth, timeout=30)
    assert bundle.status_code == 200 and hashlib.sha256(bundle.content).hexdigest() == item["bundle"]["sha256"]

    assert requests.post(f"{api}/handoffs/{mine}/receipt", headers=auth, timeout=10).status_code == 201
    assert requests.post(f"{api}/handoffs/{mine}/receipt", headers=auth, timeout=10).status_code == 200
    bad_bodies = [
        dict(data="{not json", headers={**auth, "Content-Type": "application/json"}),
        dict(json=["(2026)京0105民初1号"], headers=auth),
        dict(json={"docket": "x"}, headers=auth),
        dict(json={"docket_number": 123}, headers=auth),
        dict(json={"docket_number": ""}, headers=auth),
    ]
    for kwargs in bad_bodies:
        resp = requests.post(f"{api}/handoffs/{mine}/docket", timeout=10, **kwargs)
        assert resp.status_code == 422, (kwargs, resp.text)
        assert resp.json()["status"] == 422
    resp = requests.post(f"{api}/handoffs/{mine}/docket", json={"docket_number": "(2026)京0105民初1号"},
                         headers=auth, timeout=10)
    assert resp.status_code == 201 and resp.json()["status"] == "docketed"
    assert requests.post(f"{api}/handoffs/{mine}/result", json={"result": "won"}, headers=auth,
                         timeout=10).status_code == 422
    first = requests.post(f"{api}/handoffs/{mine}/result", json={"result": "judgment", "note": "判决支持原告"},
                          headers=auth, timeout=10)
    again = requests.post(f"{api}/handoffs/{mine}/result", json={"result": "judgment", "note": "判决支持原告"},
                          headers=auth, timeout=10)
    other = requests.post(f"{api}/handoffs/{mine}/result", json={"result": "withdrawn"}, headers=auth, timeout=10)
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert again.json()["result"] == "judgment" and "different result" in other.json()["detail"]
    with server.app.app_context():
        handoff = db.session.get(Handoff, mine)
        assert handoff.result.value == "judgment" and handoff.docket_number == "(2026)京0105民初1号"
        actors = db.session.scalars(sa.text("select actor from event where action = 'court_result'")).all()
        assert actors == ["api:court-system"]


@pytest.mark.parametrize("step, body", [
    ("receipt", "[" * 5000 + "]" * 5000),
    ("docket", '{"docket_number": ' * 5000 + '"1"' + "}" * 5000),
    ("result", '{"result": "judgment", "note": ' + "[" * 40 + "]" * 40 + "}"),
])
def test_deeply_nested_json_is_refused_and_changes_nothing(server, step, body):
    token, _centre, _revoked, (mine, _theirs) = seed(server)
    with server.app.app_context():
        events_before = db.session.scalar(sa.text("select count(*) from event"))
    resp = requests.post(f"{server.url}/api/court/v1/handoffs/{mine}/{step}", data=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["detail"] == "The JSON is nested more than 32 levels deep."
    with server.app.app_context():
        handoff = db.session.get(Handoff, mine)
        assert handoff.received_at is None and handoff.docket_number is None and handoff.result is None
        assert db.session.scalar(sa.text("select count(*) from event")) == events_before


def test_the_court_receives_the_checkpoints_of_its_own_cases_only(server):
    """The court is the witness of its cases' audit trails: every checkpoint of a case handed to it
    (the hand-off's, then the periodic ones), per hand-off and as a feed; another court's case is
    "not found" and never in the feed."""
    from datetime import timedelta

    from odr.cases import audit
    from odr.documents import checkpoints
    from odr.documents.ca import platform_ca
    from odr.timeutil import utcnow

    token, _centre_token, _revoked, (mine, theirs) = seed(server)
    api = f"{server.url}/api/court/v1"
    auth = {"Authorization": f"Bearer {token}"}
    with server.app.app_context():
        my_case = db.session.get(Handoff, mine).case
        my_chain, my_number = audit.chain_name(my_case), my_case.number

    item = requests.get(f"{api}/handoffs/{mine}", headers=auth, timeout=10).json()
    latest = item["checkpoints"]["latest"]
    assert latest["entries"] >= 1 and len(latest["sha256"]) == 64
    assert requests.get(f"{api}/handoffs/{theirs}/checkpoints", headers=auth, timeout=10).status_code == 404
    resp = requests.get(item["checkpoints"]["url"], headers=auth, timeout=10)
    assert resp.status_code == 200 and resp.json()["chain"] == my_chain
    [document] = resp.json()["checkpoints"]
    assert document["sha256"] == latest["sha256"] and document["chain"]["case"] == my_number

    feed = requests.get(f"{api}/checkpoints", headers=auth, timeout=10).json()
    assert [i["chain"]["chain"] for i in feed["items"]] == [my_chain] and feed["next"] is None
    cursor = feed["items"][0]["cursor"]
    assert requests.get(f"{api}/checkpoints?after={cursor}", headers=auth, timeout=10).json()["items"] == []
    bad = requests.get(f"{api}/checkpoints?after=yesterday", headers=auth, timeout=10)
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"

    # The periodic checkpoint covers both cases (and the platform chain); the court gets its own case's.
    with server.app.app_context():
        assert checkpoints.checkpoint_moved_chains(utcnow() + timedelta(minutes=1)) >= 2
        db.session.commit()
    newer = requests.get(f"{api}/checkpoints?after={cursor}", headers=auth, timeout=10).json()["items"]
    assert [i["chain"]["chain"] for i in newer] == [my_chain]
    assert newer[0]["checkpoint"]["reason"] == "periodic" and newer[0]["chain"]["seq"] > document["chain"]["seq"]
    with server.app.app_context():
        found = checkpoints.check_chain_document(newer[0], [platform_ca().ca.asn1_cert])
        assert found[0] == my_chain and audit.verify_chain(my_chain, [found[1]]) is None
    spec = yaml.safe_load((Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())
    jsonschema.validate(item, spec["components"]["schemas"]["Handoff"])
    # The whole document as the root, so that the references between its schemas resolve.
    jsonschema.validate(newer[0], {**spec, "$ref": "#/components/schemas/FeedCheckpoint"})
    jsonschema.validate(resp.json(), {**spec, "$ref": "#/components/schemas/CaseCheckpoints"})
