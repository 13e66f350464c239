"""What the tests of the real served processes share: a free port, a fresh instance prepared in
this process (its connections closed before the server starts), and ``odr run`` started, awaited
and stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from odr import create_app
from odr.cli import upgrade_database
from odr.extensions import db

ODR = str(Path(sys.executable).with_name("odr"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process, timeout=60.0, log: Path | None = None):
    """Until ``url`` answers. A server starts in a few seconds; a loaded 2-core CI machine running
    the suite on two workers beside it has been seen to take over 30."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"odr run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"odr run did not start within {timeout:.0f} s\n{tail}")


def prepared(config: dict, fill: Callable[[object], object]):
    """Migrate the database of ``config`` (a PostgreSQL one emptied first), run ``fill(app)`` in an
    app context and commit; its result, once every connection of this process to it is closed
    (the server must not share them)."""
    app = create_app({"JOBS_INTERVAL_SECONDS": 0,
                      "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}, **config})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade_database()
        result = fill(app)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return result


@contextmanager
def odr_run(env: dict, *args: str, log: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``odr run --port P *args`` with ``env`` (output to ``log``, else nowhere): its address and
    process once it answers; stopped (and reaped) after."""
    port = free_port()
    if log is not None:
        with log.open("ab") as out:
            process = subprocess.Popen([ODR, "run", "--port", str(port), *args], env=env, stdout=out,
                                       stderr=subprocess.STDOUT)
    else:
        process = subprocess.Popen([ODR, "run", "--port", str(port), *args], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log=log)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a loaded machine: stop it hard, and reap it
            process.kill()
            process.wait(timeout=10)
