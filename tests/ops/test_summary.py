"""The summaries the job keeps incrementally agree with a direct count of the cases."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Case, Category, Outcome, Stage
from odr.extensions import db
from odr.ops import queries, summary
from odr.dayspans import SPAN_LEVELS, block_of, spans
from odr.ops.models import MediatorClosed, MediatorLoad, OpenCase, OpenCount
from tests.ops.conftest import refresh


def test_spans_cover_a_period_exactly_with_at_most_two_of_each_length():
    first = date(2026, 1, 1)
    for offset in range(0, 70, 3):
        for length in (1, 2, 3, 7, 16, 29, 30, 31, 90, 255, 256, 257, 365, 366):
            start = first + timedelta(days=offset)
            end = start + timedelta(days=length - 1)
            days, levels = [], Counter()
            for block in spans(start, end):
                level, ordinal = block % 16, block // 16
                assert ordinal % (1 << level) == 0  # aligned, as the job files a day
                assert block_of(date.fromordinal(ordinal), level) == block
                days += range(ordinal, ordinal + (1 << level))
                levels[level] += 1
            assert days == list(range(start.toordinal(), end.toordinal() + 1))
            assert max(levels.values()) <= 2 and len(levels) <= SPAN_LEVELS


def _direct_mediator_counts(start: date, end: date) -> dict[int, tuple[int, int]]:
    out: dict[int, list[int]] = {}
    for case in db.session.scalars(sa.select(Case).where(Case.mediator_id.is_not(None),
                                                         Case.closed_at.is_not(None))):
        if start <= case.closed_at.date() <= end:
            row = out.setdefault(case.mediator_id, [0, 0])
            row[0] += 1
            row[1] += case.outcome is Outcome.settled
    return {k: tuple(v) for k, v in out.items()}


def test_mediator_closures_over_any_period_match_a_direct_count(app, clock, make_org, make_user, make_case):
    org = make_org(name="Center")
    admin = make_user(Role.admin)
    mediators = [make_user(Role.mediator, org, name=f"M{i}") for i in range(2)]
    outcomes = [Outcome.settled, Outcome.withdrawn, Outcome.settled, Outcome.closed_without_result, Outcome.settled]
    for i, outcome in enumerate(outcomes * 2):
        case = make_case(respondent=make_user(), organization=org, stages=(Stage.assessment, Stage.mediation),
                         mover=admin)
        ops.assign_handler(case, admin, mediator=mediators[i % 2])
        clock.advance(days=3 + i)  # closings spread over seven weeks, across span boundaries
        workflow.move(case, outcome, admin)
        db.session.commit()
    refresh()
    today = clock.now.date()
    scope = queries.Scope(None, True)
    for start, end in ((today - timedelta(days=29), today), (today - timedelta(days=60), today),
                       (today - timedelta(days=20), today - timedelta(days=5)), (today, today),
                       (today - timedelta(days=365), today)):
        got = {r.mediator_id: (r.closed, r.settled) for r in queries.mediators(scope, queries.Filters(start, end))
               if r.closed}
        assert got == _direct_mediator_counts(start, end), (start, end)
    # Every closure is in one span of each length (and each grain).
    per_level = Counter()
    for block, closed in db.session.execute(sa.select(MediatorClosed.block, MediatorClosed.closed).where(
            MediatorClosed.category == summary.ANY, MediatorClosed.district == summary.ANY)):
        per_level[block % 16] += closed
    assert per_level == {level: len(outcomes) * 2 for level in range(SPAN_LEVELS)}
    # The district and category grains hold the same closures.
    narrow = queries.Filters(today - timedelta(days=365), today, category=Category.neighbour.value)
    assert sum(r.closed for r in queries.mediators(scope, narrow)) == len(outcomes) * 2


def _table(model) -> Counter:
    keys = [c.name for c in model.__table__.primary_key.columns]
    return Counter({tuple(getattr(r, k) for k in keys): r.n for r in db.session.scalars(sa.select(model))})


def test_open_counts_follow_the_changed_cases_and_equal_a_full_recount(app, clock, make_org, make_user, make_case):
    center, other = make_org(name="Center", takes_intake=True), make_org(name="Other")
    admin = make_user(Role.admin)
    mediator = make_user(Role.mediator, center)
    cases = [make_case(respondent=make_user(), organization=center), make_case(organization=center, category=Category.consumer),
             make_case(organization=other, district="海淀区"), make_case()]
    refresh()  # the first run counts every open case
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OpenCase)) == 4

    workflow.move(cases[0], Stage.assessment, admin)
    workflow.move(cases[0], Stage.mediation, admin)
    ops.assign_handler(cases[0], admin, mediator=mediator)
    ops.route_case(cases[1], other, admin)
    ops.route_case(cases[3], center, admin)
    workflow.move(cases[2], Outcome.withdrawn, admin)
    db.session.commit()
    make_case(organization=other)
    clock.advance(minutes=1)
    refresh()

    incremental = _table(OpenCount), _table(MediatorLoad)
    assert all(n > 0 for table in incremental for n in table.values())  # emptied rows are gone
    everything = {(o, s, ch): n for (c, d, o, s, ch), n in incremental[0].items() if c == d == summary.ANY}
    direct = Counter((c.organization_id or 0, c.stage.value, c.channel.value)
                     for c in db.session.scalars(sa.select(Case).where(Case.closed_at.is_(None))))
    assert everything == dict(direct)
    assert incremental[1][(summary.ANY, summary.ANY, center.id, mediator.id)] == 1
    summary.recount_open()
    assert (_table(OpenCount), _table(MediatorLoad)) == incremental

    # A run with nothing new changes nothing.
    clock.advance(minutes=1)
    assert refresh() == 0
    assert (_table(OpenCount), _table(MediatorLoad)) == incremental
