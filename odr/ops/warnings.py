"""Early warning: every open case is green, yellow or red, and each mark says why.

All the rules are in :data:`RULES`, one row each. A rule looks at a case's :class:`Facts` and
returns a :class:`Flag` (yellow or red, with a reason a person can read) or nothing; the case's
mark is the worst of its flags. The deadline rule is the service level of ``odr.cases.sla``
(not a second copy of it); the other rules read the signals ``odr.ops.summary`` keeps per case
(no-shows, a safety concern in the assessment, organisation changes). Thresholds come from the
configuration (``WARNING_NO_SHOWS``, ``WARNING_REROUTES``).

Each rule also says, as SQL, which cases it makes red (``red_sql``), so the red list is an indexed
query rather than a scan of every open case; a test checks that the SQL and the rule agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.cases import labels, sla
from odr.cases.models import Case
from odr.ops.models import CaseSignal
from odr.timeutil import utcnow

LEVELS = ("green", "yellow", "red")


@dataclass(frozen=True)
class Facts:
    """What the rules look at for one case."""

    case: Case
    no_shows: int = 0
    safety_concern: bool = False
    reroutes: int = 0


@dataclass(frozen=True)
class Flag:
    rule: str
    #: ``yellow`` or ``red``.
    level: str
    reason: object


@dataclass
class Mark:
    """A case's colour and every flag behind it, worst first."""

    level: str = "green"
    flags: list[Flag] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return [str(f.reason) for f in self.flags]


@dataclass(frozen=True)
class Rule:
    name: str
    check: Callable[[Facts, datetime], Flag | None]
    #: ``case`` (reads the case row) or ``signal`` (reads ``ops_case_signal``).
    source: str
    #: SQL that holds exactly for the open cases this rule makes red, given ``now``.
    red_sql: Callable[[datetime], sa.ColumnElement]


def _thresholds(key: str) -> tuple[int, int]:
    value = current_app.config[key]
    return int(value["yellow"]), int(value["red"])


def deadline(facts: Facts, now: datetime) -> Flag | None:
    """Days in stage against the stage's deadline (``odr.cases.sla``)."""
    mark = sla.of(facts.case, now)
    if mark is None or mark.colour == "green":
        return None
    stage = labels.STAGE[facts.case.stage]
    if mark.colour == "red":
        return Flag("deadline", "red", _l("%(days)d days in %(stage)s: %(late)d days past the deadline.",
                                          days=mark.days_in_stage, stage=stage, late=max(-mark.days_left, 0)))
    return Flag("deadline", "yellow", _l("%(days)d days in %(stage)s: %(left)d days left before the deadline.",
                                         days=mark.days_in_stage, stage=stage, left=mark.days_left))


def no_shows(facts: Facts, now: datetime) -> Flag | None:
    """Parties who did not come to mediation sessions."""
    yellow, red = _thresholds("WARNING_NO_SHOWS")
    if facts.no_shows >= red:
        return Flag("no_shows", "red", _l("%(n)d no-shows at mediation sessions.", n=facts.no_shows))
    if facts.no_shows >= yellow:
        return Flag("no_shows", "yellow", _l("%(n)d no-shows at mediation sessions.", n=facts.no_shows))
    return None


def safety(facts: Facts, now: datetime) -> Flag | None:
    """A party said in the assessment that they fear for their safety."""
    if facts.safety_concern:
        return Flag("safety", "red", _l("A party is worried about their safety (assessment answer)."))
    return None


def bouncing(facts: Facts, now: datetime) -> Flag | None:
    """A case sent on from organisation to organisation."""
    yellow, red = _thresholds("WARNING_REROUTES")
    if facts.reroutes >= red:
        return Flag("bouncing", "red", _l("Sent on between organisations %(n)d times.", n=facts.reroutes))
    if facts.reroutes >= yellow:
        return Flag("bouncing", "yellow", _l("Sent on between organisations %(n)d times.", n=facts.reroutes))
    return None


RULES: tuple[Rule, ...] = (
    Rule("safety", safety, "signal", lambda now: CaseSignal.safety_concern.is_(True)),
    Rule("deadline", deadline, "case", lambda now: Case.due_at <= now),
    Rule("no_shows", no_shows, "signal",
         lambda now: CaseSignal.no_shows >= _thresholds("WARNING_NO_SHOWS")[1]),
    Rule("bouncing", bouncing, "signal",
         lambda now: CaseSignal.reroutes >= _thresholds("WARNING_REROUTES")[1]),
)


def evaluate(facts: Facts, now: datetime | None = None) -> Mark:
    """The case's mark now: the worst flag of every rule (closed cases are green and unflagged)."""
    now = now or utcnow()
    if not facts.case.is_open:
        return Mark()
    flags = [flag for rule in RULES if (flag := rule.check(facts, now)) is not None]
    flags.sort(key=lambda f: -LEVELS.index(f.level))
    return Mark(level=flags[0].level if flags else "green", flags=flags)


def signal_red_sql(now: datetime) -> sa.ColumnElement:
    """Open cases some signal rule makes red (to be joined with ``ops_case_signal``)."""
    return sa.or_(*[rule.red_sql(now) for rule in RULES if rule.source == "signal"])


def case_red_sql(now: datetime) -> sa.ColumnElement:
    return sa.or_(*[rule.red_sql(now) for rule in RULES if rule.source == "case"])


def facts_for(cases) -> dict[int, Facts]:
    """The facts of a page of cases, with one query for their signals."""
    from odr.extensions import db

    ids = [c.id for c in cases]
    signals = {s.case_id: s for s in db.session.scalars(sa.select(CaseSignal).where(CaseSignal.case_id.in_(ids)))} \
        if ids else {}
    out = {}
    for case in cases:
        s = signals.get(case.id)
        out[case.id] = Facts(case, no_shows=s.no_shows, safety_concern=s.safety_concern, reroutes=s.reroutes) \
            if s else Facts(case)
    return out


def marks_for(cases, now: datetime | None = None) -> dict[int, Mark]:
    now = now or utcnow()
    return {cid: evaluate(f, now) for cid, f in facts_for(cases).items()}
