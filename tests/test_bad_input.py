"""Random and hostile values posted to every form and to the intake API.

Whatever arrives, the answer is never a 500, and a refused request (4xx)
leaves no row behind in any table.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.extensions import db, limiter
from odr.validation import DB_INT_MAX, is_database_id
from tests.conftest import sign_in_cookie

HOSTILE = [
    "", " ", "\x00", "\x1b[31m", "<script>alert(1)</script>", "' OR 1=1 --", "9" * 400, "-1", "-0.01",
    "1e309", "NaN", "Infinity", "-Infinity", "１２３", "²", "1²", "+8613800138000", "13800138000", "a@b.c", "x@example.com",
    "😀" * 300, "\u202e", "../../etc/passwd", "%00", "null", "[]", "{}", "0.001", "99999999999999999999",
    "12.5", "neighbour", "assessment", "withdrawn", "zh", "en", "//evil.example", "x" * 5000,
]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80))
JSON_VALUES = st.one_of(VALUES, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                        st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                              max_size=2))
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])

DISPUTE = ["category", "description", "claim", "amount_claimed", "district", "respondent_name",
           "respondent_phone", "respondent_email"]
FORMS = {
    # name: (url, signed-in as, fields)
    "signup": ("/auth/signup", None, ["contact", "name", "password", "confirm", "next"]),
    "login": ("/auth/login", None, ["contact", "password", "next"]),
    "code": ("/auth/code", None, ["contact", "next"]),
    "code_verify": ("/auth/code/verify", None, ["contact", "code", "name", "next"]),
    "lang": ("/lang", None, ["lang", "next"]),
    "new_case": ("/cases/new", "claimant", DISPUTE),
    "move": ("/cases/{number}/move", "claimant", ["to", "reason"]),
    "route": ("/cases/{number}/route", "staff", ["organization"]),
    "decline": ("/cases/join/{token}/decline", "other", ["reason"]),
    "counter": ("/staff/cases/new", "staff", DISPUTE + ["claimant_name", "claimant_phone", "claimant_email"]),
}


def snapshot():
    """Row counts of every table, in one statement: a request is counted before and after, and
    asking table by table (some 80 queries each time) was most of these tests' time on PostgreSQL."""
    tables = db.metadata.sorted_tables
    counts = db.session.execute(sa.select(*[sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
                                            for t in tables])).one()
    return dict(zip([t.name for t in tables], counts))


@pytest.fixture
def world(make_user, make_org, make_case):
    center = make_org(takes_intake=True)
    staff = make_user(Role.staff, center)
    claimant = make_user()
    case = make_case(claimant=claimant, organization=center)
    client_, token = ops.issue_api_token("fuzz-hotline", center)
    db.session.commit()
    return {"claimant": claimant, "staff": staff, "other": make_user(), "number": case.number,
            "token": case.respondent.invite_token, "api_token": token}


def _post(app, world, url, as_user, **kwargs):
    limiter.reset()
    client = app.test_client()
    if as_user:
        with client.session_transaction() as session:
            sign_in_cookie(session, world[as_user])
    db.session.expire_all()
    before = snapshot()
    resp = client.post(url.format(**world), **kwargs)
    db.session.expire_all()
    after = snapshot()
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]
    if resp.status_code >= 400:
        assert after == before, f"refused with {resp.status_code} but rows changed: {before} -> {after}"
    return resp


@pytest.mark.parametrize("form", FORMS)
@FUZZ
@given(data=st.data())
def test_forms_answer_hostile_input_without_500_or_partial_records(app, world, form, data):
    url, as_user, fields = FORMS[form]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
    payload = {f: data.draw(VALUES, label=f) for f in chosen}
    _post(app, world, url, as_user, data=payload)


@FUZZ
@given(body=st.dictionaries(
    st.one_of(st.sampled_from(["reference", "category", "description", "claim", "amount_claimed", "district",
                               "claimant_name", "claimant_phone", "claimant_email", "respondent_name",
                               "respondent_phone", "respondent_email"]), st.text(max_size=10)),
    JSON_VALUES, max_size=12))
def test_intake_api_answers_hostile_json_without_500_or_partial_records(app, world, body):
    resp = _post(app, world, "/api/v1/intake", None, data=json.dumps(body),
                 headers={"Authorization": f"Bearer {world['api_token']}", "Content-Type": "application/json"})
    if resp.status_code >= 400:
        assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize("raw, content_type", [
    (b"{", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'"text"', "application/json"),
    (b"a=b", "application/x-www-form-urlencoded"),
    (b"{}" + b" " * (3 * 1024 * 1024), "application/json"),
])
def test_intake_api_refuses_malformed_bodies(app, world, raw, content_type):
    resp = _post(app, world, "/api/v1/intake", None, data=raw,
                 headers={"Authorization": f"Bearer {world['api_token']}", "Content-Type": content_type})
    assert 400 <= resp.status_code < 500 and resp.content_type == "application/problem+json"


def test_oversized_form_is_refused_with_413(app, world):
    resp = _post(app, world, "/cases/new", "claimant", data={"description": "x" * (3 * 1024 * 1024)})
    assert resp.status_code == 413


@pytest.mark.parametrize("url", ["/consult/c/99999999999999999999", "/consult/c/2147483648",
                                 "/mediate/orgs/99999999999999999999", "/mediate/offers/2147483648"])
def test_ids_beyond_the_database_integer_range_are_404(app, world, url):
    client = app.test_client()
    with client.session_transaction() as session:
        sign_in_cookie(session, world["claimant"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("value, ok", [(1, True), (DB_INT_MAX, True), (DB_INT_MAX + 1, False), (2**70, False),
                                       (0, False), (-1, False), (True, False), (False, False), (1.0, False),
                                       ("1", False), (None, False)])
def test_one_check_says_what_can_be_a_row_id(value, ok):
    assert is_database_id(value) is ok
