"""A case ready to go to arbitration, the commission that will hear it and its roster."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from odr.auth.models import Role, User
from odr.cases.models import Case, Organization, OrgType, Stage
from odr.extensions import db



@dataclass
class World:
    case: Case
    commission: Organization
    staff: User
    arbitrators: list[User]
    claimant: User
    respondent: User
    #: Staff of another commission, and a signed-in stranger.
    other_staff: User
    outsider: User


@pytest.fixture
def make_world(make_user, make_org, make_case):
    def make(amount="8000", stage=Stage.assessment) -> World:
        commission = make_org(OrgType.arbitration_commission, name="北京仲裁委员会", district="北京市朝阳区")
        other = make_org(OrgType.arbitration_commission, name="Other commission")
        staff = make_user(Role.staff, commission, name="Staff Qian")
        arbitrators = [make_user(Role.arbitrator, commission, name=n)
                       for n in ("Arbitrator Zhou", "Arbitrator Chen", "Arbitrator Sun", "Arbitrator Wu", "Arbitrator Zheng")]
        claimant, respondent = make_user(name="Zhang San"), make_user(name="Li Si")
        stages = (Stage.assessment,) if stage is Stage.assessment else ()
        case = make_case(claimant=claimant, respondent=respondent, stages=stages,
                         amount_claimed=Decimal(amount) if amount else None,
                         claim="Pay back the 8,000 yuan loan.")
        db.session.commit()
        return World(case, commission, staff, arbitrators, claimant, respondent,
                     make_user(Role.staff, other, name="Staff Other"), make_user(name="Outsider"))

    return make


@pytest.fixture
def world(make_world) -> World:
    return make_world()
