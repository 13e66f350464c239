"""A write the user saw confirmed survives: the real ``odr demo``, its periodic jobs every second,
writes through the web (room messages, evidence uploads) and the intake API for longer than several
job runs, then a restart — and every acknowledged write is there, once, in an intact database.

This is the served system, not the test client: ``odr demo`` migrates and loads the demo in the
process that then starts gunicorn, whose worker is forked from it, with the jobs and the media
bridge beside it. When the serving process kept its SQLite connections across the fork, the
first job run's ``dispose()`` checkpointed and deleted the write-ahead log the worker was still
writing into: confirmed writes vanished and the next requests answered 500 ("database disk image
is malformed").
"""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.served import free_port, wait_until_up

ODR = str(Path(sys.executable).with_name("odr"))
WRITE_SECONDS = 12
#: A PNG the evidence rules accept (checked by content); each upload gets its own trailing bytes.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def _odr(env, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([ODR, *args], env=env, capture_output=True, text=True, timeout=120, check=True, **kwargs)


def _start(env, log: Path, *args) -> subprocess.Popen:
    # Its own process group: stopping it stops it as Ctrl-C in a terminal would (every process).
    with log.open("ab") as out:
        return subprocess.Popen([ODR, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen, sig=signal.SIGINT, timeout=20.0) -> float:
    started = time.monotonic()
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise AssertionError(f"the server did not stop within {timeout} s")
    except ProcessLookupError:
        pass
    return time.monotonic() - started


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def demo_instance(tmp_path):
    env = dict(os.environ, ODR_INSTANCE_PATH=str(tmp_path), ODR_SECRET_KEY="served-writes",
               ODR_DATABASE_URL=f"sqlite:///{tmp_path / 'odr.sqlite'}", ODR_JOBS_INTERVAL_SECONDS="1",
               ODR_INTAKE_RATE_LIMIT="100000 per minute", ODR_LOGIN_RATE_LIMIT="1000 per minute")
    env.pop("ODR_TEST_DATABASE_URL", None)
    _odr(env, "demo", "--no-serve")
    token = re.search(r"odr_\S+", _odr(env, "api-token", "create", "--name", "soak", "--org", "1").stdout).group(0)
    db = sqlite3.connect(tmp_path / "odr.sqlite")
    try:
        # A case in mediation that the demo claimant (王芳, +8613800138001) is a joined party of.
        number = db.execute(
            "SELECT c.number FROM 'case' c JOIN case_party p ON p.case_id = c.id JOIN user u ON u.id = p.user_id "
            "WHERE c.stage = 'mediation' AND c.closed_at IS NULL AND u.phone = '+8613800138001' "
            "ORDER BY c.id LIMIT 1").fetchone()[0]
    finally:
        db.close()
    return env, token, number, tmp_path


@pytest.mark.served_sqlite
def test_every_acknowledged_write_survives_jobs_and_a_restart(demo_instance):
    env, token, number, folder = demo_instance
    log = folder / "served.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start(env, log, "demo", "--port", str(port))
    references, messages, uploads, failures = [], [], [], []
    try:
        wait_until_up(url, server, log=log)
        web = requests.Session()
        page = web.get(f"{url}/auth/login", timeout=10).text
        signed_in = web.post(f"{url}/auth/login", data={"contact": "+8613800138001", "password": "odr-demo-2026",
                                                         "csrf_token": _csrf(page)}, timeout=10)
        assert signed_in.status_code == 200 and "/auth/login" not in signed_in.url
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        runs_before = log.read_text(errors="replace").count("Operations summaries")
        start = time.monotonic()

        def job_runs() -> int:
            return log.read_text(errors="replace").count("Operations summaries") - runs_before

        def enough() -> bool:  # a loaded machine (the suite on 2 cores) takes longer to get there
            return (time.monotonic() - start >= WRITE_SECONDS and job_runs() >= 5
                    and len(references) >= 10 and len(messages) >= 10 and len(uploads) >= 3)

        i = 0
        while not enough() and time.monotonic() - start < 6 * WRITE_SECONDS and not failures:
            i += 1
            reference = f"SOAK-{i}-{uuid.uuid4().hex[:8]}"
            resp = api.post(f"{url}/api/v1/intake", timeout=10, json={
                "reference": reference, "category": "neighbour", "claim": "Quiet after 22:00.",
                "description": "Loud music from upstairs every night until two.", "district": "朝阳区",
                "claimant_name": "Wang Fang", "claimant_phone": "13800138000",
                "respondent_name": "Li Lei", "respondent_phone": "13800138009"})
            (references if resp.status_code == 201 else failures).append((reference, resp.status_code))

            room = web.get(f"{url}/mediate/{number}/room?thread=joint", timeout=10)
            body = f"Message {i} {uuid.uuid4().hex}"
            resp = web.post(f"{url}/mediate/{number}/room", timeout=10, allow_redirects=False,
                            data={"thread": "joint", "body": body, "csrf_token": _csrf(room.text)})
            (messages if resp.status_code == 303 else failures).append((body, resp.status_code))

            if i % 3 == 0:
                name = f"photo-{i}.png"
                form = web.get(f"{url}/mediate/{number}/evidence", timeout=10)
                resp = web.post(f"{url}/mediate/{number}/evidence", timeout=10, allow_redirects=False,
                                data={"visibility": "all", "csrf_token": _csrf(form.text)},
                                files={"file": (name, io.BytesIO(PNG + uuid.uuid4().bytes), "image/png")})
                (uploads if resp.status_code == 303 else failures).append((name, resp.status_code))
        assert not failures, f"writes refused or failed: {failures[:5]}"
        assert job_runs() >= 5, f"the periodic jobs ran {job_runs()} times while writing"
        assert len(references) >= 10 and len(messages) >= 10 and len(uploads) >= 3
    finally:
        stopped_in = _stop(server)
    # Ctrl-C stops everything within a few seconds: gunicorn, its worker, the jobs and the bridge.
    assert stopped_in < 8, f"stopping took {stopped_in:.1f} s"
    leftovers = subprocess.run(["pgrep", "-f", f"ODR_INSTANCE_PATH={folder}|odr (jobs|media-bridge)"],
                               capture_output=True, text=True).stdout.split()
    assert not [pid for pid in leftovers if Path(f"/proc/{pid}/environ").exists()
                and str(folder).encode() in Path(f"/proc/{pid}/environ").read_bytes()], "a child outlived the server"

    # Restart (odr run this time) and find every acknowledged write through the platform itself.
    server = _start(env, log, "run", "--port", str(port), "--no-media-bridge")
    try:
        wait_until_up(url, server, log=log)
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"
        for reference, _ in references:
            assert api.get(f"{url}/api/v1/intake/{reference}", timeout=10).status_code == 200, reference
    finally:
        _stop(server)

    db = sqlite3.connect(folder / "odr.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        found = dict(db.execute("SELECT external_ref, count(*) FROM 'case' WHERE external_ref LIKE 'SOAK-%' "
                                "GROUP BY external_ref").fetchall())
        assert found == {reference: 1 for reference, _ in references}
        bodies = [row[0] for row in db.execute("SELECT body FROM mediation_message")]
        assert all(bodies.count(body) == 1 for body, _ in messages)
        names = [row[0] for row in db.execute("SELECT filename FROM mediation_evidence")]
        assert all(names.count(name) == 1 for name, _ in uploads)
    finally:
        db.close()
    audit = subprocess.run([ODR, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, audit.stdout[-2000:]
