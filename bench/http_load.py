"""HTTP throughput of the party case page against a hello-world route, same server.

Run by hand from the project root::

    .venv/bin/python bench/http_load.py                 # SQLite (the default install)
    .venv/bin/python bench/http_load.py --db postgres   # PostgreSQL at 127.0.0.1:5432, database odr_bench

What it does:

1. builds a fresh instance in a temporary directory (``ODR_INSTANCE_PATH``) and
   loads the demo data with ``odr demo --no-serve``;
2. starts ``bench/_serve.py`` in a subprocess: ``odr.create_app()`` plus one extra
   route ``GET /bench/hello``, served as ``odr run`` serves (gunicorn, gevent, 1 worker)
   on 127.0.0.1 and a free port;
3. signs in as the demo claimant through the login form and picks a case from /cases/;
4. measures requests/s of ``GET /bench/hello`` and ``GET /cases/<number>`` in
   alternating runs (hello, case, hello, case …) with wrk, or with a Python
   load generator when wrk is missing, and prints the medians and their ratio.

Goal: case page / hello >= 0.6. Loopback only; the whole run takes about 75 s (about 105 s with --floor).
"""

import os
import sys

# Running ``python bench/http_load.py`` puts bench/ first on sys.path, where this very
# file would shadow the standard library's ``http`` package (http.client,
# http.cookies …). Drop that entry before anything imports ``http``.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here] + [_here]

import argparse  # noqa: E402
import html  # noqa: E402
import http.client  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from _common import fresh_postgres, free_port, load_demo, log, stop_server  # noqa: E402

ROOT = os.path.dirname(_here)
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
PYTHON = os.path.join(VENV_BIN, "python") if os.path.exists(os.path.join(VENV_BIN, "python")) else sys.executable
ODR = os.path.join(VENV_BIN, "odr")

CLAIMANT = "+8613800138001"
PASSWORD = "odr-demo-2026"
USER_AGENT = "odr-bench/1"  # same for sign-in and load: Flask-Login session protection hashes it
PG_DB = "odr_bench"
GOAL = 0.6

WRK_LUA = r"""
-- Count responses whose status is not 200 (wrk itself only reports non-2xx/3xx,
-- so a redirect to the sign-in page would go unnoticed).
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BENCH_NON200 %d\n", total))
end
"""


# --------------------------------------------------------------------------- helpers

class Client:
    """A tiny keep-alive HTTP client with a cookie jar of one site."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                if val and "expires=thu, 01 jan 1970" not in value.lower():
                    self.cookies[key.strip()] = val.strip()
                else:
                    self.cookies.pop(key.strip(), None)
        return resp.status, resp.getheader("Location"), text

    def close(self):
        self.conn.close()


# --------------------------------------------------------------------------- setup

def start_server(env: dict, port: int, workers: int, logfile):
    cmd = [PYTHON, os.path.join(_here, "_serve.py"), str(port), str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/hello")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not answer /bench/hello within 30 s")


def sign_in(port: int) -> tuple[str, str, str]:
    """Sign in as the demo claimant; return (cookie header, case number, case path)."""
    c = Client(port)
    status, _, page = c.request("GET", "/auth/login")
    m = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    token = m and re.search(r'value="([^"]+)"', m.group(0))
    if status != 200 or not token:
        raise RuntimeError(f"GET /auth/login: status {status}, no csrf_token input found")
    status, location, page = c.request("POST", "/auth/login", {
        "csrf_token": html.unescape(token.group(1)), "contact": CLAIMANT, "password": PASSWORD, "next": "",
    })
    if status not in (302, 303) or "session" not in c.cookies:
        raise RuntimeError(f"POST /auth/login: status {status} (expected a redirect); sign-in failed")
    status, location, page = c.request("GET", "/cases/")
    numbers = list(dict.fromkeys(re.findall(r'href="/cases/(ODR-\d{4}-\d+)"', page)))
    if status != 200 or not numbers:
        raise RuntimeError(f"GET /cases/: status {status}, {len(numbers)} case links (Location: {location})")
    number = numbers[0]
    path = f"/cases/{number}"
    # Visit the page twice, so the cookie we keep is the settled one (no pending flash messages).
    for _ in range(2):
        status, location, page = c.request("GET", path)
    c.close()
    if status != 200 or number not in page:
        raise RuntimeError(f"GET {path}: status {status}, Location {location}: not the case page")
    cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    log(f"signed in as claimant {CLAIMANT}; {len(numbers)} cases listed, benchmarking {path} "
        f"({len(page.encode())} bytes)")
    return cookie, number, path


def check_page(port: int, path: str, cookie: str | None, must_contain: str) -> int:
    """Status and size of one request, with the bench's headers; raise unless 200 and the text is there."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    if resp.status != 200 or must_contain not in body:
        raise RuntimeError(f"GET {path} answered {resp.status} (Location: {resp.getheader('Location')}), "
                           f"{must_contain!r} {'found' if must_contain in body else 'missing'}")
    return len(body.encode())


# --------------------------------------------------------------------------- load generators

def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(wrk: str, port: int, path: str, cookie: str | None, seconds: int, conns: int, threads: int,
            lua: str) -> dict:
    cmd = [wrk, f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s",
           "-s", lua, "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    lat = dict(re.findall(r"^\s*(50|99)%\s+(\S+)\s*$", text, re.M))
    errors = re.search(r"Socket errors:.*", text)
    non200 = int(re.search(r"BENCH_NON200 (\d+)", text).group(1))
    return {"rps": rps, "requests": requests, "p50": _ms(lat.get("50", "")), "p99": _ms(lat.get("99", "")),
            "non200": non200, "socket_errors": errors.group(0) if errors else ""}


def _py_worker(port, path, cookie, seconds, out_queue):
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies, bad = [], 0
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                bad += 1
        except (OSError, http.client.HTTPException):
            bad += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - t0)
    conn.close()
    out_queue.put((latencies, bad))


def run_python(port: int, path: str, cookie: str | None, seconds: int, conns: int) -> dict:
    """Fallback: ``conns`` processes with one keep-alive connection each."""
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_py_worker, args=(port, path, cookie, seconds, queue)) for _ in range(conns)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 30) for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=10)
    latencies = sorted(x for lats, _ in results for x in lats)
    bad = sum(b for _, b in results)
    n = len(latencies)

    def pct(q):
        return latencies[min(n - 1, int(q * n))] * 1000 if n else float("nan")

    return {"rps": n / elapsed, "requests": n, "p50": pct(0.50), "p99": pct(0.99), "non200": bad,
            "socket_errors": ""}


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite",
                    help="sqlite: file in the temp instance (default); postgres: recreate database "
                         f"{PG_DB} on 127.0.0.1:5432 as user postgres")
    ap.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per route (default 3, at least 2)")
    ap.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--server-workers", type=int, default=1, help="gunicorn workers (odr run default: 1)")
    ap.add_argument("--floor", action="store_true",
                    help="also measure GET /bench/me (signed in, loads the user, no template): the most a "
                         "signed-in page could reach")
    args = ap.parse_args()
    args.rounds = max(2, args.rounds)

    wrk = shutil.which("wrk") or ("/usr/bin/wrk" if os.path.exists("/usr/bin/wrk") else None)
    if args.loadgen == "wrk" and not wrk:
        sys.exit("wrk not found")
    use_wrk = wrk is not None and args.loadgen != "python"
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="odr-bench-") as tmp:
        env = dict(os.environ, ODR_INSTANCE_PATH=tmp, PYTHONUNBUFFERED="1")
        env.pop("ODR_DATABASE_URL", None)
        if args.db == "postgres":
            env["ODR_DATABASE_URL"] = db_url = fresh_postgres(PG_DB)
        else:
            db_url = f"sqlite:///{tmp}/odr.sqlite"
        log(f"instance {tmp}; database {db_url}")
        load_demo(env)

        port = free_port()
        server_log_path = os.path.join(tmp, "server.log")
        with open(server_log_path, "w") as server_log:
            proc = start_server(env, port, args.server_workers, server_log)
            try:
                results = measure(args, port, use_wrk, wrk, tmp, db_url)
            except BaseException:
                server_log.flush()
                with open(server_log_path) as f:
                    tail = f.read()[-3000:]
                print(f"--- server log (tail) ---\n{tail}", file=sys.stderr)
                raise
            finally:
                stop_server(proc)
    log(f"total time {time.monotonic() - started:.0f} s")
    return results


def measure(args, port, use_wrk, wrk, tmp, db_url) -> int:
    import gunicorn

    cookie, number, case_path = sign_in(port)
    routes = {"hello": ("/bench/hello", None, "hello"), "case": (case_path, cookie, number)}
    if args.floor:
        routes["me"] = ("/bench/me", cookie, "hello ")
    order = list(routes)
    labels = {"hello": "GET /bench/hello", "case": f"GET {case_path}", "me": "GET /bench/me (signed in)"}
    load_before = os.getloadavg()
    lua = os.path.join(tmp, "bench.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)

    def one(name, seconds):
        path, ck, must = routes[name]
        if use_wrk:
            return run_wrk(wrk, port, path, ck, seconds, args.connections, args.wrk_threads, lua)
        return run_python(port, path, ck, seconds, args.connections)

    # Warm up both routes (first-request template compilation, connection pool …).
    for name in routes:
        one(name, 2)

    runs = {name: [] for name in order}
    for i in range(args.rounds):
        for name in order:
            path, ck, must = routes[name]
            r = one(name, args.duration)
            check_page(port, path, ck, must)  # still 200 and the right page after the run
            runs[name].append(r)
            log(f"round {i + 1} {name:<5} {r['rps']:9.1f} req/s  p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms"
                f"  ({r['requests']} requests, {r['non200']} not 200){'  ' + r['socket_errors'] if r['socket_errors'] else ''}")

    loadgen = (f"wrk ({wrk}) -t{args.wrk_threads} -c{args.connections} -d{args.duration}s --latency"
               if use_wrk else f"python http.client, {args.connections} processes x 1 keep-alive connection, "
                               f"{args.duration}s")
    print()
    print("odr HTTP benchmark — case page vs hello world, same server, same run")
    print(f"  database : {db_url.split('://')[0]} ({db_url})")
    print(f"  server   : gunicorn {gunicorn.__version__}, gevent, {args.server_workers} worker(s), "
          f"via odr.serve.run_gunicorn (as `odr run`), 127.0.0.1:{port}")
    print(f"  load     : {loadgen}, {args.rounds} alternating rounds per route, medians shown")
    print(f"  machine  : {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}")
    print(f"  case page: GET {case_path} as claimant {CLAIMANT}")
    load_after = os.getloadavg()
    print(f"  load avg : {load_before[0]:.2f} before, {load_after[0]:.2f} after the runs (1 min; other processes "
          "on the machine skew the figures)")
    print()
    print(f"  {'route':<28} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}   runs (req/s)")
    med = {}
    for name in order:
        rs, label = runs[name], labels[name]
        med[name] = statistics.median(r["rps"] for r in rs)
        p50 = statistics.median(r["p50"] for r in rs)
        p99 = statistics.median(r["p99"] for r in rs)
        each = ", ".join(f"{r['rps']:.1f}" for r in rs)
        print(f"  {label:<28} {med[name]:>11.1f} {p50:>8.2f} {p99:>8.2f}   {each}")
    ratio = med["case"] / med["hello"]
    print()
    print(f"  case page / hello = {ratio:.2f} (goal >= {GOAL})  {'OK' if ratio >= GOAL else 'BELOW GOAL'}")
    if "me" in med:
        print(f"  (floor)  /bench/me / hello = {med['me'] / med['hello']:.2f}   "
              f"case page / floor = {med['case'] / med['me']:.2f}")
    bad = sum(r["non200"] for rs in runs.values() for r in rs)
    if bad:
        print(f"  WARNING: {bad} responses were not 200 during the runs; the figures are not valid.")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
