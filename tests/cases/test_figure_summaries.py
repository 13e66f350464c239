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
from odr import dayspans
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


def recounted_due() -> Counter:
    """(due, performed voluntarily, seconds) per (category, district, due day, organisation) in every grain."""
    counts: dict = {}
    for s in db.session.scalars(sa.select(PerformanceSchedule)):
        voluntary = s.performed_at is not None and s.enforcement_requested_at is None
        took = round((s.performed_at - s.created_at).total_seconds()) if voluntary else 0
        district, category = s.district or "", s.category or ""
        for d, c in ((district, category), (district, ANY), (ANY, category), (ANY, ANY)):
            row = counts.setdefault((c, d, s.last_due_on, s.organization_id or 0), [0, 0, 0])
            row[0], row[1], row[2] = row[0] + 1, row[1] + voluntary, row[2] + took
    return {k: tuple(v) for k, v in counts.items()}


def kept_due() -> dict:
    rows = db.session.scalars(sa.select(performance.DueDayCount)).all()
    assert all(r.due >= 0 and 0 <= r.performed <= r.due for r in rows), rows
    return {(r.category, r.district, r.day, r.organization_id): (r.due, r.performed, r.performed_seconds)
            for r in rows if r.due}


def recounted_spans() -> dict:
    """Sums per (span block, organisation, mediator) for every span length, from the answers."""
    spans: dict = {}
    for (day, org, mediator), sums in recounted_days().items():
        for level in range(dayspans.SPAN_LEVELS):
            key = (dayspans.block_of(day, level), org, mediator)
            spans[key] = tuple(x + y for x, y in zip(spans.get(key, (0,) * 5), sums))
    return spans


def kept_spans() -> dict:
    return {(r.block, r.organization_id, r.mediator_id): (r.answers, r.outcome, r.fairness6, r.ease, r.again)
            for r in db.session.scalars(sa.select(satisfaction.SurveySpan))}


def check_due_figures(orgs):
    """The voluntary performance figures of a few periods, scopes and filters equal a count over the
    schedules themselves (the mean days to within a second per schedule)."""
    schedules = db.session.scalars(sa.select(PerformanceSchedule)).all()
    today = performance.local_today()
    for period in ((today - timedelta(days=29), today), (today - timedelta(days=60), today + timedelta(days=60)),
                   (today + timedelta(days=3), today + timedelta(days=9))):
        for scope, district, category in ((None, None, None), ([orgs[0].id, orgs[1].id], None, None),
                                          (None, "朝阳区", None), ([orgs[2].id], None, "debt")):
            mine = [s for s in schedules if period[0] <= s.last_due_on <= period[1]
                    and (scope is None or (s.organization_id or 0) in scope)
                    and district in (None, s.district) and category in (None, s.category)]
            figures = performance.figures(scope, district, category, period=period)
            voluntary = [s for s in mine if s.performed_at is not None and s.enforcement_requested_at is None]
            assert (figures.due, figures.performed_when_due) == (len(mine), len(voluntary))
            for by in ("organization_id", "category"):
                expected = {}
                for s in mine:
                    key = getattr(s, by)
                    due, done, days = expected.get(key, (0, 0, []))
                    took = [(s.performed_at - s.created_at).total_seconds() / 86400] if s in voluntary else []
                    expected[key] = (due + 1, done + (s in voluntary), days + took)
                got = {b.key: (b.due, b.performed, b.mean_days)
                       for b in performance.breakdown(by, scope, district, category, period=period)}
                assert set(got) == set(expected), (by, period, scope)
                for key, (due, done, days) in expected.items():
                    assert got[key][:2] == (due, done)
                    assert got[key][2] == (pytest.approx(sum(days) / len(days), abs=1e-5) if days else None)


def check_figures(orgs, periods: bool = True):
    """What the dashboard reads equals a count over the schedules and answers themselves (``periods``:
    also the figures over several periods)."""
    db.session.expire_all()
    assert kept_open() == recounted_open()
    assert kept_days() == recounted_days()
    assert kept_due() == recounted_due()
    assert kept_spans() == recounted_spans()
    if periods:
        check_due_figures(orgs)
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
    if not periods:
        return
    # Over periods (read from spans of several lengths), per organisation and mediator.
    today = max((a.created_at.date() for a in answers), default=performance.local_today())
    for first, last in ((today - timedelta(days=9), today), (today - timedelta(days=40), today - timedelta(days=3)),
                        (today - timedelta(days=300), today + timedelta(days=2))):
        inside = [a for a in answers if first <= a.created_at.date() <= last]
        for group, rows in (("organization_id", satisfaction.by_organisation([o.id for o in orgs], (first, last))[0]),
                            ("mediator_id", satisfaction.by_mediator(None, (first, last))[0])):
            counts = Counter(getattr(a, group) for a in inside if getattr(a, group))
            assert sorted((r.answers, round(r.outcome, 9)) for r in rows) == sorted(
                (n, round(sum(a.outcome for a in inside if getattr(a, group) == key) / n, 9))
                for key, n in counts.items() if n >= 5)


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

    def enforce(case, claimant, respondent):
        made = performance.schedule_of(case)
        if made is not None:  # as the application for enforcement does once the court has it
            performance.enforcement_requested(made)

    steps = [schedule, route, report, confirm, dispute, time_passes, end, answer, enforce]
    done, alerts = Counter(), set()
    for k in range(80):
        step = rng.choice(steps)
        step(*rng.choice(cases))
        db.session.commit()
        done[step.__name__] += 1
        check_figures(orgs, periods=k % 4 == 3)
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
    before_open, before_days, before_due, before_spans = kept_open(), kept_days(), kept_due(), kept_spans()
    performance.recount_open()
    performance.recount_due()
    satisfaction.recount_days()
    db.session.commit()
    assert kept_open() == before_open == recounted_open()
    assert kept_days() == before_days == recounted_days()
    assert kept_due() == before_due == recounted_due()
    assert kept_spans() == before_spans == recounted_spans()


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
        expected_due, expected_spans = recounted_due(), recounted_spans()
        assert {a for (_c, _d, _o, a) in expected_open} == {"ok", "yellow", "red"}
        _migrate(own_database, "c4e8a1f09b37", down=True)
        _migrate(own_database, "head")
        assert kept_open() == expected_open
        assert kept_days() == expected_days
        assert kept_due() == expected_due
        assert kept_spans() == expected_spans
