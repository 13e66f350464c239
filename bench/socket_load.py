"""Consultation chat over Socket.IO: N clients on one server process, against a bare echo server.

Run by hand from the project root (python-socketio's asyncio client needs ``aiohttp``,
which the project does not install: ``.venv/bin/pip install aiohttp``)::

    .venv/bin/python bench/socket_load.py                  # 1,000 clients, SQLite (about 3.5 minutes)
    .venv/bin/python bench/socket_load.py --db postgres    # PostgreSQL at 127.0.0.1:5432, database odr_bench_socket
    .venv/bin/python bench/socket_load.py --only app --clients 200

What it does:

1. builds a fresh instance in a temporary directory (``ODR_INSTANCE_PATH``), loads
   the demo data with ``odr demo --no-serve``, then makes N/2 consultations through
   ``odr.consult.operations`` (``start``, then ``take`` by a consultant holding
   ``Role.consultant``): every client is one of the two people in one room, and
   signs in with a Flask session cookie made like ``tests/consult/conftest.py`` does;
2. starts ``bench/_socket_serve.py app``: ``odr.create_app()`` served by
   ``odr.serve.run_gunicorn`` (what ``odr run`` uses: gunicorn, gevent workers), ``--workers``
   processes (more than one share rooms through Redis, ``ODR_SOCKETIO_MESSAGE_QUEUE``);
3. checks that one pair can join its consultation (``ok``, status ``active``) and
   exchange a message, then connects all N clients (websocket transport, the lean client of
   ``bench/_lean_sio.py``, or python-socketio's ``AsyncClient`` with ``--client socketio``;
   ``--procs`` processes; both members of a room in the same process, and one clock,
   ``time.monotonic``, for every process);
4. phase "chat": every client sends one message every ``--interval`` seconds (default 10)
   without waiting for the acknowledgement → p50/p99 latency, from emitting ``send`` to the
   other member's ``message`` event;
5. once the chat messages have all arrived, phase "ramp": open-loop steps of increasing
   offered load (25, 50, 100 … msgs/s, spread evenly over all N clients, ``--step-seconds``
   each) until a step is not kept up with (0.3 s after its last send more than 0.25 s of
   its messages, at its rate, are still on their way — 5 % of a 5 s step, whatever the step's
   length — or more than 5 % were refused as overload, or any failed) → msgs/s delivered per step; the most
   delivered in any phase is the saturation throughput. Each
   client sends at most 2.4 messages/s (``/consult`` refuses more than 30 events in 10 s on
   one connection), so the steps stop at N × 2.4 msgs/s. ``--saturation closed`` instead has
   every client keep one ``send`` in flight (as fast as acks return, paced to ``--pace``
   per 10 s): with N = 1,000 that is 1,000 concurrent events, see bench/README.md;
6. the same against ``bench/_socket_serve.py ceiling``: a bare python-socketio server
   (gevent mode, same gunicorn serving and process count, same event shape, no
   sign-in, no checks, no database), and prints both and the ratios app / ceiling.

Goal: chat p99 < 100 ms; saturation msgs/s >= 0.7 of the ceiling's. Loopback only.
"""

import os
import sys

# Running ``python bench/socket_load.py`` puts bench/ first on sys.path, where this very
# file would shadow the standard library's ``socket`` module (and bench/http_load.py the
# ``http`` package) for asyncio, aiohttp, gunicorn … Drop that entry first.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here] + [_here]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import collections  # noqa: E402
import http.client  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from _common import fresh_postgres, free_port, load_demo, log, stop_server  # noqa: E402
from _lean_sio import LeanClient, close_shared_session  # noqa: E402

ROOT = os.path.dirname(_here)
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
PYTHON = os.path.join(VENV_BIN, "python") if os.path.exists(os.path.join(VENV_BIN, "python")) else sys.executable
ODR = os.path.join(VENV_BIN, "odr")

NS = "/consult"
PG_DB = "odr_bench_socket"
GOAL_P99_MS = 100.0
GOAL_RATIO = 0.7
#: ``/consult`` refuses more than 30 events in FLOOD_WINDOW s on one connection (odr.consult.events).
FLOOD_WINDOW = 10.0
MAX_CLIENT_RATE = 2.4  # msgs/s per client in the ramp: 24 per 10 s, below the 30 refused
RAMP_STEPS = (25, 50, 100, 150, 200, 300, 450, 700, 1000, 1500, 2000, 3000)
STEP_GAP = 0.5        # s between two ramp steps
STEP_CHECK = 0.3      # s after a step's last send when its backlog is judged
STEP_BACKLOG = 0.25   # s: a step is kept up with if at most this many seconds of its rate (+5) are still on their way then
STEP_REFUSED = 0.05   # … and at most this share of its sends (+5) was refused
WARMUP = 2.0          # s at the start of the chat / closed phase that are not measured
STEP_WARMUP = 1.0     # s at the start of a ramp step that are not measured
DRAIN = 15.0          # s to wait at the end for messages still on their way
CHAT_DRAIN = 60.0     # s at most to wait after the chat phase for its messages, before the ramp
BARRIER_TIMEOUT = 120.0
ACK_TIMEOUT = 10.0
BODY = "Hello, I have a question about my deposit. The landlord kept all of it."


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# --------------------------------------------------------------------------- setup

def _make_pairs(env: dict, n_pairs: int, out) -> None:
    """In a child process: N/2 taken consultations and a session cookie for each member."""
    os.environ.update(env)
    import logging

    from odr import create_app
    from odr.auth import operations as auth_ops
    from odr.cases.operations import grant_role
    from odr.auth import sessions
    from odr.auth.models import Role, User
    from odr.cases.models import Category
    from odr.consult import operations as ops
    from odr.extensions import db

    app = create_app()
    logging.getLogger().setLevel(logging.WARNING)  # no "Account … created" line per user
    pairs = []
    with app.app_context():
        for i in range(n_pairs):
            person = auth_ops.create_user(f"bench-person-{i}@bench.odr.example", f"Bench person {i}")
            consultant = auth_ops.create_user(f"bench-consultant-{i}@bench.odr.example", f"Bench consultant {i}")
            grant_role(consultant, Role.consultant)
            ops.set_duty(consultant, True)
            consultation = ops.start(person, f"Bench question {i}", Category.property)
            ops.take(consultation, consultant)
            pairs.append({"cid": consultation.id, "uids": [person.id, consultant.id]})
        db.session.commit()
        client = app.test_client()
        for pair in pairs:
            pair["cookies"] = []
            for uid in pair["uids"]:
                with client.session_transaction() as session:
                    session.clear()
                    sessions.stamp(session, db.session.get(User, uid))
                    session["lang"] = "en"
                pair["cookies"].append(f"session={client.get_cookie('session').value}")
        db.session.commit()
        db.engine.dispose()
    out.put(pairs)


def make_pairs(env: dict, n_pairs: int) -> list[dict]:
    # A child process, so this one never imports the app (it forks the load generators later).
    t0 = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    p = ctx.Process(target=_make_pairs, args=(env, n_pairs, out))
    p.start()
    pairs = out.get(timeout=300)
    p.join(timeout=30)
    if p.exitcode != 0:
        sys.exit(f"setup failed (exit status {p.exitcode})")
    log(f"{n_pairs} consultations taken by {n_pairs} consultants ({2 * n_pairs} users) in "
        f"{time.monotonic() - t0:.1f} s")
    return pairs


# --------------------------------------------------------------------------- server

def start_server(mode: str, env: dict, port: int, workers: int, worker_connections: int, logfile):
    cmd = [PYTHON, os.path.join(_here, "_socket_serve.py"), mode, str(port), str(workers), str(worker_connections)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{mode} server exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{mode} server did not answer within 30 s")


def worker_pid(arbiter_pid: int) -> int | None:
    try:
        with open(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children") as f:
            children = f.read().split()
        return int(children[0]) if children else None
    except OSError:
        return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    if pid is None:
        return float("nan")
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs together, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_share(before, after) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else float("nan")


def thread_count(pid: int | None) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except (OSError, TypeError):
        return -1


# --------------------------------------------------------------------------- clients

class Stats:
    """What one load-generator process saw."""

    def __init__(self):
        self.phase = "connect"    # label of what is going on now, for errors without a message
        self.sent = {}            # client_id -> (label, time.monotonic() at send) until the peer receives it
        self.acked = {}           # client_id -> True/False (ok in the acknowledgement)
        self.acked_ok = collections.Counter()  # label -> sends acknowledged ok
        self.refused = collections.Counter()   # label -> sends refused as overload (retry: true)
        self.deliveries = []      # (label, t_send, latency s, t_receive) of deliveries to the other member
        self.sends = collections.Counter()   # label -> sends
        self.errors = collections.Counter()  # (label, description) -> count
        self.duplicates = 0
        self.lag = collections.defaultdict(list)  # label -> event-loop lag samples (s)


class Bot:
    """One signed-in member of one consultation."""

    def __init__(self, stats: Stats, mode: str, url: str, cid: int, uid: int, cookie: str, tag: str,
                 client: str = "lean"):
        self.stats, self.mode, self.url, self.cid, self.uid, self.cookie = stats, mode, url, cid, uid, cookie
        self.tag = tag
        self.seq = 0
        self.ready = False
        self.stopping = False
        if client == "lean":
            self.sio = LeanClient()
        else:
            import socketio

            self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.sio.on("message", self.on_message, namespace=NS)
        self.sio.on("problem", self.on_problem, namespace=NS)
        self.sio.on("disconnect", self.on_disconnect, namespace=NS)

    def on_message(self, data):
        now = time.monotonic()
        if data.get("sender_id") == self.uid:
            return  # the room includes the sender: its own copy
        got = self.stats.sent.pop(data.get("client_id"), None)
        if got is None:
            self.stats.duplicates += 1
            return
        label, t_send = got
        self.stats.deliveries.append((label, t_send, now - t_send, now))

    def on_problem(self, data):
        self.stats.errors[(self.stats.phase, f"problem event: {data.get('event')}: {data.get('error')}")] += 1

    def on_disconnect(self, reason=None):
        if not self.stopping:
            self.stats.errors[(self.stats.phase, f"disconnected by the server ({reason})")] += 1

    async def connect(self):
        kwargs = {"auth": {"user_id": self.uid}} if self.mode == "ceiling" else {}
        # aiohttp has no connect timeout of its own here: a server without a free thread never answers.
        await asyncio.wait_for(self.sio.connect(self.url, namespaces=[NS], transports=["websocket"],
                                                headers={"Cookie": self.cookie}, wait_timeout=30, **kwargs), 60)
        ack = await self.sio.call("join", {"consultation_id": self.cid}, namespace=NS, timeout=30)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack.get('error')}")
        if ack.get("me") != self.uid or ack.get("status") != "active":
            raise RuntimeError(f"join answered me={ack.get('me')} status={ack.get('status')}")
        self.ready = True

    def _next(self, label):
        self.seq += 1
        client_id = f"{self.tag}-{self.seq}"
        self.stats.sends[label] += 1
        self.stats.sent[client_id] = (label, time.monotonic())
        return client_id, {"consultation_id": self.cid, "client_id": client_id, "body": BODY}

    def _ack(self, client_id, label, ack):
        ok = bool(isinstance(ack, dict) and ack.get("ok"))
        self.stats.acked[client_id] = ok
        if ok:
            self.stats.acked_ok[label] += 1
        elif isinstance(ack, dict) and ack.get("retry"):
            # Past saturation: refused with a retryable answer (the page would re-send it later).
            self.stats.sent.pop(client_id, None)
            self.stats.refused[label] += 1
        else:
            self.stats.sent.pop(client_id, None)
            self.stats.errors[(label, f"send refused: {ack.get('error') if isinstance(ack, dict) else ack}")] += 1

    async def open_loop(self, label: str, start: float, end: float, interval: float):
        """One message every ``interval`` s from a random offset; acknowledgements are not awaited."""
        t = start + random.uniform(0, interval)
        late = time.monotonic() - 0.05
        while t < late:  # started late (a slow verdict on the step before): skip slots, no burst
            t += interval
        while t < end:
            await asyncio.sleep(max(0.0, t - time.monotonic()))
            client_id, data = self._next(label)
            try:
                await self.sio.emit("send", data, namespace=NS,
                                    callback=lambda ack=None, c=client_id: self._ack(c, label, ack))
            except Exception as exc:  # noqa: BLE001 — counted, not raised
                self.stats.sent.pop(client_id, None)
                self.stats.errors[(label, f"emit failed: {type(exc).__name__}")] += 1
            t += interval

    async def closed_loop(self, label: str, end: float, pace: int):
        """The next ``send`` as soon as the last is acknowledged, but not sooner than
        ``FLOOD_WINDOW / pace`` s after the last one (``/consult`` refuses floods)."""
        spacing = FLOOD_WINDOW / pace if pace else 0.0
        last = 0.0
        while True:
            now = time.monotonic()
            if now < last + spacing:
                if last + spacing >= end:
                    return
                await asyncio.sleep(last + spacing - now)
                now = time.monotonic()
            if now >= end:
                return
            last = now
            client_id, data = self._next(label)
            try:
                ack = await self.sio.call("send", data, namespace=NS, timeout=ACK_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 — TimeoutError, BadNamespaceError …
                self.stats.errors[(label, f"no ack within {ACK_TIMEOUT:g} s ({type(exc).__name__})")] += 1
                if not self.sio.connected:
                    return
                continue
            self._ack(client_id, label, ack)

    async def close(self):
        self.stopping = True
        try:
            await self.sio.disconnect()
        except Exception:  # noqa: BLE001
            pass
        eio = getattr(self.sio, "eio", None)  # python-socketio's client: an HTTP session each
        http_session = getattr(eio, "http", None)
        if http_session is not None and not http_session.closed:
            await http_session.close()


def chat_plan(start: float, cfg: dict) -> tuple:
    """(label, kind, start, end, parameter, measured from, measured to) of the chat phase."""
    d = cfg["duration"]
    return ("chat", "open", start, start + d, cfg["interval"], start + WARMUP, start + d)


def saturation_plan(start: float, cfg: dict) -> list[tuple]:
    """The same for the phases after it; ``start`` is when all agreed the chat backlog was gone."""
    if cfg["saturation"] == "closed":
        d = cfg["duration"]
        return [("closed", "closed", start, start + d, cfg["pace"], start + WARMUP, start + d)]
    if cfg["saturation"] == "none":
        return []
    if cfg["saturation"] == "overload":
        # Fixed offered loads, a multiple of a saturation measured before, held whatever happens.
        plan, t, s = [], start, cfg["overload_seconds"]
        for factor in cfg["overload_factors"]:
            rate = cfg["overload_of"] * factor
            plan.append((f"over {factor:g}x", "hold", t, t + s, rate, t + STEP_WARMUP, t + s))
            t += s + STEP_GAP
        return plan
    plan, t, s = [], start, cfg["step_seconds"]
    for rate in cfg["steps"]:
        plan.append((f"ramp {rate}", "step", t, t + s, rate, t + STEP_WARMUP, t + s))
        t += s + STEP_GAP
    return plan


def _wait(barrier) -> bool:
    """Wait for the other load generators and the main process; False if one of them never came."""
    try:
        barrier.wait(BARRIER_TIMEOUT)
        return True
    except threading.BrokenBarrierError:
        return False


async def _lag_monitor(stats: Stats):
    """Event-loop lag of the load generator: how late a 10 ms sleep wakes up."""
    while True:
        t = time.monotonic()
        await asyncio.sleep(0.01)
        stats.lag[stats.phase].append(time.monotonic() - t - 0.01)


async def _sleep_until(t: float):
    await asyncio.sleep(max(0.0, t - time.monotonic()))


async def _loadgen(idx, mode, url, pairs, cfg, ready_q, go_q, result_q, overloaded, barrier):
    stats = Stats()
    bots = [Bot(stats, mode, url, pair["cid"], pair["uids"][k], pair["cookies"][k], f"p{idx}u{pair['uids'][k]}",
                cfg["client"]) for pair in pairs for k in (0, 1)]
    sem = asyncio.Semaphore(cfg["connect_concurrency"])

    async def connect(bot):
        async with sem:
            try:
                await bot.connect()
            except Exception as exc:  # noqa: BLE001
                stats.errors[("connect", f"connect/join failed: {type(exc).__name__}: {exc}"[:160])] += 1

    await asyncio.gather(*(connect(b) for b in bots))
    # Both members of a pair must be there, or the other's messages would count as lost.
    by_cid = collections.Counter(b.cid for b in bots if b.ready)
    active = [b for b in bots if b.ready and by_cid[b.cid] == 2]
    ready_q.put((idx, len(active), len(bots)))
    go = await asyncio.get_running_loop().run_in_executor(None, go_q.get)
    if go is not None:
        start, total_active = go
        loop = asyncio.get_running_loop()
        lag = asyncio.ensure_future(_lag_monitor(stats))
        cpu, overload, chat_backlog = {}, {}, {}

        async def run(label, kind, t0, t1, param):
            await _sleep_until(t0)
            stats.phase = label
            c0 = time.process_time()
            if kind == "closed":
                await asyncio.gather(*(b.closed_loop(label, t1, param) for b in active))
            else:
                interval = param if kind == "open" else total_active / param
                await asyncio.gather(*(b.open_loop(label, t0, t1, interval) for b in active))
            cpu[label] = time.process_time() - c0
            stats.phase = f"after {label}"

        label, kind, t0, t1, param, _, _ = chat_plan(start, cfg)
        await run(label, kind, t0, t1, param)
        # Start the next phase only once the chat messages have arrived (or CHAT_DRAIN has passed),
        # so that a backlog left by the chat phase does not count against the first ramp steps.
        while time.monotonic() < t1 + CHAT_DRAIN and any(
                lbl == "chat" and stats.acked.get(c) is not False for c, (lbl, _) in stats.sent.items()):
            await asyncio.sleep(0.05)
        chat_backlog["cleared_after"] = max(0.0, time.monotonic() - t1)
        chat_backlog["left"] = sum(1 for lbl, _ in stats.sent.values() if lbl == "chat")
        await loop.run_in_executor(None, _wait, barrier)
        for label, kind, t0, t1, param, _, _ in saturation_plan(time.monotonic() + 1.0, cfg):
            await run(label, kind, t0, t1, param)
            if kind != "step":
                continue
            await _sleep_until(t1 + STEP_CHECK)
            backlog = sum(1 for lbl, _ in stats.sent.values() if lbl == label)
            failed = sum(n for (lbl, _), n in stats.errors.items() if lbl in (label, f"after {label}"))
            # A server that sheds is not keeping up either: what it refused was not delivered.
            refused = stats.refused[label]
            # The backlog allowed is a time at the step's rate, whatever the step's length: a server
            # falling behind by a steady share of what it is sent is not keeping up in a long step either.
            allowed = STEP_BACKLOG * stats.sends[label] / (t1 - t0) + 5
            if backlog > allowed or failed or refused > STEP_REFUSED * stats.sends[label] + 5:
                overload[label] = (f"{backlog} of {stats.sends[label]} on their way {STEP_CHECK:g} s after the step"
                                   f"{f', {refused} refused' if refused else ''}{f', {failed} failed' if failed else ''}")
                overloaded.value = 1
            # Every load generator gives its verdict before any goes on (or stops).
            if not await loop.run_in_executor(None, _wait, barrier):
                overloaded.value = 1
            if overloaded.value:
                break
        # Let what is still on its way arrive.
        stats.phase = "drain"
        deadline = time.monotonic() + DRAIN
        while time.monotonic() < deadline and any(stats.acked.get(c) is not False for c in stats.sent):
            await asyncio.sleep(0.1)
        lag.cancel()
    lost = collections.Counter()
    for client_id, (label, _) in stats.sent.items():
        what = "acked ok, not delivered" if stats.acked.get(client_id) else "no ack, not delivered"
        lost[(label, f"{what} {DRAIN:g} s after the last send")] += 1
    connected_at_end = sum(b.sio.connected for b in active)
    stats.phase = "close"
    sem_close = asyncio.Semaphore(100)

    async def close(bot):
        async with sem_close:
            await bot.close()

    await asyncio.gather(*(close(b) for b in bots))
    await close_shared_session()
    if go is None:
        result_q.put((idx, None))
        return
    result_q.put((idx, {
        "deliveries": stats.deliveries, "sends": dict(stats.sends), "errors": dict(stats.errors),
        "lost": dict(lost), "duplicates": stats.duplicates, "cpu": cpu, "overload": overload,
        "chat_backlog": chat_backlog, "refused": dict(stats.refused), "acked_ok": dict(stats.acked_ok),
        "acked_ids": [c for c, ok in stats.acked.items() if ok],
        "active": len(active), "connected_at_end": connected_at_end,
        "lag_p99": {label: pct(v, 0.99) for label, v in stats.lag.items()},
    }))


def _loadgen_process(*args):
    import logging

    # engineio's client logs every connection the server drops; they are counted instead.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
    logging.getLogger("socketio.client").setLevel(logging.CRITICAL)
    asyncio.run(_loadgen(*args))


async def _preflight(mode: str, url: str, pair: dict, client: str) -> str:
    """One pair: both join their consultation (ok, status active), one message goes across."""
    stats = Stats()
    a, b = (Bot(stats, mode, url, pair["cid"], pair["uids"][k], pair["cookies"][k], f"pre{k}", client)
            for k in (0, 1))
    try:
        await a.connect()
        await b.connect()
        client_id, data = a._next("preflight")
        ack = await a.sio.call("send", data, namespace=NS, timeout=10)
        if not ack.get("ok"):
            raise RuntimeError(f"send refused: {ack}")
        for _ in range(100):
            if stats.deliveries:
                break
            await asyncio.sleep(0.05)
        if not stats.deliveries:
            raise RuntimeError("the other member did not receive the message")
        return (f"users {pair['uids'][0]} and {pair['uids'][1]} joined consultation {pair['cid']} (ok, active); "
                f"message {ack['message']['id']} delivered in {stats.deliveries[0][2] * 1000:.1f} ms")
    finally:
        await a.close()
        await b.close()
        await close_shared_session()


# --------------------------------------------------------------------------- one server

def run_server(mode: str, env: dict, pairs: list[dict], args, tmp: str) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = os.path.join(tmp, f"server-{mode}.log")
    result = {"mode": mode}
    with open(log_path, "w") as logfile:
        proc = start_server(mode, env, port, args.workers, args.worker_connections, logfile)
        try:
            wpid = worker_pid(proc.pid)
            result["preflight"] = asyncio.run(_preflight(mode, url, pairs[0], args.client))
            log(f"{mode}: preflight: {result['preflight']}")
            result.update(drive(mode, url, pairs[1:], args, wpid, proc.pid))
        except BaseException:
            logfile.flush()
            with open(log_path) as f:
                tail = f.read()[-3000:]
            print(f"--- {mode} server log (tail) ---\n{tail}", file=sys.stderr)
            raise
        finally:
            stop_server(proc)
    with open(log_path) as f:
        lines = f.read().splitlines()
    result["server_log_errors"] = [line for line in lines if any(
        word in line for word in (" ERROR ", "[ERROR]", "[CRITICAL]", "Traceback", "WORKER TIMEOUT"))]
    result["server_log"] = log_path
    if mode == "app" and args.saturation == "overload":
        result["stored"] = count_stored(env, result.pop("acked_ids"))
    else:
        result.pop("acked_ids", None)
    result["diag"] = [line for line in lines if line.startswith("DIAG ")]
    if args.logs:
        os.makedirs(args.logs, exist_ok=True)
        result["server_log"] = os.path.join(args.logs, os.path.basename(log_path))
        shutil.copy(log_path, result["server_log"])
    return result


def _count_stored(env: dict, client_ids: list, out) -> None:
    os.environ.update(env)
    import sqlalchemy as sa

    from odr import create_app
    from odr.consult.models import ConsultMessage
    from odr.extensions import db

    app = create_app(sockets=False)
    found = collections.Counter()
    with app.app_context():
        for i in range(0, len(client_ids), 500):
            chunk = client_ids[i:i + 500]
            found.update(db.session.scalars(sa.select(ConsultMessage.client_id)
                                            .where(ConsultMessage.client_id.in_(chunk))))
        db.engine.dispose()
    out.put((len(client_ids), sum(1 for c in client_ids if found[c] == 1),
             sum(1 for c in client_ids if found[c] == 0), sum(1 for c in client_ids if found[c] > 1)))


def count_stored(env: dict, client_ids: list) -> dict:
    """After the server stopped: of the messages acknowledged ok, how many are in the database once,
    missing, or more than once (in a child process: this one never imports the app)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    p = ctx.Process(target=_count_stored, args=(env, client_ids, out))
    p.start()
    acked, once, missing, twice = out.get(timeout=600)
    p.join(timeout=30)
    return {"acked": acked, "once": once, "missing": missing, "duplicated": twice}


def rss_mb(pid: int | None) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return float("nan")


def worker_pids(arbiter_pid: int) -> list[int]:
    try:
        with open(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children") as f:
            return sorted(int(x) for x in f.read().split())
    except OSError:
        return []


class PageProbe(threading.Thread):
    """A page request every ``every`` s while the chat is loaded: (time sent, seconds, status)."""

    def __init__(self, port: int, path: str, every: float = 0.5):
        super().__init__(daemon=True)
        self.port, self.path, self.every = port, path, every
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", self.path)
                status = conn.getresponse().status
                conn.close()
            except OSError as exc:
                status = type(exc).__name__
            self.samples.append((t, time.monotonic() - t, status))
            self.stop.wait(max(0.0, self.every - (time.monotonic() - t)))


def drive(mode, url, pairs, args, wpid, arbiter=None) -> dict:
    ctx = multiprocessing.get_context("fork")
    ready_q, result_q = ctx.Queue(), ctx.Queue()
    overloaded = ctx.Value("i", 0)
    barrier = ctx.Barrier(args.procs + 1)  # the load generators and this process
    go_qs = [ctx.Queue() for _ in range(args.procs)]
    shares = [pairs[i::args.procs] for i in range(args.procs)]
    cfg = {"interval": args.interval, "duration": args.duration, "saturation": args.saturation, "pace": args.pace,
           "steps": args.steps, "step_seconds": args.step_seconds, "connect_concurrency": args.connect_concurrency,
           "overload_of": args.overload_of, "overload_factors": args.overload_factors,
           "overload_seconds": args.overload_seconds, "client": args.client}
    pids_before = worker_pids(arbiter) if arbiter else []
    procs = [ctx.Process(target=_loadgen_process,
                         args=(i, mode, url, shares[i], cfg, ready_q, go_qs[i], result_q, overloaded, barrier))
             for i in range(args.procs)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    active = total = 0
    for _ in procs:
        _, a, n = ready_q.get(timeout=600)
        active, total = active + a, total + n
    connect_secs = time.monotonic() - t0
    threads, rss = thread_count(wpid), rss_mb(wpid)
    log(f"{mode}: {active}/{total} clients connected and joined in {connect_secs:.1f} s "
        f"({args.procs} load processes); the server worker has {threads} threads, RSS {rss:.0f} MB")
    if args.hold:
        time.sleep(args.hold)  # connected and idle: do they stay?
    start = time.monotonic() + 1.0
    for q in go_qs:
        q.put((start, active) if active else None)

    # CPU time of the server's worker process in each measured window.
    cpu, machine, plan = {}, {}, []

    def measure(label, a, b):
        time.sleep(max(0.0, a - time.monotonic()))
        c0, m0 = cpu_seconds(wpid), machine_busy()
        time.sleep(max(0.0, b - time.monotonic()))
        cpu[label] = (cpu_seconds(wpid) - c0) / (b - a)
        machine[label] = busy_share(m0, machine_busy())

    if active:
        plan.append(chat_plan(start, cfg))
        measure("chat", *plan[0][5:])
        log(f"{mode}: chat       measured: server worker CPU {cpu['chat'] * 100:3.0f}% of one core")
        _wait(barrier)  # the chat messages have arrived
        probe = PageProbe(int(url.rsplit(":", 1)[1]), "/auth/login" if mode == "app" else "/")
        probe.start()
        for step in saturation_plan(time.monotonic() + 1.0, cfg):
            label, kind = step[:2]
            plan.append(step)
            measure(label, *step[5:])
            if kind == "step" and not _wait(barrier):  # the load generators' verdict on this step
                overloaded.value = 1
            log(f"{mode}: {label:<10} measured: server worker CPU {cpu[label] * 100:3.0f}% of one core"
                f"{'  (not kept up with: last step)' if kind == 'step' and overloaded.value else ''}")
            if kind == "step" and overloaded.value:
                break
        probe.stop.set()
        probe.join(timeout=35)
    else:
        probe = None

    results = []
    for _ in procs:
        _, r = result_q.get(timeout=600)
        if r is not None:
            results.append(r)
    for p in procs:
        p.join(timeout=30)

    pids_after = worker_pids(arbiter) if arbiter else []
    out = {"clients": total, "active": active, "connect_secs": connect_secs, "threads": threads, "rss_mb": rss,
           "rss_end_mb": rss_mb(wpid), "threads_end": thread_count(wpid), "workers_before": pids_before,
           "workers_after": pids_after, "refused": collections.Counter(), "acked_ok": collections.Counter(),
           "acked_ids": [c for r in results for c in r["acked_ids"]],
           "disconnected": sum(n for r in results for (_, what), n in r["errors"].items()
                               if "disconnected by the server" in what),
           "server_cpu": cpu, "machine": machine, "phases": {}, "errors": collections.Counter(),
           "lost": collections.Counter(), "overload": {},
           "duplicates": sum(r["duplicates"] for r in results),
           "connected_at_end": sum(r["connected_at_end"] for r in results)}
    sends = collections.Counter()
    for r in results:
        out["errors"].update(r["errors"])
        out["lost"].update(r["lost"])
        sends.update(r["sends"])
        out["overload"].update(r["overload"])
        out["refused"].update(r["refused"])
        out["acked_ok"].update(r["acked_ok"])
    deliveries = collections.defaultdict(list)
    for r in results:
        for d in r["deliveries"]:
            deliveries[d[0]].append(d)
    if args.dump:
        path = os.path.join(args.dump, f"deliveries-{mode}.csv")
        os.makedirs(args.dump, exist_ok=True)
        with open(path, "w") as f:
            f.write("phase,sent_s,latency_ms,received_s\n")
            for d in sorted((d for ds in deliveries.values() for d in ds), key=lambda d: d[1]):
                f.write(f"{d[0]},{d[1] - start:.4f},{d[2] * 1000:.2f},{d[3] - start:.4f}\n")
        log(f"{mode}: deliveries written to {path}")
    chat_backlog = [r["chat_backlog"] for r in results if r.get("chat_backlog")]
    out["chat_cleared_after"] = max((c["cleared_after"] for c in chat_backlog), default=float("nan"))
    out["chat_left"] = sum(c["left"] for c in chat_backlog)
    for label, kind, t0, t1, param, a, b in plan:
        if label not in sends:
            continue
        mine = deliveries[label]
        measured = [d[2] * 1000 for d in mine if a <= d[1] < b]
        received = sum(1 for d in mine if a <= d[3] < b)
        offered = active / param if kind == "open" else (param if kind in ("step", "hold") else None)
        out["phases"][label] = {
            "kind": kind, "offered": offered, "sent": sends[label], "delivered": len(mine),
            "rate": received / (b - a), "p50": pct(measured, 0.50), "p99": pct(measured, 0.99),
            "max": max(measured) if measured else float("nan"),
            "loadgen_cpu": sum(r["cpu"].get(label, 0.0) for r in results) / (t1 - t0),
            "loop_lag_p99": max((r["lag_p99"].get(label, 0.0) for r in results), default=0.0) * 1000,
            "overload": out["overload"].get(label),
            "refused": out["refused"].get(label, 0), "acked_ok": out["acked_ok"].get(label, 0),
            "pages": [(dt, st) for t, dt, st in (probe.samples if probe else []) if t0 <= t < t1],
        }
    return out


# --------------------------------------------------------------------------- report

def _peak(r):
    """Highest delivered msgs/s of any phase, and the phase."""
    best = max(r["phases"].items(), key=lambda kv: kv[1]["rate"], default=(None, {"rate": 0.0}))
    return best[1]["rate"], best[0]


def _sustained(r):
    """The highest ramp step that was kept up with."""
    kept = [(label, ph) for label, ph in r["phases"].items() if ph["kind"] == "step" and not ph["overload"]]
    return kept[-1] if kept else (None, None)


def report(results: dict, args, db_url: str, load_before) -> int:
    from importlib.metadata import version

    n = args.clients
    print()
    print("odr Socket.IO benchmark — /consult chat, odr app vs bare python-socketio server (ceiling)")
    print(f"  database : {db_url.split('://')[0]} ({db_url})")
    print(f"  server   : gunicorn {version('gunicorn')} gevent {version('gevent')}, {args.workers} worker(s) "
          f"(worker_connections {args.worker_connections}), via odr.serve.run_gunicorn; python-socketio "
          f"{version('python-socketio')}, gevent mode")
    client = "bench/_lean_sio.py" if args.client == "lean" else "python-socketio AsyncClient"
    print(f"  clients  : {n} ({n // 2} rooms of two), {client} over websocket, "
          f"{args.procs} load processes on the same {os.cpu_count()}-CPU machine")
    print(f"  chat     : each client sends 1 message every {args.interval:g} s, acks not awaited "
          f"(offered {n / args.interval:.0f} msgs/s), {args.duration:g} s, first {WARMUP:g} s not measured")
    if args.saturation == "closed":
        print(f"  closed   : each client keeps 1 send in flight, at most one every {FLOOD_WINDOW / args.pace:g} s, "
              f"{args.duration:g} s, first {WARMUP:g} s not measured")
    elif args.saturation == "overload":
        print(f"  overload : open-loop phases of {args.overload_seconds:g} s at "
              f"{', '.join(f'{args.overload_of * f:.0f}' for f in args.overload_factors)} msgs/s offered "
              f"({', '.join(f'{f:g}' for f in args.overload_factors)} x {args.overload_of:g}), held; "
              "GET of a page every 0.5 s meanwhile")
    elif args.saturation == "ramp":
        print(f"  ramp     : open-loop steps of {args.step_seconds:g} s ({', '.join(map(str, args.steps))} msgs/s "
              f"offered over all clients; first {STEP_WARMUP:g} s of each not measured) until one is not kept up with")
    print("  latency  : from emitting `send` to the other member's `message` event; "
          "msgs/s: deliveries to the other member per second")
    print(f"  machine  : {platform.python_implementation()} {platform.python_version()}, {platform.platform()}; "
          f"CPUs {load_before * 100:.0f}% busy in the second before the first server started")
    print()
    print(f"  {'server':<8} {'phase':<10} {'offered':>7} {'sent':>6} {'refused':>7} {'msgs/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'srv CPU':>7} {'gen CPU':>7} {'gen lag':>7} {'machine':>7}")
    for mode, r in results.items():
        for label, ph in r["phases"].items():
            offered = f"{ph['offered']:.0f}" if ph["offered"] is not None else "-"
            flag = "  not kept up with" if ph["overload"] else ""
            print(f"  {mode:<8} {label:<10} {offered:>7} {ph['sent']:>6} {ph['refused']:>7} {ph['rate']:>7.0f} {ph['p50']:>8.1f} "
                  f"{ph['p99']:>8.1f} {ph['max']:>8.1f} {r['server_cpu'].get(label, float('nan')) * 100:>6.0f}% "
                  f"{ph['loadgen_cpu'] * 100:>6.0f}% {ph['loop_lag_p99']:>5.1f}ms "
                  f"{r['machine'].get(label, float('nan')) * 100:>6.0f}%{flag}")
    for mode, r in results.items():
        print(f"  {mode:<8} connect: {r['active']}/{r['clients']} clients connected and joined in "
              f"{r['connect_secs']:.1f} s; server worker {r['threads']} threads, RSS {r['rss_mb']:.0f} MB "
              f"(at the end: {r['threads_end']} threads, {r['rss_end_mb']:.0f} MB); {r['connected_at_end']} "
              f"still connected at the end, {r['disconnected']} disconnected by the server")
    print("  (srv CPU: the server's worker process, 100% = one core; gen: the load generators together, and the p99 "
          f"lateness of their event loops; machine: all {os.cpu_count()} CPUs busy = 100%)")
    print()

    dirty = False
    for mode, r in results.items():
        problems = []
        if r["active"] < r["clients"]:
            problems.append(f"{r['clients'] - r['active']} of {r['clients']} clients did not connect and join")
        if r["connected_at_end"] < r["active"]:
            problems.append(f"{r['active'] - r['connected_at_end']} clients were no longer connected at the end")
        last_step = [label for label, ph in r["phases"].items() if ph["overload"]]
        for (label, what), count in sorted(r["errors"].items()):
            problems.append(f"{count} x [{label}] {what}")
        for (label, what), count in sorted(r["lost"].items()):
            problems.append(f"{count} x [{label}] LOST: {what}")
        if r["duplicates"]:
            problems.append(f"{r['duplicates']} messages delivered twice")
        for line in r["server_log_errors"][:3]:
            problems.append(f"server log: {line[:150]}")
        if len(r["server_log_errors"]) > 3:
            problems.append(f"… {len(r['server_log_errors'])} error lines in {r['server_log']}")
        lost = sum(r["lost"].values())
        print(f"  {mode:<8} errors and lost messages: {'none' if not problems else ''}")
        for p in problems:
            print(f"             {p}")
        if lost:
            print(f"             => {lost} messages LOST (never delivered){' — from ' + last_step[0] + ' on' if last_step else ''}")
        # Failures in the ramp step that was not kept up with, or after it, are the overload itself;
        # anywhere else they make the run unclean.
        must_be_clean = {"connect", "chat", "after chat"}
        for label, ph in r["phases"].items():
            if ph["kind"] == "step" and not ph["overload"]:
                must_be_clean |= {label, f"after {label}"}
        if any(label in must_be_clean for (label, _) in list(r["errors"]) + list(r["lost"])) \
                or r["active"] < r["clients"] or r["duplicates"]:
            dirty = True
    print()

    status = 0
    if "app" in results and "chat" in results["app"]["phases"]:
        p99 = results["app"]["phases"]["chat"]["p99"]
        ok = p99 < GOAL_P99_MS
        print(f"  app chat p99 = {p99:.1f} ms at {args.clients / args.interval:.0f} msgs/s offered "
              f"(goal < {GOAL_P99_MS:g} ms)  {'OK' if ok else 'ABOVE GOAL'}")
        status = status or (0 if ok else 1)
    for mode, r in results.items():
        if "chat" in r["phases"]:
            left = f", {r['chat_left']} never arrived" if r["chat_left"] else ""
            print(f"  {mode:<8} chat phase: every message had arrived {r['chat_cleared_after']:.1f} s after it "
                  f"ended{left} (the saturation phase started then)")
        label, ph = _sustained(r)
        rate, where = _peak(r)
        kept = (f"; highest step kept up with: {label} (delivered {ph['rate']:.0f} msgs/s, p99 {ph['p99']:.1f} ms)"
                if label else "; no ramp step kept up with" if args.saturation == "ramp" else "")
        print(f"  {mode:<8} saturation: {rate:.0f} msgs/s delivered at most ({where}){kept}")
        if args.saturation == "ramp" and not any(ph["overload"] for ph in r["phases"].values()) and r["phases"]:
            most = int(n * MAX_CLIENT_RATE)
            why = (f"the flood-safe most for {n} clients" if args.steps[-1] >= most
                   else f"the last step asked for; {n} clients can offer up to {most}")
            print(f"           NOTE: {mode} kept up with every step up to {args.steps[-1]} msgs/s ({why}): not "
                  "saturated, its figure is a lower bound")
    if "app" in results and "ceiling" in results:
        a, c = _peak(results["app"])[0], _peak(results["ceiling"])[0]
        ratio = a / c if c else float("nan")
        ok = ratio >= GOAL_RATIO
        saturated = {mode: any(ph["overload"] for ph in r["phases"].values()) or args.saturation == "closed"
                     for mode, r in results.items()}
        verdict = "OK" if ok else "BELOW GOAL"
        if not saturated["ceiling"]:
            verdict += " (the ceiling was not saturated: the true ratio is lower)"
        elif not saturated["app"]:
            verdict += " (the app was not saturated: the true ratio is higher)"
        print(f"  saturation msgs/s app / ceiling = {a:.0f} / {c:.0f} = {ratio:.2f} (goal >= {GOAL_RATIO})  {verdict}")
        status = status or (0 if ok else 1)
        pa, pc = results["app"]["phases"].get("chat"), results["ceiling"]["phases"].get("chat")
        if pa and pc:
            print(f"  chat phase, same offered load: p99 app / ceiling = {pa['p99']:.1f} / {pc['p99']:.1f} ms; "
                  f"server CPU {results['app']['server_cpu'].get('chat', 0) * 100:.0f}% / "
                  f"{results['ceiling']['server_cpu'].get('chat', 0) * 100:.0f}%")
    for mode, r in results.items():
        held = [(label, ph) for label, ph in r["phases"].items() if ph["kind"] == "hold"]
        if not held:
            continue
        print()
        print(f"  {mode:<8} overload (offered {', '.join(f'{f:g}' for f in args.overload_factors)} x "
              f"{args.overload_of:g} msgs/s, {args.overload_seconds:g} s each):")
        print(f"           {'phase':<10} {'offered':>7} {'sent':>6} {'ack ok':>6} {'refused':>7} {'deliv.':>6} "
              f"{'msgs/s':>7} {'p99 ms':>8} {'pages':>5} {'page max s':>10} {'>1 s':>4}")
        for label, ph in held:
            pages = ph["pages"]
            slow = sum(1 for dt, st in pages if dt >= 1.0 or st != 200)
            print(f"           {label:<10} {ph['offered']:>7.0f} {ph['sent']:>6} {ph['acked_ok']:>6} {ph['refused']:>7} "
                  f"{ph['delivered']:>6} {ph['rate']:>7.0f} {ph['p99']:>8.1f} {len(pages):>5} "
                  f"{max((dt for dt, _ in pages), default=float('nan')):>10.2f} {slow:>4}")
        lost_acked = sum(n for (label, what), n in r["lost"].items() if what.startswith("acked ok"))
        same = r["workers_before"] == r["workers_after"] and r["workers_before"]
        print(f"           server worker(s) {r['workers_before']} -> {r['workers_after']}: "
              f"{'unchanged (stayed up)' if same else 'CHANGED (a worker died or was killed)'}")
        print(f"           disconnected by the server: {r['disconnected']}; acknowledged ok but not delivered: "
              f"{lost_acked}")
        stored = r.get("stored")
        if stored:
            print(f"           database: of {stored['acked']} messages acknowledged ok (every phase), "
                  f"{stored['once']} stored once, {stored['missing']} missing, {stored['duplicated']} more than once")
        page_ok = all(dt < 1.0 and st == 200 for _, ph in held for dt, st in ph["pages"])
        verdict = (same and not r["disconnected"] and not lost_acked and page_ok
                   and (not stored or (stored["missing"] == 0 and stored["duplicated"] == 0)))
        print(f"           => {'OK' if verdict else 'NOT MET'} (goal: worker up, 0 server disconnects, 0 acked lost, "
              f"every page < 1 s)")
        status = status or (0 if verdict else 1)
    if args.diagnose:
        print()
        for mode, r in results.items():
            print(f"  {mode:<8} diagnostics ({r['server_log']}):")
            summary = collections.defaultdict(list)
            for line in r["diag"]:
                words = line.split()
                kind = " ".join(words[1:3]) if words[1] != "slow" else "slow sql " + words[5]
                summary[kind].append(float(words[3]))
            for kind, ms in sorted(summary.items()):
                if kind.startswith("shed "):  # values: sends refused in one second
                    print(f"             {kind:<24} {len(ms):>6} s with refusals, {sum(ms):.0f} refused, "
                          f"at most {max(ms):.0f} in a second")
                    continue
                print(f"             {kind:<24} {len(ms):>6} x, {sum(ms) / 1000:.1f} s in all, longest {max(ms):.0f} ms")
            if not summary:
                print("             nothing logged")
    if dirty:
        print("  WARNING: errors or lost messages before the load was too high (see above); the figures are not clean.")
        status = 2
    return status


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000, help="Socket.IO clients, two per consultation (default 1000)")
    ap.add_argument("--duration", type=float, default=20, help="seconds of the chat (and closed) phase (default 20)")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite",
                    help=f"sqlite: file in the temp instance (default); postgres: recreate database {PG_DB} on "
                         "127.0.0.1:5432 as user postgres")
    ap.add_argument("--only", choices=["app", "ceiling"], help="run one server only")
    ap.add_argument("--interval", type=float, default=10.0,
                    help="chat phase: seconds between two messages of one client (default 10)")
    ap.add_argument("--saturation", choices=["ramp", "closed", "overload", "none"], default="ramp",
                    help="ramp: open-loop steps of rising load (default); closed: every client keeps one send in "
                         "flight; overload: --overload-factors x --overload-of msgs/s for --overload-seconds each, "
                         "held (acked messages checked against the database, a page probed every 0.5 s); none: "
                         "connect (and --hold), chat phase only")
    ap.add_argument("--overload-of", type=float, metavar="MSGS",
                    help="overload: the app's saturation measured before (msgs/s); the phases offer multiples of it")
    ap.add_argument("--overload-factors", default="2,5", help="overload: multiples of --overload-of (default 2,5)")
    ap.add_argument("--overload-seconds", type=float, default=30, help="overload: seconds per phase (default 30)")
    ap.add_argument("--hold", type=float, default=0,
                    help="seconds to keep every client connected and idle after connecting (with --saturation "
                         "none: the connect-only check)")
    ap.add_argument("--steps", help="ramp: comma-separated msgs/s (default 25,50,100,150,… up to clients x "
                                    f"{MAX_CLIENT_RATE:g})")
    ap.add_argument("--step-seconds", type=float, default=5.0, help="ramp: seconds per step (default 5)")
    ap.add_argument("--pace", type=int, default=25,
                    help="closed: sends per 10 s per connection at most, evenly spaced (default 25; /consult "
                         "refuses more than 30 events in 10 s); 0: unpaced")
    ap.add_argument("--client", choices=["lean", "socketio"], default="lean",
                    help="load generators' Socket.IO client: bench/_lean_sio.py (default), or python-socketio's "
                         "AsyncClient (0.33 ms CPU per message delivered against the lean client's 0.12)")
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes (default 2)")
    ap.add_argument("--workers", type=int, default=1,
                    help="server processes (default 1); more than one need ODR_SOCKETIO_MESSAGE_QUEUE (Redis)")
    ap.add_argument("--worker-connections", type=int, default=10_000,
                    help="gunicorn worker_connections per process (default 10000, as odr run)")
    ap.add_argument("--connect-concurrency", type=int, default=50, help="connections opened at once per process")
    ap.add_argument("--logs", metavar="DIR", help="copy the server logs to DIR (the instance is deleted at the end)")
    ap.add_argument("--diagnose", action="store_true",
                    help="the servers log garbage-collector pauses, slow SQL and long-held database connections; "
                         "a summary is printed")
    ap.add_argument("--dump", metavar="DIR", help="write every delivery (phase, sent, latency, received) to "
                                                   "DIR/deliveries-MODE.csv, seconds from the start of the chat phase")
    args = ap.parse_args()
    args.clients = max(2, args.clients - args.clients % 2)
    most = int(args.clients * MAX_CLIENT_RATE)
    if args.steps:
        args.steps = [int(x) for x in args.steps.split(",") if x.strip()]
    else:
        args.steps = [s for s in RAMP_STEPS if s < most] + [most]
    args.overload_factors = [float(x) for x in args.overload_factors.split(",") if x.strip()]
    if args.saturation == "overload":
        if not args.overload_of:
            ap.error("--saturation overload needs --overload-of (the app's saturation msgs/s, from a ramp run)")
        too_fast = [args.overload_of * f for f in args.overload_factors if args.overload_of * f > most]
        if too_fast:
            ap.error(f"overload {too_fast} msgs/s need more than {MAX_CLIENT_RATE:g} msgs/s per client: "
                     f"raise --clients to {int(max(too_fast) / MAX_CLIENT_RATE) + 2}")
    too_fast = [s for s in args.steps if s > most]
    if too_fast:
        ap.error(f"steps {too_fast} need more than {MAX_CLIENT_RATE:g} msgs/s per client; /consult would refuse them")
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="odr-bench-socket-") as tmp:
        env = dict(os.environ, ODR_INSTANCE_PATH=tmp, PYTHONUNBUFFERED="1")
        env.pop("ODR_DATABASE_URL", None)
        env.pop("ODR_BENCH_DIAG", None)
        if args.db == "postgres":
            env["ODR_DATABASE_URL"] = db_url = fresh_postgres(PG_DB)
        else:
            db_url = f"sqlite:///{tmp}/odr.sqlite"
        log(f"instance {tmp}; database {db_url}")
        load_demo(env)
        # One pair more than measured: it does the preflight check.
        pairs = make_pairs(env, args.clients // 2 + 1)
        m0 = machine_busy()
        time.sleep(1)
        load_before = busy_share(m0, machine_busy())
        results = {}
        for mode in ("app", "ceiling"):
            if args.only and mode != args.only:
                continue
            results[mode] = run_server(mode, dict(env, ODR_BENCH_DIAG="1") if args.diagnose else env, pairs,
                                       args, tmp)
            time.sleep(2)
        status = report(results, args, db_url, load_before)
    log(f"total time {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
