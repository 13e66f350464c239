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
  also when it dies without stopping them (they watch their parent). What the jobs tell the open
  pages reaches them through the database (:mod:`odr.relay`), which each worker reads.

Nothing outlives a server killed without warning (``kill -9`` of gunicorn's master, the process
``odr run`` became): the kernel signals each child the moment its parent dies
(``PR_SET_PDEATHSIG``), so no orphaned worker keeps the port (a restart comes up on the same port
at once) and no orphaned worker, jobs runner or bridge writes on to the database beside the next
server. Each child asks for that itself, right after it starts; every one of them was forked by the
parent's main thread (the signal comes when the forking *thread* ends).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid

import click
from flask import has_app_context

from odr.extensions import db

logger = logging.getLogger(__name__)

#: How long gunicorn lets a worker finish its requests when stopping. An open chat or video page
#: keeps its websocket until it is closed: without a short limit, Ctrl-C waited gunicorn's default
#: 30 s for them. A request that commits takes milliseconds.
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


def take_own_queue_identity(app) -> None:
    """In a worker just forked: give its Socket.IO server an identity of its own on the message queue.

    python-socketio's queue manager names its process once, when the app is made (``host_id``), and
    skips every message from the queue that carries its own name: it already delivered those to its
    own clients. The app is made in gunicorn's master, so every worker inherited the same name and
    each took the others' messages for its own: a chat message reached only the members connected
    to the process that sent it (tests/test_nginx.py).
    """
    server = getattr(getattr(app, "extensions", {}).get("socketio"), "server", None)  # none: a bare WSGI app
    manager = getattr(server, "manager", None)
    if manager is not None and hasattr(manager, "host_id"):
        manager.host_id = uuid.uuid4().hex


def after_fork(app) -> None:
    """gunicorn's ``post_fork``: what a worker must not share with its master or its siblings."""
    forget_inherited_connections(app)
    take_own_queue_identity(app)


def start_child(*args: str) -> subprocess.Popen:
    """``python -m odr …args`` in a process of its own (fork and exec: it shares nothing with
    this one), stopped when this process exits."""
    import atexit

    parent = os.getpid()
    env = dict(os.environ, ODR_PARENT_PID=str(parent))
    # Asked for in the child between fork and exec (the setting survives exec), so that it holds
    # while the child is still starting (seconds on a busy machine), before it could ask itself.
    proc = subprocess.Popen([sys.executable, "-m", "odr", *args], env=env,
                            preexec_fn=lambda: die_with_parent(signal.SIGKILL, parent))
    atexit.register(_stop_child, proc, parent)
    return proc


def _stop_child(proc: subprocess.Popen, owner: int) -> None:
    # gunicorn's workers are forked from the process that started the children and inherit its
    # exit handlers: a worker leaving (recycled, or the server stopping) must not stop them.
    if os.getpid() != owner:
        return
    if proc.poll() is None:
        try:
            proc.terminate()
        except ProcessLookupError:
            return
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
    # SIGKILL, as the server died: a jobs run under way (one transaction per job) is rolled back
    # rather than finished beside the next server. The loop below stays for systems without
    # PR_SET_PDEATHSIG.
    die_with_parent(signal.SIGKILL, parent)

    def loop():
        while not stop.wait(1.0):
            if os.getppid() != parent:
                logger.info("the server (pid %s) is gone: stopping", parent)
                stop.set()

    threading.Thread(target=loop, name="odr-parent-watch", daemon=True).start()


#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int, parent: int) -> None:
    """Have the kernel send ``signum`` to this process when ``parent`` (the process that started it)
    dies, however it dies. Linux only; elsewhere the parent watch of :func:`watch_parent` and
    gunicorn's own check of the worker's parent remain (within a second or so)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    if prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        logger.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
        return
    if os.getppid() != parent:  # the parent died before the request above: nobody will signal
        os.kill(os.getpid(), signum)


def _worker_started(app, arbiter) -> None:
    """gunicorn's ``post_fork``, in a worker just forked: it ends the moment its master does
    (SIGKILL: no graceful stop for a worker whose master is gone, whose listening socket would keep
    the port from the next server meanwhile; each write it had not answered yet was one transaction,
    committed whole or not at all), then :func:`after_fork`."""
    die_with_parent(signal.SIGKILL, arbiter.pid)
    after_fork(app)


def _worker_ready(app) -> None:
    """gunicorn's ``post_worker_init``, in a worker whose event loop is set up: it sends on what the
    processes that serve no pages (the periodic jobs) tell the pages (:mod:`odr.relay`)."""
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # not the platform (a benchmark's bare server)
    from odr import relay

    relay.start(app)


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


#: The served process's first statement: gevent replaces the standard library's blocking calls
#: (sockets, locks, sleeps, queues) before anything else is imported, so that every open websocket
#: is a greenlet waiting on the event loop rather than an OS thread, and nothing the app creates
#: (its pools' locks, the Socket.IO server's queues) is made of the unpatched kind.
_BOOT = "from gevent import monkey; monkey.patch_all(); from odr import serve; serve.served_main()"

#: gunicorn's cap on one worker's simultaneous connections (each open chat or video page holds one,
#: and so does each idle keep-alive connection, see below).
WORKER_CONNECTIONS = 10_000

#: How long the server keeps an idle keep-alive connection open for the client's next request.
#:
#: Whichever side closes an idle connection first, a request the other side sends on it at that
#: moment meets a closed socket: the client gets a connection reset (the server closed a socket
#: with the request unread in it), and a POST — a message, an upload — is not sent again by the
#: client library (nor by nginx, which answers 502). gunicorn's default is 2 s, which every client
#: outlasts: a browser reuses an idle connection for up to 300 s (Chromium; Firefox 115 s), nginx's
#: upstream pool for 60 s (deploy/nginx/odr.conf), and a person reads a page for seconds before
#: sending. Under load the server also notices its 2 s late — its event loop lags behind the busy
#: greenlets — while the connection still looks open to the client, which sends on it: the 100-user
#: soak (bench/soak.py) met one such reset in every few hundred requests, each on a connection
#: idle for 2-2.6 s. So the server closes last, after every client has given the connection up. An
#: idle connection costs one waiting greenlet (counted in WORKER_CONNECTIONS); behind nginx there
#: are at most its ``keepalive`` (32) per nginx worker.
KEEPALIVE_SECONDS = 320


def serve(app, host: str, port: int, workers: int = 1, with_bridge: bool = False, with_jobs: bool = True,
          cert: str | None = None, key: str | None = None) -> None:
    """Replace this process (``exec``) with the server: gunicorn with ``workers`` gevent workers
    serving the platform, the periodic jobs and the media bridge beside it.

    The command that calls this (``odr run``, ``odr demo`` after loading the demo) has imported and
    run the platform unpatched; the server starts over in a fresh interpreter that patches first.
    The process id stays the same, so whoever started the command (a terminal, systemd, a test)
    still holds the server. ``app`` gives the settings the command changed (HTTPS), passed on as
    ``ODR_*`` variables like every other setting.
    """
    if workers > 1 and not app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        raise click.UsageError("--workers above 1 needs a message queue the processes share chat and video "
                               "rooms through: set ODR_SOCKETIO_MESSAGE_QUEUE=redis://… (see README)")
    release_database(app)
    spec = {"host": host, "port": port, "workers": workers, "with_bridge": with_bridge, "with_jobs": with_jobs,
            "cert": cert, "key": key}
    env = dict(os.environ, ODR_SERVE=json.dumps(spec))
    if cert and key:
        env.update(ODR_PREFERRED_URL_SCHEME="https", ODR_SECURE_COOKIES="true"
                   if app.config["SECURE_COOKIES"] is not False else "false")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-c", _BOOT], env)


def served_main() -> None:
    """The server process (after :data:`_BOOT` patched it): make the app, start the jobs and media
    bridge processes, serve until stopped."""
    from odr import create_app

    spec = json.loads(os.environ.pop("ODR_SERVE"))
    if spec["workers"] > 1:
        os.environ["ODR_SOCKETIO_WEBSOCKET_ONLY"] = "true"
    app = create_app()
    if spec["with_jobs"] and int(app.config.get("JOBS_INTERVAL_SECONDS") or 0) > 0:
        start_child("jobs")
    scheme = "https" if spec["cert"] and spec["key"] else "http"
    if spec["with_bridge"]:
        local = "127.0.0.1" if spec["host"] in ("0.0.0.0", "::") else spec["host"]
        start_child("media-bridge", "--url", f"{scheme}://{local}:{spec['port']}")
    click.echo(f"odr serving on {scheme}://{spec['host']}:{spec['port']}/ ({spec['workers']} "
               f"process{'es' if spec['workers'] > 1 else ''})")
    run_gunicorn(app, spec["host"], spec["port"], workers=spec["workers"], cert=spec["cert"], key=spec["key"])


#: The garbage collector's thresholds in the served processes (Python's are 700, 10, 10). A busy
#: worker makes objects that live a few milliseconds (an event's request context, its statement's
#: parameters, the frames it sends); collected every 700 allocations, many are caught alive, moved
#: to the older generations, and each move brings the next full collection nearer (one every few
#: seconds, 150–250 ms each with 1,000 open chats, in which nothing moves). Collected every 50,000,
#: they are gone by then: bench/socket_load.py --diagnose, 1,000 clients, SQLite: 3 full
#: collections instead of 30 in the same run, and 1,088 messages/s at most instead of 746. Garbage
#: in reference cycles waits a little longer to be freed (a few megabytes at most).
GC_THRESHOLDS = (50_000, 20, 20)


def freeze_heap() -> None:
    """Move everything made so far (modules, the app, its templates and SQLAlchemy's tables: most of
    a worker's heap) out of the garbage collector's sight, in the master before it forks, and set
    the collector's thresholds for the served processes (:data:`GC_THRESHOLDS`).

    A full collection otherwise walks all of it each time: with 1,000 open chats the bench measured
    pauses of up to 570 ms, in which no message moves (``bench/socket_load.py --diagnose``). Frozen
    objects are still freed when their references go; the workers also share their pages with the
    master longer (a collection no longer writes into them).
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_gunicorn(app, host: str, port: int, *, workers: int = 1, cert: str | None = None, key: str | None = None,
                 worker_connections: int = WORKER_CONNECTIONS) -> None:
    """Serve ``app`` with gunicorn's gevent workers, in this process (already patched by gevent).

    One gevent worker per process: its connections are greenlets on one event loop, so an open
    websocket costs a few kilobytes, not a thread. ``workers`` processes share the listening
    socket; their Socket.IO rooms meet through the message queue.
    """
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gevent")
            self.cfg.set("worker_connections", worker_connections)
            self.cfg.set("keepalive", KEEPALIVE_SECONDS)
            self.cfg.set("graceful_timeout", GRACEFUL_TIMEOUT_SECONDS)
            self.cfg.set("accesslog", None)
            # gunicorn's control socket lives at one path per user: two servers on one machine
            # (staging beside production, the tests) would take it from each other. Not used.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("post_fork", lambda arbiter, _worker: _worker_started(app, arbiter))
            self.cfg.set("post_worker_init", lambda _worker: _worker_ready(app))
            if cert and key:
                self.cfg.set("certfile", cert)
                self.cfg.set("keyfile", key)

        def load(self):
            return app

    release_database(app)
    freeze_heap()
    _Server().run()
