"""The negotiation's steps on a person's to-do list (``odr.cases.todo``): in mediation, a party may
choose to negotiate first; while both negotiate there, the mediator is told to wait and read."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.cases.labels import when
from odr.cases.models import Case
from odr.cases.todo import Todo
from odr.negotiate import operations as ops


def steps(case: Case, user) -> list[Todo]:
    """What waits for ``user`` in ``case``: choosing to negotiate first (a party), or waiting for the
    parties' negotiation (the mediator)."""
    url = url_for("negotiate.show", number=case.number)
    waited = ops.mediator_waits(case, user)
    if waited is not None:
        return [Todo("wait_for_negotiation", str(_l("The parties are negotiating directly first")), url, case=case,
                     due=waited.deadline_at,
                     note=str(_l("Until %(when)s; read their offers", when=when(waited.deadline_at))))]
    side = case.side_of(user)
    if side is not None and ops.choice_open(case) and side not in ops.choices_of(case):
        return [Todo("choose_negotiation", str(_l("Negotiate directly before the mediator?")), url, case=case,
                     due=ops.choice_deadline(case))]
    return []
