"""Satisfaction of the parties with a case that ended: their survey answers (one per party and case,
given through ``odr.survey``) and the figures the dashboard shows per organisation and per mediator —
only from ``SURVEY_MIN_ANSWERS`` (5) answers on, so that no one answer can be picked out. Kept in the
case file so that the dashboard reads the figures without knowing the survey feature.

The figures are read from :class:`SurveySpan`, the sums and counts per organisation and mediator
over aligned spans of 1, 2, 4 … 256 days (and the days alone in :class:`SurveyDay`), which
:func:`count_answer` adds each answer to in the transaction that stores it: an average over a
period is the period's sums over its counts, so a period reads a few spans per organisation (or
mediator), however many days and answers there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from odr import counters
from odr.auth.models import User
from odr.cases.models import Organization
from odr.dayspans import SPAN_LEVELS, block_of, spans
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


#: ``SurveyDay.mediator_id`` of the rows that hold every answer of their organisation that day, and
#: ``SurveyDay.organization_id`` of the answers about cases not routed to any organisation.
EVERY, NO_ORG = 0, 0
SUMS = ("answers", "outcome", "fairness6", "ease", "again")


class SurveyDay(db.Model):
    """The answers given on one day (UTC, as the dashboard's periods) about one organisation's cases:
    their count and the sums of their scores, for every answer of the organisation (``mediator_id``
    ``EVERY``) and for those of each of its mediators."""

    __tablename__ = "survey_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    mediator_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    answers: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[int] = mapped_column(default=0)
    #: Six times the fairness score (the mean of heard, understood and, with a mediator, neutral):
    #: a whole number whether it is a mean of two scores or of three.
    fairness6: Mapped[int] = mapped_column(default=0)
    ease: Mapped[int] = mapped_column(default=0)
    #: Answers saying they would use the platform again.
    again: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        # The figures per mediator read a period's rows of every mediator: from the index alone.
        sa.Index("ix_survey_day_mediators", "day", "mediator_id", "organization_id", *SUMS),
    )

    def __repr__(self):
        return f"<SurveyDay {self.day} org {self.organization_id} mediator {self.mediator_id}: {self.answers}>"


class SurveySpan(db.Model):
    """The sums of :class:`SurveyDay` over aligned spans of 1, 2, 4 … 256 days (``block``: the span's
    first day as ``date.toordinal()``, times 16, plus log2 of its length, as the dashboard's mediator
    spans in ``odr.ops``). Each answer is added to the span of every length that holds its day, so a
    period reads at most two spans of each length (:func:`odr.dayspans.spans`): a few rows per organisation or
    mediator however long the period."""

    __tablename__ = "survey_span"

    block: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    organization_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    mediator_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    answers: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[int] = mapped_column(default=0)
    fairness6: Mapped[int] = mapped_column(default=0)
    ease: Mapped[int] = mapped_column(default=0)
    again: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.Index("ix_survey_span_mediators", "block", "mediator_id", "organization_id", *SUMS),
    )

    def __repr__(self):
        return f"<SurveySpan {self.block} org {self.organization_id} mediator {self.mediator_id}: {self.answers}>"


def _sums(answer) -> dict:
    pair = answer.heard + answer.understood
    return dict(answers=1, outcome=answer.outcome, ease=answer.ease, again=int(bool(answer.would_use_again)),
                fairness6=3 * pair if answer.neutral is None else 2 * (pair + answer.neutral))


def _add_days(rows: list[dict]) -> None:
    """Add the rows' sums to the day rows with their keys and to the spans holding their days,
    creating missing ones (in key order, so that two transactions adding to the same rows lock them
    in the same order)."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: (r["day"], r["organization_id"], r["mediator_id"]))
    span_rows = sorted(({**{k: v for k, v in r.items() if k != "day"}, "block": block_of(r["day"], level)}
                        for r in rows for level in range(SPAN_LEVELS)),
                       key=lambda r: (r["block"], r["organization_id"], r["mediator_id"]))
    counters.add(SurveyDay, rows, ["day", "organization_id", "mediator_id"], SUMS)
    counters.add(SurveySpan, span_rows, ["block", "organization_id", "mediator_id"], SUMS)


def count_answer(answer: SurveyAnswer) -> None:
    """Add a new answer to its day's sums (the organisation's, and its mediator's)."""
    key = dict(day=answer.created_at.date(), organization_id=answer.organization_id or NO_ORG)
    rows = [dict(key, mediator_id=EVERY, **_sums(answer))]
    if answer.mediator_id is not None:
        rows.append(dict(key, mediator_id=answer.mediator_id, **_sums(answer)))
    _add_days(rows)


def recount_days() -> None:
    """Add up every answer afresh (after a bulk load that bypassed :func:`count_answer`)."""
    db.session.execute(sa.delete(SurveyDay))
    db.session.execute(sa.delete(SurveySpan))
    a = SurveyAnswer
    if db.session.get_bind().dialect.name == "sqlite":
        day = sa.func.date(a.created_at)
    else:
        day = sa.cast(a.created_at, sa.Date)
    fairness6 = sa.case((a.neutral.is_(None), 3 * (a.heard + a.understood)),
                        else_=2 * (a.heard + a.understood + a.neutral))
    sums = (sa.func.count(), sa.func.sum(a.outcome), sa.func.sum(fairness6), sa.func.sum(a.ease),
            sa.func.sum(sa.case((a.would_use_again, 1), else_=0)))
    org = sa.func.coalesce(a.organization_id, NO_ORG)
    for mediator, where, by in ((sa.literal_column(str(EVERY)), sa.true(), ()),
                                (a.mediator_id, a.mediator_id.is_not(None), (a.mediator_id,))):
        db.session.execute(sa.insert(SurveyDay).from_select(
            ["day", "organization_id", "mediator_id", *SUMS],
            sa.select(day, org, mediator, *sums).where(where).group_by(day, org, *by)))
    # The spans, from the days: one grouped read of the day rows per span length.
    days = {}
    for row in db.session.execute(sa.select(SurveyDay)).scalars():
        days[(row.day, row.organization_id, row.mediator_id)] = [getattr(row, c) for c in SUMS]
    spans_: dict = {}
    for (day, org, mediator), sums_ in days.items():
        for level in range(SPAN_LEVELS):
            total = spans_.setdefault((block_of(day, level), org, mediator), [0] * len(SUMS))
            for i, v in enumerate(sums_):
                total[i] += v
    rows = [dict(block=b, organization_id=o, mediator_id=m, **dict(zip(SUMS, v))) for (b, o, m), v in spans_.items()]
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(SurveySpan), rows[start:start + 5000])
    db.session.flush()


@dataclass
class Row:
    """Averages of one organisation's or mediator's answers (scores 1–5)."""

    name: str
    answers: int
    outcome: float
    fairness: float
    ease: float
    would_use_again: float


def _rows(group_column, named, where, period) -> tuple[list[Row], int]:
    """Sums per ``group_column`` with the name of the ``named`` row it refers to (organisation or
    user), read in one query: a name per group fetched afterwards would cost a list of hundreds of
    ids, more than the sums themselves."""
    minimum = current_app.config["SURVEY_MIN_ANSWERS"]
    d = SurveySpan
    rows = db.session.execute(
        sa.select(group_column, named.name, *(sa.func.sum(getattr(d, c)) for c in SUMS))
        .join(named, named.id == group_column)
        .where(*where, *_in_period(period)).group_by(group_column, named.name)).all()
    shown = [r for r in rows if r[2] >= minimum]
    # Sums are exact whole numbers (PostgreSQL hands them back as decimals): the averages are floats.
    return ([Row(name, int(n), int(o) / n, int(f) / 6 / n, int(e) / n, int(a) / n)
             for _key, name, n, o, f, e, a in shown], len(rows) - len(shown))


def _in_period(period) -> list:
    """The spans that make up the days from the first to the last of ``period`` (``None``: all, as the
    one-day spans)."""
    if period is None:
        return [SurveySpan.block % 16 == 0]
    return [SurveySpan.block.in_(spans(*period))]


def _of(organization_ids: list[int] | None) -> list:
    if organization_ids is None:
        return []
    return [SurveySpan.organization_id.in_(organization_ids or [-1])]


def by_organisation(organization_ids: list[int] | None, period=None) -> tuple[list[Row], int]:
    """Per organisation (within ``organization_ids``; ``None``: all), over the answers given in ``period``
    (first and last day; ``None``: all): rows with enough answers, and how many organisations have
    too few to show."""
    where = [SurveySpan.mediator_id == EVERY, SurveySpan.organization_id != NO_ORG, *_of(organization_ids)]
    return _rows(SurveySpan.organization_id, Organization, where, period)


def by_mediator(organization_ids: list[int] | None, period=None) -> tuple[list[Row], int]:
    """Per mediator, over the answers given in ``period`` about cases of ``organization_ids`` (``None``: all)."""
    where = [SurveySpan.mediator_id != EVERY, *_of(organization_ids)]
    return _rows(SurveySpan.mediator_id, User, where, period)
