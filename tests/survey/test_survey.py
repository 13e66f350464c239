"""The satisfaction survey: one answer per party of a case that ended, invitations by the job, and
figures per organisation and mediator shown only from five answers on."""

from __future__ import annotations


import pytest
import sqlalchemy as sa

from odr import jobs
from odr.cases import audit, satisfaction, workflow
from odr.cases import operations as case_ops
from odr.cases.models import Outcome, Stage
from odr.cases.satisfaction import SurveyAnswer
from odr.extensions import db
from odr.outbox import OutboxMessage
from odr.survey import operations as ops

GOOD = {"outcome": "4", "heard": "5", "neutral": "3", "understood": "4", "ease": "5", "again": "yes",
        "comment": "Quick and clear."}


def _count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(SurveyAnswer))


def end(p, mediator=True):
    if mediator:
        case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    workflow.move(p.case, Outcome.withdrawn, p.claimant)
    db.session.commit()


def test_each_party_answers_once_after_the_case_ended(app, client, login_en, parties):
    p = parties
    login_en(client, p.claimant)
    assert client.get(f"/survey/{p.case.number}").status_code == 409  # still open
    end(p)
    assert "/survey/" in client.get(f"/cases/{p.case.number}").get_data(as_text=True)
    page = client.get(f"/survey/{p.case.number}").get_data(as_text=True)
    assert "Was the mediator neutral?" in page
    assert client.post(f"/survey/{p.case.number}", data=GOOD).status_code == 303
    answer = db.session.scalar(sa.select(SurveyAnswer))
    assert (answer.side, answer.outcome, answer.neutral, answer.would_use_again) == ("claimant", 4, 3, True)
    assert (answer.organization_id, answer.mediator_id) == (p.org.id, p.mediator.id)
    # Once only: the page thanks, a second answer is refused and nothing is added.
    again = client.post(f"/survey/{p.case.number}", data=GOOD)
    assert again.status_code == 200 and "already answered" in again.get_data(as_text=True)
    assert _count() == 1
    event = [ev for ev in audit.case_events(p.case) if ev.action == "survey_answered"][-1]
    assert event.payload == {"side": "claimant"}  # what was answered stays out of the case file
    login_en(client, p.respondent)
    assert client.post(f"/survey/{p.case.number}", data=GOOD | {"again": "no"}).status_code == 303
    assert _count() == 2
    login_en(client, p.staff)
    assert client.get(f"/survey/{p.case.number}").status_code == 403
    login_en(client, p.outsider)
    assert client.get(f"/survey/{p.case.number}").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({}, "Choose a score from 1 to 5."),
    (GOOD | {"outcome": "9"}, None),
    (GOOD | {"ease": "abc"}, None),
    (GOOD | {"again": "maybe"}, None),
    (GOOD | {"comment": "x\x1b"}, "Remove the invisible control characters."),
    (GOOD | {"comment": "x" * 2001}, None),
])
def test_bad_answers_are_refused_and_nothing_is_stored(app, client, login_en, parties, data, message):
    p = parties
    end(p)
    login_en(client, p.claimant)
    resp = client.post(f"/survey/{p.case.number}", data=data)
    assert resp.status_code == 400
    if message:
        assert message in resp.get_data(as_text=True)
    assert _count() == 0


def test_without_a_mediator_the_neutrality_question_is_left_out(app, client, login_en, parties):
    p = parties
    end(p, mediator=False)
    login_en(client, p.claimant)
    assert "Was the mediator neutral?" not in client.get(f"/survey/{p.case.number}").get_data(as_text=True)
    assert client.post(f"/survey/{p.case.number}", data=GOOD).status_code == 303
    assert db.session.scalar(sa.select(SurveyAnswer.neutral)) is None


def test_parties_are_invited_once_when_their_case_ends(app, clock, make_case, parties):
    p = parties
    old = make_case(claimant=p.claimant, respondent=p.respondent)
    workflow.move(old, Outcome.withdrawn, p.claimant)
    db.session.commit()
    clock.advance(days=31)
    assert jobs.run_all(clock.now)["invite_to_surveys"] == 0  # ended more than 30 days ago
    end(p)
    clock.advance(minutes=5)
    assert jobs.run_all(clock.now)["invite_to_surveys"] == 1
    assert jobs.run_all(clock.now)["invite_to_surveys"] == 0
    bodies = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == p.respondent.contact)).all()
    assert sum(f"/survey/{p.case.number}" in b for b in bodies) == 1


def test_figures_are_hidden_below_five_answers(app, client, login_en, make_user, make_case, parties):
    p = parties

    def answer(score, again=True):
        claimant, respondent = make_user(), make_user()
        case = make_case(claimant=claimant, respondent=respondent, organization=p.org, stages=(Stage.assessment,))
        case_ops.assign_handler(case, p.staff, mediator=p.mediator)
        workflow.move(case, Outcome.withdrawn, claimant)
        ops.submit(case, claimant, outcome=score, heard=score, neutral=score, understood=score, ease=score,
                   would_use_again=again)
        db.session.commit()

    for score in (5, 4, 3, 4):
        answer(score)
    assert satisfaction.by_organisation(None) == ([], 1)
    assert satisfaction.by_mediator([p.org.id]) == ([], 1)
    answer(4, again=False)
    rows, hidden = satisfaction.by_organisation([p.org.id])
    assert hidden == 0 and len(rows) == 1
    row = rows[0]
    assert (row.name, row.answers, row.outcome, row.would_use_again) == (p.org.name, 5, 4.0, 0.8)
    assert row.fairness == pytest.approx(4.0)
    assert satisfaction.by_mediator(None)[0][0].name == "Mediator Li"
    assert satisfaction.by_organisation([p.org.id + 100]) == ([], 0)
    # Over a period: only the answers given in it.
    from datetime import date
    assert satisfaction.by_organisation([p.org.id], (date(2020, 1, 1), date(2020, 12, 31))) == ([], 0)
    login_en(client, p.staff)
    page = client.get("/ops/").get_data(as_text=True)
    assert "Satisfaction of the parties" in page and "Mediator Li" in page and "80%" in page
