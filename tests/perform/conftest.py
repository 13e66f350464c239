"""A case with a performance schedule of two instalments the respondent pays the claimant."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from odr.cases import performance
from odr.extensions import db

#: The smallest valid PNG and a one-page PDF, as a phone would send them.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"


def plan():
    return [performance.PlannedItem(date(2026, 11, 10), "Instalment 1: 1,200.00 yuan by 2026-11-10", Decimal("1200")),
            performance.PlannedItem(date(2026, 12, 10), "Instalment 2: 1,200.00 yuan by 2026-12-10", Decimal("1200"))]


@pytest.fixture
def scheduled(parties):
    """The parties' case with its schedule (the clock, when used, starts on 2 November 2026)."""
    schedule = performance.create_schedule(parties.case, plan(), payer_side="respondent", source="test:1")
    db.session.commit()
    return parties, schedule
