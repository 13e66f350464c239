"""Keep the dashboard's summary tables from the audit trail.

:func:`refresh` reads the audit events appended since its last run (``Event.id`` above the
watermark, a primary-key range) and adds them up into the daily tables and the per-case warning
signals; the cases those events belong to are compared with where they are counted as open
(``OpenCase``) and the open counts move by the difference. It is a periodic job (``odr tick`` /
``odr run``), so the dashboard reads only summary rows; figures are as fresh as the last run. A run
costs the events and cases that changed since the last one, not the size of the tables.

A case's organisation, category, district and channel are read when its event is counted: a case
routed later stays counted where it was.

Every count is kept four times: by district and category, by district only, by category only
and by neither (``ANY`` in the column left out). A query reads the one grain its filters need, so
a day holds at most organisations × stages × kinds rows for the unfiltered dashboard however many
cases there are, and the rows a dashboard query reads stop growing once the tables are large.
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from odr import counters
from odr.cases.models import Case, Event
from odr.dayspans import SPAN_LEVELS, block_of
from odr.extensions import db
from odr.ops.models import (
    DAY_BUCKETS, NO_ORG, CaseSignal, DailyFlow, MediatorClosed, MediatorLoad, OpenCase, OpenCount,
    StageDays, Watermark,
)
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

WATERMARK = "events"
#: Present once ``OpenCase`` holds every open case (after the first full count).
OPEN_MARK = "open_cases"
COUNTED = ("case_filed", "stage_changed", "case_closed", "case_routed", "session_held", "assessment_completed")
#: Stands for "every district" / "every category" in the coarser grains.
ANY = "*"
#: Outcomes that count as the dispute being resolved.
RESOLVED = ("settled", "award_issued")
FLOW_KEYS = ("day", "organization_id", "category", "district", "stage", "kind")
STAGE_DAYS_KEYS = ("day", "organization_id", "category", "district", "stage")
MEDIATOR_KEYS = ("day", "organization_id", "mediator_id", "category", "district", "outcome")
SPAN_KEYS = ("block", "organization_id", "mediator_id", "category", "district")
OPEN_KEYS = ("organization_id", "stage", "category", "channel", "district")
LOAD_KEYS = ("organization_id", "mediator_id", "category", "district")


def _add(model, counts: Counter, keys: tuple[str, ...]):
    """Add ``counts`` ({key tuple: n}) to the ``n`` of the summary rows, creating missing ones."""
    counters.add(model, [dict(zip(keys, key), n=n) for key, n in counts.items()], keys, ["n"])


def _add_signals(signals: dict[int, dict | None]):
    """Add to the cases' signals; ``None`` removes a (closed) case's row."""
    gone = [cid for cid, s in signals.items() if s is None]
    for start in range(0, len(gone), 500):
        db.session.execute(sa.delete(CaseSignal).where(CaseSignal.case_id.in_(gone[start:start + 500])))
    rows = [dict(case_id=cid, **s) for cid, s in signals.items() if s is not None]
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CaseSignal.__table__)
    stmt = stmt.on_conflict_do_update(index_elements=["case_id"], set_={
        "no_shows": CaseSignal.__table__.c.no_shows + stmt.excluded.no_shows,
        "reroutes": CaseSignal.__table__.c.reroutes + stmt.excluded.reroutes,
        "safety_concern": sa.or_(CaseSignal.__table__.c.safety_concern, stmt.excluded.safety_concern),
    })
    db.session.connection().execute(stmt, rows)


def _value(v):
    return v.value if hasattr(v, "value") else v


def _grains(district: str, category: str):
    return ((district, category), (district, ANY), (ANY, category), (ANY, ANY))


def bucket_of(days: int) -> int:
    """Index in ``DAY_BUCKETS`` of a stay of ``days`` whole days."""
    return bisect.bisect_right(DAY_BUCKETS, max(days, 0)) - 1


def days_bucket(days: int) -> int:
    """The lower bound of the bucket a stay of ``days`` counts in."""
    return DAY_BUCKETS[bucket_of(days)]


def _add_mediator_spans(counts: Counter, levels: int = SPAN_LEVELS):
    """Add closures per mediator ({MEDIATOR_KEYS: n}) to the spans of every length holding their day."""
    rows: dict[tuple, list[int]] = {}
    for (day, org, mediator, c, d, outcome), n in counts.items():
        for level in range(levels):
            row = rows.setdefault((block_of(day, level), org, mediator, c, d), [0, 0])
            row[0] += n
            row[1] += n if outcome == "settled" else 0
    counters.add(MediatorClosed, [dict(zip(SPAN_KEYS, key), closed=closed, settled=settled)
                             for key, (closed, settled) in rows.items()], SPAN_KEYS, ["closed", "settled"])


def roll_up_mediator_spans():
    """Fill the longer spans from the one-day spans, for a table written one day at a time (a bulk
    load); the job itself writes every length."""
    for level in range(1, SPAN_LEVELS):
        first_day = MediatorClosed.block // 16 // (1 << level) * (1 << level)
        block = first_day * 16 + level
        db.session.execute(sa.insert(MediatorClosed).from_select(
            ["category", "district", "block", "organization_id", "mediator_id", "closed", "settled"],
            sa.select(MediatorClosed.category, MediatorClosed.district, block, MediatorClosed.organization_id,
                      MediatorClosed.mediator_id, sa.func.sum(MediatorClosed.closed),
                      sa.func.sum(MediatorClosed.settled))
            .where(MediatorClosed.block % 16 == 0)
            .group_by(MediatorClosed.category, MediatorClosed.district, block, MediatorClosed.organization_id,
                      MediatorClosed.mediator_id)))


def _add_histograms(counts: Counter):
    """Add stage-duration counts ({(day, org, category, district, stage, bucket): n}) to their rows."""
    rows: dict[tuple, dict] = {}
    for (*key, bucket), n in counts.items():
        row = rows.setdefault(tuple(key), {f"b{i}": 0 for i in range(len(DAY_BUCKETS))})
        row[f"b{bucket}"] += n
    counters.add(StageDays, [dict(zip(STAGE_DAYS_KEYS, key), **hist) for key, hist in rows.items()], STAGE_DAYS_KEYS,
            [f"b{i}" for i in range(len(DAY_BUCKETS))])


def count_events(events, cases: dict[int, sa.Row], entries: dict[int, list[tuple[int, datetime]]]):
    """Add up a batch of events: (flow, stage days, mediator outcomes, signals per case — ``None``
    for a case closed in the batch)."""
    flow, stage_days, mediators = Counter(), Counter(), Counter()
    signals: dict[int, dict] = {}

    def signal(case_id):
        return signals.setdefault(case_id, {"no_shows": 0, "reroutes": 0, "safety_concern": False})

    for ev in events:
        case = cases.get(ev.case_id)
        if case is None:
            continue
        org = case.organization_id or NO_ORG
        cat, district = _value(case.category), case.district
        day = ev.created_at.date()
        payload = ev.payload or {}
        if ev.action == "case_filed":
            for d, c in _grains(district, cat):
                flow[(day, org, c, d, "consultation", "filed")] += 1
        elif ev.action in ("stage_changed", "case_closed"):
            left = payload.get("from") if ev.action == "stage_changed" else payload.get("stage")
            ids = [i for i, _t in entries.get(ev.case_id, [])]
            pos = bisect.bisect_left(ids, ev.id)
            entered = entries[ev.case_id][pos - 1][1] if pos else case.created_at
            days = bucket_of((ev.created_at - entered).days)
            for d, c in _grains(district, cat):
                if left:
                    stage_days[(day, org, c, d, left, days)] += 1
                if ev.action == "case_closed":
                    outcome = payload.get("outcome")
                    flow[(day, org, c, d, left, "resolved" if outcome in RESOLVED else "unresolved")] += 1
                    if case.mediator_id:
                        mediators[(day, org, case.mediator_id, c, d, outcome)] += 1
        elif ev.action == "case_routed":
            if payload.get("from") is not None:
                signal(ev.case_id)["reroutes"] += 1
        elif ev.action == "session_held":
            if payload.get("no_shows"):
                signal(ev.case_id)["no_shows"] += len(payload["no_shows"])
        elif ev.action == "assessment_completed":
            if (payload.get("answers") or {}).get("safety") == "yes":
                signal(ev.case_id)["safety_concern"] = True
    # A closed case needs no warning: its signals go, so the table holds open cases only.
    closed = {ev.case_id for ev in events if ev.action == "case_closed"}
    for case_id in closed:
        signals.pop(case_id, None)
    signals.update({case_id: None for case_id in closed})
    return flow, stage_days, mediators, signals


def _read_batch(after: int, batch: int, cutoff: datetime):
    events = db.session.execute(
        sa.select(Event.id, Event.case_id, Event.action, Event.payload, Event.created_at)
        .where(Event.id > after).order_by(Event.id).limit(batch)).all()
    # Ids are handed out before commit: a transaction still open may yet commit a lower id than one
    # already visible. Events younger than the lag wait for the next run, so none is skipped.
    young = next((i for i, e in enumerate(events) if e.created_at > cutoff), None)
    if young is not None:
        events = events[:young]
    if not events:
        return events, after, {}, {}, set()
    last = events[-1].id
    touched = {e.case_id for e in events if e.case_id is not None}
    events = [e for e in events if e.case_id is not None and e.action in COUNTED]
    ids = sorted({e.case_id for e in events})
    cases, entries = {}, {}
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for row in db.session.execute(sa.select(
                Case.id, Case.organization_id, Case.category, Case.district, Case.channel, Case.mediator_id,
                Case.created_at).where(Case.id.in_(chunk))):
            cases[row.id] = row
        if any(e.action in ("stage_changed", "case_closed") for e in events):
            for row in db.session.execute(
                    sa.select(Event.case_id, Event.id, Event.created_at)
                    .where(Event.case_id.in_(chunk), Event.action == "stage_changed", Event.id <= last)
                    .order_by(Event.case_id, Event.id)):
                entries.setdefault(row.case_id, []).append((row.id, row.created_at))
    return events, last, cases, entries, touched


def _open_keys(row) -> tuple[list[tuple], list[tuple]]:
    """The ``OpenCount`` and ``MediatorLoad`` keys (all four grains) an open case counts in."""
    org, cat = row.organization_id or NO_ORG, _value(row.category)
    counts, loads = [], []
    for d, c in _grains(row.district, cat):
        counts.append((org, _value(row.stage), c, _value(row.channel), d))
        if row.mediator_id:
            loads.append((org, row.mediator_id, c, d))
    return counts, loads


def _snapshot(row) -> dict:
    return dict(case_id=row.id, organization_id=row.organization_id or NO_ORG, stage=_value(row.stage),
                category=_value(row.category), channel=_value(row.channel), district=row.district,
                mediator_id=row.mediator_id)


def _move(model, deltas: Counter, keys: tuple[str, ...]):
    """Add signed ``deltas`` to the counts; rows that reach zero go."""
    deltas = Counter({k: n for k, n in deltas.items() if n})
    _add(model, deltas, keys)
    gone = [dict(zip(keys, key)) for key, n in deltas.items() if n < 0]
    if gone:
        table = model.__table__
        db.session.connection().execute(
            sa.delete(table).where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in keys), table.c.n <= 0),
            [{f"k_{k}": v for k, v in g.items()} for g in gone])


def update_open(case_ids):
    """Bring the open counts up to date for these cases (those with new events): compare each with
    where it is counted (``OpenCase``) and move the counts by the difference."""
    counts, loads = Counter(), Counter()
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        before = {r.case_id: r for r in db.session.execute(sa.select(OpenCase).where(OpenCase.case_id.in_(chunk)))
                  .scalars()}
        now = {r.id: r for r in db.session.execute(
            sa.select(Case.id, Case.organization_id, Case.stage, Case.category, Case.channel, Case.district,
                      Case.mediator_id).where(Case.id.in_(chunk), Case.closed_at.is_(None)))}
        added, removed = [], []
        for cid in chunk:
            old, new = before.get(cid), now.get(cid)
            new_snap = _snapshot(new) if new is not None else None
            old_snap = {k: getattr(old, k) for k in new_snap} if old is not None and new_snap else None
            if old is None and new is None or (old_snap is not None and old_snap == new_snap):
                continue
            if old is not None:
                c, m = _open_keys(old)
                counts.subtract(c), loads.subtract(m)
                removed.append(cid)
            if new is not None:
                c, m = _open_keys(new)
                counts.update(c), loads.update(m)
                added.append(new_snap)
        if removed:
            db.session.execute(sa.delete(OpenCase).where(OpenCase.case_id.in_(removed)))
        if added:
            db.session.execute(sa.insert(OpenCase), added)
    _move(OpenCount, counts, OPEN_KEYS)
    _move(MediatorLoad, loads, LOAD_KEYS)


def recount_open():
    """Count every open case afresh: ``OpenCase`` from the case table, then the open counts by
    organisation, stage, channel, district and category, and per mediator, from it (each in the
    four grains, added up here from one grouped read per table)."""
    for model in (OpenCount, MediatorLoad, OpenCase):
        db.session.execute(sa.delete(model))
    db.session.execute(sa.insert(OpenCase).from_select(
        ["case_id", "organization_id", "stage", "category", "channel", "district", "mediator_id"],
        sa.select(Case.id, sa.func.coalesce(Case.organization_id, NO_ORG), Case.stage, Case.category, Case.channel,
                  Case.district, Case.mediator_id).where(Case.closed_at.is_(None))))
    open_counts, loads = Counter(), Counter()
    o = OpenCase
    for org, stage, category, channel, district, n in db.session.execute(
            sa.select(o.organization_id, o.stage, o.category, o.channel, o.district, sa.func.count())
            .group_by(o.organization_id, o.stage, o.category, o.channel, o.district)):
        for d, c in _grains(district, category):
            open_counts[(org, stage, c, channel, d)] += n
    for org, mediator, category, district, n in db.session.execute(
            sa.select(o.organization_id, o.mediator_id, o.category, o.district, sa.func.count())
            .where(o.mediator_id.is_not(None))
            .group_by(o.organization_id, o.mediator_id, o.category, o.district)):
        for d, c in _grains(district, category):
            loads[(org, mediator, c, d)] += n
    for model, counts, keys in ((OpenCount, open_counts, OPEN_KEYS), (MediatorLoad, loads, LOAD_KEYS)):
        rows = [dict(zip(keys, key), n=n) for key, n in counts.items()]
        for start in range(0, len(rows), 1000):
            db.session.execute(sa.insert(model), rows[start:start + 1000])
    if db.session.get(Watermark, OPEN_MARK) is None:
        db.session.add(Watermark(name=OPEN_MARK, value=0))
    db.session.flush()


def refresh_ops_summaries(now: datetime | None = None, batch: int = 20000) -> int:
    """Count the audit events appended since the last run and update the open counts of their
    cases (the first run counts every open case). Returns events read."""
    mark = db.session.get(Watermark, WATERMARK, with_for_update=True)
    if mark is None:
        mark = Watermark(name=WATERMARK, value=0)
        db.session.add(mark)
        db.session.flush()
    open_counted = db.session.get(Watermark, OPEN_MARK) is not None
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["OPS_SUMMARY_LAG_SECONDS"])
    done = 0
    while True:
        events, last, cases, entries, touched = _read_batch(mark.value, batch, cutoff)
        if last == mark.value:
            break
        flow, stage_days, mediators, signals = count_events(events, cases, entries)
        _add(DailyFlow, flow, FLOW_KEYS)
        _add_histograms(stage_days)
        _add_mediator_spans(mediators)
        _add_signals(signals)
        if open_counted:
            update_open(touched)
        done += len(events)
        mark.value = last
        db.session.flush()
    if not open_counted:
        recount_open()
    db.session.flush()
    logger.info("Operations summaries: %d events counted at %s", done, now)
    return done
