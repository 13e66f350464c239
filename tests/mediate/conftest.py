"""A case in mediation and the people around it, for the mediation tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from odr.auth.models import Role, User
from odr.cases import operations as ops
from odr.cases.models import Case, Organization, Stage
from odr.extensions import db
from odr.mediate.models import MediatorProfile


@dataclass
class Mediation:
    case: Case
    org: Organization
    staff: User
    mediator: User
    claimant: User
    respondent: User
    #: A mediator of the same organisation who does not handle this case.
    other_mediator: User
    #: Signed in, but nothing to do with the case.
    outsider: User


@pytest.fixture
def make_mediator(make_user):
    def make(org, specialties="neighbour property", languages="zh", capacity=10, name=None):
        user = make_user(Role.mediator, org, name=name)
        db.session.add(MediatorProfile(user_id=user.id, organization_id=org.id, specialties=specialties,
                                       languages=languages, capacity=capacity))
        db.session.commit()
        return user

    return make


@pytest.fixture
def mediation(make_user, make_org, make_case, make_mediator) -> Mediation:
    """A neighbour case at the mediation stage, both parties joined, its mediator assigned."""
    org = make_org(name="朝阳区人民调解委员会")
    staff = make_user(Role.staff, org, name="Staff Wu")
    mediator = make_mediator(org, name="Mediator Li")
    other = make_mediator(org, name="Mediator Zhou")
    claimant, respondent = make_user(name="Zhang San"), make_user(name="Li Si")
    case = make_case(claimant=claimant, respondent=respondent, organization=org,
                     stages=(Stage.assessment, Stage.mediation))
    ops.assign_handler(case, staff, mediator=mediator)
    db.session.commit()
    return Mediation(case, org, staff, mediator, claimant, respondent, other, make_user(name="Outsider"))


@pytest.fixture
def login_en(login):
    """Sign in and read the pages in English (messages are asserted in English)."""

    def do(client, user):
        login(client, user)
        with client.session_transaction() as session:
            session["lang"] = "en"
        return client

    return do
