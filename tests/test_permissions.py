"""Every route × every role (and anonymous): who gets the page, who is refused, and how.

A party who guesses another case's number gets 404 (they may not learn it
exists); someone who may see a case but not do this gets 403 (or 409 when the
workflow refuses the move). The last test fails when a route is added to the
app without a row here.
"""

from __future__ import annotations

import importlib
import io
import time

import pytest

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import OrgType, Outcome, Stage
from odr.assess import operations as assess_ops
from odr.cases.models import Category
from odr.consult import operations as consult_ops
from odr.consult.models import Article
from odr.extensions import db, limiter
from tests.cases import permissions_representation as representatives
from tests.conftest import empty_tables, sign_in_cookie
from tests.snapshot import Snapshot
from tests.permission_rows import (
    REPRESENTATIVES, ROLES, case_view, everyone, only, representative_expected, staff_only,
)

#: The smallest valid PNG (1×1 pixel).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")

SIGNED_IN = [r for r in ROLES if r != "anon"]


# The consultation is the claimant's, taken by the consultant; the assessed case is in assessment.
CHAT = {"claimant": 200, "consultant": 200, "admin": 403}
PARTIES_OF_ASSESSED = {"claimant": 200, "respondent": 200, "staff": 403, "admin": 403}
CONSULT_ROWS = [
    ("GET", "/consult/", None, everyone(200, anon=302)),
    ("POST", "/consult/", {}, everyone(400, anon=302)),
    ("GET", "/consult/c/{cid}", None, only(CHAT)),
    ("POST", "/consult/c/{cid}/end", None, only({"claimant": 303, "consultant": 303, "admin": 403})),
    ("POST", "/consult/c/{cid}/rate", {"stars": "5"}, only({"claimant": 409, "consultant": 409, "admin": 403})),
    ("POST", "/consult/c/{cid}/attachments", None, only({"claimant": 400, "consultant": 400, "admin": 403})),
    ("GET", "/consult/c/{cid}/attachments/{aid}", None, only(CHAT)),
    ("GET", "/consult/c/{cid}/case", None, only({"claimant": 200, "consultant": 403, "admin": 403})),
    ("POST", "/consult/c/{cid}/case", {}, only({"claimant": 400, "consultant": 403, "admin": 403})),
    ("GET", "/consult/desk", None, only({"consultant": 200}, default=403)),
    ("POST", "/consult/desk/duty", {"on_duty": "1"}, only({"consultant": 303}, default=403)),
    ("POST", "/consult/desk/take", None, only({"consultant": 303}, default=403)),
    ("GET", "/consult/kb", None, everyone(200)),
    ("GET", "/consult/kb/{slug}", None, everyone(200)),
    ("GET", "/consult/kb/{slug}/edit", None, only({"admin": 200}, default=403)),
    ("POST", "/consult/kb/{slug}/edit", {}, only({"admin": 400}, default=403)),
    ("GET", "/assess/{assessed}/questionnaire", None, only(PARTIES_OF_ASSESSED)),
    ("POST", "/assess/{assessed}/questionnaire", {}, only(PARTIES_OF_ASSESSED | {"claimant": 400, "respondent": 400})),
    ("GET", "/assess/{assessed}/result/{assessment}", None,
     only({"claimant": 200, "respondent": 200, "staff": 200, "admin": 200})),
    ("POST", "/assess/{assessed}/result/{assessment}/choose", {"path": "mediation"},
     only(PARTIES_OF_ASSESSED | {"claimant": 303, "respondent": 303})),
]

STAGE_PREFIXES = ["consult", "assess", "mediate", "arbitrate", "court"]  # video has rooms, not a stage page

#: Feature packages add their rows from their own test folders: each module has ``ROWS``
#: (as below), ``CHANGES_STATE`` (URL endings whose requests change state) and
#: ``extend(users, cases, values)``, which adds what its rows need to the world and puts the
#: ids the URLs use into ``values``. A module may name the values it provides in ``PROVIDES``:
#: then its ``extend`` runs only for the rows whose URL or form uses one of them (a world is
#: built for every row, so what only a few rows need is not built for all the others).
EXTENSIONS = [importlib.import_module(name) for name in (
    "tests.mediate.permissions_assign",
    "tests.mediate.permissions_room",
    "tests.mediate.permissions_sessions",
    "tests.mediate.permissions_outcome",
    "tests.documents.permissions_signing",
    "tests.documents.permissions_checkpoints",
    "tests.court.permissions_court",
    "tests.court.permissions_complaint",
    "tests.video.permissions_video",
    "tests.ops.permissions_ops",
    "tests.arbitrate.permissions_arbitrate",
    "tests.negotiate.permissions_negotiate",
    "tests.perform.permissions_perform",
    "tests.survey.permissions_survey",
    "tests.field.permissions_field",
    "tests.cases.permissions_representation",
    "tests.identity.permissions_identity",
    "tests.cases.permissions_service",
)]

#: (method, url template, form data, expected status per role)
MATRIX = [
    ("GET", "/", None, everyone(200)),
    ("GET", "/healthz", None, everyone(200)),
    ("POST", "/lang", {"lang": "en"}, everyone(303)),
    ("GET", "/static/odr.css", None, everyone(200)),
    ("GET", "/auth/signup", None, everyone(200)),
    ("POST", "/auth/signup", {}, everyone(400)),
    ("GET", "/auth/login", None, everyone(200)),
    ("POST", "/auth/login", {}, everyone(400)),
    ("GET", "/auth/code", None, everyone(200)),
    ("POST", "/auth/code", {}, everyone(400)),
    ("POST", "/auth/code/verify", {}, everyone(400)),
    ("POST", "/auth/logout", None, everyone(303, anon=302)),
    ("GET", "/auth/account", None, everyone(200, anon=302)),
    ("POST", "/auth/account/password", {}, everyone(400, anon=302)),
    ("POST", "/auth/account/sessions/end", {}, everyone(303, anon=302)),
    ("GET", "/cases/start", None, everyone(303, anon=302)),
    ("POST", "/elderly", {}, everyone(303)),
    ("GET", "/favicon.ico", None, everyone(200)),
    ("GET", "/manifest.webmanifest", None, everyone(200)),
    ("GET", "/cases/", None, everyone(200, anon=302)),
    ("GET", "/cases/new", None, everyone(200, anon=302)),
    ("POST", "/cases/new", {}, everyone(400, anon=302)),
    ("GET", "/cases/{open}", None, case_view()),
    ("GET", "/cases/{handed}", None, case_view(court_clerk=200, mediator=404)),
    # The QR of a pending invitation: the claimant and the center may share it; the mediator sees
    # the case but does not hand out seats in it.
    ("GET", "/cases/{pending}/invitation/respondent.svg", None,
     case_view(respondent=404, mediator=403)),
    ("GET", "/cases/{open}/invitation/respondent.svg", None,  # already joined: no invitation any more
     case_view(claimant=404, respondent=403, staff=404, mediator=403, admin=404)),
    ("POST", "/cases/{open}/move", {"to": "withdrawn"},
     case_view(claimant=303, respondent=409, staff=303, mediator=409, admin=303)),
    ("POST", "/cases/{open}/route", {"organization": "{other_org}"},
     case_view(claimant=403, respondent=403, staff=303, mediator=403, admin=303)),
    # Whoever holds the invitation link may answer it, except the other side of the same case.
    ("GET", "/cases/join/{token}", None, everyone(200)),
    ("POST", "/cases/join/{token}/accept", None, everyone(303, anon=302) | {"claimant": 409}),
    ("POST", "/cases/join/{token}/decline", {"reason": "No time."}, everyone(303, anon=302) | {"claimant": 409}),
    ("GET", "/cases/declined/{open}", None, everyone(200, anon=302)),
    ("GET", "/staff/", None, staff_only(200)),
    ("GET", "/staff/cases/new", None, staff_only(200)),
    ("POST", "/staff/cases/new", {}, staff_only(400)),
    ("POST", "/api/v1/intake", {}, everyone(401)),
] + CONSULT_ROWS + [("GET", f"/{p}/{{open}}", None, case_view()) for p in STAGE_PREFIXES] \
  + [("GET", f"/{p}/{{handed}}", None, case_view(court_clerk=200, mediator=404)) for p in STAGE_PREFIXES] \
  + [row for module in EXTENSIONS for row in module.ROWS]


@pytest.fixture
def make_world(make_user, make_org, make_case):
    return lambda uses=None: build_world(make_user, make_org, make_case, uses)


@pytest.fixture
def world(make_world):
    return make_world()


def build_world(make_user, make_org, make_case, uses: str | None = None):
    """The world every row is tried in; ``uses`` (a row's URL and form) skips extensions it does not need."""
    center = make_org(takes_intake=True, name="Center")
    other_org = make_org(name="Elsewhere")
    court, other_court = make_org(OrgType.court, name="Court"), make_org(OrgType.court, name="Other court")
    users = {
        "outsider": make_user(),
        "claimant": make_user(),
        "respondent": make_user(),
        "staff": make_user(Role.staff, center),
        "other_staff": make_user(Role.staff, other_org),
        "mediator": make_user(Role.mediator, center),
        "other_mediator": make_user(Role.mediator, center),
        "court_clerk": make_user(Role.court_clerk, court),
        "other_clerk": make_user(Role.court_clerk, other_court),
        "consultant": make_user(Role.consultant),
        "admin": make_user(Role.admin),
        "agent": make_user(name="Agent"),
        "helper": make_user(name="Helper"),
    }
    staff = users["staff"]
    open_case = make_case(claimant=users["claimant"], respondent=users["respondent"], organization=center,
                          stages=(Stage.assessment, Stage.mediation))
    ops.assign_handler(open_case, staff, mediator=users["mediator"])
    pending = make_case(claimant=users["claimant"], organization=center)
    ops.assign_handler(pending, staff, mediator=users["mediator"])
    handed = make_case(claimant=users["claimant"], respondent=users["respondent"], organization=center,
                       stages=(Stage.assessment, Stage.litigation))
    ops.assign_handler(handed, staff, court=court)
    workflow.move(handed, Outcome.handed_to_court, staff)
    assessed = make_case(claimant=users["claimant"], respondent=users["respondent"], organization=center,
                         stages=(Stage.assessment,))
    assessment = assess_ops.complete(assessed, users["claimant"], {"other_side": "talking", "evidence": "some"})
    consultation = consult_ops.start(users["claimant"], "Deposit", Category.property)
    consult_ops.take(consultation, users["consultant"])
    attachment = consult_ops.attach(consultation, users["claimant"], io.BytesIO(PNG), "photo.png")
    db.session.add(Article(slug="deposit", lang="zh", title="押金", category=Category.property, body="押金"))
    db.session.commit()
    values = {"open": open_case.number, "pending": pending.number, "handed": handed.number,
              "token": pending.respondent.invite_token, "other_org": str(other_org.id),
              "assessed": assessed.number, "assessment": str(assessment.id), "cid": str(consultation.id),
              "aid": str(attachment.id), "slug": "deposit"}
    cases = {"open": open_case, "pending": pending, "handed": handed, "assessed": assessed,
             "center": center, "other_org": other_org}
    for module in _extensions_for(uses):
        module.extend(users, cases, values)
    representatives.appoint_in_world(users, open_case)
    db.session.commit()
    return users, values


def _extensions_for(uses: str | None) -> list:
    """The extension modules a world is built with: those providing a value ``uses`` names, those
    that provide none by name, and all of them when ``uses`` is not given."""
    return [module for module in EXTENSIONS
            if uses is None or getattr(module, "PROVIDES", None) is None
            or any(f"{{{name}}}" in uses for name in module.PROVIDES)]


#: A world, once built, is kept as a database snapshot per set of extensions and put back for each
#: row and after each request that may have changed it; rebuilt when older than this, so that
#: nothing in it with a lifetime (invitation tokens, one-time codes) runs out on a slow machine.
WORLD_SECONDS = 120


@pytest.fixture(scope="module")
def _worlds(_shared_app):
    kept: dict = {}
    yield kept
    with _shared_app.app_context():
        for snapshot, _world, _built in kept.values():
            snapshot.drop()


@pytest.fixture
def fresh_world(app, make_world, _worlds):
    """``fresh_world(uses)``: the world a row needs, as built, with the users as ids (the same
    rows, ids and values each time it is given out)."""

    def give(uses: str | None):
        key = (str(db.engine.url), tuple(module.__name__ for module in _extensions_for(uses)))
        kept = _worlds.get(key)
        if kept is not None and time.monotonic() - kept[2] < WORLD_SECONDS:
            kept[0].restore()
            return kept[0], kept[1]
        if kept is not None:
            kept[0].drop()
            empty_tables()
        users, values = make_world(uses)
        world = ({role: user.id for role, user in users.items()}, values)
        _worlds[key] = (Snapshot(), world, time.monotonic())
        return _worlds[key][0], world

    return give


#: Rows whose successful requests change state: each role gets a fresh world.
CHANGES_STATE = ("/move", "/route", "/accept", "/decline", "/logout", "/end", "/choose", "/take", "/duty") \
    + tuple(ending for module in EXTENSIONS for ending in module.CHANGES_STATE)


def _request(app, world, role, method, url, data):
    user_ids, values = world
    limiter.reset()  # the matrix is about permissions; rate limits have their own tests
    client = app.test_client()
    if role != "anon":
        with client.session_transaction() as session:
            sign_in_cookie(session, user_ids[role])
    url = url.format(**values)
    if data is not None:
        data = {k: v.format(**values) for k, v in data.items()}
    with client.open(url, method=method, data=data) as resp:
        location = resp.location or ""
        return resp.status_code, location


@pytest.mark.parametrize("method, url, data, expected", [pytest.param(*row, id=f"{row[0]} {row[1]}")
                                                         for row in MATRIX])
def test_permission_matrix(app, fresh_world, method, url, data, expected):
    wrong = []
    fresh = method == "POST" and url.endswith(CHANGES_STATE)
    snapshot, world = fresh_world(f"{url} {data}")
    changed = False
    cells = dict(expected)
    for role in ROLES + REPRESENTATIVES:
        # A request that may have changed the world (it was not refused) leaves it to nobody else;
        # a refused one wrote nothing (the bad-input and refusal tests check that), so the next
        # role finds the world as it was.
        if fresh and changed:
            snapshot.restore()
        if role in REPRESENTATIVES:  # on an address of the case they act in, or of another
            on_open_case = world[1]["open"] in url.format(**world[1]).split("/")
            expected = {**cells, role: representative_expected(role, method, on_open_case, cells)}
        status, location = _request(app, world, role, method, url, data)
        changed = status < 400 and not (status == 302 and "/auth/login" in location)
        if status != expected[role] or (status == 302 and "/auth/login" not in location):
            wrong.append(f"{role}: expected {expected[role]}, got {status} {location}")
    assert not wrong, "\n".join(wrong)


class _AnyId(dict):
    """URL values for matching routes only: any name not given is an id."""

    def __missing__(self, key):
        return "1"


def test_matrix_covers_every_route(app):
    covered = set()
    for method, url, _data, _expected in MATRIX:
        adapter = app.url_map.bind("odr.test")
        endpoint, _args = adapter.match(url.format_map(_AnyId(open="ODR-2026-000001", pending="ODR-2026-000002",
                                                              handed="ODR-2026-000003", assessed="ODR-2026-000004",
                                                              token="t", slug="s")),
                                     method=method)
        covered.add((endpoint, method))
    missing = []
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes without a permission row: {missing}"


def test_guessed_case_numbers_are_404_not_403(client, login, world):
    users, values = world
    login(client, users["outsider"])
    real = client.get(f"/cases/{values['open']}")
    fake = client.get("/cases/ODR-2026-999999")
    assert real.status_code == fake.status_code == 404
    # The same page apart from the address itself (echoed in the language switch).
    assert real.get_data(as_text=True).replace(values["open"], "N") == \
        fake.get_data(as_text=True).replace("ODR-2026-999999", "N")
