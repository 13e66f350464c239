"""The dashboard's performance and satisfaction summaries stay equal to a recount of the schedules
and answers after every kind of change: a seeded random sequence of schedules drawn up, cases
routed elsewhere, items reported, confirmed and disputed, the clock and the alert job moving,
cases ending and parties answering the survey — checked after each step, and the figures the
dashboard shows checked against the same recount. The migration's filling is checked the same way."""

from __future__ import annotations

import io
import os
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.cases import performance, satisfaction, workflow
from odr.cases.models import Category, Outcome, Stage
from odr.cases.performance import ANY, ItemStatus, OpenScheduleCount, PerformanceSchedule
from odr.cases.satisfaction import SurveyAnswer, SurveyDay
from odr.extensions import db
from odr.perform import operations as perform
from odr.survey import operations as survey
from tests import conftest
from tests.perform.conftest import PNG


def recounted_open() -> Counter:
    """Open schedules by (category, district, organisation, alert) in every grain, from the schedules."""
    counts = Counter()
    for s in db.session.scalars(sa.select(PerformanceSchedule)):
        if s.performed_at is None:
            org, district, category = s.organization_id or 0, s.district or "", s.category or ""
            for d, c in ((district, category), (district, ANY), (ANY, category), (ANY, ANY)):
                counts[(c, d, org, s.alert.value)] += 1
    return counts


def kept_open() -> Counter:
    rows = db.session.scalars(sa.select(OpenScheduleCount)).all()
    assert all(r.n >= 0 for r in rows), rows
    return Counter({(r.category, r.district, r.organization_id, r.alert): r.n for r in rows if r.n})


def recounted_days() -> dict:
    """Sums per (day, organisation, mediator; 0 for every answer of the organisation), from the answers."""
    days: dict = {}
    for a in db.session.scalars(sa.select(SurveyAnswer)):
        fairness6 = 3 * (a.heard + a.understood) if a.neutral is None else 2 * (a.heard + a.understood + a.neutral)
        sums = (1, a.outcome, fairness6, a.ease, int(a.would_use_again))
        for mediator in (0,) + ((a.mediator_id,) if a.mediator_id else ()):
            key = (a.created_at.date(), a.organization_id or 0, mediator)
            days[key] = tuple(x + y for x, y in zip(days.get(key, (0,) * 5), sums))
    return days


def kept_days() -> dict:
    return {(r.day, r.organization_id, r.mediator_id): (r.answers, r.outcome, r.fairness6, r.ease, r.again)
            for r in db.session.scalars(sa.select(SurveyDay))}


def check_figures(orgs):
    """What the dashboard reads equals a count over the schedules and answers themselves."""
    db.session.expire_all()
    assert kept_open() == recounted_open()
    assert kept_days() == recounted_days()
    schedules = [s for s in db.session.scalars(sa.select(PerformanceSchedule)) if s.performed_at is None]
    for scope, district, category in ((None, None, None), ([orgs[0].id], "朝阳区", None),
                                      ([orgs[1].id, orgs[2].id], None, "debt"), ([0], "海淀区", "family")):
        figures = performance.figures(scope, district, category)
        seen = Counter(s.alert.value for s in schedules
                       if (scope is None or (s.organization_id or 0) in scope)
                       and district in (None, s.district) and category in (None, s.category))
        assert (figures.ok, figures.yellow, figures.red) == (seen["ok"], seen["yellow"], seen["red"])
    answers = db.session.scalars(sa.select(SurveyAnswer)).all()
    rows, hidden = satisfaction.by_organisation(None)
    by_org = Counter(a.organization_id for a in answers if a.organization_id)
    assert {r.name: r.answers for r in rows} == {o.name: by_org[o.id] for o in orgs if by_org[o.id] >= 5}
    assert hidden == sum(1 for n in by_org.values() if n < 5)
    for row in rows:
        mine = [a for a in answers if a.organization_id == next(o.id for o in orgs if o.name == row.name)]
        assert row.outcome == pytest.approx(sum(a.outcome for a in mine) / len(mine))
        assert row.would_use_again == pytest.approx(sum(a.would_use_again for a in mine) / len(mine))
        fairness = [(a.heard + a.understood + (a.neutral or 0)) / (2 + (a.neutral is not None)) for a in mine]
        assert row.fairness == pytest.approx(sum(fairness) / len(fairness))
    mediated = Counter(a.mediator_id for a in answers if a.mediator_id)
    rows, hidden = satisfaction.by_mediator(None)
    assert sorted(r.answers for r in rows) == sorted(n for n in mediated.values() if n >= 5)
    assert hidden == sum(1 for n in mediated.values() if n < 5)


def test_summaries_equal_a_recount_after_every_kind_of_change(app, clock, make_org, make_user, make_case):
    rng = random.Random(1)
    orgs = [make_org(name=f"调解委员会{i}", district=d) for i, d in enumerate(("朝阳区", "海淀区", "东城区"))]
    staff = make_user(Role.admin)
    mediators = {o.id: make_user(Role.mediator, o, name=f"Mediator {o.id}") for o in orgs}
    cases = []
    for i in range(6):
        claimant, respondent = make_user(), make_user()
        case = make_case(claimant=claimant, respondent=respondent, organization=orgs[i % 3],
                         category=[Category.debt, Category.family][i % 2], stages=(Stage.assessment,))
        case.district = ("朝阳区", "海淀区")[i % 2]
        cases.append((case, claimant, respondent))
    db.session.commit()

    def schedule(case, claimant, respondent):
        today = performance.local_today()
        items = [performance.PlannedItem(today + timedelta(days=rng.randint(-20, 30)), f"Item {k}", Decimal("100"))
                 for k in range(rng.randint(1, 3))]
        performance.create_schedule(case, items, payer_side="respondent", source=f"test:{case.id}")

    def route(case, claimant, respondent):
        if case.is_open:
            case_ops.route_case(case, rng.choice([o for o in orgs if o.id != case.organization_id]), staff)

    def items_of(status):
        """The items in ``status`` of a case picked among those that have some."""
        having = [c for c in cases if performance.schedule_of(c[0]) is not None
                  and any(i.status is status for i in performance.schedule_of(c[0]).items)]
        if not having:
            return (None, None, None), []
        case, claimant, respondent = rng.choice(having)
        return (case, claimant, respondent), [i for i in performance.schedule_of(case).items if i.status is status]

    def report(*_picked):
        (case, _claimant, respondent), items = items_of(rng.choice([ItemStatus.pending, ItemStatus.disputed]))
        for item in items:
            perform.report_done(item, case, respondent, io.BytesIO(PNG), "receipt.png")

    def confirm(*_picked):
        (case, claimant, _respondent), items = items_of(ItemStatus.reported)
        for item in items:
            perform.confirm(item, case, claimant)

    def dispute(*_picked):
        (case, claimant, _respondent), items = items_of(ItemStatus.reported)
        for item in items[:1]:
            perform.dispute(item, case, claimant, "Nothing arrived.")

    def time_passes(case, claimant, respondent):
        clock.advance(days=rng.randint(1, 12))
        perform.update_performance_alerts(clock.now)

    def end(case, claimant, respondent):
        if case.is_open:
            if rng.random() < 0.7:
                case_ops.assign_handler(case, staff, mediator=mediators[case.organization_id])
            workflow.move(case, Outcome.withdrawn, claimant)

    def answer(case, claimant, respondent):
        for user in (claimant, respondent):
            if survey.may_answer(case, user):
                score = lambda: rng.randint(1, 5)  # noqa: E731
                survey.submit(case, user, outcome=score(), heard=score(), neutral=score(), understood=score(),
                              ease=score(), would_use_again=rng.random() < 0.7)
                return

    steps = [schedule, route, report, confirm, dispute, time_passes, end, answer]
    done, alerts = Counter(), set()
    for _ in range(80):
        step = rng.choice(steps)
        step(*rng.choice(cases))
        db.session.commit()
        done[step.__name__] += 1
        check_figures(orgs)
        alerts |= {alert for (_c, _d, _o, alert) in kept_open()}
    # Every kind of change happened, every alert was counted, some schedule was performed.
    assert set(done) == {s.__name__ for s in steps}, done
    assert alerts == {"ok", "yellow", "red"} and kept_days()
    assert any(s.performed_at for s in db.session.scalars(sa.select(PerformanceSchedule))), done


def test_a_recount_after_a_bulk_load_gives_the_same_rows(app, clock, make_org, make_user, make_case):
    """``recount_open`` and ``recount_days`` (the bench's bulk load uses them) agree with the steps."""
    org = make_org()
    mediator = make_user(Role.mediator, org)
    for k in range(3):
        claimant, respondent = make_user(), make_user()
        case = make_case(claimant=claimant, respondent=respondent, organization=org, stages=(Stage.assessment,))
        performance.create_schedule(case, [performance.PlannedItem(performance.local_today() - timedelta(days=k * 10),
                                                                   "All", None)], payer_side="respondent", source="t")
        case_ops.assign_handler(case, make_user(Role.admin), mediator=mediator)
        workflow.move(case, Outcome.withdrawn, claimant)
        survey.submit(case, claimant, outcome=k + 1, heard=2, neutral=3, understood=4, ease=5, would_use_again=k == 1)
        db.session.commit()
    perform.update_performance_alerts(clock.advance(days=1))
    db.session.commit()
    before_open, before_days = kept_open(), kept_days()
    performance.recount_open()
    satisfaction.recount_days()
    db.session.commit()
    assert kept_open() == before_open == recounted_open()
    assert kept_days() == before_days == recounted_days()


@pytest.fixture
def own_database(tmp_path, worker_id):
    """An app on a database of this test's own, at the newest migration."""
    from tests.test_migrations import _migrate

    url = os.environ.get("ODR_TEST_DATABASE_URL")
    url = conftest.ensure_postgres_database(url, f"{worker_id}_summaries") if url else \
        f"sqlite:///{tmp_path / 'summaries.sqlite'}"
    app = conftest.new_app(conftest.test_config(url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        _migrate(app, "head")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_migration_fills_the_summaries_from_the_existing_rows(own_database, app, clock, make_org, make_user,
                                                                   make_case):
    """Schedules and answers made before the summaries existed are counted by the migration."""
    from tests.test_migrations import _migrate

    with own_database.app_context():
        orgs = [make_org(name="甲", district="朝阳区"), make_org(name="乙", district="海淀区")]
        mediator = make_user(Role.mediator, orgs[0])
        for k in range(6):
            claimant, respondent = make_user(), make_user()
            case = make_case(claimant=claimant, respondent=respondent, organization=orgs[k % 2],
                             stages=(Stage.assessment,), category=[Category.debt, Category.family][k % 2])
            if k < 4:
                performance.create_schedule(case, [performance.PlannedItem(
                    performance.local_today() + timedelta(days=10 - k * 8), "All", None)], payer_side="respondent",
                    source="t")
            if k == 5:
                case_ops.route_case(case, orgs[0], None)
            if k % 2 == 0:
                case_ops.assign_handler(case, make_user(Role.admin), mediator=mediator)
            workflow.move(case, Outcome.withdrawn, claimant)
            survey.submit(case, claimant, outcome=k % 5 + 1, heard=3, neutral=None if k % 3 else 4, understood=2,
                          ease=4, would_use_again=k % 2 == 0)
            clock.advance(days=1)
            db.session.commit()
        perform.update_performance_alerts(clock.now)
        db.session.commit()
        expected_open, expected_days = recounted_open(), recounted_days()
        assert {a for (_c, _d, _o, a) in expected_open} == {"ok", "yellow", "red"}
        _migrate(own_database, "c4e8a1f09b37", down=True)
        _migrate(own_database, "head")
        assert kept_open() == expected_open
        assert kept_days() == expected_days
