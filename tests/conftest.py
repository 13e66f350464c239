"""Fixtures: an app on a real database (SQLite by default, PostgreSQL with
``ODR_TEST_DATABASE_URL``), clients, and factories for users, organisations and cases.

The schema is built once per test session by the Alembic migrations (so they
are tested too); every test starts from empty tables.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from datetime import datetime, timedelta
from dataclasses import dataclass

import flask_babel
import pytest
from flask import Flask, g
from werkzeug.serving import make_server
import sqlalchemy as sa

from odr import create_app
from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import Channel, Organization, OrgType
from odr import timeutil
from odr.extensions import db, limiter
from tests.redis_server import redis_server

#: Fixtures more than one test package uses (the tests/*/conftest.py files keep their own).
pytest_plugins = ["tests.fixtures.mediation", "tests.fixtures.negotiation", "tests.fixtures.media", "tests.fixtures.openapi"]

#: The test files that take longest (a minute or more on a quiet 2-core machine, measured from the
#: JUnit reports), handed out to the pytest-xdist workers first. ``--dist loadfile`` gives whole
#: files out in the order collected (``--no-loadscope-reorder`` in the Makefile: its default puts
#: files with many tests first, so a long file of one test came last and kept one worker busy
#: alone for three minutes at the end of the run).
LONGEST_FIRST = (
    "tests/e2e/test_axe_demo.py", "tests/test_permissions.py", "tests/test_served_writes.py", "tests/test_soak.py",
    "tests/e2e/test_video_room.py", "tests/e2e/test_axe.py", "tests/e2e/test_mediation_flow.py",
    "tests/e2e/test_reflow.py", "tests/e2e/test_arbitration_flow.py", "tests/test_nginx.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    root = config.rootpath
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(rank)))  # stable


PASSWORD = "correct horse 42"

def _quick_websocket_close() -> None:
    """The test clients' websockets (websocket-client, under python-socketio's client) close
    without waiting up to 3 s for the server's closing frame. The client's reading thread is
    blocked in ``recv`` when the test disconnects: it takes the server's closing frame (the server
    closes on the Engine.IO close packet sent just before) and answers it, so the disconnecting
    thread's ``close()`` waits for a frame that will not come. That was 3 s for every real client
    a test closed (over a minute of the suite); the live server is not changed by this."""
    import websocket

    close = websocket.WebSocket.close

    def quick(self, status=websocket.STATUS_NORMAL, reason=b"", timeout=3):
        return close(self, status, reason, timeout=0.2 if timeout is None else min(timeout, 0.2))

    websocket.WebSocket.close = quick


_quick_websocket_close()

_counter = itertools.count(1)


def ensure_postgres_database(url: str, suffix: str) -> str:
    """A database of its own for this test process (pytest-xdist workers run side by side)."""
    base = sa.engine.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{suffix}" if suffix != "master" else base.database
    engine = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    url = os.environ.get("ODR_TEST_DATABASE_URL")
    if url:
        return ensure_postgres_database(url, worker_id)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("instance")
    os.environ["ODR_INSTANCE_PATH"] = str(path)
    return path


def test_config(database_url, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://odr.test",
        # Periodic jobs run when a test calls them, never from a background thread.
        "JOBS_INTERVAL_SECONDS": 0,
        # Cheap hashing keeps the suite fast; production uses argon2's recommended cost.
        "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        # Tests move the platform clock by hours and days with a client signed in; the session
        # time limits have their own tests (tests/auth/test_sessions.py), which set them.
        "SESSION_IDLE_MINUTES": 10 * 365 * 24 * 60,
        "SESSION_MAX_HOURS": 10 * 365 * 24,
        # A loaded test machine can wake the lag probe late; shedding has its own tests
        # (tests/consult/test_overload.py), which set the limits. The in-flight limit stays.
        "SOCKET_MAX_LAG_MS": 60_000,
        # The features' signing tests have parties sign who were never verified; the identity
        # requirement of each kind of document is tested in tests/identity, which turns it on.
        "IDENTITY_REQUIRED_FOR_SIGNING": False,
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def _schema(database_url, instance_path):
    """Build the schema once through the migrations, starting from an empty database."""
    app = new_app(test_config(database_url))
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The database outlives the run: empty it whole, tables the models no longer
                # have (dropped by a later migration) included.
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
                # Copies of the data an interrupted run left behind (tests/snapshot.py).
                for (name,) in conn.execute(sa.text(
                        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_snapshot\\_%'")):
                    conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        from odr.cli import upgrade_database

        upgrade_database()
        db.engine.dispose()
        # The platform's CA and seal are kept in the instance folder for the whole run: made
        # under a clock earlier than any test's stopped clock (the ``clock`` fixture), so that a
        # document sealed at a test's moment is within the seal's validity whichever test made
        # them first in this process.
        from odr.documents.ca import platform_ca

        timeutil.set_clock(lambda: datetime(2026, 1, 1))
        try:
            platform_ca(app)
        finally:
            timeutil.set_clock(None)
    return True


_EMPTYING: dict[str, str] = {}


def _emptying_batch(conn) -> str:
    """PostgreSQL: one round trip that empties every table and restarts every sequence.

    ``TRUNCATE`` of the 70-odd tables took 0.3–2.5 s per test (it makes new files for each
    table and its indexes, and waits for them on disk); the tests leave a few rows in a few
    tables, which ``DELETE`` removes in milliseconds. Children first (the models' dependency
    order reversed), so no foreign key is ever violated; the sequences restart as ``RESTART
    IDENTITY`` did."""
    key = str(conn.engine.url)
    if key not in _EMPTYING:
        sequences = conn.execute(sa.text(
            "SELECT quote_ident(sequence_name) FROM information_schema.sequences"
            " WHERE sequence_schema = current_schema()")).scalars().all()
        _EMPTYING[key] = "; ".join(
            [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
            + [f"ALTER SEQUENCE {name} RESTART" for name in sequences])
    return _EMPTYING[key]


def empty_tables():
    db.session.remove()  # an open transaction of the test's session would block the deletes
    for attempt in range(3):
        try:
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(_emptying_batch(conn))
                else:
                    for t in reversed(db.metadata.sorted_tables):
                        conn.execute(t.delete())
            return
        except sa.exc.OperationalError as exc:
            # A live server's thread may still be finishing the last test's socket event (the
            # session's last use is written on each): PostgreSQL may pick the deletes as the
            # deadlock victim. The other transaction is short; try again.
            if "deadlock" not in str(exc) or attempt == 2:
                raise
            time.sleep(0.2)


def forget_request_globals(app):
    """Tests keep one app context open across requests, so ``g`` would outlive a request
    (a real server gives each request a fresh one): forget the signed-in user after each."""

    @app.teardown_request
    def _forget(_exc):
        g.pop("_login_user", None)
        for key in [k for k in g if k.startswith("_odr_")]:
            g.pop(key)
        flask_babel.refresh()


def new_app(config):
    """``create_app``, once more if CPython 3.11 trips over its shared AST state: building the URL
    map parses many small expressions (``ast.parse``), and a traceback formatted meanwhile in a
    thread left by an earlier test (3.11 parses the failing line to place its carets) can make
    that raise ``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905).
    Nothing of the failed app is kept; the second one is built from scratch."""
    try:
        return create_app(config)
    except SystemError as e:
        if "recursion depth mismatch" not in str(e):
            raise
        return create_app(config)


@pytest.fixture(scope="session")
def _shared_app(_schema, database_url):
    """One app per test process: building one takes ~0.1 s, and most tests need nothing special.
    Tests that need another configuration change ``app.config`` (put back after each test) or
    build their own app."""
    app = new_app(test_config(database_url))
    forget_request_globals(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_shared_app):
    app = _shared_app
    config = dict(app.config)
    limiter.reset()
    with app.app_context():
        empty_tables()
        try:
            yield app
        finally:
            db.session.remove()
            app.config.clear()
            app.config.update(config)


class Clock:
    """A stopped clock for the platform (``odr.timeutil``): ``clock.advance(hours=25)``."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock():
    """Stops the platform clock at a fixed time for the test; moves only when told to."""
    stopped = Clock(datetime(2026, 11, 2, 1, 0, 0))  # a Monday, 09:00 in Beijing
    timeutil.set_clock(stopped)
    yield stopped
    timeutil.set_clock(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_org(app):
    def make(type=OrgType.peoples_mediation, name=None, district="朝阳区", takes_intake=False):
        org = Organization(name=name or f"Org {next(_counter)}", type=type, district=district,
                           takes_intake=takes_intake)
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_user(app):
    def make(role: Role | None = None, org=None, contact=None, name=None, password=PASSWORD):
        n = next(_counter)
        user = auth_ops.create_user(contact or f"user{n}@example.com", name or f"User {n}", password)
        if role is not None:
            grant_role(user, role, org)
        db.session.commit()
        return user

    return make


def sign_in_cookie(cookie, user) -> None:
    """Write into a session cookie what signing in writes, its session row included (committed):
    a client signed in without the form. ``user``: a User or its id; needs an app context."""
    from odr.auth import sessions
    from odr.auth.models import User

    sessions.stamp(cookie, user if isinstance(user, User) else db.session.get(User, int(user)))
    db.session.commit()


@pytest.fixture
def login():
    def do(client, user):
        with client.session_transaction() as session:
            sign_in_cookie(session, user)
        return client

    return do


def dispute(**kw):
    from odr.cases.models import Category

    values = dict(category=Category.neighbour, description="The neighbours play loud music every night.",
                  claim="Quiet after 22:00.", district="朝阳区", amount_claimed=None)
    values.update(kw)
    return ops.DisputeDetails(**values)


@pytest.fixture
def make_case(app, make_user):
    """A web-filed case; ``respondent`` joins it when given; moved through ``stages`` by ``mover``."""

    def make(claimant=None, respondent=None, organization=None, stages=(), mover=None, **kw):
        claimant = claimant or make_user()
        case = ops.file_case(claimant, Channel.web, dispute(**kw),
                             ops.PartyDetails(claimant.name, email=claimant.email),
                             ops.PartyDetails("Other Side", phone="+8613900139000"))
        if respondent is not None:
            ops.join_case(case.respondent, respondent)
        if organization is not None:
            ops.route_case(case, organization, None)
        for target in stages:
            workflow.move(case, target, mover or claimant)
        db.session.commit()
        return case

    return make


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="module")
def live_server(_schema, database_url):
    app = new_app(test_config(database_url, WTF_CSRF_ENABLED=True))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url  # before the first request; links in SMS/QR codes use it
    thread = threading.Thread(target=server.serve_forever, name="odr-e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis for the module's tests (:func:`tests.redis_server.redis_server`)."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def lasting_redis_url(tmp_path_factory):
    """A Redis kept until the end of the session, for a python-socketio listener: it cannot be
    stopped, and once its Redis were gone it would log its retries into whatever test runs then."""
    with redis_server(tmp_path_factory.mktemp("lasting-redis")) as url:
        yield url


@pytest.fixture
def server(live_server):
    """The live server, with empty tables and rate-limit counters reset for this test."""
    with live_server.app.app_context():
        empty_tables()
        db.session.remove()
    limiter.reset()
    return live_server
