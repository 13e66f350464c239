"""Court export of a case with a lot of evidence: peak memory and throughput against ``zip``.

    .venv/bin/python bench/export.py [--mb 300] [--file-mb 15]

Files a case in a throw-away instance (SQLite), adds ``--mb`` of evidence as ``--file-mb``
files of random bytes behind a JPEG header (as incompressible as photos and recordings), then:

- runs ``odr export CASE -o bundle.zip`` in its own process and reads that process's peak RSS
  (``wait4``) and wall time;
- runs the same command for a case number that does not exist: the RSS of the process that
  loaded the platform and did nothing else (the floor the export adds to);
- runs ``zip -q -r`` (default settings) over the same evidence files.

Goals (issue 7): peak RSS < 120 MB, throughput ≥ 0.8 × zip's.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
sys.path.append(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import ODR, log  # noqa: E402


#: Runs a command and prints its wall time, peak RSS and exit status. A small process of its own
#: starts the command: a child forked straight from this (large) process would report this
#: process's peak RSS as its own, since Linux keeps ru_maxrss across exec.
MEASURE = """
import os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_pid, status, usage = os.wait4(proc.pid, 0)
code = os.waitstatus_to_exitcode(status)
if code not in (0, 1):
    sys.stderr.write(proc.stderr.read().decode()[-2000:])
print(time.perf_counter() - started, usage.ru_maxrss * 1024, code)
"""


def run_measured(cmd, env, cwd=None) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in bytes and exit status of ``cmd``."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], env=env, cwd=cwd, capture_output=True, text=True)
    try:
        elapsed, rss, code = out.stdout.split()
    except ValueError:
        sys.exit(f"{cmd[0]} failed: {out.stderr[-2000:]}")
    if int(code) not in (0, 1):
        sys.exit(f"{cmd[0]} failed: {out.stderr[-2000:]}")
    return float(elapsed), int(rss), int(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--file-mb", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("zip") is None:
        sys.exit("needs the zip command (Debian: apt-get install zip)")

    work = tempfile.mkdtemp(prefix="odr-bench-export-")
    env = dict(os.environ, ODR_INSTANCE_PATH=work, ODR_DATABASE_URL=f"sqlite:///{work}/bench.sqlite")
    os.environ.update(env)
    import logging
    logging.disable(logging.WARNING)

    from odr import create_app
    from odr.cli import upgrade_database
    from odr.samples import sample_case
    from odr.extensions import db
    from odr.mediate.room import operations as room
    from odr.cases.evidence import Visibility

    app = create_app()
    app.config["EVIDENCE_MAX_BYTES"] = (args.file_mb + 1) * 1024 * 1024
    evidence_dir = os.path.join(work, "evidence")
    os.makedirs(evidence_dir)
    with app.app_context():
        upgrade_database()
        sample = sample_case("zh")
        case = sample.case
        # The sample stops at an approved agreement, still in mediation: evidence can be added.
        count = max(2, args.mb // args.file_mb)
        number = case.number
        claimant = sample.case.claimant.user

        def add(first, last):
            for n in range(first, last):
                data = b"\xff\xd8\xff\xe0" + os.urandom(args.file_mb * 1024 * 1024 - 4)
                with open(os.path.join(evidence_dir, f"photo-{n:03}.jpg"), "wb") as fh:
                    fh.write(data)
                room.add_evidence(case, claimant, io.BytesIO(data), f"photo-{n:03}.jpg", Visibility.all)
                del data
            db.session.commit()

        bundle = os.path.join(work, "bundle.zip")
        log(f"first {2 * args.file_mb} MB of evidence, exported (memory must not grow with the evidence)")
        add(0, 2)
        _t_small, rss_small, _ = run_measured([ODR, "export", number, "-o", bundle], env)
        log(f"then up to {count} × {args.file_mb} MB")
        add(2, count)
    content = count * args.file_mb * 1024 * 1024

    t_floor, rss_floor, _ = run_measured([ODR, "export", "ODR-1999-000000", "-o", bundle], env)
    t_export, rss_export, code = run_measured([ODR, "export", number, "-o", bundle], env)
    if code != 0:
        sys.exit("export failed")
    zipped = os.path.join(work, "evidence.zip")
    t_zip, rss_zip, _ = run_measured(["zip", "-q", "-r", zipped, "evidence"], env, cwd=work)
    _t_verify, rss_verify, vcode = run_measured([ODR, "verify-bundle", bundle], env)

    mb = 1024 * 1024
    print(f"evidence: {count} files, {content / mb:,.0f} MB; bundle {os.path.getsize(bundle) / mb:,.0f} MB")
    print(f"odr export       {t_export:6.2f} s  {content / mb / t_export:7.1f} MB/s   peak RSS {rss_export / mb:6.1f} MB"
          f"   (the same process doing nothing: {rss_floor / mb:.1f} MB, {t_floor:.2f} s)")
    print(f"odr export of the first {2 * args.file_mb} MB only: peak RSS {rss_small / mb:6.1f} MB "
          f"(growth with {content / mb - 2 * args.file_mb:,.0f} MB more evidence: {(rss_export - rss_small) / mb:+.1f} MB)")
    print(f"zip -q -r        {t_zip:6.2f} s  {content / mb / t_zip:7.1f} MB/s   peak RSS {rss_zip / mb:6.1f} MB")
    print(f"throughput ratio export/zip: {t_zip / t_export:.2f}   (goal ≥ 0.8)   peak RSS goal < 120 MB")
    print(f"odr verify-bundle: exit {vcode}, peak RSS {rss_verify / mb:.1f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
