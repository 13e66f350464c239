"""The served processes: gunicorn's master and workers, the periodic jobs, the media bridge.

Nothing that talks to the database crosses a ``fork()``. SQLite forbids carrying a connection
into a child (the two processes' locks no longer see each other, and the last one to close
checkpoints and deletes the write-ahead log the other is still writing into), and a PostgreSQL
connection shared by two processes mixes their conversations. So:

- the process that starts serving (``odr run``, ``odr demo`` after migrating and loading the demo)
  closes every connection it opened before gunicorn forks its workers;
- each worker, once forked, forgets any pooled connection it might have inherited without closing
  it (SQLAlchemy's ``dispose(close=False)``), and opens its own;
- the periodic jobs and the media bridge are processes of their own, started with ``exec`` (not
  forked from this one), each opening its own connections; they stop when the server stops, and
  also when it dies without stopping them (they watch their parent).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

import click
from flask import has_app_context

from odr.extensions import db

logger = logging.getLogger(__name__)

#: How long gunicorn lets a worker finish its requests when stopping. An open chat or video page
#: keeps its websocket (and its thread) until it is closed: without a short limit, Ctrl-C waited
#: gunicorn's default 30 s for them. A request that commits takes milliseconds.
GRACEFUL_TIMEOUT_SECONDS = 3


def release_database(app) -> None:
    """Close every database connection this process holds (before forking or exec-ing others)."""
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # not the platform (a benchmark's bare server)
    if has_app_context():
        db.session.remove()
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def forget_inherited_connections(app) -> None:
    """In a child just forked: drop the parent's pooled connections without closing them (closing
    would end the parent's too); the child opens its own when it first needs one."""
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def start_child(*args: str) -> subprocess.Popen:
    """``python -m odr …args`` in a process of its own (fork and exec: it shares nothing with
    this one), stopped when this process exits."""
    import atexit

    env = dict(os.environ, ODR_PARENT_PID=str(os.getpid()))
    proc = subprocess.Popen([sys.executable, "-m", "odr", *args], env=env)
    atexit.register(_stop_child, proc)
    return proc


def _stop_child(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def watch_parent(stop: threading.Event) -> None:
    """Set ``stop`` when the process that started this one is gone (killed without stopping its
    children): a jobs runner or media bridge left behind would go on writing to a database that
    the next server start also serves."""
    parent = int(os.environ.get("ODR_PARENT_PID") or 0)
    if not parent:
        return

    def loop():
        while not stop.wait(1.0):
            if os.getppid() != parent:
                logger.info("the server (pid %s) is gone: stopping", parent)
                stop.set()

    threading.Thread(target=loop, name="odr-parent-watch", daemon=True).start()


def run_jobs_until_stopped(app, stop: threading.Event | None = None) -> None:
    """Run the periodic jobs every ``JOBS_INTERVAL_SECONDS`` until SIGTERM/SIGINT, or until the
    server that started this process is gone."""
    from odr import jobs

    interval = int(app.config.get("JOBS_INTERVAL_SECONDS") or 0)
    if interval <= 0:
        click.echo("JOBS_INTERVAL_SECONDS is 0: no periodic jobs (run `odr tick` from cron).")
        return
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    watch_parent(stop)
    logger.info("periodic jobs every %s s", interval)
    while not stop.wait(interval):
        with app.app_context():
            try:
                jobs.run_all()
            except Exception:  # keep the loop alive: the next tick tries again
                logger.exception("Periodic jobs failed")
            finally:
                db.session.remove()


def serve(app, host: str, port: int, threads: int = 256, workers: int = 1, with_bridge: bool = False,
          with_jobs: bool = True, cert: str | None = None, key: str | None = None) -> None:
    """Serve ``app`` with gunicorn; the periodic jobs and the media bridge run beside it."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            # Each Socket.IO websocket keeps its connection (and a thread) while the page is open;
            # gunicorn's default cap of 1,000 connections per worker must not be the lower limit.
            self.cfg.set("worker_connections", threads + 100)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("graceful_timeout", GRACEFUL_TIMEOUT_SECONDS)
            self.cfg.set("accesslog", None)
            self.cfg.set("post_fork", lambda _server, _worker: forget_inherited_connections(app))
            if cert and key:
                self.cfg.set("certfile", cert)
                self.cfg.set("keyfile", key)

        def load(self):
            return app

    scheme = "https" if cert and key else "http"
    release_database(app)
    if with_jobs and int(app.config.get("JOBS_INTERVAL_SECONDS") or 0) > 0:
        start_child("jobs")
    if with_bridge:
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        start_child("media-bridge", "--url", f"{scheme}://{local}:{port}")
    click.echo(f"odr serving on {scheme}://{host}:{port}/")
    _Server().run()
