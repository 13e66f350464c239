"""What the bench scripts share: logging, a free port, a fresh PostgreSQL database, demo data,
stopping a gunicorn server.

The scripts drop ``bench/`` from the front of ``sys.path`` (``http.py`` and ``socket.py`` would
shadow the standard library) and append it at the end, so ``import _common`` finds this file
while ``import socket`` still finds the standard library's module.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
ODR = os.path.join(VENV_BIN, "odr")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres(name: str) -> str:
    """Drop and recreate database ``name`` on the local server; return its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def load_demo(env: dict, timeout: int = 180) -> None:
    t0 = time.monotonic()
    result = subprocess.run([ODR, "demo", "--no-serve"], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        sys.exit(f"odr demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    log(f"demo data loaded in {time.monotonic() - t0:.1f} s")


def stop_server(proc) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # gunicorn arbiter: graceful shutdown
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group we started with start_new_session
        proc.wait(timeout=5)
