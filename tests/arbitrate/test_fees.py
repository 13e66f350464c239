"""The fee schedule (odr/arbitrate/data/fees.json): fee by amount, tribunal size, documents only."""

from decimal import Decimal

import pytest

from odr.arbitrate import fees

SCHEDULE = fees.schedule()


@pytest.mark.parametrize("amount, fee", [
    (None, 300),            # no sum of money claimed
    ("0", 100),             # the minimum
    ("500", 125),           # 100 + 5 % of 500
    ("1000", 150),          # a band's start: its base
    ("8000", 430),          # 150 + 4 % of 7,000
    ("50000", 2110),
    ("100000", 3610),
    ("1000000", 15110),
    ("2500000", 22360),     # 20,110 + 0.45 % of 500,000
    ("30000000", 103610),   # 83,610 + 0.2 % of 10,000,000
])
def test_fee_by_amount(amount, fee):
    assert SCHEDULE.fee(Decimal(amount) if amount else None) == Decimal(fee)


@pytest.mark.parametrize("amount, size, documents_only", [
    (None, 1, True), ("8000", 1, True), ("100000", 1, True), ("100000.01", 1, False),
    ("1000000", 1, False), ("1000000.01", 3, False),
])
def test_tribunal_size_and_documents_only(amount, size, documents_only):
    value = Decimal(amount) if amount else None
    assert SCHEDULE.tribunal_size(value) == size
    assert SCHEDULE.documents_only_allowed(value) is documents_only


def test_a_schedule_must_start_at_zero_and_amounts_cannot_be_negative():
    with pytest.raises(ValueError):
        fees.parse({"bands": [{"from": 10, "base": 1, "rate": 0}], "minimum": 1, "no_amount": 1,
                    "sole_arbitrator_max": 1, "documents_only_max": 1})
    with pytest.raises(ValueError):
        SCHEDULE.fee(Decimal("-1"))
