"""A Redis for the tests that need one: ``ODR_TEST_REDIS_URL`` if set, else a private
``redis-server`` on a free port that keeps nothing on disk, stopped at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server(directory: Path):
    """The URL of a Redis to use until the end of the ``with`` (``directory``: the private one's)."""
    url = os.environ.get("ODR_TEST_REDIS_URL")
    if url:
        yield url
        return
    exe = shutil.which("redis-server") or "/usr/sbin/redis-server"
    if not Path(exe).exists():
        pytest.fail("this test needs redis-server (scripts/install-system-deps) or ODR_TEST_REDIS_URL")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(directory)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.02)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
