"""The satisfaction survey: when a case ends (any outcome), each party is asked once about the
outcome, the procedure (was I heard, was the mediator neutral, did I understand the steps), ease
of use and whether they would use the platform again (the answers and their figures live in
``odr.cases.satisfaction``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, satisfaction
from odr.cases.models import Case
from odr.cases.satisfaction import SurveyAnswer, SurveyInvitation
from odr.cases.notices import joined_users, notify_users
from odr.extensions import db
from odr.links import absolute_url
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

ACTIONS = {"survey_answered": _l("Satisfaction survey answered")}
MAX_COMMENT_CHARS = 2000
#: How long after a case ended its parties are still invited (older cases are left alone).
INVITE_WINDOW = timedelta(days=30)


class SurveyError(Refused):
    """The survey cannot be answered now; ``reason`` is shown to the person."""


def answer_of(case: Case, user) -> SurveyAnswer | None:
    return db.session.scalar(sa.select(SurveyAnswer).where(SurveyAnswer.case_id == case.id,
                                                           SurveyAnswer.user_id == user.id))


def may_answer(case: Case, user) -> bool:
    return not case.is_open and case.side_of(user) is not None and answer_of(case, user) is None


def submit(case: Case, user, *, outcome: int, heard: int, neutral: int | None, understood: int, ease: int,
           would_use_again: bool, comment: str = "") -> SurveyAnswer:
    """A party answers the survey of their case that ended (once).

    :raise SurveyError: the case is still open, the user is not a party, or already answered.
    """
    if case.side_of(user) is None:
        raise SurveyError(_l("Only the parties answer the survey of their case."))
    if case.is_open:
        raise SurveyError(_l("The survey opens when the case has ended."))
    if answer_of(case, user) is not None:
        raise SurveyError(_l("You have already answered the survey of this case. Thank you."))
    for score in (outcome, heard, understood, ease) + ((neutral,) if neutral is not None else ()):
        if score not in range(1, 6):
            raise SurveyError(_l("Each answer is a score from 1 to 5."))
    answer = SurveyAnswer(case_id=case.id, user_id=user.id, side=case.side_of(user),
                          organization_id=case.organization_id, mediator_id=case.mediator_id, outcome=outcome,
                          heard=heard, neutral=neutral if case.mediator_id is not None else None,
                          understood=understood, ease=ease, would_use_again=would_use_again,
                          comment=(comment or "").strip()[:MAX_COMMENT_CHARS], created_at=utcnow())
    db.session.add(answer)
    db.session.flush()
    satisfaction.count_answer(answer)
    # The trail records that the party answered, not what: answers are shown only in aggregate.
    audit.record(case, user, "survey_answered", {"side": answer.side})
    logger.info("Case %s: survey answered by the %s", case, answer.side)
    return answer


def invite_to_surveys(now: datetime) -> int:
    """Periodic job: ask the parties of each case that ended in the last 30 days (once per case).
    :return: how many cases' parties were asked."""
    invited = sa.select(SurveyInvitation.case_id)
    cases = db.session.scalars(
        sa.select(Case).where(Case.closed_at.is_not(None), Case.closed_at >= now - INVITE_WINDOW,
                              Case.closed_at <= now, Case.id.not_in(invited))
        .order_by(Case.closed_at).limit(500)).all()
    for case in cases:
        notify_users(case, joined_users(case),
                     _("Case %(number)s has ended. Please tell us in two minutes how it went for you: %(link)s",
                       number=case.number, link=absolute_url("survey.answer", number=case.number)))
        db.session.add(SurveyInvitation(case_id=case.id, sent_at=now))
    return len(cases)
