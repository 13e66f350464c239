"""Early-warning rules, case by case (table-driven), and the signals the summary job keeps for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Outcome, Stage
from odr.extensions import db
from odr.mediate.sessions import operations as session_ops
from odr.mediate.models import SessionMode
from odr.ops import queries, warnings
from odr.ops.models import CaseSignal
from odr.assess import operations as assess_ops
from tests.ops.conftest import refresh

NOW = datetime(2026, 11, 2, 1, 0, 0)


@dataclass
class FakeCase:
    """Just what the rules read from a case."""

    stage: Stage
    stage_entered_at: datetime
    due_at: datetime | None = None
    outcome: Outcome | None = None
    id: int = 1

    @property
    def is_open(self):
        return self.outcome is None


def case_in(stage: Stage, days_in_stage: float, closed=False, sla_days=None) -> FakeCase:
    entered = NOW - timedelta(days=days_in_stage)
    days = sla_days or {"consultation": 3, "assessment": 7, "mediation": 30, "arbitration": 120,
                        "litigation": 15}[stage.value]
    return FakeCase(stage, entered, entered + timedelta(days=days), Outcome.settled if closed else None)


# (case, no-shows, safety concern, re-routes) → (level, the rules that flag it, in order worst first)
CASES = [
    ("fresh consultation", case_in(Stage.consultation, 0.5), 0, False, 0, "green", []),
    ("mediation, day 19 of 30", case_in(Stage.mediation, 19), 0, False, 0, "green", []),
    ("mediation, day 20 of 30 (⅔ used)", case_in(Stage.mediation, 20), 0, False, 0, "yellow", ["deadline"]),
    ("mediation, day 29.9", case_in(Stage.mediation, 29.9), 0, False, 0, "yellow", ["deadline"]),
    ("mediation, deadline reached", case_in(Stage.mediation, 30), 0, False, 0, "red", ["deadline"]),
    ("consultation, 4 days", case_in(Stage.consultation, 4), 0, False, 0, "red", ["deadline"]),
    ("one no-show", case_in(Stage.mediation, 1), 1, False, 0, "yellow", ["no_shows"]),
    ("two no-shows", case_in(Stage.mediation, 1), 2, False, 0, "red", ["no_shows"]),
    ("five no-shows", case_in(Stage.mediation, 1), 5, False, 0, "red", ["no_shows"]),
    ("safety concern", case_in(Stage.assessment, 1), 0, True, 0, "red", ["safety"]),
    ("routed on once", case_in(Stage.consultation, 1), 0, False, 1, "green", []),
    ("routed on twice", case_in(Stage.consultation, 1), 0, False, 2, "yellow", ["bouncing"]),
    ("routed on three times", case_in(Stage.consultation, 1), 0, False, 3, "red", ["bouncing"]),
    ("late, a no-show and afraid", case_in(Stage.mediation, 31), 1, True, 0, "red",
     ["safety", "deadline", "no_shows"]),
    ("yellow deadline, red bouncing", case_in(Stage.mediation, 25), 0, False, 4, "red", ["bouncing", "deadline"]),
    ("closed: no mark whatever happened", case_in(Stage.mediation, 90, closed=True), 3, True, 5, "green", []),
]


@pytest.mark.parametrize("case, no_shows, safety, reroutes, level, rules", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_rules(app, case, no_shows, safety, reroutes, level, rules):
    mark = warnings.evaluate(warnings.Facts(case, no_shows, safety, reroutes), NOW)
    assert mark.level == level
    assert [f.rule for f in mark.flags] == rules
    assert all(str(f.reason) for f in mark.flags)  # every flag says why


def test_thresholds_come_from_the_configuration(app):
    app.config["WARNING_NO_SHOWS"] = {"yellow": 2, "red": 4}
    case = case_in(Stage.mediation, 1)
    assert warnings.evaluate(warnings.Facts(case, no_shows=1), NOW).level == "green"
    assert warnings.evaluate(warnings.Facts(case, no_shows=3), NOW).level == "yellow"
    assert warnings.evaluate(warnings.Facts(case, no_shows=4), NOW).level == "red"


def test_deadline_rule_is_the_service_level_of_the_cases_package(app):
    """Change the SLA figures and the warning follows: there is one deadline rule, in odr.cases.sla."""
    case = case_in(Stage.mediation, 10, sla_days=12)  # due in 2 days: 10/12 used
    assert warnings.evaluate(warnings.Facts(case), NOW).level == "yellow"
    app.config["SLA_YELLOW_SHARE"] = 0.9
    assert warnings.evaluate(warnings.Facts(case), NOW).level == "green"


def test_reasons_read_well(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        mark = warnings.evaluate(warnings.Facts(case_in(Stage.mediation, 33), no_shows=2), NOW)
        assert mark.reasons == ["33 days in Mediation: 3 days past the deadline.", "2 no-shows at mediation sessions."]


# --- the signals, from real operations -------------------------------------------------------

def _schedule_and_hold(case, mediator, claimant, respondent, clock, present):
    start = clock.now + timedelta(days=1)
    session = session_ops.propose(case, mediator, SessionMode.video, None, 60, [start, start + timedelta(days=1)])
    db.session.flush()
    for party in (claimant, respondent):
        session_ops.pick(session, party, {session.slots[0].id})
    clock.advance(days=1, minutes=5)
    session_ops.record_attendance(session, mediator, {claimant.id: present[0], respondent.id: present[1]})
    db.session.commit()


def test_signals_come_from_what_happened_in_the_case(app, clock, make_user, make_org, make_case):
    from odr.auth.models import Role
    from odr.mediate.models import MediatorProfile

    a, b, c = make_org(name="A"), make_org(name="B"), make_org(name="C")
    staff = make_user(Role.admin)
    mediator = make_user(Role.mediator, a)
    db.session.add(MediatorProfile(user_id=mediator.id, organization_id=a.id))
    claimant, respondent = make_user(), make_user()
    case = make_case(claimant=claimant, respondent=respondent, organization=a, stages=(Stage.assessment,))
    assess_ops.complete(case, claimant, {"other_side": "talking", "safety": "yes"})
    workflow.move(case, Stage.mediation, claimant)
    ops.assign_handler(case, staff, mediator=mediator)
    db.session.commit()
    _schedule_and_hold(case, mediator, claimant, respondent, clock, (True, False))
    _schedule_and_hold(case, mediator, claimant, respondent, clock, (False, False))
    for org in (b, c, a):
        ops.route_case(case, org, staff)
    calm = make_case(organization=a)
    db.session.commit()

    refresh()
    signal = db.session.get(CaseSignal, case.id)
    assert (signal.no_shows, signal.safety_concern, signal.reroutes) == (3, True, 3)
    assert db.session.get(CaseSignal, calm.id) is None  # no signal, no row
    mark = warnings.marks_for([case])[case.id]
    assert mark.level == "red" and [f.rule for f in mark.flags] == ["safety", "no_shows", "bouncing"]
    # Counted once: running the job again reads only newer events.
    assert refresh() == 0
    assert db.session.get(CaseSignal, case.id).no_shows == 3
    # A closed case needs no warning: its row goes, so the table holds open cases only.
    workflow.move(case, Outcome.closed_without_result, staff)
    db.session.commit()
    refresh()
    db.session.expire_all()
    assert db.session.get(CaseSignal, case.id) is None


def test_red_list_sql_agrees_with_the_rules(app, clock, make_user, make_org, make_case):
    """Every open case the rules call red is on the red list, and nothing else is."""
    from odr.auth.models import Role

    org, other = make_org(name="A"), make_org(name="B")
    staff = make_user(Role.admin)
    cases = [make_case(organization=org) for _ in range(6)]
    clock.advance(days=1)
    fresh = [make_case(organization=org) for _ in range(2)]
    ops.route_case(fresh[0], other, staff)
    ops.route_case(fresh[0], org, staff)
    ops.route_case(fresh[0], other, staff)  # three moves after the first routing: red
    db.session.add(CaseSignal(case_id=fresh[1].id, safety_concern=True))
    db.session.add(CaseSignal(case_id=cases[0].id, no_shows=1))  # yellow only
    db.session.add(CaseSignal(case_id=cases[2].id, safety_concern=True))  # red twice: signal and deadline
    workflow.move(cases[1], Outcome.withdrawn, cases[1].claimant.user)
    db.session.commit()
    clock.advance(days=2, hours=12)  # the first six are past their 3-day consultation deadline
    refresh()

    all_open = db.session.scalars(sa.select(queries.Case).where(queries.Case.closed_at.is_(None))).all()
    expected = {c.id for c, mark in ((c, warnings.marks_for([c])[c.id]) for c in all_open) if mark.level == "red"}
    page, marks = queries.red_list(queries.Scope(None, True), per_page=3)
    seen, number = [], 1
    while True:
        seen += [c.id for c in page.items]
        assert all(marks[c.id].level == "red" for c in page.items)
        if not page.has_next:
            break
        number += 1
        page, marks = queries.red_list(queries.Scope(None, True), page=number, per_page=3)
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert set(seen[:3]) == {fresh[0].id, fresh[1].id, cases[2].id}  # red by a signal first, then past the deadline
    assert {fresh[0].id, fresh[1].id} <= expected and cases[1].id not in expected
    counts = queries.warning_counts(queries.Scope(None, True))
    # The badge counts cases: the one red for both reasons once, though both parts list it.
    assert counts["cases"] == len(expected) == counts["deadline"] + counts["signal"] - 1
    # A scope of several organisations merges each one's own deadline range: the same cases, in order.
    several = queries.Scope(frozenset({org.id, other.id}), True)
    merged, number = [], 1
    while True:
        page, _marks = queries.red_list(several, page=number, per_page=2)
        merged += page.items
        if not page.has_next:
            break
        number += 1
    assert [c.id for c in merged] == seen
    deadline_part = [c.due_at for c in merged[3:]]
    assert deadline_part == sorted(deadline_part)
    assert queries.warning_counts(several) == counts
