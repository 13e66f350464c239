"""The two servers ``bench/socket_load.py`` starts: the odr app, or a bare python-socketio echo server.

Usage: python bench/_socket_serve.py app|ceiling PORT WORKERS WORKER_CONNECTIONS

Both are served by ``odr.serve.run_gunicorn`` (what ``odr run``'s server process uses: gunicorn,
gevent workers, this process patched by gevent first), so the two runs differ only in what
happens inside an event.

``app``      ``odr.create_app()`` exactly as ``odr run`` builds it; the app's code is not changed.
``ceiling``  ``socketio.Server`` in gevent mode behind ``socketio.WSGIApp``, with the event shape of
             ``/consult`` (join a room of two, ``send`` acknowledged and re-emitted to the room, the sender
             included) and nothing else: no sign-in, no participant check, no database.

With WORKERS > 1 both need a message queue (``ODR_SOCKETIO_MESSAGE_QUEUE``, which the ceiling reads
too), as several ``odr run --workers`` processes do.
"""

from gevent import monkey

monkey.patch_all()

import itertools  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from datetime import datetime, timezone

# bench/ holds http.py and socket.py, which would shadow the standard library's
# ``http`` and ``socket`` modules for everything imported below. Drop bench/ first.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

NS = "/consult"


def ceiling_app():
    import socketio

    queue = os.environ.get("ODR_SOCKETIO_MESSAGE_QUEUE")
    sio = socketio.Server(async_mode="gevent", cors_allowed_origins=[], logger=False, engineio_logger=False,
                          client_manager=socketio.RedisManager(queue) if queue else None)
    users: dict[str, int] = {}
    ids = itertools.count(1)

    @sio.on("connect", namespace=NS)
    def on_connect(sid, environ, auth=None):
        uid = int((auth or {}).get("user_id", 0))
        users[sid] = uid
        sio.enter_room(sid, f"user-{uid}", namespace=NS)

    @sio.on("disconnect", namespace=NS)
    def on_disconnect(sid, reason=None):
        users.pop(sid, None)

    @sio.on("join", namespace=NS)
    def on_join(sid, data):
        cid = data["consultation_id"]
        sio.enter_room(sid, f"consult-{cid}", namespace=NS)
        return {"ok": True, "me": users.get(sid), "status": "active", "consultant": None, "messages": [],
                "queue": None}

    @sio.on("send", namespace=NS)
    def on_send(sid, data):
        payload = {
            "id": next(ids), "client_id": data["client_id"], "sender_id": users.get(sid),
            "body": data.get("body", "").strip(),
            "created_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat() + "Z",
            "delivered": False, "read": False, "attachment": None,
        }
        sio.emit("message", payload, to=f"consult-{data['consultation_id']}", namespace=NS)
        return {"ok": True, "message": payload}

    wsgi = socketio.WSGIApp(sio)

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            return wsgi(environ, start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ceiling"]

    return app


def install_diagnostics(app=None) -> None:
    """With ODR_BENCH_DIAG=1: log ``DIAG`` lines for ``bench/socket_load.py --diagnose``: every full
    (generation 2) garbage collection, SQL statements slower than 50 ms, and database connections
    held longer than 200 ms (checkout to checkin: queries, commit, lock waits). All are wall times,
    so they include waiting for the GIL."""
    import gc
    import threading
    import time

    started = {}

    def on_gc(phase, info):
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started:
            ms = (time.perf_counter() - started.pop("t")) * 1000
            if info.get("generation") == 2:
                print(f"DIAG gc gen{info.get('generation')} {ms:.0f} ms ({info.get('collected')} collected)",
                      flush=True)

    gc.callbacks.append(on_gc)
    if app is None:
        return
    _diagnose_shedding()
    import sqlalchemy as sa

    from odr.extensions import db

    local = threading.local()
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        local.t = time.perf_counter()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        ms = (time.perf_counter() - getattr(local, "t", time.perf_counter())) * 1000
        if ms > 50:
            print(f"DIAG slow sql {ms:.0f} ms: {' '.join(statement.split())[:100]}", flush=True)

    pool = engine.pool

    @sa.event.listens_for(pool, "checkout")
    def _checkout(dbapi_conn, record, proxy):
        record.info["out"] = time.perf_counter()

    @sa.event.listens_for(pool, "checkin")
    def _checkin(dbapi_conn, record):
        t = record.info.pop("out", None)
        if t is not None and (time.perf_counter() - t) * 1000 > 200:
            print(f"DIAG connection held {(time.perf_counter() - t) * 1000:.0f} ms", flush=True)


def _diagnose_shedding() -> None:
    """The process's own overload report (``odr.realtime.Load.report``: events refused per limit,
    the most in flight, the loop's largest lag) every second instead of every ten, as one
    ``DIAG shed <limit> <refused in that second>`` line per limit that refused."""
    import logging

    from odr import realtime

    realtime.Load.REPORT_SECONDS = 1.0

    class Diag(logging.Handler):
        def emit(self, record):
            if not record.getMessage().startswith("Overloaded:"):
                return
            _total, _seconds, in_flight, lag, peak_in_flight, peak_lag_ms = record.args
            for limit, refused in (("in_flight", in_flight), ("lag", lag)):
                if refused:
                    print(f"DIAG shed {limit} {refused} (in flight at most {peak_in_flight}, "
                          f"lag at most {peak_lag_ms:.0f} ms)", flush=True)

    logging.getLogger(realtime.__name__).addHandler(Diag())


def main() -> None:
    mode, port, workers, worker_connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

    from odr.serve import run_gunicorn

    if mode == "app":
        from odr import create_app

        app = create_app()
    elif mode == "ceiling":
        app = ceiling_app()
    else:
        sys.exit(f"unknown mode {mode!r}")
    if os.environ.get("ODR_BENCH_DIAG"):
        install_diagnostics(app if mode == "app" else None)
    run_gunicorn(app, "127.0.0.1", port, workers=workers, worker_connections=worker_connections)


if __name__ == "__main__":
    main()
