"""The mediation's steps on a person's to-do list (``odr.cases.todo``): pick session times, join
the video session, answer a proposal, approve the agreement or the record; the mediator's offers."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role
from odr.cases import labels
from odr.cases.models import Case, Stage
from odr.cases.rooms import RoomStatus
from odr.cases.todo import Todo, Workplace
from odr.mediate.access import is_mediator
from odr.mediate.models import OutcomeKind, OutcomeStatus, ProposalStatus, SessionMode, SessionStatus
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import proposals
from odr.mediate.sessions import operations as sessions
from odr.timeutil import utcnow

#: A video session is on the list as live from this long before its start (people join early).
EARLY_JOIN = timedelta(minutes=15)


def steps(case: Case, user) -> list[Todo]:
    """What waits for ``user`` in a case at the mediation stage."""
    if case.stage is not Stage.mediation or not case.is_open:
        return []
    side = case.side_of(user)
    mediator = is_mediator(case, user)
    if side is None and not mediator:
        return []
    found: list[Todo] = []
    if sessions.non_attendance(case) is not None:
        if side == "claimant" and sessions.claimant_offered_court(case):
            found.append(Todo("mediation_no_show", str(_l("The other party did not come to mediation: you may "
                                                          "take the case to court")),
                              url_for("cases.show", number=case.number) + "#move-litigation", case=case, rank=1))
        return found
    if mediator and sessions.may_end_for_non_attendance(case, user):
        found.append(Todo("end_for_non_attendance", str(_l("A party keeps missing the sessions: you may end the "
                                                           "mediation")),
                          url_for("mediate.sessions", number=case.number) + "#non-attendance", case=case))
    found += _sessions(case, user, side, mediator)
    if side is not None:
        found += _proposals(case, user, side)
        found += _documents(case, user)
    return found


def _sessions(case: Case, user, side, mediator) -> list[Todo]:
    found = []
    now = utcnow()
    for session in sessions.for_case(case):
        if session.status is SessionStatus.proposed and side is not None and not sessions.picks_of(session, user):
            first = session.slots[0].starts_at if session.slots else None
            found.append(Todo("pick_session_times", str(_l("Pick the session times you can make")),
                              url_for("mediate.sessions", number=case.number) + f"#s{session.id}",
                              case=case, due=first))
        elif session.status is SessionStatus.scheduled and session.starts_at is not None:
            ends = session.starts_at + timedelta(minutes=session.minutes)
            if now >= ends:
                continue
            when = labels.when(session.starts_at)
            if session.mode is SessionMode.video:
                room = sessions.video_room(session)
                is_open = room is not None and room.status is RoomStatus.open
                live = now >= session.starts_at - EARLY_JOIN and (is_open or mediator)
                title = _l("Open the video session") if mediator and not is_open else _l("Join the video session")
                found.append(Todo("join_video_session", str(title),
                                  url_for("mediate.session_video", number=case.number, sid=session.id),
                                  case=case, due=session.starts_at, live=live, note=when))
            elif side is not None:
                found.append(Todo("attend_session", str(_l("Go to the mediation session")),
                                  url_for("mediate.sessions", number=case.number) + f"#s{session.id}",
                                  case=case, due=session.starts_at, note=f"{when} · {session.location or ''}"))
    return found


def _proposals(case: Case, user, side) -> list[Todo]:
    found = []
    for p in proposals.case_proposals(case):
        if p.status is not ProposalStatus.open or proposals.is_expired(p):
            continue
        if not proposals.may_answer(p, case, user) or any(r.user_id == user.id for r in p.responses):
            continue
        note = f"¥{p.amount}" if p.amount is not None else ""
        found.append(Todo("answer_proposal", str(_l("Answer the settlement proposal #%(id)s", id=p.id)),
                          url_for("mediate.proposals", number=case.number) + f"#proposal-{p.id}",
                          case=case, due=p.respond_by, note=note))
    return found


def _documents(case: Case, user) -> list[Todo]:
    found = []
    for kind in OutcomeKind:
        document = outcomes.current_document(case, kind)
        if document is None or document.status is not OutcomeStatus.approval:
            continue
        if any(a.user_id == user.id for a in document.approvals):
            continue
        title = (_l("Read and approve the mediation agreement") if kind is OutcomeKind.agreement
                 else _l("Read and approve the record of undisputed facts"))
        found.append(Todo("approve_outcome", str(title),
                          url_for("mediate.outcome", number=case.number) + f"#doc-{kind.value}", case=case, rank=20))
    return found


def workplace(user) -> list[Workplace]:
    """A mediator starts at their offers and cases."""
    if user.has_role(Role.mediator):
        return [Workplace("mediator_offers", str(_l("My mediations")), url_for("mediate.offers"))]
    return []
