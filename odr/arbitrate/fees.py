"""The arbitration fee and what the amount in dispute decides: the tribunal's size and whether the
case may be decided on the documents alone. The figures are data (``data/fees.json``), read once,
so a commission changes its schedule without touching code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

SCHEDULE_FILE = Path(__file__).parent / "data" / "fees.json"


@dataclass(frozen=True)
class Band:
    start: Decimal
    base: Decimal
    rate: Decimal


@dataclass(frozen=True)
class Schedule:
    bands: tuple[Band, ...]
    minimum: Decimal
    no_amount: Decimal
    sole_arbitrator_max: Decimal
    documents_only_max: Decimal

    def fee(self, amount: Decimal | None) -> Decimal:
        """The fee for a claim of ``amount`` yuan (``None``: a claim without a sum of money)."""
        if amount is None:
            return self.no_amount
        if amount < 0:
            raise ValueError("the amount in dispute cannot be negative")
        band = next(b for b in reversed(self.bands) if amount >= b.start)
        fee = band.base + band.rate * (amount - band.start)
        return max(self.minimum, fee.quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    def tribunal_size(self, amount: Decimal | None) -> int:
        """One arbitrator, or three for a claim above ``sole_arbitrator_max``."""
        return 3 if amount is not None and amount > self.sole_arbitrator_max else 1

    def documents_only_allowed(self, amount: Decimal | None) -> bool:
        """Small claims may be decided on the documents without a hearing."""
        return amount is None or amount <= self.documents_only_max


def parse(data: dict) -> Schedule:
    bands = tuple(sorted((Band(Decimal(str(b["from"])), Decimal(str(b["base"])), Decimal(str(b["rate"])))
                          for b in data["bands"]), key=lambda b: b.start))
    if not bands or bands[0].start != 0:
        raise ValueError("the first fee band must start at 0")
    return Schedule(bands=bands, minimum=Decimal(str(data["minimum"])), no_amount=Decimal(str(data["no_amount"])),
                    sole_arbitrator_max=Decimal(str(data["sole_arbitrator_max"])),
                    documents_only_max=Decimal(str(data["documents_only_max"])))


@lru_cache(maxsize=1)
def schedule() -> Schedule:
    return parse(json.loads(SCHEDULE_FILE.read_text(encoding="utf-8")))
