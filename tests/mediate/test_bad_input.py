"""Random and hostile values posted to every mediation form: never a 500, and a refused
request (4xx) leaves no row behind (see tests/test_bad_input.py for the shared rules)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import proposals as proposals
from odr.mediate.sessions import operations as sessions
from odr.mediate.models import OutcomeKind, SessionMode
from odr.timeutil import utcnow
from tests.test_bad_input import FUZZ, VALUES, _post

PROPOSAL = ["amount", "terms", "respond_by", "schedule-0-due", "schedule-0-amount", "schedule-1-due",
            "schedule-1-amount"]
FORMS = {
    # name: (url, posted as, fields)
    "roster_add": ("/mediate/roster", "staff", ["contact", "name"]),
    "roster_update": ("/mediate/roster/{mediator_id}", "staff",
                      ["p{mediator_id}-specialties", "p{mediator_id}-languages", "p{mediator_id}-bio",
                       "p{mediator_id}-capacity", "p{mediator_id}-accepting"]),
    "assign": ("/mediate/{number}/assign", "staff", ["mediator"]),
    "change": ("/mediate/{number}/change", "claimant", ["reason"]),
    "rate": ("/mediate/{number}/rate", "claimant", ["stars", "comment"]),
    "session_new": ("/mediate/{number}/sessions/new", "mediator", ["mode", "location", "minutes", "slots"]),
    "session_pick": ("/mediate/{number}/sessions/{session}/pick", "claimant", ["slots"]),
    "attendance": ("/mediate/{number}/sessions/{session}/attendance", "mediator",
                   ["p{claimant_id}", "p{respondent_id}"]),
    "room": ("/mediate/{number}/room", "claimant", ["thread", "body"]),
    "evidence": ("/mediate/{number}/evidence", "claimant", ["visibility", "description", "file"]),
    "proposal_new": ("/mediate/{number}/proposals", "respondent", PROPOSAL),
    "proposal_answer": ("/mediate/{number}/proposals/{proposal}/answer", "respondent", ["decision", "comment"]),
    "proposal_counter": ("/mediate/{number}/proposals/{proposal}/counter", "respondent", PROPOSAL),
    "outcome_edit": ("/mediate/{number}/outcome/agreement/edit", "mediator", ["s_parties", "s_facts", "s_terms",
                                                                             "s_payment", "amount"]),
    "outcome_answer": ("/mediate/{number}/outcome/agreement/answer", "claimant", ["decision", "comment"]),
    "outcome_next": ("/mediate/{number}/outcome/next", "claimant", ["step"]),
}


@pytest.fixture
def world(mediation):
    m = mediation
    session = sessions.propose(m.case, m.mediator, SessionMode.video, None, 60,
                               [utcnow() + timedelta(days=1), utcnow() + timedelta(days=2)])
    proposal = proposals.make_proposal(m.case, m.claimant, amount=Decimal("100"), terms="Pay 100.", schedule=[],
                                       respond_by=None)
    draft = outcomes.draft_content(m.case, OutcomeKind.agreement, "en")
    document = outcomes.save(m.case, OutcomeKind.agreement, m.mediator,
                             {section["id"]: section["text"] for section in draft["sections"]})
    outcomes.send(document, m.case, m.mediator)
    db.session.commit()
    ids = {"mediator_id": m.mediator.id, "claimant_id": m.claimant.id, "respondent_id": m.respondent.id}
    return {"staff": m.staff, "mediator": m.mediator, "claimant": m.claimant, "respondent": m.respondent,
            "number": m.case.number, "session": session.id, "proposal": proposal.id, **ids}


@pytest.mark.parametrize("form", FORMS)
@FUZZ
@given(data=st.data())
def test_mediation_forms_answer_hostile_input_without_500_or_partial_records(app, world, form, data):
    url, as_user, fields = FORMS[form]
    fields = [f.format(**world) for f in fields]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
    payload = {f: data.draw(VALUES, label=f) for f in chosen}
    _post(app, world, url, as_user, data=payload)
