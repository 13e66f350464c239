"""Keep the dashboard's summary tables from the audit trail.

:func:`refresh` reads the audit events appended since its last run (``Event.id`` above the
watermark, a primary-key range) and adds them up into the daily tables and the per-case warning
signals; then it recounts the open cases by dimension. It is a periodic job (``odr tick`` /
``odr run``), so the dashboard reads only summary rows; figures are as fresh as the last run.

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

from odr import jobs
from odr.cases.models import Case, Event
from odr.extensions import db
from odr.ops.models import (
    DAY_BUCKETS, NO_ORG, CaseSignal, DailyFlow, MediatorLoad, MediatorOutcome, OpenCount, StageDays, Watermark,
)
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

WATERMARK = "events"
COUNTED = ("case_filed", "stage_changed", "case_closed", "case_routed", "session_held", "assessment_completed")
#: Stands for "every district" / "every category" in the coarser grains.
ANY = "*"
#: Outcomes that count as the dispute being resolved.
RESOLVED = ("settled", "award_issued")
FLOW_KEYS = ("day", "organization_id", "category", "district", "stage", "kind")
STAGE_DAYS_KEYS = ("day", "organization_id", "category", "district", "stage")
MEDIATOR_KEYS = ("day", "organization_id", "mediator_id", "category", "district", "outcome")


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _add(model, counts: Counter, keys: tuple[str, ...]):
    """Add ``counts`` ({key tuple: n}) to the ``n`` of the summary rows, creating missing ones."""
    if not counts:
        return
    rows = [dict(zip(keys, key), n=n) for key, n in counts.items()]
    for start in range(0, len(rows), 500):
        stmt = _insert(model).values(rows[start:start + 500])
        db.session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_={"n": model.n + stmt.excluded.n}))


def _add_signals(signals: dict[int, dict | None]):
    """Add to the cases' signals; ``None`` removes a (closed) case's row."""
    gone = [cid for cid, s in signals.items() if s is None]
    for start in range(0, len(gone), 500):
        db.session.execute(sa.delete(CaseSignal).where(CaseSignal.case_id.in_(gone[start:start + 500])))
    rows = [dict(case_id=cid, **s) for cid, s in signals.items() if s is not None]
    if not rows:
        return
    for start in range(0, len(rows), 500):
        stmt = _insert(CaseSignal).values(rows[start:start + 500])
        db.session.execute(stmt.on_conflict_do_update(index_elements=["case_id"], set_={
            "no_shows": CaseSignal.no_shows + stmt.excluded.no_shows,
            "reroutes": CaseSignal.reroutes + stmt.excluded.reroutes,
            "safety_concern": sa.or_(CaseSignal.safety_concern, stmt.excluded.safety_concern),
        }))


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


def _add_histograms(counts: Counter):
    """Add stage-duration counts ({(day, org, category, district, stage, bucket): n}) to their rows."""
    rows: dict[tuple, dict] = {}
    for (*key, bucket), n in counts.items():
        row = rows.setdefault(tuple(key), {f"b{i}": 0 for i in range(len(DAY_BUCKETS))})
        row[f"b{bucket}"] += n
    keys = STAGE_DAYS_KEYS
    values = [dict(zip(keys, key), **hist) for key, hist in rows.items()]
    columns = [f"b{i}" for i in range(len(DAY_BUCKETS))]
    for start in range(0, len(values), 200):
        stmt = _insert(StageDays).values(values[start:start + 200])
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: getattr(StageDays, c) + getattr(stmt.excluded, c) for c in columns}))


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
        return events, after, {}, {}
    last = events[-1].id
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
    return events, last, cases, entries


def recount_open():
    """Open cases by organisation, stage, channel, district and category; and per mediator (each
    in the four grains, added up here from one grouped read per table)."""
    db.session.execute(sa.delete(OpenCount))
    db.session.execute(sa.delete(MediatorLoad))
    org = sa.func.coalesce(Case.organization_id, NO_ORG)
    open_counts, loads = Counter(), Counter()
    for o, stage, category, channel, district, n in db.session.execute(
            sa.select(org, Case.stage, Case.category, Case.channel, Case.district, sa.func.count())
            .where(Case.closed_at.is_(None))
            .group_by(org, Case.stage, Case.category, Case.channel, Case.district)):
        for d, c in _grains(district, _value(category)):
            open_counts[(o, _value(stage), c, _value(channel), d)] += n
    for o, mediator, category, district, n in db.session.execute(
            sa.select(org, Case.mediator_id, Case.category, Case.district, sa.func.count())
            .where(Case.closed_at.is_(None), Case.mediator_id.is_not(None))
            .group_by(org, Case.mediator_id, Case.category, Case.district)):
        for d, c in _grains(district, _value(category)):
            loads[(o, mediator, c, d)] += n
    for model, counts, keys in (
            (OpenCount, open_counts, ("organization_id", "stage", "category", "channel", "district")),
            (MediatorLoad, loads, ("organization_id", "mediator_id", "category", "district"))):
        rows = [dict(zip(keys, key), n=n) for key, n in counts.items()]
        for start in range(0, len(rows), 1000):
            db.session.execute(sa.insert(model), rows[start:start + 1000])


@jobs.register
def refresh_ops_summaries(now: datetime | None = None, batch: int = 20000) -> int:
    """Count the audit events appended since the last run; recount open cases. Returns events read."""
    mark = db.session.get(Watermark, WATERMARK, with_for_update=True)
    if mark is None:
        mark = Watermark(name=WATERMARK, value=0)
        db.session.add(mark)
        db.session.flush()
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["OPS_SUMMARY_LAG_SECONDS"])
    done = 0
    while True:
        events, last, cases, entries = _read_batch(mark.value, batch, cutoff)
        if last == mark.value:
            break
        flow, stage_days, mediators, signals = count_events(events, cases, entries)
        _add(DailyFlow, flow, FLOW_KEYS)
        _add_histograms(stage_days)
        _add(MediatorOutcome, mediators, MEDIATOR_KEYS)
        _add_signals(signals)
        done += len(events)
        mark.value = last
        db.session.flush()
    recount_open()
    db.session.flush()
    logger.info("Operations summaries: %d events counted at %s", done, now)
    return done
