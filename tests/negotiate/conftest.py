"""A case in assessment with both parties joined, and the people around it, for the negotiation tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from odr.auth.models import Role, User
from odr.cases.models import Case, Organization, Stage
from odr.extensions import db
from odr.negotiate import operations as ops


@dataclass
class Parties:
    case: Case
    org: Organization
    staff: User
    mediator: User
    claimant: User
    respondent: User
    #: Signed in, but nothing to do with the case.
    outsider: User


@pytest.fixture
def parties(make_user, make_org, make_case) -> Parties:
    """A debt case at the assessment stage, both parties joined, routed to an organisation."""
    from odr.cases.models import Category

    org = make_org(name="朝阳区人民调解委员会")
    staff = make_user(Role.staff, org, name="Staff Wu")
    mediator = make_user(Role.mediator, org, name="Mediator Li")
    claimant, respondent = make_user(name="Zhang San"), make_user(name="Li Si")
    case = make_case(claimant=claimant, respondent=respondent, organization=org, stages=(Stage.assessment,),
                     category=Category.debt, description="Li Si borrowed 3,000 yuan and has not paid it back.",
                     claim="Repay 3,000 yuan.", amount_claimed=Decimal("3000"))
    db.session.commit()
    return Parties(case, org, staff, mediator, claimant, respondent, make_user(name="Outsider"))


@pytest.fixture
def login_en(login):
    """Sign in and read the pages in English (messages are asserted in English)."""
    def do(client, user):
        login(client, user)
        with client.session_transaction() as session:
            session["lang"] = "en"
        return client
    return do


def offer(p: Parties, author, amount="3000", terms="Li Si repays the loan.", schedule=(), respond_by=None,
          answers=None, message=""):
    """An offer made through the operation, committed."""
    made = ops.make_offer(p.case, author, amount=Decimal(amount) if amount is not None else None, terms=terms,
                          schedule=[ops.Instalment(date.fromisoformat(d), Decimal(a)) for d, a in schedule],
                          respond_by=respond_by, message=message, answers=answers)
    db.session.commit()
    return made
