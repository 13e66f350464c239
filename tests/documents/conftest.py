"""Cases in mediation for the document tests: the mediation tests' fixture, and one in Chinese."""

from __future__ import annotations

import pytest

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases.models import Stage
from odr.extensions import db
from tests.mediate.conftest import Mediation, login_en, make_mediator, mediation  # noqa: F401 (fixtures)


@pytest.fixture
def mediation_zh(make_user, make_org, make_case, make_mediator) -> Mediation:  # noqa: F811
    """A neighbour case at the mediation stage with Chinese names and facts."""
    org = make_org(name="朝阳区人民调解委员会")
    staff = make_user(Role.staff, org, name="吴晓")
    mediator = make_mediator(org, name="李调解")
    other = make_mediator(org, name="周调解")
    claimant, respondent = make_user(name="张三"), make_user(name="李四")
    case = make_case(claimant=claimant, respondent=respondent, organization=org,
                     stages=(Stage.assessment, Stage.mediation),
                     description="楼上住户每晚十点后仍在装修，噪音严重影响休息。", claim="晚上十点后停止施工。")
    ops.assign_handler(case, staff, mediator=mediator)
    db.session.commit()
    return Mediation(case, org, staff, mediator, claimant, respondent, other, make_user(name="王五"))
