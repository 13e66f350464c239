"""Satisfaction of the parties with a case that ended: their survey answers (one per party and case,
given through ``odr.survey``) and the figures the dashboard shows per organisation and per mediator —
only from ``SURVEY_MIN_ANSWERS`` (5) answers on, so that no one answer can be picked out. Kept in the
case file so that the dashboard reads the figures without knowing the survey feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from odr.auth.models import User
from odr.cases.models import Organization
from odr.extensions import db
from odr.timeutil import utcnow

SCALE = (1, 2, 3, 4, 5)


def _score(name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{name} BETWEEN 1 AND 5", name=f"{name}_scale")


class SurveyAnswer(db.Model):
    """One party's answer (one per party and case); scores from 1 (not at all) to 5 (fully)."""

    __tablename__ = "survey_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    #: ``claimant`` or ``respondent``.
    side: Mapped[str] = mapped_column(sa.String(16))
    #: Copied from the case when answered: the figures are grouped by them.
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"))
    mediator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: How satisfied with the outcome.
    outcome: Mapped[int]
    #: Was I heard.
    heard: Mapped[int]
    #: Was the mediator neutral (``None``: no mediator took part).
    neutral: Mapped[int | None]
    #: Did I understand the steps.
    understood: Mapped[int]
    #: How easy the platform was to use.
    ease: Mapped[int]
    would_use_again: Mapped[bool]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("case_id", "user_id"),
        # The dashboard reads a period's answers (then groups them by organisation or mediator): every
        # column it averages is in the index, so it never reads the table.
        sa.Index("ix_survey_answer_created", "created_at", "organization_id", "mediator_id", "outcome", "heard",
                 "neutral", "understood", "ease", "would_use_again"),
        _score("outcome"), _score("heard"), _score("understood"), _score("ease"),
        sa.CheckConstraint("neutral IS NULL OR neutral BETWEEN 1 AND 5", name="neutral_scale"),
    )

    def __repr__(self):
        return f"<SurveyAnswer case {self.case_id} {self.side}>"


class SurveyInvitation(db.Model):
    """The parties of a case that ended were asked to answer (once per case)."""

    __tablename__ = "survey_invitation"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass
class Row:
    """Averages of one organisation's or mediator's answers (scores 1–5)."""

    name: str
    answers: int
    outcome: float
    fairness: float
    ease: float
    would_use_again: float


def _rows(group_column, name_of, where, period) -> tuple[list[Row], int]:
    minimum = current_app.config["SURVEY_MIN_ANSWERS"]
    fairness = (SurveyAnswer.heard + SurveyAnswer.understood + sa.func.coalesce(SurveyAnswer.neutral, 0)) \
        / (2.0 + sa.case((SurveyAnswer.neutral.is_(None), 0), else_=1))
    rows = db.session.execute(
        sa.select(group_column, sa.func.count(), sa.func.avg(SurveyAnswer.outcome), sa.func.avg(fairness),
                  sa.func.avg(SurveyAnswer.ease), sa.func.avg(sa.case((SurveyAnswer.would_use_again, 1.0), else_=0.0)))
        .where(group_column.is_not(None), *where, *_in_period(period)).group_by(group_column)).all()
    shown = [r for r in rows if r[1] >= minimum]
    names = name_of([r[0] for r in shown])
    return ([Row(names.get(key, str(key)), n, float(o), float(f), float(e), float(a))
             for key, n, o, f, e, a in shown], len(rows) - len(shown))


def _in_period(period) -> list:
    """Answers given from the first day to the last of ``period`` (``None``: all)."""
    if period is None:
        return []
    start, end = period
    return [SurveyAnswer.created_at >= datetime.combine(start, time.min),
            SurveyAnswer.created_at < datetime.combine(end + timedelta(days=1), time.min)]


def by_organisation(organization_ids: list[int] | None, period=None) -> tuple[list[Row], int]:
    """Per organisation (within ``organization_ids``; ``None``: all), over the answers given in ``period``
    (first and last day; ``None``: all): rows with enough answers, and how many organisations have
    too few to show."""
    where = [] if organization_ids is None else [SurveyAnswer.organization_id.in_(organization_ids or [-1])]
    return _rows(SurveyAnswer.organization_id, lambda ids: dict(db.session.execute(
        sa.select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all()), where, period)


def by_mediator(organization_ids: list[int] | None, period=None) -> tuple[list[Row], int]:
    """Per mediator, over the answers given in ``period`` about cases of ``organization_ids`` (``None``: all)."""
    where = [] if organization_ids is None else [SurveyAnswer.organization_id.in_(organization_ids or [-1])]
    return _rows(SurveyAnswer.mediator_id, lambda ids: dict(db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(ids))).all()), where, period)
