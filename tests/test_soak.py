"""Soak and crash, short: the real ``odr run`` (gunicorn's master and gevent worker, the periodic
jobs and the media bridge as processes of their own), simulated users writing through the web,
Socket.IO and the intake API, then ``kill -9`` of the worker, the master and the worker again at a
random moment while the writes go on. After the load and after each kill: every write the server
acknowledged is in the database exactly once, ``odr audit verify`` passes, SQLite's
``PRAGMA integrity_check`` is ok; a killed master leaves no process behind and the server comes
up again on the same port.

The machinery is ``bench/soak.py`` (the long run: 500 users, 10 minutes, 100 rounds), loaded here
from its file. On PostgreSQL (``ODR_TEST_DATABASE_URL``) the served database is one of its own,
beside the suite's.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from tests.conftest import ensure_postgres_database

_spec = importlib.util.spec_from_file_location("odr_bench_soak", Path(__file__).parent.parent / "bench" / "soak.py")
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)

USERS = 20
LOAD_SECONDS = 10
#: A user writes every THINK seconds on average: 20 users, ~10 writes/s on a machine that also runs
#: the suite beside the server.
THINK = 2.0


@pytest.fixture
def served_database(tmp_path, worker_id):
    url = os.environ.get("ODR_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'odr.sqlite'}"
    url = ensure_postgres_database(url, f"{worker_id}_soak")
    soak.empty_postgres(url)
    return url


def test_every_acknowledged_write_survives_load_and_kill_9(tmp_path, served_database):
    lines: list[str] = []
    with soak.Soak(tmp_path, served_database, USERS, think=THINK, seed=14, say=lines.append) as run:
        port = run.server.port
        run.load(LOAD_SECONDS)
        load = run.figures()
        assert not run.ledger.errors, f"errors under load: {dict(run.ledger.errors)}\n" + "\n".join(lines)
        assert load["acknowledged"] >= USERS, "\n".join(lines)  # every user got writes through
        assert all(load["by_kind"].values()), load["by_kind"]  # chat, room, upload and intake all ran

        for target in ("worker", "master", "worker"):
            run.round(target)
        assert run.server.port == port and run.server.wait_until_up() < 1  # the same port, serving
        run.check("at the end, odr audit verify in its own process", own_process=True)
        figures = run.figures()

    report = "\n".join(lines)
    print(report)
    assert figures["checks_failed"] == [], report
    assert figures["lost"] == 0 and figures["duplicated"] == 0, report
    assert figures["found"] == figures["acknowledged"] > load["acknowledged"], report
    assert figures["orphans"] == 0, report
    assert figures["errors"] == 0, f"{dict(run.ledger.errors)}\n{report}"
    assert [r["target"] for r in run.rounds] == ["worker", "master", "worker"]
    assert run.last_check["integrity"] == ("n/a" if served_database.startswith("postgresql") else "ok")
    assert run.last_check["audit"]
    # Stopped: nothing of this instance is left running.
    assert run.server.process.poll() is not None and run.server.leftovers() == []
