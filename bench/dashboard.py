"""The operations dashboard at scale: p95 of its queries, of the staff queue and of the case search,
as the tables grow from 100 k to 1 M cases (20 audit events per case).

Run by hand from the project root::

    .venv/bin/python bench/dashboard.py                         # SQLite, 100 k and 1 M cases
    .venv/bin/python bench/dashboard.py --db postgres           # database odr_bench_ops on 127.0.0.1:5432
    .venv/bin/python bench/dashboard.py --sizes 100000 --repeat 50

For each size it builds a fresh database with the migrations, bulk-loads organisations, mediators,
cases, two parties per case, 20 events per case (filing, joins, stage changes, routing, an
assessment, held sessions with no-shows, room messages, closing) and the transfers' response
rows — SQLite with ``executemany`` in one transaction, PostgreSQL with ``COPY``. The summary tables
are filled by the summary job's own counting (``odr.ops.summary.count_events``) as the events are
generated, then the job itself runs over a further 1 % of cases appended afterwards (its events/s
are printed); the performance, satisfaction and field summaries, which the steps keep in their own
transactions, are counted afresh from the loaded schedules, answers and dispatches. Every transfer
has its field dispatch (``dispatch_row``), so the command dashboard's figures
(``odr.field.dashboard``) are timed over as many dispatches as there are transfers. The queries are
the functions the pages call, in an app context (no HTTP), each timed ``--repeat`` times after one
warm-up (``--only`` some of them); the p95 is printed per query, and the ratio of the largest size
to the smallest (flat means ~1).
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here] + [_here]  # see bench/_common.py

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter, namedtuple  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

from _common import PG_ADMIN_URL, fresh_postgres, log  # noqa: E402

NOW = datetime(2026, 11, 23, 6, 0, 0)
DISTRICTS = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区"]
CATEGORIES = ["neighbour", "consumer", "property", "labour", "traffic", "debt", "family", "other"]
CHANNELS = ["web"] * 10 + ["counter"] * 5 + ["transfer"] * 4 + ["court_referral"]
OPEN_STAGES = ["consultation"] * 3 + ["assessment"] * 2 + ["mediation"] * 4 + ["arbitration", "litigation"]
OUTCOMES = ["settled"] * 5 + ["award_issued", "handed_to_court", "withdrawn"] + ["closed_without_result"] * 2
SLA = {"consultation": 3, "assessment": 7, "mediation": 30, "arbitration": 120, "litigation": 15}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
ORGS = 12           # 1 and 7 are centers (2–6 and 8–11 report to them); 12 is a court
MEDIATORS = 500
#: A case is mediated by a mediator of its organisation (mediator ``uid`` works for 1 + uid % 11).
MEDIATORS_OF = {o: [u for u in range(5, 5 + MEDIATORS) if 1 + u % 11 == o] for o in range(1, ORGS)}
EVENTS_PER_CASE = 20
HASH = "0" * 64

Ev = namedtuple("Ev", "id case_id action payload created_at")
CaseRow = namedtuple("CaseRow", "id organization_id category district channel mediator_id created_at")


def drop_postgres(name):
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def make_app(url):
    from odr import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "JOBS_INTERVAL_SECONDS": 0})


# --- data -------------------------------------------------------------------------------------

def case_rows(first_id, n, rng, now=NOW, recent=False, room_messages=True):
    """Yield (case, parties, events, transfer) for ``n`` cases from id ``first_id``. Without
    ``room_messages`` the events stop at the case's last counted one (its closing, if closed): the
    room messages that make up the 20 are left to ``add_room_messages``."""
    for cid in range(first_id, first_id + n):
        event_id = (cid - 1) * EVENTS_PER_CASE
        created = now - timedelta(seconds=rng.uniform(0, 3 * 86400 if recent else 730 * 86400))
        age = (now - created).days
        is_open = rng.random() < (0.6 if age < 60 else 0.02)
        category, district, channel = rng.choice(CATEGORIES), rng.choice(DISTRICTS), rng.choice(CHANNELS)
        org = rng.randint(1, ORGS - 1)
        path = ["consultation", "assessment", "mediation"][: rng.randint(1, 3)]
        if is_open:
            stage = rng.choice(OPEN_STAGES)
            if stage not in path:
                path.append(stage)
            path = path[: path.index(stage) + 1]
            if stage == "consultation" and rng.random() < 0.2:
                org = None
            end = now
        else:
            stage = path[-1]
            end = min(created + timedelta(days=rng.uniform(1, 90)), now)
        # Event times: spread from filing to the end, in order.
        span = (end - created).total_seconds()
        times = sorted(created + timedelta(seconds=rng.uniform(0, span)) for _ in range(EVENTS_PER_CASE - 1))
        times = [created] + times
        mediator = rng.choice(MEDIATORS_OF[org]) if "mediation" in path and org else None
        events = []
        t = iter(times)
        events.append(("case_filed", {"number": f"ODR-{created.year}-{cid:07d}", "channel": channel,
                                      "category": category, "district": district}, next(t)))
        events.append(("party_joined", {"side": "claimant"}, next(t)))
        events.append(("party_joined", {"side": "respondent"}, next(t)))
        routes = 1 + (rng.random() < 0.03) * rng.randint(1, 3)
        for r in range(routes):
            events.append(("case_routed", {"from": None if r == 0 else rng.randint(1, 11), "to": org}, next(t)))
        for frm, to in zip(path, path[1:]):
            if frm == "assessment":
                answers = {"other_side": "talking", "safety": "yes" if rng.random() < 0.03 else "no"}
                events.append(("assessment_completed", {"assessment": cid, "answers": answers}, next(t)))
            events.append(("stage_changed", {"from": frm, "to": to, "reason": None}, next(t)))
        if "mediation" in path:
            for _ in range(rng.randint(0, 2)):
                no_shows = [{"user": 1, "side": "respondent"}] if rng.random() < 0.1 else []
                events.append(("session_held", {"session": cid, "no_shows": no_shows}, next(t)))
        closing = None if is_open else ("case_closed", {"stage": stage, "outcome": rng.choice(OUTCOMES)}, None)
        while room_messages and len(events) < EVENTS_PER_CASE - (closing is not None):
            events.append(("room_message", {"channel": "joint"}, next(t)))
        if closing:
            events.append((closing[0], closing[1], end))
        entered = max((tm for action, _p, tm in events if action == "stage_changed"), default=created)
        case = dict(
            id=cid, number=f"ODR-{created.year}-{cid:07d}", category=category, description="…", claim="…",
            district=district, channel=channel, stage=stage,
            outcome=None if is_open else closing[1]["outcome"], organization_id=org, mediator_id=mediator,
            api_client_id=(cid % 3) + 1 if channel == "transfer" else None,
            external_ref=f"R{cid}" if channel == "transfer" else None,
            created_at=created, stage_entered_at=entered, due_at=entered + timedelta(days=SLA[stage]),
            closed_at=None if is_open else end)
        name = lambda: rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)  # noqa: E731
        parties = [dict(case_id=cid, side=side, user_id=None, name=name(), phone=f"+86138{rng.randint(0, 99999999):08d}",
                        status="joined", invited_at=created) for side in ("claimant", "respondent")]
        rows = []
        for seq, (action, payload, at) in enumerate(events, start=1):
            event_id += 1
            rows.append(dict(id=event_id, chain=f"case:{cid}", seq=seq, case_id=cid, actor="system", action=action,
                             payload=payload, created_at=at, prev_hash=HASH, hash=HASH, hash_version=2))
        transfer = None
        if channel == "transfer":
            accepted = created + timedelta(seconds=rng.expovariate(1 / 50))
            transfer = dict(case_id=cid, api_client_id=case["api_client_id"], organization_id=org, received_at=created,
                            accepted_at=accepted, contacted_at=accepted + timedelta(seconds=rng.expovariate(1 / 120)))
        yield case, parties, rows, transfer


CASE_COLS = ["id", "number", "category", "description", "claim", "district", "channel", "stage", "outcome",
             "organization_id", "mediator_id", "api_client_id", "external_ref", "created_at", "stage_entered_at",
             "due_at", "closed_at"]
PARTY_COLS = ["case_id", "side", "user_id", "name", "phone", "status", "invited_at"]
EVENT_COLS = ["id", "chain", "seq", "case_id", "actor", "action", "payload", "created_at", "prev_hash", "hash",
              "hash_version"]
TRANSFER_COLS = ["case_id", "api_client_id", "organization_id", "received_at", "accepted_at", "contacted_at"]
DISPATCH_COLS = ["id", "case_id", "grid_id", "worker_id", "organization_id", "api_client_id", "status", "place",
                 "received_at", "dispatched_at", "accepted_at", "contacted_at", "on_scene_at", "closed_at"]
SCHEDULE_COLS = ["id", "case_id", "source", "payer_side", "created_at", "alert", "performed_at", "last_due_on",
                 "organization_id", "district", "category"]
SURVEY_COLS = ["case_id", "user_id", "side", "organization_id", "mediator_id", "outcome", "heard", "neutral",
               "understood", "ease", "would_use_again", "comment", "created_at"]


def after_rows(case, rng):
    """A settled case's performance schedule (two in five settled cases have one: most performed, the
    open ones mostly on time, some late) and, for a case that ended, one party's survey answer (half
    of them answer)."""
    schedule = survey = None
    end = case["closed_at"]
    if end is None:
        return None, None
    if case["outcome"] == "settled" and rng.random() < 0.4:
        last_due = (end + timedelta(days=rng.randint(15, 180))).date()
        done = last_due < NOW.date() and rng.random() < 0.8
        alert = "ok" if done or last_due >= NOW.date() else rng.choice(["ok", "yellow", "red", "red"])
        schedule = dict(id=case["id"], case_id=case["id"], source="bench", payer_side="respondent", created_at=end,
                        alert=alert, performed_at=datetime.combine(last_due, datetime.min.time()) if done else None,
                        last_due_on=last_due.isoformat(), organization_id=case["organization_id"],
                        district=case["district"], category=case["category"])
    if rng.random() < 0.5:
        score = lambda: rng.randint(1, 5)  # noqa: E731
        survey = dict(case_id=case["id"], user_id=3, side="claimant", organization_id=case["organization_id"],
                      mediator_id=case["mediator_id"], outcome=score(), heard=score(),
                      neutral=score() if case["mediator_id"] else None, understood=score(), ease=score(),
                      would_use_again=rng.random() < 0.8, comment="", created_at=end)
    return schedule, survey


BIG_TABLES = ("case", "case_party", "event", "ops_transfer_response", "field_dispatch", "performance_schedule",
              "survey_answer")
#: Grid workers (field dispatch): four per center, each center with two grids.
WORKERS = range(900, 908)


def dispatch_row(case, transfer):
    """Every transfer went out to a grid worker of one of the two centers (odr.field): on the scene
    200 s after reaching the party in four of five, and done within the hour — resolved on site or
    referred — but for those of the last two hours, still open."""
    cid = case["id"]
    org = 1 if cid % 2 else 7
    on_scene = transfer["contacted_at"] + timedelta(seconds=200) if cid % 5 else None
    closed = None
    if transfer["received_at"] < NOW - timedelta(hours=2):
        closed = (on_scene or transfer["contacted_at"]) + timedelta(minutes=30)
        status = "resolved" if cid % 10 < 8 else "referred"
    else:
        status = "on_scene" if on_scene else "contacted"
    return dict(id=cid, case_id=cid, grid_id=(1 if org == 1 else 3) + (cid // 2) % 2,
                worker_id=WORKERS[(0 if org == 1 else 4) + (cid // 4) % 4], organization_id=org,
                api_client_id=transfer["api_client_id"], status=status, place="bench",
                received_at=transfer["received_at"], dispatched_at=transfer["received_at"],
                accepted_at=transfer["accepted_at"], contacted_at=transfer["contacted_at"], on_scene_at=on_scene,
                closed_at=closed)


def without_indexes(engine, build):
    """Run ``build()`` with the secondary indexes of the big tables dropped (and, on PostgreSQL, their
    unique constraints and foreign-key triggers off), then build them again: one sort per index
    instead of 20 M random B-tree insertions."""
    import sqlalchemy as sa

    from odr.extensions import db

    tables = [db.metadata.tables[t] for t in BIG_TABLES]
    pg = engine.dialect.name == "postgresql"
    uniques = []
    with engine.begin() as conn:
        for table in tables:
            for index in table.indexes:
                index.drop(conn)
            if pg:
                for uc in sa.inspect(conn).get_unique_constraints(table.name):
                    conn.execute(sa.text(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{uc["name"]}"'))
                    uniques.append((table.name, uc))
    t0 = time.monotonic()
    build()
    t1 = time.monotonic()
    with engine.begin() as conn:
        if pg:
            conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
        else:
            conn.execute(sa.text("PRAGMA cache_size = -1000000"))
        for table in tables:
            for index in table.indexes:
                index.create(conn)
        for name, uc in uniques:
            cols = ", ".join(f'"{c}"' for c in uc["column_names"])
            conn.execute(sa.text(f'ALTER TABLE "{name}" ADD CONSTRAINT "{uc["name"]}" UNIQUE ({cols})'))
    log(f"  rows written in {t1 - t0:.0f} s, indexes built in {time.monotonic() - t1:.0f} s")


def add_room_messages(db, sa, n):
    """Fill every case's audit trail up to ``EVENTS_PER_CASE`` events with room messages, in SQL
    (after its counted events, at its filing time: no summary counts them). Ids stay
    (case id - 1) × 20 + position, as in ``case_rows``."""
    with db.engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        if pg:
            conn.execute(sa.text("SET session_replication_role = replica"))
        else:
            conn.execute(sa.text("PRAGMA synchronous=OFF"))
        conn.execute(sa.text("CREATE TEMPORARY TABLE bench_pos (k INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO bench_pos (k) VALUES (:k)"), [{"k": k} for k in range(1, EVENTS_PER_CASE + 1)])
        chain = "'case:' || c.id" if not pg else "'case:' || c.id::text"
        conn.execute(sa.text(f"""
            INSERT INTO event (id, chain, seq, case_id, actor, action, payload, created_at, prev_hash, hash,
                               hash_version)
            SELECT (c.id - 1) * {EVENTS_PER_CASE} + p.k, {chain}, p.k, c.id, 'system', 'room_message',
                   '{{"channel": "joint"}}', c.created_at, '{HASH}', '{HASH}', 2
            FROM "case" c JOIN bench_counted b ON b.case_id = c.id JOIN bench_pos p ON p.k > b.counted
            WHERE c.id <= :n"""), {"n": n})
        conn.execute(sa.text("DROP TABLE bench_pos"))
        conn.execute(sa.text("DROP TABLE bench_counted"))


class Loader:
    """Bulk insert: SQLite ``executemany`` in one transaction, PostgreSQL ``COPY`` (foreign-key
    triggers off for the session: the generated rows refer to rows written before them)."""

    def __init__(self, engine):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.buffers = {}
        cur = self.raw.cursor()
        if self.pg:
            cur.execute("SET session_replication_role = replica")
        else:
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size = -1000000")
        cur.close()

    def add(self, table, cols, row):
        self.buffers.setdefault((table, tuple(cols)), []).append(
            [json.dumps(row[c], ensure_ascii=False) if c == "payload" else row[c] for c in cols])
        if len(self.buffers[(table, tuple(cols))]) >= 50_000:
            self.flush_ordered()

    def flush(self, table, cols):
        rows = self.buffers.pop((table, tuple(cols)), [])
        if not rows:
            return
        cur = self.raw.cursor()
        if self.pg:
            with cur.copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row(r)
        else:
            cur.executemany(f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                            [[v.isoformat(" ") if isinstance(v, datetime) else v for v in r] for r in rows])
        cur.close()

    def flush_ordered(self):
        """Every table, cases before what refers to them (PostgreSQL checks the foreign keys)."""
        order = ["case", "case_party", "event", "ops_transfer_response"]
        for key in sorted(self.buffers, key=lambda k: order.index(k[0]) if k[0] in order else len(order)):
            self.flush(*key)

    def flush_all(self):
        self.flush_ordered()
        self.raw.commit()


def base_rows(db, sa):
    """Organisations, users (admin, manager, staff, mediators), roles, API clients."""
    from odr.auth.models import Role, RoleGrant, User
    from odr.cases.models import ApiClient, Organization, OrgType

    for i in range(1, ORGS + 1):
        db.session.add(Organization(id=i, name=f"机构{i}", type=OrgType.court if i == ORGS else OrgType.peoples_mediation,
                                    district=DISTRICTS[i % 8], takes_intake=i in (1, 7),
                                    center_id=None if i in (1, 7, ORGS) else (1 if i < 7 else 7)))
    db.session.flush()
    people = [(1, "admin", None), (2, "manager", 1), (3, "staff", 1), (4, "staff", 3)]
    people += [(i, "mediator", 1 + i % 11) for i in range(5, 5 + MEDIATORS)]
    for uid, role, org in people:
        db.session.add(User(id=uid, email=f"u{uid}@bench.example", name=f"用户{uid}"))
        db.session.add(RoleGrant(user_id=uid, role=Role(role), organization_id=org))
    for i in (1, 2, 3):
        db.session.add(ApiClient(id=i, name=f"sender-{i}", organization_id=1, token_hash=f"{i:064d}"))
    from odr.field.models import Grid, GridWorker

    for gid in (1, 2, 3, 4):
        db.session.add(Grid(id=gid, name=f"网格{gid}", organization_id=1 if gid < 3 else 7, places=[f"地点{gid}"],
                            polygon=[]))
    for k, uid in enumerate(WORKERS):
        org = 1 if k < 4 else 7
        db.session.add(User(id=uid, email=f"u{uid}@bench.example", name=f"网格员{uid}"))
        db.session.add(RoleGrant(user_id=uid, role=Role.grid_worker, organization_id=org))
        db.session.flush()
        db.session.add(GridWorker(grid_id=(1 if org == 1 else 3) + k % 2, user_id=uid, on_duty=True))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
        for table in ("organization", "user", "role_grant", "api_client", "field_grid"):
            db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                       f"(SELECT max(id) FROM \"{table}\"))"))
        db.session.commit()


def load(app, n, rng):
    import sqlalchemy as sa

    from odr.cli import upgrade_database
    from odr.extensions import db
    from odr.ops import summary

    with app.app_context():
        upgrade_database()
        base_rows(db, sa)
        t0 = time.monotonic()
        totals = [Counter(), Counter(), Counter(), {}]
        without_indexes(db.engine, lambda: load_rows(db, n, rng, totals))
        log(f"  {n:,} cases, {2 * n:,} parties, {n * EVENTS_PER_CASE:,} events loaded in "
            f"{time.monotonic() - t0:.0f} s")
        write_summaries(db, sa, summary, totals, n)


def load_rows(db, n, rng, totals):
    import sqlalchemy as sa

    from odr.ops import summary

    t0 = time.monotonic()
    loader = Loader(db.engine)
    cur = loader.raw.cursor()
    cur.execute(f"CREATE {'UNLOGGED' if loader.pg else ''} TABLE bench_counted (case_id INTEGER PRIMARY KEY, counted INTEGER)")
    cur.close()
    batch_cases, batch_events, entries = {}, [], {}
    for k, (case, parties, events, transfer) in enumerate(case_rows(1, n, rng, room_messages=False), start=1):
        loader.add("case", CASE_COLS, case)
        loader.add("bench_counted", ("case_id", "counted"), {"case_id": case["id"], "counted": len(events)})
        for p in parties:
            loader.add("case_party", PARTY_COLS, p)
        for e in events:
            loader.add("event", EVENT_COLS, e)
        if transfer:
            loader.add("ops_transfer_response", TRANSFER_COLS, transfer)
            loader.add("field_dispatch", DISPATCH_COLS, dispatch_row(case, transfer))
        schedule, survey = after_rows(case, rng)
        if schedule:
            loader.add("performance_schedule", SCHEDULE_COLS, schedule)
        if survey:
            loader.add("survey_answer", SURVEY_COLS, survey)
        batch_cases[case["id"]] = CaseRow(case["id"], case["organization_id"], case["category"],
                                          case["district"], case["channel"], case["mediator_id"],
                                          case["created_at"])
        for e in events:
            batch_events.append(Ev(e["id"], e["case_id"], e["action"], e["payload"], e["created_at"]))
            if e["action"] == "stage_changed":
                entries.setdefault(e["case_id"], []).append((e["id"], e["created_at"]))
        if k % 20_000 == 0 or k == n:
            # The summary job's own counting, fed the events as they are generated.
            flow, days, mediators, signals = summary.count_events(batch_events, batch_cases, entries)
            totals[0].update(flow), totals[1].update(days), totals[2].update(mediators)
            for cid, s in signals.items():
                totals[3][cid] = s
            batch_cases, batch_events, entries = {}, [], {}
        if k % 100_000 == 0:
            log(f"  {k:,} cases generated ({time.monotonic() - t0:.0f} s)")
    loader.flush_all()
    loader.raw.close()
    t1 = time.monotonic()
    add_room_messages(db, sa, n)
    log(f"  room messages added in {time.monotonic() - t1:.0f} s")


def write_summaries(db, sa, summary, totals, n):
    from odr.cases import performance, satisfaction
    from odr.field import summary as field_summary
    from odr.ops.models import DAY_BUCKETS, CaseSignal, DailyFlow, MediatorClosed, StageDays, Watermark

    t1 = time.monotonic()
    # The tables are empty: plain bulk inserts of the counts (the job itself upserts).
    loader = Loader(db.engine)
    for key, count in totals[0].items():
        loader.add(DailyFlow.__tablename__, (*summary.FLOW_KEYS, "n"), dict(zip(summary.FLOW_KEYS, key), n=count))
    # Mediators: one-day spans here, the longer spans rolled up from them in SQL.
    spans = {}
    for (day, org, mediator, c, d, outcome), count in totals[2].items():
        row = spans.setdefault((summary.block_of(day, 0), org, mediator, c, d), [0, 0])
        row[0] += count
        row[1] += count if outcome == "settled" else 0
    for key, (closed, settled) in spans.items():
        loader.add(MediatorClosed.__tablename__, (*summary.SPAN_KEYS, "closed", "settled"),
                   dict(zip(summary.SPAN_KEYS, key), closed=closed, settled=settled))
    buckets = [f"b{i}" for i in range(len(DAY_BUCKETS))]
    histograms = {}
    for (*key, bucket), count in totals[1].items():
        histograms.setdefault(tuple(key), [0] * len(buckets))[bucket] += count
    for key, hist in histograms.items():
        loader.add("ops_stage_days", (*summary.STAGE_DAYS_KEYS, *buckets),
                   dict(zip(summary.STAGE_DAYS_KEYS, key), **dict(zip(buckets, hist))))
    for cid, sig in totals[3].items():
        if sig is None:  # closed: no signal kept
            continue
        loader.add("ops_case_signal", ("case_id", "no_shows", "reroutes", "safety_concern"),
                   dict(case_id=cid, **sig))
    loader.flush_all()
    loader.raw.close()
    summary.roll_up_mediator_spans()
    summary.recount_open()
    # The schedules and answers were copied in, past the steps that keep their summaries: count them.
    performance.recount_open()
    performance.recount_due()
    satisfaction.recount_days()
    field_summary.recount()
    db.session.add(Watermark(name=summary.WATERMARK, value=n * EVENTS_PER_CASE))
    db.session.commit()
    if loader.pg:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("case", "event", "case_party"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                     f"(SELECT max(id) FROM \"{table}\"))"))
    analyze(db, sa)
    sizes = {t.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(t))
             for t in (DailyFlow, StageDays, MediatorClosed, CaseSignal, performance.OpenScheduleCount,
                       performance.DueDayCount, satisfaction.SurveyDay, satisfaction.SurveySpan,
                       field_summary.DispatchDay)}
    log(f"  summaries written in {time.monotonic() - t1:.0f} s: {sizes}")


def job_throughput(app, n, rng):
    """Append 1 % more cases through the loader, then let the summary job count their events."""
    from odr.extensions import db
    from odr.ops import summary

    extra = max(1000, n // 100)
    with app.app_context():
        loader = Loader(db.engine)
        for case, parties, events, transfer in case_rows(n + 1, extra, rng, recent=True):
            loader.add("case", CASE_COLS, case)
            for p in parties:
                loader.add("case_party", PARTY_COLS, p)
            for e in events:
                loader.add("event", EVENT_COLS, e)
        loader.flush_all()
        loader.raw.close()
        t0 = time.monotonic()
        done = summary.refresh_ops_summaries(NOW + timedelta(hours=1))
        db.session.commit()
        took = time.monotonic() - t0
        log(f"  summary job: {done:,} new events counted in {took:.1f} s ({done / took:,.0f} events/s, "
            f"with the open counts of their cases)")
        return done / took


# --- queries ----------------------------------------------------------------------------------

def queries_to_time(app):
    from odr.auth.models import User
    from odr.cases import operations as case_ops
    from odr.extensions import db
    from odr.field import dashboard as field_dashboard
    from odr.field import operations as field_ops
    from odr.ops import queries, transfers

    with app.app_context():
        admin, manager, staff = (db.session.get(User, i) for i in (1, 2, 4))
        everyone = queries.scope_of(admin)
        center = queries.scope_of(manager)
    f = queries.Filters(NOW.date() - timedelta(days=29), NOW.date())
    f_narrow = queries.Filters(NOW.date() - timedelta(days=29), NOW.date(), district="朝阳区", category="debt")
    since = NOW - timedelta(days=7)
    named = {}
    for who, scope in (("admin", everyone), ("manager", center)):
        named.update({
            f"{who}: open by stage": lambda s=scope: queries.open_by("stage", s, f),
            f"{who}: open by organisation": lambda s=scope: queries.open_by("organization_id", s, f),
            f"{who}: in/resolved per day (30 d)": lambda s=scope: queries.daily_flow(s, f),
            f"{who}: resolution by stage": lambda s=scope: queries.resolution_rate("stage", s, f),
            f"{who}: resolution by organisation": lambda s=scope: queries.resolution_rate("organization_id", s, f),
            f"{who}: median days per stage": lambda s=scope: queries.median_days(s, f),
            f"{who}: mediators": lambda s=scope: queries.mediators(s, f),
            f"{who}: red list page 1": lambda s=scope: queries.red_list(s, 1, 25, NOW),
            f"{who}: red list page 20": lambda s=scope: queries.red_list(s, 20, 25, NOW),
            f"{who}: red counts": lambda s=scope: queries.warning_counts(s, NOW),
            f"{who}: transfers per sender (7 d)": lambda s=scope: transfers.per_sender(s, since, NOW),
        })
    # The dashboard asks for whole days (``odr.ops.tables``: midnight to midnight); a period with odd hours
    # at its ends also reads those hours' dispatches one by one.
    week = (datetime.combine(NOW.date() - timedelta(days=6), datetime.min.time()),
            datetime.combine(NOW.date() + timedelta(days=1), datetime.min.time()))
    for who, orgs in (("admin", None), ("manager", set(center.organizations))):
        named.update({
            f"{who}: field open by grid (1-3-8 now)": lambda o=orgs: field_dashboard.open_by_grid(o, NOW),
            f"{who}: field by grid (7 d)": lambda o=orgs: field_dashboard.period_by("grid", o, *week),
            f"{who}: field by worker (7 d)": lambda o=orgs: field_dashboard.period_by("worker", o, *week),
            f"{who}: field by sender (7 d)": lambda o=orgs: field_dashboard.period_by("sender", o, *week),
            f"{who}: field command room": lambda o=orgs: field_ops.command_room(o),
        })
    for who, scope in (("admin", everyone), ("manager", center)):
        named.update({
            f"{who}: performance (late now, rate 30 d)": lambda s=scope: queries.performance_figures(s, f),
            f"{who}: satisfaction per org and mediator (30 d)": lambda s=scope: queries.satisfaction_figures(s, f),
            f"{who}: performance by organisation (30 d)":
                lambda s=scope: queries.performance_breakdown("organization_id", s, f),
            f"{who}: performance by category (30 d)": lambda s=scope: queries.performance_breakdown("category", s, f),
        })
    named["admin: field by worker (7 d to the hour)"] = lambda: field_dashboard.period_by("worker", None, since, NOW)
    named["admin: performance, district+category"] = lambda: queries.performance_figures(everyone, f_narrow)
    named["admin: open by stage, district+category"] = lambda: queries.open_by("stage", everyone, f_narrow)
    named["admin: per day, district+category"] = lambda: queries.daily_flow(everyone, f_narrow)
    named["staff queue page 1 (one org)"] = lambda: case_ops.staff_queue(staff, 1).items
    named["staff queue page 50 (one org)"] = lambda: case_ops.staff_queue(staff, 50).items
    named["staff queue page 1 (admin)"] = lambda: case_ops.staff_queue(admin, 1).items
    named["staff queue page 1 (intake center staff)"] = lambda: case_ops.staff_queue(manager_staff(app), 1).items
    named["search: case number prefix"] = lambda: queries.search_cases(everyone, "ODR-2026-00001").items
    named["search: party name prefix"] = lambda: queries.search_cases(everyone, "王伟").items
    named["search: phone prefix"] = lambda: queries.search_cases(everyone, "+8613812345").items
    named["search: manager scope, name prefix"] = lambda: queries.search_cases(center, "李娜").items
    return named


def manager_staff(app):
    from odr.auth.models import User
    from odr.extensions import db

    return db.session.get(User, 3)


def time_queries(app, repeat, only=None):
    from odr.extensions import db

    results = {}
    with app.app_context():
        named = queries_to_time(app)
        for name, fn in named.items():
            if only and not any(word in name for word in only):
                continue
            fn()  # warm-up (caches, plans)
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
                db.session.expire_all()
            samples.sort()
            results[name] = (statistics.median(samples), samples[max(0, int(round(0.95 * len(samples))) - 1)])
    return results


def prepare_reused(app):
    """A database loaded by an earlier run (``--keep``): bring its schema to the newest migration
    (new indexes), then refresh the planner's statistics."""
    import sqlalchemy as sa

    from odr.cli import upgrade_database
    from odr.extensions import db

    with app.app_context():
        t0 = time.monotonic()
        upgrade_database()
        analyze(db, sa)
        log(f"  reused; migrated and analysed in {time.monotonic() - t0:.0f} s")


def analyze(db, sa):
    """Planner statistics; on PostgreSQL also the visibility map of the tables the lists read (what
    autovacuum keeps in a running system), so index-only scans need not visit the table."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text('VACUUM (ANALYZE) "case", case_party, ops_case_signal, ops_open_case, '
                                 "performance_schedule, survey_answer, field_dispatch, survey_day, survey_span, "
                                 "performance_due_day, field_dispatch_day"))
            conn.execute(sa.text("ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--sizes", default="100000,1000000", help="case counts, comma-separated")
    ap.add_argument("--repeat", type=int, default=40, help="timed runs per query (default 40)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the databases (SQLite files in $ODR_INSTANCE_PATH, PostgreSQL databases)")
    ap.add_argument("--reuse", action="store_true",
                    help="time databases kept by an earlier run instead of loading new ones (the newest "
                         "migrations are applied first)")
    ap.add_argument("--pg-database", default="odr_bench_ops",
                    help="PostgreSQL databases: <name>_<size>, dropped and recreated (default odr_bench_ops)")
    ap.add_argument("--results", help="JSON file the figures are added to; the table shows every size in it")
    ap.add_argument("--only", help="time only the queries whose name holds one of these words (comma-separated)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.reuse and "ODR_INSTANCE_PATH" not in os.environ and args.db == "sqlite":
        sys.exit("--reuse needs ODR_INSTANCE_PATH, the directory of the kept ops-<size>.sqlite files")
    os.environ.setdefault("ODR_INSTANCE_PATH", tempfile.mkdtemp(prefix="odr-bench-ops-"))
    by_size = {}
    for n in sizes:
        rng = random.Random(n)
        name = f"{args.pg_database}_{n}"
        if args.db == "postgres":
            url = f"postgresql://postgres@127.0.0.1:5432/{name}" if args.reuse else fresh_postgres(name)
        else:
            path = os.path.join(os.environ["ODR_INSTANCE_PATH"], f"ops-{n}.sqlite")
            if not args.reuse:
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
            url = f"sqlite:///{path}"
        log(f"{args.db}, {n:,} cases")
        app = make_app(url)
        if args.reuse:
            prepare_reused(app)
        else:
            load(app, n, rng)
            job_throughput(app, n, rng)
        by_size[n] = time_queries(app, args.repeat, args.only.split(",") if args.only else None)
        for query, (median, p95) in by_size[n].items():
            log(f"  {query:<44} p95 {p95:7.2f} ms (median {median:6.2f})")
        with app.app_context():
            from odr.extensions import db

            db.engine.dispose()
        if not args.keep and not args.reuse:
            if args.db == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
            else:
                drop_postgres(name)
    if args.results:
        saved = {}
        if os.path.exists(args.results):
            with open(args.results) as f:
                saved = {int(k): v for k, v in json.load(f).items()}
        saved.update(by_size)
        with open(args.results, "w") as f:
            json.dump(saved, f, ensure_ascii=False, indent=1)
        by_size = {n: {q: tuple(v) for q, v in saved[n].items()} for n in sorted(saved)}
        sizes = sorted(by_size)
    first, last = sizes[0], sizes[-1]
    print()
    print(f"{args.db}: p95 in ms over {args.repeat} runs (median in brackets)")
    head = "".join(f"{n:>18,}" for n in sizes)
    print(f"{'query':<44}{head}   ratio {last // 1000}k/{first // 1000}k")
    worst = 0.0
    for query in by_size[first]:
        cells = "".join(f"{by_size[n][query][1]:>9.2f} ({by_size[n][query][0]:>6.2f})" for n in sizes)
        ratio = by_size[last][query][1] / by_size[first][query][1] if by_size[first][query][1] else float("nan")
        worst = max(worst, by_size[last][query][1])
        print(f"{query:<44}{cells}   {ratio:5.2f}")
    print(f"\nslowest p95 at {last:,} cases: {worst:.2f} ms (goal < 30 ms)")


if __name__ == "__main__":
    main()
