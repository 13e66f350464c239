"""No-shows on the center's dashboard (``odr.cases.figures``): per organisation and period, the
sessions held, the parties recorded as not attending (and how many of them had been served the
session notice, which is what counts), the share of no-shows among those expected, and the
mediations ended for non-attendance.

The period's sessions are read by their start (index on status and start), the endings by when
they happened: the cost grows with the period's sessions, not with the table.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from odr.cases.figures import Figures
from odr.cases.models import Case, Organization
from odr.extensions import db
from odr.mediate.models import Attendance, MediationSession, NonAttendance, SessionStatus

NAME = "no_shows"


def _in(query, organizations):
    return query if organizations is None else query.where(Case.organization_id.in_(organizations))


def by_organisation(organizations, start: datetime, end: datetime) -> list[list]:
    """Rows: organisation, sessions held, parties expected, no-shows, of which served the notice,
    no-show rate, mediations ended for non-attendance."""
    held = (MediationSession.status == SessionStatus.held, MediationSession.starts_at >= start,
            MediationSession.starts_at < end)
    sessions = dict(db.session.execute(_in(
        sa.select(Case.organization_id, sa.func.count(MediationSession.id))
        .join(Case, Case.id == MediationSession.case_id).where(*held).group_by(Case.organization_id), organizations)
    ).all())
    attendance = {org: (int(expected or 0), int(absent or 0), int(served or 0)) for org, expected, absent, served in
                  db.session.execute(_in(
                      sa.select(Case.organization_id, sa.func.count(),
                                sa.func.sum(sa.case((Attendance.present.is_(False), 1), else_=0)),
                                sa.func.sum(sa.case((sa.and_(Attendance.present.is_(False),
                                                             Attendance.notice_served.is_(True)), 1), else_=0)))
                      .select_from(Attendance)
                      .join(MediationSession, MediationSession.id == Attendance.session_id)
                      .join(Case, Case.id == MediationSession.case_id).where(*held)
                      .group_by(Case.organization_id), organizations))}
    ended = dict(db.session.execute(_in(
        sa.select(Case.organization_id, sa.func.count())
        .select_from(NonAttendance).join(Case, Case.id == NonAttendance.case_id)
        .where(NonAttendance.ended_at >= start, NonAttendance.ended_at < end)
        .group_by(Case.organization_id), organizations)).all())
    keys = set(sessions) | set(attendance) | set(ended)
    ids = [k for k in keys if k is not None]
    names = dict(db.session.execute(sa.select(Organization.id, Organization.name)
                                    .where(Organization.id.in_(ids))).all()) if ids else {}
    rows = []
    for key in keys:
        expected, absent, served = attendance.get(key, (0, 0, 0))
        rate = f"{absent / expected * 100:.0f}%" if expected else "—"
        rows.append([names.get(key, str(_l("No organisation"))), sessions.get(key, 0), expected, absent, served,
                     rate, ended.get(key, 0)])
    return sorted(rows, key=lambda r: str(r[0]))


def provide(organizations, start: datetime, end: datetime, names: set[str] | None = None) -> list[Figures]:
    """``odr.cases.figures`` provider: the no-show table, when asked for."""
    if names is not None and NAME not in names:
        return []
    return [Figures(NAME, _l("No-shows at mediation sessions by organisation"),
                    [_l("Organisation"), _l("Sessions held"), _l("Parties expected"), _l("No-shows"),
                     _l("No-shows served the notice"), _l("No-show rate"), _l("Mediations ended for non-attendance")],
                    by_organisation(organizations, start, end))]
