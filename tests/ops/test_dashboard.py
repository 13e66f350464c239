"""The dashboard: its figures from the summaries, filters, CSV, case search, and who sees what."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest

from odr.auth.models import Role, User
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Category, Organization, Outcome, Stage
from odr.extensions import db
from odr.ops import queries
from tests.ops.conftest import refresh


@dataclass
class World:
    center: Organization
    member: Organization   # reports to the center
    other: Organization    # another center altogether
    manager: User          # of the center
    member_staff: User
    other_staff: User
    admin: User
    mediator: User
    claimant: User
    cases: dict


@pytest.fixture
def world(app, clock, make_org, make_user, make_case) -> World:
    center = make_org(name="Center", takes_intake=True, district="朝阳区")
    member = make_org(name="Member", district="海淀区")
    member.center_id = center.id
    other = make_org(name="Other", district="东城区")
    admin = make_user(Role.admin, name="Admin")
    mediator = make_user(Role.mediator, center, name="Mediator Li")
    claimant = make_user(name="Zhang San")
    respondent = make_user(name="Li Si")
    cases = {}
    # Day 0: three cases in the center (one neighbour, two consumer), one in the member, one elsewhere.
    cases["c1"] = make_case(claimant=claimant, respondent=respondent, organization=center, stages=(Stage.assessment,))
    cases["c2"] = make_case(organization=center, category=Category.consumer)
    cases["c3"] = make_case(organization=center, category=Category.consumer, district="海淀区")
    cases["m1"] = make_case(organization=member, district="海淀区")
    cases["o1"] = make_case(organization=other, district="东城区")
    clock.advance(days=2)
    workflow.move(cases["c1"], Stage.mediation, admin)
    ops.assign_handler(cases["c1"], admin, mediator=mediator)
    clock.advance(days=4)
    workflow.move(cases["c1"], Outcome.settled, mediator)      # 4 days in mediation, settled on day 6
    workflow.move(cases["c2"], Outcome.withdrawn, admin)        # 6 days in consultation
    db.session.commit()
    refresh()
    return World(center, member, other, make_user(Role.manager, center, name="Manager"),
                 make_user(Role.staff, member), make_user(Role.staff, other), admin, mediator, claimant, cases)


def filters(clock, **kw) -> queries.Filters:
    today = clock.now.date()
    return queries.Filters(kw.pop("start", today - timedelta(days=29)), kw.pop("end", today), **kw)


def test_figures_for_everyone_admins_see(world, clock):
    scope = queries.Scope(None, True)
    f = filters(clock)
    assert dict(queries.open_by("stage", scope, f)) == {"consultation": 3}
    assert dict(queries.open_by("category", scope, f)) == {"neighbour": 2, "consumer": 1}
    assert dict(queries.open_by("district", scope, f)) == {"海淀区": 2, "东城区": 1}
    flow = {d: (i, r) for d, i, r in queries.daily_flow(scope, f)}
    start = clock.now.date() - timedelta(days=6)
    assert flow[start] == (5, 0) and flow[clock.now.date()] == (0, 1) and sum(r for _i, r in flow.values()) == 1
    by_stage = {s: (c, r) for s, c, r, _share in queries.resolution_rate("stage", scope, f)}
    assert by_stage == {"mediation": (1, 1), "consultation": (1, 0)}
    medians = {s: (n, m) for s, n, m in queries.median_days(scope, f)}
    assert medians["mediation"] == (1, 4.0) and medians["consultation"] == (2, 3.0)  # (0 + 6) / 2 days
    [row] = queries.mediators(scope, f)
    assert (row.name, row.open, row.closed, row.settled) == ("Mediator Li", 0, 1, 1)


def test_filters_narrow_the_figures(world, clock):
    scope = queries.Scope(None, True)
    assert dict(queries.open_by("stage", scope, filters(clock, category="consumer"))) == {"consultation": 1}
    assert dict(queries.open_by("stage", scope, filters(clock, district="东城区"))) == {"consultation": 1}
    assert dict(queries.open_by("stage", scope, filters(clock, organization_id=world.member.id))) == \
        {"consultation": 1}
    # A period before anything happened.
    early = filters(clock, start=clock.now.date() - timedelta(days=60), end=clock.now.date() - timedelta(days=30))
    assert sum(i for _d, i, _r in queries.daily_flow(scope, early)) == 0


def test_median_of_a_histogram():
    assert queries.histogram_median([(1, 1), (5, 1), (9, 1)]) == 5
    assert queries.histogram_median([(1, 2), (5, 2)]) == 3
    assert queries.histogram_median([(0, 10), (30, 1)]) == 0
    assert queries.histogram_median([]) == 0


def test_manager_sees_the_center_and_its_members_only(world, client, login):
    login(client, world.manager)
    page = client.get("/ops/")
    assert page.status_code == 200
    body = client.get("/ops/export/open_by_organization.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert {r[0] for r in rows[1:]} == {"Center", "Member"}
    assert client.get(f"/ops/?org={world.other.id}").status_code == 404
    assert client.get(f"/ops/?org={world.member.id}").status_code == 200


def test_staff_see_their_organisation_only(world, client, login):
    login(client, world.member_staff)
    rows = list(csv.reader(io.StringIO(client.get("/ops/export/open_by_organization.csv")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["Member"]
    assert client.get(f"/ops/?org={world.center.id}").status_code == 404
    search = client.get("/ops/cases?q=ODR-").get_data(as_text=True)
    assert world.cases["m1"].number in search and world.cases["c3"].number not in search


@pytest.mark.parametrize("who", ["mediator", "claimant"])
def test_parties_and_mediators_never_see_the_dashboard(world, client, login, who):
    login(client, getattr(world, who))
    for url in ("/ops/", "/ops/export/daily.csv", "/ops/cases?q=ODR", "/ops/transfers", "/ops/reports/2026-W45.csv"):
        assert client.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in(world, client):
    resp = client.get("/ops/")
    assert resp.status_code == 302 and "/auth/login" in resp.location


@pytest.mark.parametrize("query, status", [
    ("start=2026-13-01", 400), ("start=yesterday", 400), ("end=2026-01-01&start=2026-02-01", 400),
    ("start=2024-01-01&end=2026-01-01", 400), ("district=Atlantis", 400), ("category=piracy", 400),
    ("org=abc", 400), ("org=99999999999999", 400), ("org=424242", 404), ("red_page=-1", 200),
    ("red_page=99999999999", 200),
])
def test_bad_filters_are_refused_with_a_reason(world, client, login, query, status):
    login(client, world.admin)
    resp = client.get(f"/ops/?{query}")
    assert resp.status_code == status
    csv_resp = client.get(f"/ops/export/daily.csv?{query}")
    assert csv_resp.status_code == status


def test_csv_download(world, client, login, clock):
    login(client, world.admin)
    resp = client.get(f"/ops/export/daily.csv?start={clock.now.date() - timedelta(days=6)}&end={clock.now.date()}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + 7 and rows[1][1:] == ["5", "0"] and rows[-1][1:] == ["0", "1"]
    assert client.get("/ops/export/nothing.csv").status_code == 404


def test_spreadsheet_formulas_in_names_are_defused(world, client, login):
    world.mediator.name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    login(client, world.admin)
    body = client.get("/ops/export/mediators.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body


def test_dashboard_page_shows_red_list_first_and_a_chart_per_figure(world, client, login_en, clock):
    clock.advance(days=10)  # the open consultations are long past their 3 days
    login_en(client, world.admin)
    html = client.get("/ops/").get_data(as_text=True)
    assert html.index('id="red"') < html.index('class="figures"')
    for case in ("c3", "m1", "o1"):
        assert world.cases[case].number in html
    assert "days past the deadline" in html
    # ten figures, voluntary performance by organisation and by category, and the respondents'
    # response by channel and by organisation (odr.cases.service)
    # field dispatch adds 4 tables (odr.cases.figures) with their CSV, mediation its no-shows (1).
    assert html.count("<svg") == 14 and html.count('class="csv"') == 14 + 4 + 1


def test_search_by_number_name_and_phone(world, client, login_en):
    login_en(client, world.admin)
    c1 = world.cases["c1"]
    assert c1.number in client.get(f"/ops/cases?q={c1.number}").get_data(as_text=True)
    assert c1.number in client.get("/ops/cases?q=Zhang").get_data(as_text=True)
    by_phone = client.get("/ops/cases?q=%2B861390013").get_data(as_text=True)  # the respondents' phones
    assert all(world.cases[k].number in by_phone for k in ("c2", "c3", "m1", "o1"))
    assert "No cases." in client.get("/ops/cases?q=nobody").get_data(as_text=True)


def test_case_search_pages_without_counting(world, make_case):
    scope = queries.Scope(None, True)
    for _ in range(4):
        make_case()
    first = queries.search_cases(scope, "ODR-", page=1, per_page=4)
    second = queries.search_cases(scope, "ODR-", page=2, per_page=4)
    third = queries.search_cases(scope, "ODR-", page=3, per_page=4)
    assert first.has_next and second.has_next and not third.has_next
    ids = [c.id for p in (first, second, third) for c in p.items]
    assert len(ids) == len(set(ids)) == 9


def test_search_lists_cases_by_what_matched_each_case_once(world, make_case, make_org):
    org = make_org(name="Elsewhere")
    wei_old, fang, wei_new, hidden = (make_case(organization=org) for _ in range(4))
    names = {wei_old: ("Xq Wei", "Xq Wei"), fang: ("Xq Fang", "Other Side"), wei_new: ("Xq Wei", "Other Side"),
             hidden: ("Xq Aa", "Other Side")}
    for case, (claimant, respondent) in names.items():
        case.claimant.name, case.respondent.name = claimant, respondent
    hidden.organization_id = world.other.id
    db.session.commit()
    everyone, elsewhere = queries.Scope(None, True), queries.Scope(frozenset({org.id}))
    # Names in order, one name's cases newest first; a case whose two parties match, once.
    assert [c.id for c in queries.search_cases(everyone, "Xq").items] == [hidden.id, fang.id, wei_new.id, wei_old.id]
    order = [fang.id, wei_new.id, wei_old.id]  # another organisation's case is not in this scope
    assert [c.id for c in queries.search_cases(elsewhere, "Xq").items] == order
    pages = [queries.search_cases(elsewhere, "Xq", page=k, per_page=1) for k in (1, 2, 3)]
    assert [p.items[0].id for p in pages] == order
    assert pages[0].has_next and pages[1].has_next and not pages[2].has_next
    # Numbers and phones: every case of the scope once, whichever column matched.
    by_phone = queries.search_cases(elsewhere, "+8613900139000", per_page=2)
    assert len(by_phone.items) == 2 and by_phone.has_next
    assert not queries.search_cases(elsewhere, "+8613900139000", page=2, per_page=2).has_next


def test_summaries_follow_new_events_only(world, make_case):
    before = dict(queries.open_by("stage", queries.Scope(None, True), filters_now()))
    make_case()
    assert refresh() > 0
    after = dict(queries.open_by("stage", queries.Scope(None, True), filters_now()))
    assert after["consultation"] == before["consultation"] + 1


def filters_now():
    from odr.timeutil import utcnow

    return queries.Filters(utcnow().date() - timedelta(days=29), utcnow().date())


def test_days_are_counted_exactly_for_four_weeks_then_by_week():
    from odr.ops.summary import days_bucket

    assert [days_bucket(d) for d in (-1, 0, 1, 28, 29, 34, 35, 41, 91, 119, 364, 365, 4000)] == \
        [0, 0, 1, 28, 28, 28, 35, 35, 91, 91, 270, 365, 365]
