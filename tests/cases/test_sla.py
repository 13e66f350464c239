"""Service levels: days in stage, deadline and colour by rule, and the staff queue sorted by urgency."""

from __future__ import annotations

from datetime import timedelta

from odr.auth.models import Role
from odr.cases import sla, workflow
from odr.cases.models import Outcome, Stage
from odr.extensions import db


def test_colour_by_rule(clock, app, make_case):
    app.config["SLA_DAYS"] = dict(app.config["SLA_DAYS"], mediation=30)
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    start = clock.now
    assert case.due_at == start + timedelta(days=30)
    mark = sla.of(case)
    assert (mark.colour, mark.days_in_stage, mark.days_left) == ("green", 0, 30)

    clock.advance(days=19, hours=23)  # just under two thirds of 30 days
    assert sla.of(case).colour == "green"
    clock.advance(hours=1)  # day 20: two thirds used
    assert (sla.of(case).colour, sla.of(case).days_left) == ("yellow", 10)
    clock.now = start + timedelta(days=30) - timedelta(seconds=1)
    assert sla.of(case).colour == "yellow"
    clock.now = start + timedelta(days=30)
    assert sla.of(case).colour == "red"
    clock.advance(days=2, hours=1)
    assert (sla.of(case).colour, sla.of(case).days_left, sla.of(case).days_in_stage) == ("red", -3, 32)

    # A new stage starts a new clock; a closed case has no mark.
    workflow.move(case, Stage.litigation, case.claimant.user)
    assert sla.of(case).colour == "green" and case.due_at == clock.now + timedelta(days=15)
    workflow.move(case, Outcome.withdrawn, case.claimant.user)
    assert sla.of(case) is None


def test_staff_queue_most_urgent_first(clock, client, login, make_user, make_org, make_case):
    org = make_org()
    staff = make_user(Role.staff, org)
    old_mediation = make_case(organization=org, stages=(Stage.assessment, Stage.mediation))  # due in 30 days
    clock.advance(days=25)
    new_assessment = make_case(organization=org, stages=(Stage.assessment,))  # due in 7 days
    fresh = make_case(organization=org)  # consultation: due in 3 days
    closed = make_case(organization=org)
    workflow.move(closed, Outcome.withdrawn, closed.claimant.user)
    db.session.commit()
    login(client, staff)
    page = client.get("/staff/?closed=1").get_data(as_text=True)
    order = [page.index(c.number) for c in (fresh, old_mediation, new_assessment, closed)]
    assert order == sorted(order)  # 3 d, 5 d, 7 d left, then the closed one
    assert 'class="sla yellow"' in page  # the mediation case: 25 of 30 days used
    assert page.count('class="sla ') == 3  # closed cases have no mark
