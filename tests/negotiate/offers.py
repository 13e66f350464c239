"""Offers made through the operation, for the negotiation tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from odr.extensions import db
from odr.negotiate import operations as ops
from tests.fixtures.negotiation import Parties


def offer(p: Parties, author, amount="3000", terms="Li Si repays the loan.", schedule=(), respond_by=None,
          answers=None, message=""):
    """An offer made through the operation, committed."""
    made = ops.make_offer(p.case, author, amount=Decimal(amount) if amount is not None else None, terms=terms,
                          schedule=[ops.Instalment(date.fromisoformat(d), Decimal(a)) for d, a in schedule],
                          respond_by=respond_by, message=message, answers=answers)
    db.session.commit()
    return made
