"""The assessment rules, case by case, and the questionnaire → advice → path flow."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from odr.assess import operations as ops
from odr.assess import rules
from odr.assess.models import Assessment
from odr.cases import operations as case_ops
from odr.cases import workflow
from odr.cases.models import Category, Outcome, Stage
from odr.extensions import db

BASE = {"written_agreement": "yes", "arbitration_clause": "no", "both_agree_arbitration": "no",
        "evidence": "some", "months_since": 2, "other_side": "talking", "safety": "no"}


@pytest.fixture(autouse=True)
def english(app):
    with force_locale("en"):
        yield


@pytest.mark.parametrize("category, answers, amount, recommended, unavailable, warning", [
    (Category.property, {}, Decimal("6000"), ["mediation"], ["arbitration"], None),
    (Category.property, {"arbitration_clause": "yes", "other_side": "refused"}, Decimal("6000"),
     ["arbitration"], [], None),
    (Category.consumer, {"other_side": "refused"}, None, ["litigation"], ["arbitration"], None),
    (Category.labour, {}, Decimal("11000"), ["arbitration"], ["litigation"], None),
    (Category.debt, {"months_since": 32}, Decimal("20000"), ["litigation"], ["arbitration"], "is close"),
    (Category.debt, {"months_since": 40}, Decimal("20000"), ["mediation"], ["arbitration"], "may have passed"),
    (Category.labour, {"months_since": 13}, None, ["arbitration"], ["litigation"], "may have passed"),
    (Category.family, {"safety": "yes"}, None, ["litigation"], ["arbitration"], "110"),
    (Category.neighbour, {"evidence": "none"}, None, ["mediation"], ["arbitration"], "Collect evidence"),
    (Category.traffic, {"police_finding": "no"}, Decimal("8450.50"), ["mediation"], ["arbitration"],
     "liability finding"),
])
def test_rules(category, answers, amount, recommended, unavailable, warning):
    advice = rules.assess(category, BASE | answers, amount)
    assert advice.recommended == recommended
    assert [p.path for p in advice.paths if not p.available] == unavailable
    text = " ".join(str(w) for w in advice.warnings)
    if warning:
        assert warning in text
    else:
        assert advice.warnings == []
    for p in advice.paths:
        assert p.reasons, f"{p.path} has no reason"


@pytest.mark.parametrize("amount, fee", [
    ("5000", 50), ("10000", 50), ("50000", 1050), ("100000", 2300), ("150000", 3300), ("1000000", 13800),
])
def test_court_fee_brackets(amount, fee):
    """《诉讼费用交纳办法》第十三条: 50 up to 10,000, then 2.5 %, 2 %, 1.5 %, 1 % on each part."""
    assert rules.bracket_fee(Decimal(amount), rules.paths_data()["litigation"]["fee_brackets"]) == fee


def test_small_claims_halve_the_court_fee_and_shorten_the_time():
    advice = rules.assess(Category.debt, BASE, Decimal("20000"))
    court = advice.path("litigation")
    assert court.fee == 150  # (50 + 10000 × 2.5 %) / 2
    assert court.weeks == tuple(rules.paths_data()["litigation"]["small_claims_weeks"])


def test_every_category_has_a_questionnaire_with_known_kinds():
    for category in Category:
        questions = rules.questions_for(category)
        assert {q["kind"] for q in questions} <= {"yesno", "choice", "months"}
        assert all({"zh", "en"} <= set(q["text"]) for q in questions)


def _closed_case(make_case, amount, outcome, settled=None):
    case = make_case(category=Category.property, amount_claimed=Decimal(amount), stages=(Stage.assessment,))
    if settled is not None:
        case_ops.record_settlement_amount(case, Decimal(settled), None)
    case.outcome, case.closed_at = outcome, case.created_at
    db.session.commit()
    return case


def test_similar_outcomes_need_enough_cases(make_case):
    case = make_case(category=Category.property, amount_claimed=Decimal("6000"))
    for i in range(4):
        _closed_case(make_case, "5000", Outcome.settled, "4000")
    assert ops.similar_outcomes(case).enough is False
    _closed_case(make_case, "7000", Outcome.closed_without_result)
    _closed_case(make_case, "100000", Outcome.settled, "1")  # not similar: far larger claim
    out = ops.similar_outcomes(case)
    assert out.enough and out.count == 5
    assert out.settlement_rate == pytest.approx(0.8) and out.median_share == pytest.approx(0.8)


def test_questionnaire_advice_and_choice_through_the_pages(client, login, make_case, make_user):
    respondent = make_user()
    case = make_case(respondent=respondent, category=Category.property, amount_claimed=Decimal("6000"),
                     stages=(Stage.assessment,))
    login(client, case.claimant.user)
    client.post("/lang", data={"lang": "en"})
    assert client.get(f"/assess/{case.number}/questionnaire").status_code == 200
    bad = client.post(f"/assess/{case.number}/questionnaire", data={"evidence": "plenty"})
    assert bad.status_code == 400 and db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0
    answers = {k: str(v) for k, v in BASE.items()}
    resp = client.post(f"/assess/{case.number}/questionnaire", data=answers)
    assert resp.status_code == 303
    page = client.get(resp.location).get_data(as_text=True)
    assert "Recommended" in page and "Not enough similar cases" in page
    assessment = db.session.scalar(sa.select(Assessment))
    refused = client.post(f"{resp.location}/choose", data={"path": "arbitration"})
    assert refused.status_code == 409
    chosen = client.post(f"{resp.location}/choose", data={"path": "mediation"})
    assert chosen.status_code == 303
    db.session.refresh(case)
    db.session.refresh(assessment)
    assert case.stage is Stage.mediation and assessment.chosen_path == "mediation"
    actions = [e.action for e in workflow.audit.case_events(case)]
    assert actions[-2:] == ["assessment_completed", "stage_changed"]
    again = client.post(f"{resp.location}/choose", data={"path": "litigation"})
    assert again.status_code == 409
