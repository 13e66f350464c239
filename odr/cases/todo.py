"""What a person has to do next: in one case (the top of the case page) and across their cases
(the signed-in home page); and where the people who work on cases start (queue, offers, desk, inbox).

The case file knows only a few of the steps (inviting the other side, answering an invitation);
the rest belong to the features. Each feature registers from its ``init_app``

* a **source** ``source(case, user) -> list[Todo]``: the steps of that feature waiting for ``user``
  in ``case`` (:func:`register_source`); a source is asked only about cases ``user`` may see;
* a **workplace** ``workplace(user) -> list[Workplace]``: the page where ``user`` does that
  feature's work, if they do any (:func:`register_workplace`).

The lists are ordered here, once: something happening now (a video session open) first, then by
deadline, the nearest first, then the steps without a deadline in the order the sources gave them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask import has_request_context, session, url_for
from flask_babel import lazy_gettext as _l

from odr.cases.models import Case, PartyStatus, Side

#: How many of a person's cases the home page looks into (the newest first).
HOME_CASES = 50
#: Invitation tokens this browser opened and has not answered yet (kept in the session cookie).
OPENED_INVITATIONS = "opened_invitations"


@dataclass(frozen=True)
class Todo:
    """One step waiting for a person: what to do, where (one tap), and by when."""

    #: Stable name of the step (``pick_session_times``, ``sign_document`` …), for styling and tests.
    kind: str
    #: What to do, as a person reads it ("Pick the times you can make").
    title: str
    #: The page where the step is done.
    url: str
    case: Case | None = None
    #: The deadline (UTC), if the step has one.
    due: datetime | None = None
    #: It is happening now (a video session open): shown first and marked live.
    live: bool = False
    #: A line of detail under the title (a proposal's amount, a session's time).
    note: str = ""
    #: Order among steps without a deadline (lower first); sources' order otherwise.
    rank: int = field(default=50, compare=False)


@dataclass(frozen=True)
class Workplace:
    """Where someone who works on cases starts: the staff queue, the mediator's offers …"""

    kind: str
    title: str
    url: str


Source = Callable[[Case, object], "list[Todo]"]
SOURCES: list[Source] = []
WORKPLACES: list[Callable[[object], "list[Workplace]"]] = []


def register_source(source: Source) -> None:
    """Let ``source(case, user)`` add the steps of a feature to the to-do lists (once)."""
    if source not in SOURCES:
        SOURCES.append(source)


def register_workplace(workplace: Callable[[object], "list[Workplace]"]) -> None:
    """Let ``workplace(user)`` name the pages where ``user`` does a feature's work (once)."""
    if workplace not in WORKPLACES:
        WORKPLACES.append(workplace)


def ordered(todos: list[Todo]) -> list[Todo]:
    """Live first, then by deadline (nearest first), then those without one by rank."""
    indexed = list(enumerate(todos))
    indexed.sort(key=lambda it: (not it[1].live, it[1].due is None, it[1].due or datetime.max, it[1].rank, it[0]))
    return [t for _, t in indexed]


def for_case(case: Case, user) -> list[Todo]:
    """Every step waiting for ``user`` in ``case``, most urgent first; nothing for a case they may
    not see, and nothing in a closed case."""
    if not case.is_open or not case.roles_of(user):
        return []
    todos: list[Todo] = []
    for source in [_invite_other_side, *SOURCES]:
        todos.extend(source(case, user))
    return ordered(todos)


def across_cases(user) -> list[Todo]:
    """The steps waiting for ``user`` in all their open cases, and the invitations this browser
    opened and has not answered, most urgent first."""
    from odr.cases.operations import cases_of_party

    todos = list(opened_invitations(user))
    for case in cases_of_party(user, limit=HOME_CASES):
        if case.is_open:
            todos.extend(for_case(case, user))
    return ordered(todos)


def workplaces(user) -> list[Workplace]:
    """The pages where ``user`` does their work on cases, in the order the features plugged in."""
    if not getattr(user, "is_authenticated", False):
        return []
    found: list[Workplace] = []
    for workplace in [_staff_queue, *WORKPLACES]:
        found.extend(workplace(user))
    return found


def landing_url(user) -> str:
    """Where ``user`` starts after signing in: their work (queue, offers, desk, inbox) if they do
    such work and are no party to a case, else the home page with their to-do list."""
    from odr.cases.operations import cases_of_party

    places = workplaces(user)
    if places and not cases_of_party(user, limit=1):
        return places[0].url
    return url_for("site.home")


# --- the case file's own steps ------------------------------------------------------------------

def _invite_other_side(case: Case, user) -> list[Todo]:
    """The claimant shares the invitation until the other side answers it."""
    if "claimant" not in case.roles_of(user):
        return []
    other = case.party(Side.respondent)
    if other is None or other.status is not PartyStatus.invited or not other.invite_token:
        return []
    return [Todo("invite_other_side", str(_l("Send the invitation to the other party")),
                 url_for("cases.show", number=case.number) + "#parties", case=case, note=other.name, rank=10)]


def remember_opened_invitation(token: str) -> None:
    """This browser opened the invitation ``token``: it stays on the to-do list until answered."""
    if not has_request_context():
        return
    opened = [t for t in session.get(OPENED_INVITATIONS, []) if t != token][-4:]
    session[OPENED_INVITATIONS] = [*opened, token]


def forget_opened_invitation(token: str) -> None:
    if has_request_context() and token in session.get(OPENED_INVITATIONS, []):
        session[OPENED_INVITATIONS] = [t for t in session[OPENED_INVITATIONS] if t != token]


def opened_invitations(user) -> list[Todo]:
    """Invitations this browser opened (so it holds their secret link) that still wait for an answer."""
    from odr.cases.operations import party_for_token

    if not has_request_context():
        return []
    todos = []
    for token in session.get(OPENED_INVITATIONS, []):
        party = party_for_token(token) if isinstance(token, str) else None
        if party is None or party.status is not PartyStatus.invited or not party.case.is_open:
            continue
        todos.append(Todo("answer_invitation", str(_l("Join the case, or decline the invitation")),
                          url_for("cases.invitation", token=token), case=party.case, rank=0))
    return todos


def _staff_queue(user) -> list[Workplace]:
    from odr.auth.models import Role

    if user.organizations_for(Role.staff) or user.is_admin:
        return [Workplace("staff_queue", str(_l("Queue")), url_for("staff.queue"))]
    return []
