"""Who is who in a case at the mediation stage, for every mediation view and operation.

``roles`` come from ``Case.roles_of``: the joined parties (``claimant``, ``respondent``),
the mediator who accepted the case (``mediator``), the handling organisation's ``staff``,
``admin``. A mediator who has only been *offered* the case is not its mediator yet: they
see the offer (``odr.mediate.assignment.operations``), not the case room.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from flask_babel import gettext as _

from odr.cases.access import get_case_or_404
from odr.cases.models import Case, Stage
from odr.errors import abort_with



def is_mediator(case: Case, user) -> bool:
    return "mediator" in case.roles_of(user)


def in_room(case: Case, user) -> bool:
    """Takes part in the mediation: a joined party or the case's mediator."""
    return is_mediator(case, user) or case.side_of(user) is not None


def mediation_case(number: str, need: str = "room", open_only: bool = False) -> Case:
    """The case, checked for the current user.

    ``need``: ``view`` (anyone who may see the case), ``room`` (a party or the mediator),
    ``party``, ``mediator``, ``manage`` (staff/admin).
    ``open_only``: the case must be open and at the mediation stage (for changes).

    :raise 404: no such case or not visible; :raise 403: visible but not allowed;
    :raise 409: (``open_only``) the case is not in mediation any more.
    """
    case = get_case_or_404(number)
    user = current_user._get_current_object()
    allowed = {
        "view": True,
        "room": in_room(case, user),
        "party": case.side_of(user) is not None,
        "mediator": is_mediator(case, user),
        "manage": case.can_manage(user),
    }[need]
    if not allowed:
        abort(403)
    if open_only and (not case.is_open or case.stage is not Stage.mediation):
        abort_with(409, _("The case is not in mediation any more."))
    return case
