"""Where one /consult ``send`` spends its time, in Flask-SocketIO's test client (no server, no threads).

Run by hand from the project root::

    .venv/bin/python bench/profile_socket.py            # 500 sends, SQLite, fresh demo instance
    .venv/bin/python bench/profile_socket.py -n 300 --db postgres --top 40

A person and a consultant in one taken consultation (made through
``odr.consult.operations``); the person is signed in with a session cookie, as
in ``tests/consult/conftest.py``, joins, and sends messages. Prints: SQL
statements per ``send`` (SQLAlchemy ``before_cursor_execute`` listener, grouped),
mean wall and CPU time per ``send`` without the profiler, the same for a bare
Flask-SocketIO handler of the same shape (no sign-in, no database) for scale, and
the top cProfile entries. ``--senders K`` then has K people, each in a consultation of their own
and on a test client of their own, send from K threads at once (group commit gathers what arrives
together): statements, transactions that wrote messages, and wall and CPU per message. The flood limit of ``/consult`` is lifted in this process only
(``events.flood.events``), so that many sends can be profiled on one connection.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here] + [_here]  # see bench/_common.py

import argparse  # noqa: E402
import collections  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from _common import fresh_postgres  # noqa: E402

ROOT = os.path.dirname(_here)
ODR = os.path.join(ROOT, ".venv", "bin", "odr")
NS = "/consult"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=500, help="sends to time and to profile (default 500)")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--senders", type=int, default=8, help="people sending at once in the concurrent run (0: none)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="odr-profile-") as tmp:
        os.environ["ODR_INSTANCE_PATH"] = tmp
        os.environ.pop("ODR_DATABASE_URL", None)
        if args.db == "postgres":
            os.environ["ODR_DATABASE_URL"] = fresh_postgres("odr_bench_profile")
        subprocess.run([ODR, "demo", "--no-serve"], env=os.environ, cwd=ROOT, check=True, capture_output=True,
                       timeout=120)

        import logging

        import sqlalchemy as sa

        from odr import create_app
        from odr.auth import operations as auth_ops
        from odr.cases.operations import grant_role
        from odr.auth import sessions
        from odr.auth.models import Role, User
        from odr.cases.models import Category
        from odr.consult import events
        from odr.consult import operations as ops
        from odr.extensions import db

        app = create_app()
        logging.getLogger().setLevel(logging.WARNING)
        with app.app_context():
            person = auth_ops.create_user("profile-person@bench.odr.example", "Profile person")
            consultant = auth_ops.create_user("profile-consultant@bench.odr.example", "Profile consultant")
            grant_role(consultant, Role.consultant)
            consultation = ops.start(person, "Profile question", Category.property)
            ops.take(consultation, consultant)
            db.session.commit()
            person_id, cid = person.id, consultation.id
            engine = db.engine
        client = app.test_client()
        with app.app_context(), client.session_transaction() as session:
            sessions.stamp(session, db.session.get(User, person_id))
            db.session.commit()
            session["lang"] = "en"
        sc = app.extensions["socketio"].test_client(app, namespace=NS, flask_test_client=client)
        assert sc.is_connected(NS), "the signed-in test client was refused"
        ack = sc.emit("join", {"consultation_id": cid}, namespace=NS, callback=True)
        assert ack["ok"] and ack["status"] == "active", ack
        events.flood.events = 10 ** 9  # this process only: profile many sends on one connection
        seq = iter(range(1, 10 ** 9))

        def send():
            ack = sc.emit("send", {"consultation_id": cid, "client_id": f"prof-{next(seq)}", "body": "Hello there"},
                          namespace=NS, callback=True)
            assert ack["ok"], ack
            sc.get_received(NS)  # the room's copy of the message

        send()  # warm up (statement cache)

        # --- SQL statements per send
        statements = []

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split()))

        sa.event.listen(engine, "before_cursor_execute", on_execute)
        send()
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        print(f"/consult send as the person of consultation {cid}, {engine.url.get_backend_name()}")
        print(f"\nSQL statements in one send (plus COMMIT): {len(statements)}")
        for stmt, count in collections.Counter(statements).most_common():
            print(f"  {count:>3} x {stmt[:150]}{'…' if len(stmt) > 150 else ''}")

        # --- timing without the profiler, and a bare handler of the same shape for scale
        wall, cpu = _timed(send, args.n)
        bare_wall, bare_cpu = _bare(args.n)
        print(f"\nmean per send, test client, no profiler: odr {wall:.2f} ms wall, {cpu:.2f} ms CPU; "
              f"the same event shape in a bare Flask-SocketIO app (no sign-in, no database) {bare_wall:.3f} ms wall, "
              f"{bare_cpu:.3f} ms CPU")

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.n):
            send()
        prof.disable()
        for key, title in (("cumulative", "cumulative time"), ("tottime", "own time")):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key).print_stats(args.top)
            text = out.getvalue()
            print(f"\n=== cProfile, {args.n} sends, top {args.top} by {title} ===")
            print(text[text.find("   ncalls"):].rstrip())
        sc.disconnect(NS)
        if args.senders:
            _concurrent(app, engine, args.senders, args.n)
        with app.app_context():
            db.engine.dispose()


def _concurrent(app, engine, senders, n):
    """``senders`` people, each on a test client of their own, sending from threads at once."""
    import threading

    import sqlalchemy as sa

    from odr.auth import operations as auth_ops
    from odr.auth import sessions
    from odr.auth.models import Role, User
    from odr.cases.models import Category
    from odr.cases.operations import grant_role
    from odr.consult import operations as ops
    from odr.extensions import db

    clients = []
    with app.app_context():
        consultant = auth_ops.create_user("profile-many@bench.odr.example", "Profile consultant 2")
        grant_role(consultant, Role.consultant)
        made = []
        for i in range(senders):
            person = auth_ops.create_user(f"profile-{i}@bench.odr.example", f"Sender {i}")
            consultation = ops.start(person, "Profile question", Category.property)
            ops.take(consultation, consultant)
            made.append((person, consultation))
        db.session.commit()
        made = [(p.id, c.id) for p, c in made]
    for person_id, cid in made:
        client = app.test_client()
        with app.app_context(), client.session_transaction() as session:
            sessions.stamp(session, db.session.get(User, person_id))
            db.session.commit()
            session["lang"] = "en"
        sc = app.extensions["socketio"].test_client(app, namespace=NS, flask_test_client=client)
        assert sc.emit("join", {"consultation_id": cid}, namespace=NS, callback=True)["ok"]
        clients.append((sc, cid))
    each = max(1, n // senders)
    statements, writes, writing = [0], [0], set()
    lock = threading.Lock()

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        with lock:
            statements[0] += 1
            if statement.lstrip().upper().startswith("INSERT INTO CONSULT_MESSAGE"):
                writing.add(id(conn))

    def on_commit(conn):
        with lock:
            if id(conn) in writing:
                writing.discard(id(conn))
                writes[0] += 1

    def run(k, sc, cid, go):
        go.wait()
        for i in range(each):
            ack = sc.emit("send", {"consultation_id": cid, "client_id": f"many-{k}-{i}", "body": "Hello there"},
                          namespace=NS, callback=True)
            assert ack["ok"], ack
            sc.get_received(NS)

    go = threading.Barrier(senders + 1)
    threads = [threading.Thread(target=run, args=(k, sc, cid, go)) for k, (sc, cid) in enumerate(clients)]
    for t in threads:
        t.start()
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    go.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sa.event.remove(engine, "before_cursor_execute", on_execute)
    sa.event.remove(engine, "commit", on_commit)
    total = each * senders
    print(f"\n{senders} senders at once, {total} messages: {statements[0] / total:.2f} SQL statements per message "
          f"(plus COMMITs), {writes[0]} transactions wrote them ({total / max(1, writes[0]):.1f} messages per "
          f"commit); {wall / total * 1000:.2f} ms wall, {cpu / total * 1000:.2f} ms CPU per message "
          f"({total / wall:.0f} msgs/s)")
    for sc, _cid in clients:
        sc.disconnect(NS)


def _timed(fn, n):
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1000, (time.process_time() - c0) / n * 1000


def _bare(n):
    """The same event shape in a bare Flask-SocketIO app: join a room, ``send`` re-emitted to it and
    acknowledged; no sign-in, no participant check, no database."""
    import flask
    import flask_socketio

    app = flask.Flask("bare")
    sio = flask_socketio.SocketIO(app, async_mode="threading")

    @sio.on("join", namespace=NS)
    def on_join(data):
        flask_socketio.join_room(f"consult-{data['consultation_id']}")
        return {"ok": True}

    @sio.on("send", namespace=NS)
    def on_send(data):
        payload = {"client_id": data["client_id"], "body": data["body"].strip()}
        flask_socketio.emit("message", payload, to=f"consult-{data['consultation_id']}")
        return {"ok": True, "message": payload}

    sc = sio.test_client(app, namespace=NS)
    sc.emit("join", {"consultation_id": 1}, namespace=NS, callback=True)
    seq = iter(range(10 ** 9))

    def send():
        sc.emit("send", {"consultation_id": 1, "client_id": f"b{next(seq)}", "body": "Hello there"}, namespace=NS,
                callback=True)
        sc.get_received(NS)

    send()
    return _timed(send, n)


if __name__ == "__main__":
    main()
