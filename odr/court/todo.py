"""The court hand-off's steps on a person's to-do list (``odr.cases.todo``): the claimant prepares
the complaint; the court clerk's inbox."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role
from odr.cases.models import Case, Stage
from odr.cases.todo import Todo, Workplace
from odr.court import complaint as complaints


def steps(case: Case, user) -> list[Todo]:
    """The claimant of a case at the hand-off stage prepares the complaint (signing it is the
    documents' step, once it is prepared)."""
    if case.stage is not Stage.litigation or not complaints.is_claimant(case, user) or complaints.refusal(case) is not None:
        return []
    if complaints.current_complaint(case) is not None:
        return []
    return [Todo("prepare_complaint", str(_l("Prepare the complaint to the court")),
                 url_for("court.complaint", number=case.number), case=case, due=case.due_at)]


def workplace(user) -> list[Workplace]:
    if user.organizations_for(Role.court_clerk):
        return [Workplace("court_inbox", str(_l("Court inbox")), url_for("court.inbox"))]
    return []
