"""Soak and crash: simulated users against the real served processes, then ``kill -9`` rounds.

Run by hand from the project root::

    .venv/bin/python bench/soak.py                                  # 500 users, 10 min, 100 kill rounds, SQLite
    .venv/bin/python bench/soak.py --users 50 --seconds 60 --rounds 10
    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/odr_soak --rounds 20

(``--database-url``: that database is emptied first, ``DROP SCHEMA public CASCADE``.)

What it does:

1. builds an instance in a temporary folder (``ODR_INSTANCE_PATH``): the migrations and the demo
   data (what ``odr demo --no-serve`` does), an intake API token, and per simulated user a person
   with a consultation taken by a consultant on duty, and signed-in sessions (made as
   ``tests/consult/conftest.py`` does: no password hashing per user) for that person and for the
   demo claimant, a party of a case in mediation;
2. starts the real ``odr run`` (gunicorn's master and its gevent worker, the periodic jobs every
   ``--jobs-interval`` seconds and the media bridge, as separate processes);
3. ``--users`` threads, each a user who, every ``--think`` seconds on average, does one write:
   a consultation chat message over Socket.IO (python-socketio's client, websocket transport,
   the ``send`` event, acknowledged), a message in the mediation room (HTML form, CSRF token, 303),
   an evidence upload (multipart, 303) or a case through the intake API (``POST /api/v1/intake``,
   201). Every write carries a marker of its own; each one the server acknowledged is recorded;
4. phase "load": ``--seconds`` of that, where any failure counts as an error;
5. ``--rounds`` rounds: the users write for a random moment, then ``kill -9`` of the worker or of
   the master (at random, or ``--kills worker,master,…``), then the users pause while (beside the
   restart) every acknowledged write is looked for in the database (each must be there exactly
   once), ``odr audit verify`` runs, and SQLite's ``PRAGMA integrity_check``. A killed master must
   leave no process behind (worker, jobs, bridge) and is started again on the same port; a killed
   worker is replaced by the master. Requests that fail while the server is down are counted as
   "unavailable", not errors; an answer that is a refusal or a server error is an error in any
   phase.

Prints writes acknowledged, found, lost, duplicated, errors, unavailable, rounds, and per round the
time to serve again. Exit status 1 if anything was lost or duplicated, a check failed, or an error
occurred. ``tests/test_soak.py`` runs a short version of the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ODR = str(Path(sys.executable).with_name("odr"))
NS = "/consult"
UA = "odr-soak/1.0"
#: A PNG the evidence rules accept (checked by content); each upload gets its own trailing bytes.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
KINDS = ("chat", "room", "upload", "intake")
WEIGHTS = (4, 3, 1, 2)
#: How long a user waits for an answer. Long: an intake on PostgreSQL took 20-40 s on a loaded 2-core machine
#: (each request flushes the whole outbox after its commit and waits on the rows other requests are
#: sending, see bench/README.md); a slow answer is measured as slow, not as lost.
HTTP_TIMEOUT = 90
#: An acknowledgement lost with a killed worker is waited for this long (the users pause meanwhile).
CHAT_TIMEOUT = 10


def log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the instance

def instance_env(folder: Path, database_url: str, jobs_interval: int = 2) -> dict:
    # The sessions made at the start serve the whole run. In the kill rounds a user writes only in
    # the moment before each kill, so one may go half an hour without a page: the server then signs
    # that session out, as it should after SESSION_IDLE_MINUTES (30), and its next form post is
    # sent to the sign-in page (302). That is not what the soak tests: the idle limit is a day.
    env = dict(os.environ, ODR_INSTANCE_PATH=str(folder), ODR_SECRET_KEY="soak", ODR_DATABASE_URL=database_url,
               ODR_JOBS_INTERVAL_SECONDS=str(jobs_interval), ODR_INTAKE_RATE_LIMIT="1000000 per minute",
               ODR_LOGIN_RATE_LIMIT="100000 per minute", ODR_SESSION_IDLE_MINUTES=str(24 * 60))
    env.pop("ODR_TEST_DATABASE_URL", None)
    return env


def empty_postgres(url: str) -> None:
    """Create the database if it is not there, and empty it."""
    import sqlalchemy as sa

    target = sa.engine.make_url(_sa_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
    engine = sa.create_engine(target, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def prepare(folder: Path, database_url: str, users: int) -> dict:
    """In this process: schema, demo data, API token and one fixture per user. Returns what the
    users need (cookies, ids, the case number, the token). Leaves no connection open."""
    previous = os.environ.get("ODR_INSTANCE_PATH")
    os.environ["ODR_INSTANCE_PATH"] = str(folder)  # the app reads its instance folder from here
    try:
        return _prepare(database_url, users)
    finally:
        if previous is None:
            os.environ.pop("ODR_INSTANCE_PATH", None)
        else:
            os.environ["ODR_INSTANCE_PATH"] = previous


def _prepare(database_url: str, users: int) -> dict:
    import logging

    import sqlalchemy as sa

    from odr import create_app
    from odr import demo as demo_data
    from odr.auth import operations as auth_ops
    from odr.auth import sessions
    from odr.auth.models import Role, User
    from odr.cases import operations as case_ops
    from odr.cases.models import Category, Organization
    from odr.cases.operations import grant_role
    from odr.cli import upgrade_database
    from odr.consult import operations as consult_ops
    from odr.extensions import db

    app = create_app({"SECRET_KEY": "soak", "DATABASE_URL": database_url, "JOBS_INTERVAL_SECONDS": 0,
                      "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}},
                     sockets=False)
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # no "Account … created" line per user
    try:
        with app.app_context():
            upgrade_database()
            demo_data.load()
            db.session.commit()
            org = db.session.scalar(sa.select(Organization).order_by(Organization.id))
            _client, token = case_ops.issue_api_token(f"soak-{uuid.uuid4().hex[:6]}", org)
            number, claimant_id = db.session.execute(sa.text(
                "SELECT c.number, u.id FROM \"case\" c JOIN case_party p ON p.case_id = c.id "
                "JOIN \"user\" u ON u.id = p.user_id WHERE c.stage = 'mediation' AND c.closed_at IS NULL "
                "AND u.phone = :phone ORDER BY c.id LIMIT 1"), {"phone": demo_data.ACCOUNTS[0][1]}).one()
            fixtures = []
            tag = uuid.uuid4().hex[:6]
            for i in range(users):
                person = auth_ops.create_user(f"soak-{tag}-{i}@soak.odr.example", f"Soak person {i}")
                consultant = auth_ops.create_user(f"soak-{tag}-c{i}@soak.odr.example", f"Soak consultant {i}")
                grant_role(consultant, Role.consultant)
                consult_ops.set_duty(consultant, True)
                consultation = consult_ops.start(person, f"Soak question {i}", Category.property)
                consult_ops.take(consultation, consultant)
                fixtures.append({"cid": consultation.id, "uid": person.id})
            db.session.commit()
            client = app.test_client()

            def cookie_of(user_id: int) -> str:
                with client.session_transaction() as session:
                    session.clear()
                    sessions.stamp(session, db.session.get(User, user_id), UA)
                    session["lang"] = "en"
                return client.get_cookie("session").value

            for fixture in fixtures:
                fixture["chat_cookie"] = cookie_of(fixture["uid"])
                fixture["party_cookie"] = cookie_of(claimant_id)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        quiet.setLevel(level)
    return {"token": token, "number": number, "users": fixtures}


class Server:
    """The real ``odr run`` (or ``odr demo``, which loads the demo data again if it is missing, then
    serves the same way) on one port: started, killed, started again."""

    def __init__(self, folder: Path, env: dict, port: int, command: str = "run"):
        self.folder, self.env, self.port, self.command = folder, env, port, command
        self.url = f"http://127.0.0.1:{port}"
        self.log = folder / "served.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:  # its own session: stopping it is Ctrl-C for all of it
            self.process = subprocess.Popen([ODR, self.command, "--port", str(self.port)], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_up(self, timeout: float = 120.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"odr {self.command} exited with {self.process.returncode}\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"odr {self.command} did not answer within {timeout:.0f} s\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def workers(self) -> list[int]:
        return [pid for pid, ppid, cmdline in _processes()
                if ppid == self.process.pid and b"served_main" in cmdline]

    def wait_for_worker(self, not_pid: int | None = None, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [pid for pid in self.workers() if pid != not_pid]
            if pids:
                return pids[0]
            time.sleep(0.05)
        raise RuntimeError(f"no gunicorn worker within {timeout:.0f} s\n{self.tail()}")

    def leftovers(self) -> list[str]:
        """Processes of this instance still running (besides the current master and its children)."""
        mine = str(self.folder).encode()
        alive = self.process.pid if self.process and self.process.poll() is None else None
        found = []
        for pid, ppid, cmdline in _processes():
            if pid in (alive, os.getpid()) or (alive and ppid == alive):
                continue
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if b"ODR_INSTANCE_PATH=" + mine + b"\0" in environ + b"\0":
                found.append(f"{pid} {cmdline[:80].replace(bytes(1), b' ').decode(errors='replace')}")
        return found

    def kill(self, target: str) -> int:
        """``kill -9`` the master or its worker; returns the pid killed."""
        pid = self.process.pid if target == "master" else self.wait_for_worker()
        os.kill(pid, signal.SIGKILL)
        if target == "master":
            self.process.wait(timeout=30)
        return pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            self.process.wait(timeout=10)


def _processes():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            yield int(entry), int(stat.rsplit(")", 1)[1].split()[1]), cmdline


# --------------------------------------------------------------------------- the users

class Ledger:
    """What the users did: the writes acknowledged (marker per kind), errors, unavailability."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self.phase = "load"
        self.errors: collections.Counter = collections.Counter()
        self.unavailable: collections.Counter = collections.Counter()
        self.shed = 0

    def ack(self, kind: str, marker: str) -> None:
        with self.lock:
            self.acked[kind].append(marker)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.errors[(self.phase, kind, what[:160])] += 1

    def down(self, kind: str, what: str) -> None:
        """A request that failed for want of a server: an error while none is being killed."""
        with self.lock:
            if self.phase == "load":
                self.errors[(self.phase, kind, what[:160])] += 1
            else:
                self.unavailable[kind] += 1

    def snapshot(self) -> dict[str, list[str]]:
        with self.lock:
            return {kind: list(markers) for kind, markers in self.acked.items()}

    @property
    def total_acked(self) -> int:
        with self.lock:
            return sum(len(m) for m in self.acked.values())


class Gate:
    """Lets the users write, or holds them (and waits for the writes under way to end)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.open = False
        self.busy = 0
        self.stopped = False

    def enter(self) -> bool:
        with self.cond:
            while not self.open and not self.stopped:
                self.cond.wait()
            if self.stopped:
                return False
            self.busy += 1
            return True

    def leave(self) -> None:
        with self.cond:
            self.busy -= 1
            self.cond.notify_all()

    def set(self, is_open: bool) -> None:
        with self.cond:
            self.open = is_open
            self.cond.notify_all()

    def hold(self, timeout: float = 10.0) -> None:
        """Close, and wait (up to ``timeout`` s) until no write is under way. A write still waiting
        for its answer after that does not matter to the checks: they look for the writes
        acknowledged before they began."""
        deadline = time.monotonic() + timeout
        with self.cond:
            self.open = False
            while self.busy and time.monotonic() < deadline:
                self.cond.wait(0.2)

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


class User(threading.Thread):
    def __init__(self, n: int, run: str, url: str, setup: dict, fixture: dict, ledger: Ledger, gate: Gate,
                 think: float):
        super().__init__(name=f"soak-user-{n}", daemon=True)
        self.n, self.url, self.ledger, self.gate, self.think = n, url, ledger, gate, think
        self.tag = f"soak-{run}-{n}"
        self.number, self.cid, self.uid = setup["number"], fixture["cid"], fixture["uid"]
        self.chat_cookie = fixture["chat_cookie"]
        self.seq = 0
        self.random = random.Random(f"{run}-{n}")
        self.web = requests.Session()
        self.web.headers["User-Agent"] = UA
        self.web.cookies.set("session", fixture["party_cookie"], domain="127.0.0.1", path="/")
        self.api = requests.Session()
        self.api.headers.update({"Authorization": f"Bearer {setup['token']}", "User-Agent": UA})
        self.csrf: str | None = None
        self.sio = None

    def marker(self, kind: str) -> str:
        self.seq += 1
        return f"{self.tag}-{kind[0]}{self.seq}"

    def run(self) -> None:
        try:
            time.sleep(self.random.uniform(0, self.think))  # spread the first writes
            while self.gate.enter():
                try:
                    kind = self.random.choices(KINDS, WEIGHTS)[0]
                    try:
                        getattr(self, kind)()
                    except (requests.ConnectionError, requests.Timeout, OSError) as exc:
                        self.ledger.down(kind, f"{type(exc).__name__}: {exc}")
                    except Exception as exc:  # noqa: BLE001 - counted and shown, never lost silently
                        if _is_socket_down(exc):
                            self.ledger.down(kind, f"{type(exc).__name__}: {exc}")
                            self.close_chat()
                        else:
                            self.ledger.error(kind, f"{type(exc).__name__}: {exc}")
                finally:
                    self.gate.leave()
                time.sleep(self.random.expovariate(1 / self.think))
        finally:
            self.close()

    # ------------------------------------------------------------------ the writes

    def chat(self) -> None:
        if self.sio is None or not self.sio.connected:
            self.open_chat()
        client_id = self.marker("chat")
        data = {"consultation_id": self.cid, "client_id": client_id, "body": f"soak {client_id}"}
        for _attempt in range(10):
            ack = self.sio.call("send", data, namespace=NS, timeout=CHAT_TIMEOUT)
            if isinstance(ack, dict) and ack.get("ok"):
                self.ledger.ack("chat", client_id)
                return
            if isinstance(ack, dict) and ack.get("retry"):  # shed under load: the client retries, same id
                with self.ledger.lock:
                    self.ledger.shed += 1
                time.sleep(float(ack.get("retry_after") or 1))
                continue
            self.ledger.error("chat", f"send refused: {ack}")
            return
        self.ledger.error("chat", "send shed ten times")

    def open_chat(self) -> None:
        import socketio

        self.close_chat()
        # python-engineio gives up a websocket handshake after 5 s by default: as long as a request here.
        self.sio = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=HTTP_TIMEOUT)
        self.sio.connect(self.url, namespaces=[NS], transports=["websocket"], wait_timeout=HTTP_TIMEOUT,
                         headers={"Cookie": f"session={self.chat_cookie}", "User-Agent": UA})
        ack = self.sio.call("join", {"consultation_id": self.cid}, namespace=NS, timeout=HTTP_TIMEOUT)
        if not (isinstance(ack, dict) and ack.get("ok") and ack.get("me") == self.uid):
            raise RuntimeError(f"join refused: {ack}")

    def close_chat(self) -> None:
        if self.sio is None:
            return
        sio, self.sio = self.sio, None
        try:
            sio.disconnect()
            sio.wait()
        except Exception:  # noqa: BLE001 - a connection the server dropped
            pass
        # python-engineio closes its websocket when it disconnects, not when the server went away.
        ws = getattr(sio.eio, "ws", None)
        if ws is not None:
            ws.close()

    def _token(self) -> str:
        if self.csrf is None:
            page = self.web.get(f"{self.url}/mediate/{self.number}/room?thread=joint", timeout=HTTP_TIMEOUT)
            if page.status_code != 200:
                raise _Refused(f"room page answered {page.status_code}")
            self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        return self.csrf

    def room(self) -> None:
        body = f"soak {self.marker('room')}"
        resp = self.web.post(f"{self.url}/mediate/{self.number}/room", timeout=HTTP_TIMEOUT, allow_redirects=False,
                             data={"thread": "joint", "body": body, "csrf_token": self._token()})
        self._answer("room", resp, 303, body)

    def upload(self) -> None:
        name = f"{self.marker('upload')}.png"
        resp = self.web.post(f"{self.url}/mediate/{self.number}/evidence", timeout=HTTP_TIMEOUT,
                             allow_redirects=False, data={"visibility": "all", "csrf_token": self._token()},
                             files={"file": (name, io.BytesIO(PNG + uuid.uuid4().bytes), "image/png")})
        self._answer("upload", resp, 303, name)

    def intake(self) -> None:
        reference = self.marker("intake")
        resp = self.api.post(f"{self.url}/api/v1/intake", timeout=HTTP_TIMEOUT, json={
            "reference": reference, "category": "neighbour", "claim": "Quiet after 22:00.",
            "description": "Loud music from upstairs every night until two.", "district": "朝阳区",
            "claimant_name": "Wang Fang", "claimant_phone": "13800138000",
            "respondent_name": "Li Lei", "respondent_phone": "13800138009"})
        self._answer("intake", resp, 201, reference)

    def _answer(self, kind: str, resp, expected: int, marker: str) -> None:
        if resp.status_code == expected:
            self.ledger.ack(kind, marker)
        elif resp.status_code in (502, 503, 504):
            self.ledger.down(kind, f"HTTP {resp.status_code}")
        elif resp.is_redirect:
            self.ledger.error(kind, f"HTTP {resp.status_code} to {resp.headers.get('Location')}")
        else:
            self.ledger.error(kind, f"HTTP {resp.status_code} {resp.text[:100]!r}")

    def close(self) -> None:
        self.close_chat()
        self.web.close()
        self.api.close()


class _Refused(Exception):
    pass


def _is_socket_down(exc: Exception) -> bool:
    import socketio

    return isinstance(exc, (socketio.exceptions.ConnectionError, socketio.exceptions.TimeoutError,
                            socketio.exceptions.BadNamespaceError))


# --------------------------------------------------------------------------- the checks

def find_writes(database_url: str, acked: dict[str, list[str]]) -> dict:
    """Every acknowledged write, looked for in the database: how many found once, lost, twice or more."""
    import sqlalchemy as sa

    queries = {
        "chat": "SELECT client_id FROM consult_message WHERE client_id LIKE 'soak-%'",
        "room": "SELECT body FROM mediation_message WHERE body LIKE 'soak %'",
        "upload": "SELECT filename FROM mediation_evidence WHERE filename LIKE 'soak-%'",
        "intake": "SELECT external_ref FROM \"case\" WHERE external_ref LIKE 'soak-%'",
    }
    engine = sa.create_engine(_sa_url(database_url))
    try:
        with engine.connect() as conn:
            stored = {kind: collections.Counter(row[0] for row in conn.execute(sa.text(sql)))
                      for kind, sql in queries.items()}
            integrity = (conn.execute(sa.text("PRAGMA integrity_check")).scalar()
                         if conn.dialect.name == "sqlite" else "n/a")
    finally:
        engine.dispose()
    result = {"acked": 0, "found": 0, "lost": 0, "duplicated": 0, "integrity": integrity, "lost_markers": []}
    for kind, markers in acked.items():
        for marker in markers:
            result["acked"] += 1
            count = stored[kind][marker]
            if count == 0:
                result["lost"] += 1
                result["lost_markers"].append(f"{kind}:{marker}")
            else:
                result["found"] += 1
                result["duplicated"] += count > 1
    return result


def audit_verify(env: dict) -> tuple[bool, str]:
    """``odr audit verify`` in a process of its own, as an operator runs it."""
    done = subprocess.run([ODR, "audit", "verify"], env=env, capture_output=True, text=True, timeout=600)
    ok = done.returncode == 0
    # What it says is on stdout; stderr holds the log lines of loading the platform.
    said = done.stdout.strip() if ok else (done.stdout + done.stderr).strip()
    return ok, said[-1500:]


class AuditVerifier:
    """The same ``odr audit verify`` command, run in this process through click's test runner
    (the command's own code against the served database): starting a process that loads the
    platform takes longer than the check, and the check runs after every round."""

    def __init__(self, folder: Path, database_url: str):
        from odr import create_app

        previous = os.environ.get("ODR_INSTANCE_PATH")
        os.environ["ODR_INSTANCE_PATH"] = str(folder)  # the signing CA the checkpoints are signed with
        try:
            self.app = create_app({"SECRET_KEY": "soak", "DATABASE_URL": database_url, "JOBS_INTERVAL_SECONDS": 0},
                                  sockets=False)
        finally:
            if previous is None:
                os.environ.pop("ODR_INSTANCE_PATH", None)
            else:
                os.environ["ODR_INSTANCE_PATH"] = previous

    def __call__(self) -> tuple[bool, str]:
        from odr.extensions import db

        try:
            result = self.app.test_cli_runner().invoke(args=["audit", "verify"])
        finally:
            with self.app.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()  # nothing held while the server is killed and started
        return result.exit_code == 0, result.output.strip()[-1500:]


# --------------------------------------------------------------------------- the run

class Soak:
    """One soak: an instance, its server, the users; ``load`` then ``rounds``."""

    def __init__(self, folder: Path, database_url: str, users: int, think: float = 5.0, jobs_interval: int = 2,
                 seed: int | None = None, say=log, command: str = "run"):
        self.folder, self.database_url, self.think, self.say = folder, database_url, think, say
        self.random = random.Random(seed)
        self.env = instance_env(folder, database_url, jobs_interval)
        self.n_users = users
        self.server = Server(folder, self.env, free_port(), command)
        self.ledger = Ledger()
        self.gate = Gate()
        self.users: list[User] = []
        self.rounds: list[dict] = []
        self.orphans = 0
        self.checks_failed: list[str] = []
        self.verify = None

    def __enter__(self):
        t0 = time.monotonic()
        setup = prepare(self.folder, self.database_url, self.n_users)
        self.verify = AuditVerifier(self.folder, self.database_url)
        self.say(f"instance ready in {time.monotonic() - t0:.1f} s: demo data, {self.n_users} users "
                 f"(case {setup['number']})")
        self.server.start()
        self.say(f"odr {self.server.command} on {self.server.url} answered in {self.server.wait_until_up():.1f} s")
        run = uuid.uuid4().hex[:6]
        self.users = [User(n, run, self.server.url, setup, fixture, self.ledger, self.gate, self.think)
                      for n, fixture in enumerate(setup["users"])]
        for user in self.users:
            user.start()
        return self

    def __exit__(self, *exc):
        self.gate.stop()
        for user in self.users:
            user.join(timeout=HTTP_TIMEOUT + 10)
        self.server.stop()
        return False

    def load(self, seconds: float) -> None:
        self.ledger.phase = "load"
        before = self.ledger.total_acked
        self.gate.set(True)
        time.sleep(seconds)
        self.gate.hold()
        done = self.ledger.total_acked - before
        errors = sum(self.ledger.errors.values())
        self.say(f"load: {self.n_users} users, {seconds:.0f} s: {done} writes acknowledged "
                 f"({done / seconds:.1f}/s), {errors} errors, {self.ledger.shed} sends shed and retried")
        self.check("after load")

    def round(self, target: str | None = None) -> dict:
        self.ledger.phase = "rounds"
        target = target or self.random.choice(("worker", "master"))
        self.gate.set(True)
        time.sleep(self.random.uniform(0.5, 3.0))  # a random moment, writes under way
        old_worker = self.server.wait_for_worker() if target == "worker" else None
        killed_at = time.monotonic()
        pid = self.server.kill(target)
        leftovers: list[str] = []
        if target == "master":
            deadline = time.monotonic() + 5
            while (leftovers := self.server.leftovers()) and time.monotonic() < deadline:
                time.sleep(0.05)
            if leftovers:
                self.orphans += len(leftovers)
                self.checks_failed.append(f"round {len(self.rounds) + 1}: processes outlived the killed master: "
                                          f"{leftovers}")
                for orphan in leftovers:  # the next round must not inherit them
                    try:
                        os.kill(int(orphan.split()[0]), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.server.start()  # same port: nothing may hold it
        time.sleep(0.5)  # the users meet the dead server
        self.gate.hold()
        self.check(f"round {len(self.rounds) + 1} ({target})")
        up = self.server.wait_until_up()
        if target == "worker":
            self.server.wait_for_worker(not_pid=old_worker)
        serving_after = time.monotonic() - killed_at
        result = {"target": target, "pid": pid, "serving_after": serving_after, "orphans": len(leftovers),
                  "acked": self.ledger.total_acked}
        self.rounds.append(result)
        self.say(f"round {len(self.rounds)}: kill -9 {target} {pid}; serving again after {serving_after:.1f} s "
                 f"(up {up:.1f} s after the checks); {result['acked']} acknowledged so far, "
                 f"{sum(self.ledger.unavailable.values())} refused while down")
        return result

    def check(self, when: str, own_process: bool = False) -> dict:
        found = find_writes(self.database_url, self.ledger.snapshot())
        audit_ok, audit_out = audit_verify(self.env) if own_process else self.verify()
        found["audit"] = audit_ok
        problems = []
        if found["lost"] or found["duplicated"]:
            problems.append(f"{found['lost']} lost {found['lost_markers'][:5]}, {found['duplicated']} duplicated")
        if found["integrity"] not in ("ok", "n/a"):
            problems.append(f"integrity_check: {found['integrity']}")
        if not audit_ok:
            problems.append(f"odr audit verify failed: {audit_out}")
        if problems:
            self.checks_failed.append(f"{when}: " + "; ".join(problems))
        self.say(f"check {when}: {found['acked']} acknowledged, {found['found']} found, {found['lost']} lost, "
                 f"{found['duplicated']} duplicated; audit verify {'ok' if audit_ok else 'FAILED'} "
                 f"({audit_out.splitlines()[-1] if audit_out else ''}); "
                 f"integrity {found['integrity']}")
        self.last_check = found
        return found

    def figures(self) -> dict:
        last = self.last_check
        return {"users": self.n_users, "acknowledged": last["acked"], "found": last["found"], "lost": last["lost"],
                "duplicated": last["duplicated"], "errors": sum(self.ledger.errors.values()),
                "unavailable": sum(self.ledger.unavailable.values()), "shed": self.ledger.shed,
                "rounds": len(self.rounds), "orphans": self.orphans, "checks_failed": list(self.checks_failed),
                "by_kind": {kind: len(m) for kind, m in self.ledger.snapshot().items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=600, help="length of the load phase")
    parser.add_argument("--rounds", type=int, default=100, help="kill -9 rounds after the load phase")
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); default: SQLite in the temp folder")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between one user's writes")
    parser.add_argument("--jobs-interval", type=int, default=2, help="the periodic jobs' interval (s)")
    parser.add_argument("--kills", help="comma-separated targets (worker/master) instead of random ones")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    parser.add_argument("--command", choices=["run", "demo"], default="run",
                        help="the command served and restarted: odr run, or odr demo as `make demo` runs it")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="odr-soak-"))
    database_url = args.database_url or f"sqlite:///{folder / 'odr.sqlite'}"
    if args.database_url:
        empty_postgres(args.database_url)
    kills = args.kills.split(",") if args.kills else []
    started = time.monotonic()
    log(f"instance {folder}, database {re.sub(r'//[^@/]*@', '//…@', database_url)}")
    try:
        with Soak(folder, database_url, args.users, args.think, args.jobs_interval, args.seed,
                  command=args.command) as soak:
            soak.load(args.seconds)
            for i in range(args.rounds):
                soak.round(kills[i % len(kills)] if kills else None)
            soak.check("at the end (odr audit verify in its own process)", own_process=True)
            figures = soak.figures()
            errors = soak.ledger.errors
            rounds = soak.rounds
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    print()
    print(f"users {figures['users']}, load {args.seconds:.0f} s (think {args.think} s), rounds {figures['rounds']} "
          f"({sum(r['target'] == 'master' for r in rounds)} master, {sum(r['target'] == 'worker' for r in rounds)} "
          f"worker), {time.monotonic() - started:.0f} s in all")
    print(f"writes acknowledged {figures['acknowledged']} {figures['by_kind']}")
    print(f"found {figures['found']}, lost {figures['lost']}, duplicated {figures['duplicated']}")
    print(f"errors {figures['errors']}, unavailable while killed {figures['unavailable']}, "
          f"sends shed and retried {figures['shed']}, orphan processes {figures['orphans']}")
    if rounds:
        times = sorted(r["serving_after"] for r in rounds)
        print(f"serving again after a kill (incl. the checks): median {times[len(times) // 2]:.1f} s, "
              f"max {times[-1]:.1f} s")
    for (phase, kind, what), count in errors.most_common(10):
        print(f"  error ×{count} [{phase}] {kind}: {what}")
    for failed in figures["checks_failed"]:
        print(f"  CHECK FAILED {failed}")
    bad = figures["lost"] or figures["duplicated"] or figures["errors"] or figures["checks_failed"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
