"""Waiting for something another thread or process does: one helper for the whole suite."""

from __future__ import annotations

import time


def eventually(check, what: str = "condition", timeout: float = 15.0, interval: float = 0.05) -> None:
    """Return once ``check()`` is true; fail naming ``what`` if it is not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(interval)
