"""The to-do list's core (``odr.cases.todo``): the registry features fill, the order, the
invitation a browser opened, the assessment's steps, and where each kind of worker lands after
signing in."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import current_app

from odr.auth.models import Role
from odr.cases import todo
from odr.cases.models import OrgType, Stage
from odr.extensions import db
from tests.conftest import PASSWORD


def kinds(client, path):
    page = client.get(path)
    assert page.status_code == 200, path
    return re.findall(r'data-kind="([a-z_]+)"', page.get_data(as_text=True))


def test_order_live_first_then_deadline_then_rank():
    t = lambda kind, **kw: todo.Todo(kind, kind, "/", **kw)  # noqa: E731
    soon, late = datetime(2026, 11, 3), datetime(2026, 11, 9)
    steps = [t("a", rank=60), t("b", due=late), t("c", rank=5), t("d", due=soon), t("e", due=late, live=True)]
    assert [s.kind for s in todo.ordered(steps)] == ["e", "d", "b", "c", "a"]


def test_a_registered_source_is_asked_only_about_cases_the_person_may_see(app, client, login, make_case, make_user):
    asked = []

    def source(case, user):
        asked.append((case.number, user.id))
        return [todo.Todo("from_test_source", "Do the test step", "/somewhere", case=case)]

    todo.register_source(source)
    todo.register_source(source)  # once
    try:
        claimant, outsider = make_user(), make_user()
        case = make_case(claimant=claimant)
        login(client, claimant)
        assert kinds(client, f"/cases/{case.number}") == ["invite_other_side", "from_test_source"]
        assert asked == [(case.number, claimant.id)]
        login(client, outsider)
        assert client.get(f"/cases/{case.number}").status_code == 404
        assert kinds(client, "/") == []
        with current_app.test_request_context():
            assert todo.for_case(case, outsider) == []
        assert asked == [(case.number, claimant.id)]
    finally:
        todo.SOURCES.remove(source)


def test_an_opened_invitation_waits_on_the_home_page_until_answered(client, make_case, make_user):
    case = make_case()
    token = case.respondent.invite_token
    assert client.get(f"/cases/join/{token}").status_code == 200
    # The invited person signs up on the same phone: the invitation is their first step.
    resp = client.post("/auth/signup", data={"contact": "new@example.com", "name": "New Person",
                                             "password": PASSWORD, "confirm": PASSWORD})
    assert resp.status_code == 303 and resp.location.endswith("/cases/start")
    assert client.get("/cases/start").location.endswith("/")
    assert kinds(client, "/") == ["answer_invitation"]
    assert f"/cases/join/{token}" in client.get("/").get_data(as_text=True)
    assert client.post(f"/cases/join/{token}/accept").status_code == 303
    assert "answer_invitation" not in kinds(client, "/")


def test_assessment_steps_answer_then_choose(client, login, make_case, make_user):
    claimant, respondent = make_user(), make_user()
    case = make_case(claimant=claimant, respondent=respondent, stages=(Stage.assessment,))
    login(client, respondent)
    assert kinds(client, f"/cases/{case.number}") == ["answer_assessment"]
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f"/assess/{case.number}/questionnaire" in page
    assert client.get(f"/assess/{case.number}/questionnaire").status_code == 200
    from odr.assess import operations as assess_ops

    assess_ops.complete(case, respondent, {})
    db.session.commit()
    assert kinds(client, f"/cases/{case.number}") == ["choose_path"]


@pytest.mark.parametrize("role,org_type,landing", [
    (Role.staff, OrgType.peoples_mediation, "/staff/"),
    (Role.mediator, OrgType.peoples_mediation, "/mediate/offers"),
    (Role.consultant, OrgType.peoples_mediation, "/consult/desk"),
    (Role.court_clerk, OrgType.court, "/court/inbox"),
    (Role.arbitrator, OrgType.arbitration_commission, "/arbitrate/"),
    (Role.manager, OrgType.peoples_mediation, "/ops/"),
])
def test_workers_land_on_their_work_after_signing_in(client, make_org, make_user, role, org_type, landing):
    user = make_user(role, make_org(type=org_type))
    resp = client.post("/auth/login", data={"contact": user.email, "password": PASSWORD})
    assert resp.status_code == 303 and resp.location.endswith("/cases/start")
    start = client.get("/cases/start")
    assert start.status_code == 303 and start.location.endswith(landing)
    assert client.get(landing).status_code == 200
    # Their work is also on the home page and in the navigation.
    home = client.get("/").get_data(as_text=True)
    assert f'href="{landing}"' in home


def test_a_worker_who_is_also_a_party_lands_on_the_to_do_list(client, make_org, make_user, make_case):
    staff = make_user(Role.staff, make_org())
    make_case(claimant=staff)
    client.post("/auth/login", data={"contact": staff.email, "password": PASSWORD})
    assert client.get("/cases/start").location.endswith("/")
    assert kinds(client, "/") == ["invite_other_side"]


def test_landing_needs_sign_in(client):
    assert client.get("/cases/start").status_code == 302


def test_home_page_links_services_and_steps_signed_in_or_not(client, login, make_user):
    for _ in range(2):
        page = client.get("/").get_data(as_text=True)
        for link in ("/consult/", "/consult/kb", "/mediate/directory", "/verify", "/cases/new"):
            assert f'href="{link}' in page, link
        assert page.count("<li><a href=") >= 5  # the five steps are links
        login(client, make_user())


def test_claimant_is_reminded_to_invite_until_the_other_side_answers(client, login, make_case, make_user):
    claimant = make_user()
    case = make_case(claimant=claimant)
    login(client, claimant)
    assert kinds(client, "/") == ["invite_other_side"]
    assert f'/cases/{case.number}#parties' in client.get("/").get_data(as_text=True)
    from odr.cases import operations as ops

    ops.join_case(case.respondent, make_user())
    db.session.commit()
    assert kinds(client, "/") == []
    assert 'id="todo-none"' in client.get("/").get_data(as_text=True)
