"""Where GET /cases/<number> spends its time, in the Flask test client (no HTTP server).

Run by hand from the project root::

    .venv/bin/python bench/profile_case.py            # 500 requests, SQLite, fresh demo instance
    .venv/bin/python bench/profile_case.py -n 200 --db postgres --top 40

Prints: SQL statements per request (counted with a SQLAlchemy ``before_cursor_execute``
listener, grouped by statement), mean time per request with and without the profiler,
and the top cProfile entries by cumulative and by own time.
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
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from _common import fresh_postgres  # noqa: E402

ROOT = os.path.dirname(_here)
ODR = os.path.join(ROOT, ".venv", "bin", "odr")
CLAIMANT, PASSWORD = "+8613800138001", "odr-demo-2026"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=500, help="requests to profile (default 500)")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--case", help="case number (default: the first on the claimant's /cases/ page)")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="odr-profile-") as tmp:
        os.environ["ODR_INSTANCE_PATH"] = tmp
        os.environ.pop("ODR_DATABASE_URL", None)
        if args.db == "postgres":
            os.environ["ODR_DATABASE_URL"] = fresh_postgres("odr_bench")
        subprocess.run([ODR, "demo", "--no-serve"], env=os.environ, cwd=ROOT, check=True, capture_output=True,
                       timeout=120)

        import logging

        import sqlalchemy as sa

        from odr import create_app
        from odr.extensions import db

        app = create_app()
        logging.getLogger().setLevel(logging.WARNING)
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = "odr-bench/1"
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        r = client.post("/auth/login", data={"csrf_token": token, "contact": CLAIMANT, "password": PASSWORD})
        assert r.status_code in (302, 303), r.status_code
        listing = client.get("/cases/").get_data(as_text=True)
        number = args.case or re.findall(r'href="/cases/(ODR-\d{4}-\d+)"', listing)[0]
        path = f"/cases/{number}"
        r = client.get(path)
        assert r.status_code == 200 and number in r.get_data(as_text=True), r.status_code

        # --- SQL statements per request
        statements = []
        with app.app_context():
            engine = db.engine

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            statements.append(" ".join(statement.split()))

        sa.event.listen(engine, "before_cursor_execute", on_execute)
        client.get(path)
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        print(f"GET {path} as claimant, {engine.url.get_backend_name()}")
        print(f"\nSQL statements in one request: {len(statements)}")
        for stmt, count in collections.Counter(statements).most_common():
            print(f"  {count:>3} x {stmt[:150]}{'…' if len(stmt) > 150 else ''}")

        # --- timing without and with the profiler
        t0 = time.perf_counter()
        for _ in range(args.n):
            client.get(path)
        plain = (time.perf_counter() - t0) / args.n * 1000
        t0 = time.perf_counter()
        for _ in range(args.n):
            client.get("/auth/login")  # a light page for scale (no session user, one small template)
        light = (time.perf_counter() - t0) / args.n * 1000
        print(f"\nmean per request, test client, no profiler: case page {plain:.2f} ms; "
              f"GET /auth/login {light:.2f} ms")

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.n):
            client.get(path)
        prof.disable()
        for key, title in (("cumulative", "cumulative time"), ("tottime", "own time")):
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(key)
            stats.print_stats(args.top)
            text = out.getvalue()
            print(f"\n=== cProfile, {args.n} requests, top {args.top} by {title} ===")
            print(text[text.find("   ncalls"):].rstrip())


if __name__ == "__main__":
    main()
