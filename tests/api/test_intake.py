"""``POST /api/v1/intake``: transfers from outside systems, and the OpenAPI document that describes them."""

from __future__ import annotations

import copy
import json
import re

import pytest
import sqlalchemy as sa
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from wtforms.validators import DataRequired, Length, Regexp

from odr.api import intake
from odr.auth.models import Role
from odr.cases import audit
from odr.cases import operations as ops
from odr.cases.forms import TransferForm
from odr.cases.models import ApiClient, Case, CaseParty, Category, Channel, Event, OrgType, PartyStatus, Side, Stage
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.api.openapi import GOOD, URL, assert_documented, request_validator, spec_validator

TABLES = {"case": Case, "case_party": CaseParty, "event": Event, "outbox_message": OutboxMessage}


# --- the OpenAPI document ----------------------------------------------------

# --- helpers -----------------------------------------------------------------

@pytest.fixture
def issue_token(make_org):
    """Register an outside system; returns the client and its bearer token."""

    def issue(name="hotline-12345", org=None) -> tuple[ApiClient, str]:
        client, token = ops.issue_api_token(name, org or make_org(name=f"Org of {name}"))
        db.session.commit()
        return client, token

    return issue


@pytest.fixture
def sender(issue_token):
    return issue_token()


def post(client, token, body=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    headers.update(kw.pop("headers", {}))
    if body is not None:
        kw["json"] = body
    return client.post(URL, headers=headers, **kw)


def row_counts() -> dict[str, int]:
    return {name: db.session.scalar(sa.select(sa.func.count()).select_from(model)) for name, model in TABLES.items()}


def with_changes(**changes) -> dict:
    body = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()


def assert_problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    return body


# --- accepted transfers ---------------------------------------------------------

def test_transfer_creates_case_in_the_senders_queue(client, sender, make_org, make_user, spec):
    api_client, token = sender
    before = row_counts()

    resp = post(client, token, GOOD)

    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert_documented(spec, resp)
    body = resp.get_json()
    case = db.session.scalar(sa.select(Case).where(Case.number == body["case_number"]))
    assert re.fullmatch(rf"ODR-{case.created_at.year}-\d{{6}}", case.number)
    assert body["reference"] == GOOD["reference"] == case.external_ref
    assert body["stage"] == "consultation" and case.stage is Stage.consultation
    assert body["status"] == "open" and case.is_open
    assert body["url"] == f"http://odr.test/cases/{case.number}"
    assert resp.headers["Location"] == f"/cases/{case.number}"

    assert case.channel is Channel.transfer
    assert case.api_client_id == api_client.id and case.created_by_id is None
    assert case.organization_id == api_client.organization_id
    assert case.category is Category.neighbour and str(case.amount_claimed) == "1200.50"

    claimant, respondent = case.claimant, case.respondent
    assert (claimant.name, claimant.phone, claimant.email) == ("Wang Fang", "+8613800138000", None)
    assert (respondent.name, respondent.phone, respondent.email) == ("Li Lei", None, "li.lei@example.com")
    for party in (claimant, respondent):
        assert party.status is PartyStatus.invited and party.user_id is None and party.invite_token
    assert body["invitations"] == {
        "claimant": f"http://odr.test/cases/join/{claimant.invite_token}",
        "respondent": f"http://odr.test/cases/join/{respondent.invite_token}",
    }
    outbox = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.case_id == case.id))
    assert sorted(m.recipient for m in outbox) == ["+8613800138000", "li.lei@example.com"]

    filed = [e for e in audit.case_events(case) if e.action == "case_filed"]
    assert len(filed) == 1
    assert filed[0].actor == "api:hotline-12345" and filed[0].actor_id is None
    assert filed[0].payload["channel"] == "transfer" and filed[0].payload["external_ref"] == GOOD["reference"]
    assert filed[0].payload["organization"] == api_client.organization_id
    assert audit.verify_chain(audit.chain_name(case)) is None

    after = row_counts()
    assert after == {"case": before["case"] + 1, "case_party": before["case_party"] + 2,
                     "event": before["event"] + 1, "outbox_message": before["outbox_message"] + 2}

    staff = make_user(role=Role.staff, org=api_client.organization)
    assert case in ops.staff_queue(staff, page=1).items
    other_staff = make_user(role=Role.staff, org=make_org())
    assert case not in ops.staff_queue(other_staff, page=1).items


def test_number_amount_and_empty_optional_fields(client, sender):
    _, token = sender
    resp = post(client, token, with_changes(amount_claimed=800, claimant_phone="", claimant_email="a@example.com",
                                            respondent_phone=None))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    case = db.session.scalar(sa.select(Case).where(Case.number == resp.get_json()["case_number"]))
    assert str(case.amount_claimed) == "800.00"
    assert (case.claimant.phone, case.claimant.email) == (None, "a@example.com")


def test_any_json_media_type_is_accepted(client, sender):
    _, token = sender
    resp = client.post(URL, data=json.dumps(GOOD), headers={"Authorization": f"bearer {token}"},
                       content_type="application/json; charset=utf-8")
    assert resp.status_code == 201, resp.get_data(as_text=True)


# --- idempotency ------------------------------------------------------------------

def test_same_reference_twice_answers_the_same_case(client, sender, spec):
    _, token = sender
    first = post(client, token, GOOD)
    assert first.status_code == 201
    before = row_counts()

    again = post(client, token, GOOD)
    padded = post(client, token, with_changes(reference=f"  {GOOD['reference']} ",
                                              description="A different text sent by mistake the second time."))

    for resp in (again, padded):
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert_documented(spec, resp)
        assert resp.get_json() == first.get_json()
        assert resp.headers["Location"] == first.headers["Location"]
    assert row_counts() == before
    case = db.session.scalar(sa.select(Case).where(Case.external_ref == GOOD["reference"]))
    assert case.description == GOOD["description"]


def test_replay_lists_only_open_invitations(client, sender, make_user):
    _, token = sender
    number = post(client, token, GOOD).get_json()["case_number"]
    case = db.session.scalar(sa.select(Case).where(Case.number == number))
    ops.join_case(case.respondent, make_user())
    db.session.commit()

    invitations = post(client, token, GOOD).get_json()["invitations"]
    assert list(invitations) == ["claimant"]


def test_replay_still_refuses_unknown_fields(client, sender):
    _, token = sender
    assert post(client, token, GOOD).status_code == 201
    resp = post(client, token, with_changes(priority="high"))
    assert assert_problem(resp, 422)["errors"] == [{"field": "priority", "message": "unknown field"}]


def test_same_reference_from_another_sender_is_another_case(client, issue_token):
    first_client, first_token = issue_token("hotline-12345")
    second_client, second_token = issue_token("police-110")

    first = post(client, first_token, GOOD)
    second = post(client, second_token, GOOD)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["case_number"] != second.get_json()["case_number"]
    cases = db.session.scalars(sa.select(Case).where(Case.external_ref == GOOD["reference"])).all()
    assert {(c.api_client_id, c.organization_id) for c in cases} == {
        (first_client.id, first_client.organization_id), (second_client.id, second_client.organization_id)}


def test_reference_arriving_twice_at_once_answers_the_first_case(client, sender, monkeypatch):
    """The second of two simultaneous requests passes the lookup, then hits the unique constraint."""
    _, token = sender
    first = post(client, token, GOOD)
    before = row_counts()
    real_find = ops.find_transfer
    calls = []

    def find_not_yet_committed(api_client, reference):
        calls.append(reference)
        return None if len(calls) == 1 else real_find(api_client, reference)

    monkeypatch.setattr(ops, "find_transfer", find_not_yet_committed)
    resp = post(client, token, GOOD)

    assert len(calls) == 2
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["case_number"] == first.get_json()["case_number"]
    assert row_counts() == before


def test_failure_after_filing_saves_nothing(client, sender, spec, monkeypatch):
    _, token = sender
    before = row_counts()
    real_file_case = ops.file_case

    def file_then_fail(*args, **kwargs):
        real_file_case(*args, **kwargs)
        db.session.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(ops, "file_case", file_then_fail)
    resp = post(client, token, GOOD)

    assert_problem(resp, 500)
    assert_documented(spec, resp)
    assert row_counts() == before
    monkeypatch.setattr(ops, "file_case", real_file_case)
    assert post(client, token, GOOD).status_code == 201


# --- refused requests ---------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    pytest.param({}, id="no-header"),
    pytest.param({"Authorization": "Bearer"}, id="empty-bearer"),
    pytest.param({"Authorization": "Bearer odr_not-a-real-token"}, id="garbage"),
    pytest.param({"Authorization": "Bearer " + "x" * 500}, id="huge"),
    pytest.param({"Authorization": "Basic aG90bGluZTpzZWNyZXQ="}, id="basic"),
])
def test_missing_or_unknown_token_is_refused(client, sender, spec, headers):
    before = row_counts()
    resp = client.post(URL, json=GOOD, headers=headers)
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="odr"'
    assert_documented(spec, resp)
    assert row_counts() == before


def test_real_token_under_another_scheme_is_refused(client, sender):
    _, token = sender
    resp = client.post(URL, json=GOOD, headers={"Authorization": f"Token {token}"})
    assert_problem(resp, 401)


def test_a_courts_token_is_refused(client, issue_token, make_org, spec):
    _, token = issue_token("court-system", make_org(type=OrgType.court, name="District court"))
    before = row_counts()
    for resp in (post(client, token, GOOD), client.get(f"{URL}/{GOOD['reference']}",
                                                       headers={"Authorization": f"Bearer {token}"})):
        assert_problem(resp, 401)
        assert_documented(spec, resp)
    assert row_counts() == before


def test_revoked_token_is_refused(client, sender, spec):
    api_client, token = sender
    assert post(client, token, with_changes(reference="before-revoke")).status_code == 201
    ops.revoke_api_token(api_client)
    db.session.commit()
    before = row_counts()

    for body in (GOOD, with_changes(reference="before-revoke")):
        resp = post(client, token, body)
        assert_problem(resp, 401)
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="odr"'
        assert_documented(spec, resp)
    assert row_counts() == before


@pytest.mark.parametrize("kw", [
    pytest.param({"data": json.dumps(GOOD), "content_type": "text/plain"}, id="text"),
    pytest.param({"data": GOOD}, id="form-encoded"),
    pytest.param({}, id="no-body"),
])
def test_non_json_is_refused(client, sender, spec, kw):
    _, token = sender
    before = row_counts()
    resp = post(client, token, **kw)
    assert_problem(resp, 415)
    assert_documented(spec, resp)
    assert row_counts() == before


@pytest.mark.parametrize("raw", [
    pytest.param(json.dumps([GOOD]), id="array"),
    pytest.param(json.dumps("HL-1"), id="string"),
    pytest.param("42", id="number"),
    pytest.param("null", id="null"),
    pytest.param('{"reference": "HL-1",', id="broken"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
])
def test_body_that_is_not_an_object_is_refused(client, sender, spec, raw):
    _, token = sender
    before = row_counts()
    resp = post(client, token, data=raw, content_type="application/json")
    assert assert_problem(resp, 400)["detail"] == "The body must be a JSON object."
    assert_documented(spec, resp)
    assert row_counts() == before


#: JSON nested deeper than Python's parser can recurse (it raised RecursionError: a 500).
DEEP_ARRAYS = "[" * 5000 + "]" * 5000
DEEP_OBJECTS = '{"a": ' * 5000 + "1" + "}" * 5000


@pytest.mark.parametrize("raw", [
    pytest.param(DEEP_ARRAYS, id="arrays"),
    pytest.param(DEEP_OBJECTS, id="objects"),
    pytest.param(json.dumps({**GOOD, "description": json.loads("[" * 33 + "]" * 33)}), id="a-field-33-deep"),
    pytest.param("[" * 5000, id="unclosed"),
])
def test_deeply_nested_json_is_refused_before_parsing(client, sender, spec, raw):
    _, token = sender
    before = row_counts()
    resp = post(client, token, data=raw, content_type="application/json")
    assert assert_problem(resp, 400)["detail"] == "The JSON is nested more than 32 levels deep."
    assert_documented(spec, resp)
    assert row_counts() == before


def test_nesting_up_to_the_limit_is_parsed(client, sender):
    _, token = sender
    # 32 levels in all: the body, a field holding 31 (refused as a field of the wrong type, not as JSON).
    resp = post(client, token, with_changes(description=json.loads("[" * 31 + "]" * 31)))
    assert assert_problem(resp, 422)["errors"] == [{"field": "description", "message": "must be a string"}]
    brackets_in_text = with_changes(description="[[[[" * 20 + "{{{{" * 20 + " loud music every night")
    assert post(client, token, brackets_in_text).status_code == 201


def test_too_large_body_is_refused(app, client, sender, spec):
    _, token = sender
    app.config["MAX_CONTENT_LENGTH"] = 1000
    before = row_counts()
    resp = post(client, token, with_changes(description="Loud music. " * 100))
    assert_problem(resp, 413)
    assert_documented(spec, resp)
    assert row_counts() == before


# Each: the change to a good body, the fields the 422 must name, whether the document's
# request schema can tell (phone validity, districts from configuration and the
# largest amount as a string are checked by the server only).
INVALID = [
    pytest.param({"priority": "high"}, ["priority"], True, id="unknown-field"),
    pytest.param({"claimant_name": ["Wang", "Fang"]}, ["claimant_name"], True, id="list"),
    pytest.param({"description": {"text": "Loud music every night"}}, ["description"], True, id="object"),
    pytest.param({"claim": True}, ["claim"], True, id="bool"),
    pytest.param({"reference": 42}, ["reference"], True, id="number-for-text"),
    pytest.param({"amount_claimed": False}, ["amount_claimed"], True, id="bool-amount"),
    pytest.param({"amount_claimed": [12]}, ["amount_claimed"], True, id="list-amount"),
    pytest.param({"claimant_phone": "12345"}, ["claimant_phone"], False, id="bad-phone"),
    pytest.param({"respondent_phone": "+86 abc"}, ["respondent_phone"], False, id="phone-letters"),
    pytest.param({"respondent_email": "li.lei.example.com"}, ["respondent_email"], True, id="bad-email"),
    pytest.param({"amount_claimed": "-5"}, ["amount_claimed"], True, id="negative-string"),
    pytest.param({"amount_claimed": -5}, ["amount_claimed"], True, id="negative-number"),
    pytest.param({"amount_claimed": "12.345"}, ["amount_claimed"], True, id="3-decimals-string"),
    pytest.param({"amount_claimed": 12.345}, ["amount_claimed"], True, id="3-decimals-number"),
    pytest.param({"amount_claimed": "NaN"}, ["amount_claimed"], True, id="nan"),
    pytest.param({"amount_claimed": "Infinity"}, ["amount_claimed"], True, id="infinity"),
    pytest.param({"amount_claimed": "-Infinity"}, ["amount_claimed"], True, id="minus-infinity"),
    pytest.param({"amount_claimed": "twelve"}, ["amount_claimed"], True, id="words"),
    pytest.param({"amount_claimed": 10 ** 12}, ["amount_claimed"], True, id="too-large-number"),
    pytest.param({"amount_claimed": "1000000000000"}, ["amount_claimed"], False, id="too-large-string"),
    pytest.param({"category": "weather"}, ["category"], True, id="unknown-category"),
    pytest.param({"district": "Gotham"}, ["district"], False, id="unknown-district"),
    pytest.param({"description": "x" * 4001}, ["description"], True, id="description-too-long"),
    pytest.param({"description": "Too short"}, ["description"], True, id="description-too-short"),
    pytest.param({"claim": "y" * 2001}, ["claim"], True, id="claim-too-long"),
    pytest.param({"claim": "Pay me\x07 now"}, ["claim"], True, id="control-character"),
    pytest.param({"claimant_name": "W" * 101}, ["claimant_name"], True, id="name-too-long"),
    pytest.param({"respondent_email": "a" * 250 + "@x.cn"}, ["respondent_email"], True, id="email-too-long"),
    pytest.param({"reference": "R" * 65}, ["reference"], True, id="reference-too-long"),
    pytest.param({"reference": "HL 1/2"}, ["reference"], True, id="reference-characters"),
    pytest.param({"claimant_name": None}, ["claimant_name"], True, id="null-required"),
    pytest.param({"claimant_phone": _DROP}, ["claimant_phone"], True, id="claimant-unreachable"),
    pytest.param({"respondent_email": "   "}, ["respondent_phone"], True, id="respondent-unreachable"),
    *(pytest.param({field: _DROP}, [field], True, id=f"missing-{field}") for field in
      ("reference", "category", "description", "claim", "district", "claimant_name", "respondent_name")),
]


@pytest.mark.parametrize(("changes", "fields", "schema_refuses"), INVALID)
def test_invalid_transfer_is_refused_and_writes_nothing(client, sender, spec, changes, fields, schema_refuses):
    _, token = sender
    body = with_changes(**changes)
    before = row_counts()

    resp = post(client, token, body)

    problem = assert_problem(resp, 422)
    assert_documented(spec, resp)
    assert {e["field"] for e in problem["errors"]} == set(fields)
    assert all(e["message"] for e in problem["errors"])
    assert row_counts() == before
    if schema_refuses:
        assert not request_validator(spec).is_valid(body), "the document's request schema accepts a refused body"


def test_empty_object_names_every_required_field(client, sender, spec):
    _, token = sender
    resp = post(client, token, {})
    problem = assert_problem(resp, 422)
    assert_documented(spec, resp)
    assert {e["field"] for e in problem["errors"]} == {
        "reference", "category", "description", "claim", "district", "claimant_name", "respondent_name",
        "claimant_phone", "respondent_phone"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_numbers_are_refused(client, sender, literal):
    """Python's JSON parser reads these; they must not become amounts."""
    _, token = sender
    before = row_counts()
    raw = json.dumps(with_changes(amount_claimed=_DROP))[:-1] + f', "amount_claimed": {literal}}}'
    resp = post(client, token, data=raw, content_type="application/json")
    assert {e["field"] for e in assert_problem(resp, 422)["errors"]} == {"amount_claimed"}
    assert row_counts() == before


@pytest.mark.parametrize(("body", "status", "title"), [
    pytest.param(None, 401, "Please sign in.", id="401"),
    pytest.param("text", 415, "This kind of content is not accepted here.", id="415"),
    pytest.param([], 400, "The request could not be understood.", id="400"),
    pytest.param({"x": 1}, 422, "Some values are not valid.", id="422-types"),
    pytest.param({}, 422, "Some values are not valid.", id="422-values"),
    pytest.param(GOOD, 413, "What you sent is too large.", id="413"),
    pytest.param(GOOD, 429, "Too many attempts. Please wait a little and try again.", id="429"),
])
def test_problems_are_in_english_whatever_the_site_language(app, client, sender, body, status, title):
    """The platform speaks Chinese by default; machines get English titles and messages."""
    _, token = sender
    if status == 413:
        app.config["MAX_CONTENT_LENGTH"] = 100
    if status == 429:
        app.config["INTAKE_RATE_LIMIT"] = "1 per minute"
        post(client, token, body)
    if body is None:
        resp = client.post(URL, json=GOOD)
    elif body == "text":
        resp = post(client, token, data="x", content_type="text/plain")
    else:
        resp = post(client, token, body)
    problem = assert_problem(resp, status)
    assert problem["title"] == title
    assert all(e["message"].isascii() for e in problem.get("errors", []))


def test_wrong_types_are_named_together(client, sender):
    _, token = sender
    resp = post(client, token, with_changes(claimant_name=1, respondent_name={}, amount_claimed=True, extra="x"))
    assert sorted(map(tuple, (e.values() for e in assert_problem(resp, 422)["errors"]))) == [
        ("amount_claimed", "must be a string or a number"), ("claimant_name", "must be a string"),
        ("extra", "unknown field"), ("respondent_name", "must be a string")]


def test_rate_limit_per_sender(app, client, issue_token, spec):
    app.config["INTAKE_RATE_LIMIT"] = "2 per minute"
    _, token = issue_token("hotline-12345")
    _, other_token = issue_token("police-110")

    # Guessing tokens spends the budget of the guessing address, not the sender's nor other addresses'.
    assert [post(client, "odr_guess", GOOD).status_code for _ in range(3)] == [401, 401, 429]
    assert post(client, "odr_guess", GOOD, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 401

    assert post(client, token, GOOD).status_code == 201
    assert post(client, token, GOOD).status_code == 200
    before = row_counts()
    refused = post(client, token, with_changes(reference="HL-2"))
    assert_problem(refused, 429)
    assert_documented(spec, refused)
    assert row_counts() == before

    assert post(client, other_token, GOOD).status_code == 201


# --- the document agrees with the code ------------------------------------------------

def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(spec).validate()
    broken = copy.deepcopy(spec)
    del broken["paths"][URL]["post"]["responses"]["201"]["description"]
    with pytest.raises(OpenAPIValidationError):
        OpenAPIV31SpecValidator(broken).validate()


def test_documented_paths_exist(app, spec):
    """Every documented operation is a route (path parameters compared by position)."""
    routes = {(re.sub(r"<(?:[^:>]+:)?[^>]+>", "{}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() for method in rule.methods}
    documented = {(re.sub(r"\{[^}]+\}", "{}", path), method) for path, item in spec["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert documented <= routes
    assert {(URL, "post"), ("/healthz", "get")} <= documented


def test_request_schema_matches_the_form(app, spec):
    schema = spec["components"]["schemas"]["IntakeRequest"]
    resolved = {name: spec["components"]["schemas"][prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
                for name, prop in schema["properties"].items()}
    assert schema["additionalProperties"] is False
    assert set(resolved) == intake.FIELDS

    with app.test_request_context():
        form = TransferForm(meta={"csrf": False})
    assert set(intake.FIELDS) - intake.WHERE_FIELDS == {f.name for f in form}
    required = {f.name for f in form if any(isinstance(v, DataRequired) for v in f.validators)}
    assert set(schema["required"]) == required
    for field in form:
        lengths = [v for v in field.validators if isinstance(v, Length)]
        if lengths:
            assert resolved[field.name].get("maxLength") == lengths[0].max, field.name
            if lengths[0].min > 0:
                assert resolved[field.name].get("minLength") == lengths[0].min, field.name
    assert resolved["category"]["enum"] == [c.value for c in Category]
    regexps = [v for v in form.reference.validators if isinstance(v, Regexp)]
    assert resolved["reference"]["pattern"] == regexps[0].regex.pattern

    answer = spec["components"]["schemas"]["CaseAnswer"]["properties"]
    assert answer["stage"]["enum"] == [s.value for s in Stage]
    assert set(answer["invitations"]["properties"]) == {s.value for s in Side}


def test_request_examples_are_accepted(client, sender, spec):
    _, token = sender
    examples = spec["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert examples
    validator = request_validator(spec)
    assert validator.is_valid(GOOD)
    for name, example in examples.items():
        validator.validate(example["value"])
        resp = post(client, token, example["value"])
        assert resp.status_code == 201, (name, resp.get_data(as_text=True))
        assert_documented(spec, resp)


def test_response_examples_match_their_schemas(spec):
    for status, response in spec["paths"][URL]["post"]["responses"].items():
        for media_type, content in response["content"].items():
            validator = spec_validator(spec, "paths", URL, "post", "responses", status, "content", media_type,
                                       "schema")
            examples = [content["example"]] if "example" in content else []
            for example in content.get("examples", {}).values():
                if "$ref" in example:
                    example = spec["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
                examples.append(example["value"])
            assert examples, f"{status} {media_type} has no example"
            for example in examples:
                validator.validate(example)
                if media_type == "application/problem+json":
                    assert example["status"] == int(status)


def test_documented_schemas_can_refuse(spec):
    """The response checks above are not vacuous: a wrong answer fails them."""
    created = spec_validator(spec, "paths", URL, "post", "responses", "201", "content", "application/json", "schema")
    good = {"case_number": "ODR-2026-000001", "url": "http://odr.test/cases/ODR-2026-000001", "reference": "R1",
            "stage": "consultation", "status": "open", "outcome": None, "invitations": {},
            "response": {"received_at": "2026-11-23T01:00:00Z",
                         "accept": {"at": None, "seconds": None, "target_seconds": 60, "met": None},
                         "contact": {"at": None, "seconds": None, "target_seconds": 180, "met": None}}}
    assert created.is_valid(good)
    assert not created.is_valid({**good, "case_number": "ODR-26-1"})
    assert not created.is_valid({**good, "extra": 1})
    assert not created.is_valid({k: v for k, v in good.items() if k != "invitations"})
    refused = spec_validator(spec, "paths", URL, "post", "responses", "422", "content", "application/problem+json",
                             "schema")
    assert not refused.is_valid({"type": "about:blank", "title": "x", "status": 422})
    assert not refused.is_valid({"type": "about:blank", "title": "x", "status": 422, "errors": [{"field": "a"}]})


def test_health_check_is_documented(client, spec):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert_documented(spec, resp, path="/healthz", method="get")
    assert spec["paths"]["/healthz"]["get"]["security"] == []


def test_bearer_scheme_is_documented(spec):
    scheme = spec["components"]["securitySchemes"]["bearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["paths"][URL]["post"]["security"] == [{"bearerToken": []}]


def test_a_nul_byte_is_never_looked_up(client, sender, login, make_user):
    """PostgreSQL text cannot hold NUL: looking one up answered 500 there (found by the fuzz tests of
    tests/ops/test_bad_input.py, a reference and a dashboard search). Nothing holds one, so nothing
    is found, on both databases."""
    _, token = sender
    resp = client.get("/api/v1/intake/HL%00", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"
    login(client, make_user(role=Role.admin))
    assert client.get("/ops/cases?q=ODR%00").status_code == 200
    before = row_counts()
    assert post(client, token, {**GOOD, "reference": "HL-\x00"}).status_code == 422
    assert row_counts() == before
