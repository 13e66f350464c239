"""Helpers for the operations tests: bring the summaries up to date."""

from __future__ import annotations

from datetime import timedelta

import pytest

from odr.extensions import db
from odr.ops import summary
from odr.timeutil import utcnow


def refresh() -> int:
    """Run the summary job as it would run a little later (past the lag it leaves open transactions)."""
    done = summary.refresh_ops_summaries(utcnow() + timedelta(minutes=5))
    db.session.commit()
    return done


@pytest.fixture
def refreshed():
    return refresh
