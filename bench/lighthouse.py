"""Lighthouse (npm ``lighthouse`` with Debian's ``chromium``) on the home page, a case page and
the video lobby, mobile profile: accessibility and performance scores and the bytes the first
load of each page transfers. Issue 17's goal: accessibility 100, performance ≥ 95, < 60 KB.

Usage: python bench/lighthouse.py [--lighthouse PATH]

1. builds a fresh instance with the demo data (SQLite, a temporary directory);
2. serves it as ``odr run`` does (``bench/_serve.py``: gunicorn, gevent);
3. signs in as the demo claimant and finds a case page and a video lobby in the to-do list;
4. runs Lighthouse once per page with the claimant's cookie (``--extra-headers``) and prints a table.

Lighthouse comes from npm (``npm install lighthouse`` in any folder; pass its ``bin/lighthouse``
with ``--lighthouse``, or have ``lighthouse`` on the PATH; ``npx lighthouse`` otherwise).
"""

from __future__ import annotations

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here] + [_here]

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from _common import free_port, load_demo, log, stop_server  # noqa: E402
from http_load import USER_AGENT, Client, sign_in, start_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def lighthouse_command(given: str | None) -> list[str]:
    if given:
        return [given]
    if shutil.which("lighthouse"):
        return ["lighthouse"]
    return ["npx", "--yes", "lighthouse"]


def video_lobby(port: int, cookie: str, case_paths: list[str]) -> str | None:
    """The first video lobby linked from the claimant's to-do list or case pages."""
    client = Client(port)
    client.cookies.update(dict(part.split("=", 1) for part in cookie.split("; ")))
    for path in ["/", *case_paths]:
        _status, _location, page = client.request("GET", path)
        found = re.findall(r'href="(/mediate/ODR-[^"]+/sessions/\d+/video)"', page)
        if found:
            client.close()
            return found[0]
    client.close()
    return None


#: The demo has no mediation session: one by video, starting now, in the claimant's first case in
#: mediation, gives the claimant a lobby to open.
VIDEO_SESSION = """
import sqlalchemy as sa
from odr import create_app
from odr.cases.models import Case, Stage
from odr.extensions import db
from odr.mediate.models import MediationSession, SessionMode, SessionStatus
from odr.timeutil import utcnow
app = create_app()
with app.app_context():
    case = db.session.scalars(sa.select(Case).where(Case.stage == Stage.mediation, Case.closed_at.is_(None),
                                                    Case.mediator_id.is_not(None)).order_by(Case.id)).first()
    db.session.add(MediationSession(case_id=case.id, mediator_id=case.mediator_id, mode=SessionMode.video,
                                    status=SessionStatus.scheduled, starts_at=utcnow(), minutes=60))
    db.session.commit()
    print(case.number)
"""


def add_video_session(env: dict) -> str:
    from http_load import PYTHON

    result = subprocess.run([PYTHON, "-c", VIDEO_SESSION], env=env, capture_output=True, text=True, check=True)
    return result.stdout.split()[-1]


def audit(command: list[str], url: str, cookie: str, out_dir: str) -> dict:
    out = os.path.join(out_dir, re.sub(r"\W+", "-", url)[-60:] + ".json")
    subprocess.run([*command, url, "--quiet", "--output=json", f"--output-path={out}",
                    "--only-categories=accessibility,performance", "--form-factor=mobile",
                    f"--emulated-user-agent={USER_AGENT}",  # the session is bound to the sign-in's agent
                    f"--extra-headers={json.dumps({'Cookie': cookie})}",
                    "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"],
                   check=True, env=dict(os.environ, CHROME_PATH=CHROMIUM), timeout=300)
    with open(out) as f:
        report = json.load(f)
    items = report["audits"]["network-requests"]["details"]["items"]
    failing = [a["id"] for a in report["audits"].values()
               if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"
               and a["id"] in {ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]}]
    return {
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "transfer_kb": sum(i.get("transferSize", 0) for i in items) / 1024,
        "requests": len(items),
        "failing": failing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lighthouse", help="path of lighthouse's CLI (default: on the PATH, else npx)")
    args = parser.parse_args()
    command = lighthouse_command(args.lighthouse)
    with tempfile.TemporaryDirectory(prefix="odr-lighthouse-") as tmp:
        env = dict(os.environ, ODR_INSTANCE_PATH=tmp, PYTHONUNBUFFERED="1")
        env.pop("ODR_DATABASE_URL", None)
        load_demo(env)
        mediating = add_video_session(env)
        port = free_port()
        with open(os.path.join(tmp, "server.log"), "w") as logfile:
            proc = start_server(env, port, 1, logfile)
            try:
                cookie, _number, case_path = sign_in(port)
                base = f"http://127.0.0.1:{port}"
                pages = {"home (to-do list)": "/", "case page": case_path}
                lobby = video_lobby(port, cookie, [case_path, f"/cases/{mediating}"])
                if lobby:
                    pages["video lobby"] = lobby
                else:
                    log("no video lobby in the demo claimant's pages")
                results = {name: audit(command, base + path, cookie, tmp) for name, path in pages.items()}
            finally:
                stop_server(proc)
    print(f"\n{'page':<20} {'a11y':>5} {'perf':>5} {'KB':>7} {'requests':>9}  failing a11y audits")
    for name, r in results.items():
        print(f"{name:<20} {r['accessibility']:>5} {r['performance']:>5} {r['transfer_kb']:>7.1f} "
              f"{r['requests']:>9}  {', '.join(r['failing']) or '-'}")
    print("goal: accessibility 100, performance >= 95, first load < 60 KB")


if __name__ == "__main__":
    main()
