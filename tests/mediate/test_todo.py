"""The mediation's steps on the parties' to-do lists (case page and home page): pick session
times, join the video session (live once open), answer a proposal, approve and sign the agreement;
each step leaves the list once done, and nobody sees another person's steps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from odr.cases import todo
from odr.extensions import db
from odr.mediate.outcomes import proposals as props
from tests.mediate.test_outcomes import accepted_proposal, approve, draft_and_send
from tests.mediate.test_sessions import all_sessions, pick, propose


@pytest.fixture(autouse=True)
def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


#: For the first days of mediation each party is also offered to negotiate directly first (odr.negotiate,
#: tests/negotiate/test_in_mediation.py): an offer on the list beside the mediation's own steps.
OFFER = "choose_negotiation"


def kinds(client, path):
    """The ``data-kind`` of each to-do step of the mediation on a page, in order."""
    import re

    page = client.get(path)
    assert page.status_code == 200, path
    return [k for k in re.findall(r'data-kind="([a-z_]+)"', page.get_data(as_text=True)) if k != OFFER]


def steps(case, user):
    """``todo.for_case`` as a request would see it (its links are built for a request)."""
    from flask import current_app

    with current_app.test_request_context():
        return [s for s in todo.for_case(case, user) if s.kind != OFFER]


def case_page(m):
    return f"/cases/{m.case.number}"


def test_picking_times_then_joining_the_video_session(client, login, mediation, clock):
    m = mediation
    login(client, m.mediator)
    start = clock.now + timedelta(days=2)
    assert propose(client, m.case, [start, start + timedelta(days=1)]).status_code == 303
    session = all_sessions()[-1]

    for party in (m.claimant, m.respondent):
        login(client, party)
        assert kinds(client, case_page(m)) == ["pick_session_times"]
        assert kinds(client, "/") == ["pick_session_times"]
        page = client.get("/").get_data(as_text=True)
        assert f"/mediate/{m.case.number}/sessions#s{session.id}" in page and m.case.number in page
    login(client, m.mediator)
    assert "pick_session_times" not in kinds(client, case_page(m))  # the mediator offered them

    login(client, m.claimant)
    assert pick(client, m.case, session, [session.slots[0]]).status_code == 303
    assert kinds(client, case_page(m)) == []  # picked: off the claimant's list …
    login(client, m.respondent)
    assert kinds(client, case_page(m)) == ["pick_session_times"]  # … still on the respondent's
    assert pick(client, m.case, session, [session.slots[0]]).status_code == 303

    # Scheduled: the video session is on everyone's list, with its time; not live two days ahead.
    [step] = steps(m.case, m.respondent)
    assert (step.kind, step.due, step.live) == ("join_video_session", start, False)
    assert step.url.endswith(f"/mediate/{m.case.number}/sessions/{session.id}/video")

    # At the start the mediator's step is live (open the room); the parties' once it is open.
    clock.advance(days=2, minutes=-5)
    assert steps(m.case, m.mediator)[0].live
    assert not steps(m.case, m.claimant)[0].live
    login(client, m.mediator)
    assert client.post(f"/mediate/{m.case.number}/sessions/{session.id}/video/open").status_code == 303
    db.session.expire_all()
    [step] = steps(m.case, m.claimant)
    assert step.live
    login(client, m.claimant)
    page = client.get("/").get_data(as_text=True)
    assert 'class="todo-item live"' in page and "Now" in page
    # After the session's end it leaves the list.
    clock.advance(minutes=70)
    assert steps(m.case, m.claimant) == []


def test_answering_a_proposal_and_approving_and_signing_the_agreement(client, login, mediation, clock):
    m = mediation
    p = props.make_proposal(m.case, m.claimant, amount=Decimal("800"), terms="Pay for the repair.",
                            schedule=[], respond_by=(clock.now + timedelta(days=3)).date())
    db.session.commit()
    login(client, m.respondent)
    assert kinds(client, case_page(m)) == ["answer_proposal"]
    page = client.get(case_page(m)).get_data(as_text=True)
    assert f"#proposal-{p.id}" in page and "¥800.00" in page
    login(client, m.claimant)
    assert kinds(client, case_page(m)) == []  # nobody answers their own proposal
    login(client, m.respondent)
    assert client.post(f"/mediate/{m.case.number}/proposals/{p.id}/answer",
                       data={"decision": "reject", "comment": "Too much."}).status_code == 303
    assert kinds(client, case_page(m)) == []

    accepted_proposal(m)
    draft_and_send(client, login, m)
    for party in (m.claimant, m.respondent):
        login(client, party)
        assert kinds(client, case_page(m)) == ["approve_outcome"]
    assert approve(client, login, m.claimant, m).status_code == 303
    assert kinds(client, case_page(m)) == []
    assert approve(client, login, m.respondent, m).status_code == 303
    # Both approved: the PDF is put up for signing, and signing is everyone's next step.
    for person in (m.claimant, m.respondent, m.mediator):
        login(client, person)
        assert kinds(client, case_page(m)) == ["sign_document"]


def test_most_urgent_first_and_nothing_from_other_cases(client, login, mediation, make_case, make_user, clock):
    m = mediation
    later = props.make_proposal(m.case, m.claimant, amount=None, terms="Later.", schedule=[],
                                respond_by=(clock.now + timedelta(days=9)).date())
    sooner = props.make_proposal(m.case, m.claimant, amount=None, terms="Sooner.", schedule=[],
                                 respond_by=(clock.now + timedelta(days=2)).date())
    db.session.commit()
    found = steps(m.case, m.respondent)
    assert [s.url.rsplit("-", 1)[1] for s in found] == [str(sooner.id), str(later.id)]

    # Another person's case never shows: the outsider, staff and the other mediator have no steps here.
    for person in (m.outsider, m.other_mediator):
        login(client, person)
        assert client.get(case_page(m)).status_code == 404
        assert kinds(client, "/") == []
        assert steps(m.case, person) == []
    # A party of another case sees only theirs.
    stranger = make_user()
    make_case(claimant=stranger)
    login(client, stranger)
    assert kinds(client, "/") == ["invite_other_side"]
