"""Load a case and check the current user may do what they ask, in one call."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from odr.cases.models import Case
from odr.extensions import db

_CHECKS = {
    "view": Case.can_view,
    "manage": Case.can_manage,
    "invite": Case.can_invite,
}


def get_case_or_404(number: str, need: str = "view") -> Case:
    """The case with this number, if the current user may ``need`` it.

    :raise 404: no such case, or the user may not learn that it exists.
    :raise 403: the user may see the case but not do this.
    """
    case = db.session.scalar(sa.select(Case).where(Case.number == number[:20]))
    if case is None or not case.can_view(current_user):
        abort(404)
    if need != "view" and not _CHECKS[need](case, current_user):
        abort(403)
    return case
