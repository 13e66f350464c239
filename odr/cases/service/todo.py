"""The steps of electronic service on the to-do lists."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.cases.models import Case
from odr.cases.service import operations as service
from odr.cases.todo import Todo


def steps(case: Case, user) -> list[Todo]:
    """The claimant of a case whose respondent did not respond is offered the court hand-off; the staff follow up failed deliveries and make calls."""
    roles = case.roles_of(user)
    todos: list[Todo] = []
    page = url_for("service.case_service", number=case.number)
    if "claimant" in roles and case.stage.value != "litigation" and service.no_response(case) is not None:
        todos.append(Todo("respondent_silent", str(_l("The other party did not respond: you may take the case to court")),
                          url_for("cases.show", number=case.number) + "#move-litigation", case=case, rank=1))
    if roles & {"staff", "admin"}:
        failed = service.failed_deliveries(case)
        if failed:
            todos.append(Todo("service_failed", str(_l("A delivery failed: follow it up")), page + "#failed-deliveries",
                              case=case, note=f"{failed[0].channel} → {failed[0].address}", rank=5))
        tasks = service.open_tasks(case)
        if tasks:
            todos.append(Todo("service_call", str(_l("Call the party")), page + "#call-tasks", case=case,
                              note=tasks[0].party.name, rank=5))
    return todos
