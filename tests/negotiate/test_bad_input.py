"""Random and hostile values posted to the negotiation's forms: never a 500, and a refused request
writes nothing (tests/test_bad_input.py does the same for the other forms)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odr.extensions import db
from tests.negotiate.offers import offer
from tests.test_bad_input import FUZZ, VALUES, _post

OFFER_FIELDS = ["message", "amount", "terms", "respond_by", "schedule-0-due", "schedule-0-amount",
                "schedule-1-due", "schedule-1-amount", "schedule-30-due", "schedule-30-amount"]
FORMS = {
    "offer": ("/negotiate/{fresh}/offers", "claimant", OFFER_FIELDS),
    "counter": ("/negotiate/{number}/offers/{offer}/counter", "respondent", OFFER_FIELDS),
    "answer": ("/negotiate/{number}/offers/{offer}/answer", "respondent", ["decision", "comment"]),
}


@pytest.fixture
def world(parties, make_case):
    """The parties' case with the claimant's open offer (to counter and answer), and a second case of
    theirs in assessment without offers (to open a negotiation in)."""
    from odr.cases.models import Stage

    first = offer(parties, parties.claimant)
    fresh = make_case(claimant=parties.claimant, respondent=parties.respondent, stages=(Stage.assessment,))
    db.session.commit()
    return {"claimant": parties.claimant, "respondent": parties.respondent, "number": parties.case.number,
            "fresh": fresh.number, "offer": str(first.id)}


@pytest.mark.parametrize("form", FORMS)
@FUZZ
@given(data=st.data())
def test_negotiation_forms_answer_hostile_input_without_500_or_partial_records(app, world, form, data):
    url, as_user, fields = FORMS[form]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
    payload = {f: data.draw(VALUES, label=f) for f in chosen}
    _post(app, world, url, as_user, data=payload)
