"""Field dispatch: a transferred dispute goes to the grid worker on duty where it happened.

1. A transfer arrives (``POST /api/v1/intake``) with a place name or a location; the case file
   hands it here (:func:`on_arrival`, registered with ``odr.cases.transfers``). The grid is found
   by its polygon or its named places (:func:`locate`) and the dispatch goes to the grid's on-duty
   worker with the fewest open dispatches — or waits in the command room when there is none.
2. The command room (staff of the grid's organisation) may send it to another worker in one tap
   (:func:`assign`).
3. The worker accepts (1 minute target), reaches the party (3 minutes) and checks in on the scene
   (8 minutes), each measured from the transfer's arrival (:func:`step`). Accepting and reaching
   the party also stop the case file's transfer clocks.
4. A dispatch left unaccepted past the acceptance target is raised in the command room
   (:func:`escalate_unanswered`, a periodic job).

Each change is recorded in the case's audit trail and queued for the sender's callback
(``odr.cases.callbacks``), in one transaction. Operations flush and never commit.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role, User
from odr.cases import audit, callbacks, transfers
from odr.cases import operations as case_ops
from odr.cases.models import Case, Organization
from odr.extensions import db
from odr.field import summary
from odr.field.models import OPEN_STATUSES, STEPS, Dispatch, DispatchStatus, Grid, GridWorker
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Corners a grid's polygon may have.
MAX_CORNERS = 200
MAX_PLACES = 100


class FieldError(Refused):
    """A dispatch step that cannot be taken; ``reason`` says why."""


def targets() -> dict[str, int]:
    cfg = current_app.config
    return {"accept": int(cfg["FIELD_ACCEPT_SECONDS"]), "contact": int(cfg["FIELD_CONTACT_SECONDS"]),
            "on_scene": int(cfg["FIELD_SCENE_SECONDS"])}


# --- grids and workers ----------------------------------------------------------------------

def clean_places(places) -> list[str]:
    """Named places, trimmed, without repeats or empties."""
    out: list[str] = []
    for place in places or []:
        place = " ".join(str(place).split())
        if place and place not in out:
            out.append(place[:100])
    return out[:MAX_PLACES]


def check_polygon(polygon) -> list[list[float]]:
    """``[[lat, lng], …]`` with at least three corners inside the globe, or [].

    :raise FieldError: not such a list.
    """
    if not polygon:
        return []
    if not isinstance(polygon, list) or not 3 <= len(polygon) <= MAX_CORNERS:
        raise FieldError(_l("An area needs between 3 and 200 corners."))
    out = []
    for corner in polygon:
        if (not isinstance(corner, (list, tuple)) or len(corner) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in corner)
                or not (-90 <= corner[0] <= 90 and -180 <= corner[1] <= 180)):
            raise FieldError(_l("Each corner is a latitude and a longitude."))
        out.append([float(corner[0]), float(corner[1])])
    return out


def create_grid(organization: Organization, name: str, places, polygon, actor) -> Grid:
    """A new grid that ``organization`` answers for.

    :raise FieldError: no name, or neither places nor an area, or a bad polygon.
    """
    name = " ".join((name or "").split())
    places, polygon = clean_places(places), check_polygon(polygon)
    if not name or len(name) > 100:
        raise FieldError(_l("Give the grid a name of at most 100 characters."))
    if not places and not polygon:
        raise FieldError(_l("Name at least one place in the grid, or draw its area."))
    grid = Grid(name=name, organization_id=organization.id, places=places, polygon=polygon)
    db.session.add(grid)
    db.session.flush()
    audit.record(None, actor, "field_grid_created", {"grid": grid.id, "name": name, "organization": organization.id})
    logger.info("Grid %s created for %s by %s", grid, organization.id, audit.actor_label(actor))
    return grid


def add_worker(grid: Grid, user: User, actor) -> GridWorker:
    """Make ``user`` a worker of ``grid`` (the role ``grid_worker`` in its organisation, once)."""
    if db.session.get(GridWorker, (grid.id, user.id)) is not None:
        raise FieldError(_l("This person already works in this grid."))
    if not user.has_role(Role.grid_worker, grid.organization_id):
        case_ops.grant_role(user, Role.grid_worker, grid.organization, actor)
    member = GridWorker(grid_id=grid.id, user_id=user.id)
    db.session.add(member)
    db.session.flush()
    audit.record(None, actor, "field_worker_added", {"grid": grid.id, "user": user.id})
    return member


def memberships(user) -> list[GridWorker]:
    return list(db.session.scalars(sa.select(GridWorker).where(GridWorker.user_id == user.id)
                                   .order_by(GridWorker.grid_id)))


def is_worker(user) -> bool:
    return user.is_authenticated and bool(user.organizations_for(Role.grid_worker)) and bool(memberships(user))


def set_duty(user: User, on_duty: bool) -> list[GridWorker]:
    """The worker goes on or off duty in all their grids (from the phone).

    :raise FieldError: not a worker of any grid.
    """
    rows = memberships(user)
    if not rows:
        raise FieldError(_l("You do not work in any grid."))
    now = utcnow()
    for row in rows:
        if row.on_duty != on_duty:
            row.on_duty, row.changed_at = on_duty, now
    db.session.flush()
    audit.record(None, user, "field_duty", {"on_duty": on_duty})
    return rows


def workers_for(organization_id: int) -> list[tuple[User, bool]]:
    """The workers of an organisation's grids, each with whether they are on duty anywhere."""
    rows = db.session.execute(
        sa.select(User, sa.func.max(sa.case((GridWorker.on_duty, 1), else_=0)))
        .join(GridWorker, GridWorker.user_id == User.id).join(Grid, Grid.id == GridWorker.grid_id)
        .where(Grid.organization_id == organization_id).group_by(User.id).order_by(User.name)).all()
    return [(user, bool(on)) for user, on in rows]


# --- where a dispute is -----------------------------------------------------------------

def inside(polygon, lat: float, lng: float) -> bool:
    """Whether the point lies in the polygon (ray casting; fine at a district's scale)."""
    hit = False
    n = len(polygon)
    for i in range(n):
        (y1, x1), (y2, x2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > lat) != (y2 > lat) and lng < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            hit = not hit
    return hit


def _normal(text: str) -> str:
    return "".join(text.split()).casefold()


def locate(place: str | None, lat: float | None, lng: float | None) -> Grid | None:
    """The grid a location or a place name falls in: the polygon first, then a named place the
    given name contains (or is contained in)."""
    grids = list(db.session.scalars(sa.select(Grid).order_by(Grid.id)))
    if lat is not None and lng is not None:
        for grid in grids:
            if grid.polygon and inside(grid.polygon, lat, lng):
                return grid
    if place:
        wanted = _normal(place)
        for grid in grids:
            for named in grid.places or []:
                named = _normal(named)
                if named and (named in wanted or wanted in named):
                    return grid
    return None


def _coord(value: float | None) -> str | None:
    """A coordinate for the audit trail (no floats there: their text is not canonical)."""
    return None if value is None else f"{value:.6f}"


def distance_m(lat1, lng1, lat2, lng2) -> int:
    """Great-circle distance in metres."""
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * r * math.asin(math.sqrt(a)))


# --- dispatching ------------------------------------------------------------------------

def _open_load(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Dispatch).where(
        Dispatch.worker_id == user_id, Dispatch.status.in_(OPEN_STATUSES))) or 0


def on_duty_worker(grid: Grid) -> User | None:
    """The grid's on-duty worker with the fewest open dispatches (the earliest on duty first)."""
    rows = list(db.session.scalars(sa.select(GridWorker).where(GridWorker.grid_id == grid.id, GridWorker.on_duty)
                                   .order_by(GridWorker.changed_at, GridWorker.user_id)))
    if not rows:
        return None
    return min(rows, key=lambda r: _open_load(r.user_id)).user


def on_arrival(case: Case, where: dict) -> Dispatch | None:
    """A transfer arrived (``odr.cases.transfers``): dispatch it to the grid it happened in.
    Transfers that name no place and no location are left to the center's ordinary queue."""
    place, lat, lng = where.get("place"), where.get("lat"), where.get("lng")
    if not place and (lat is None or lng is None):
        return None
    grid = locate(place, lat, lng)
    dispatch = Dispatch(case_id=case.id, grid_id=grid.id if grid else None,
                        organization_id=grid.organization_id if grid else case.organization_id,
                        api_client_id=case.api_client_id, place=place, lat=lat, lng=lng,
                        received_at=case.created_at, status=DispatchStatus.waiting)
    db.session.add(dispatch)
    db.session.flush()
    summary.move(summary.counted(None), summary.counted(dispatch))
    audit.record(case, None, "field_received", {"grid": dispatch.grid_id, "place": place, "lat": _coord(lat),
                                                 "lng": _coord(lng)})
    worker = on_duty_worker(grid) if grid else None
    if worker is not None:
        _send_to(dispatch, worker, None)
    logger.info("Transfer %s: grid %s, worker %s", case, dispatch.grid_id, dispatch.worker_id)
    return dispatch


def _send_to(dispatch: Dispatch, worker: User, actor) -> None:
    before = summary.counted(dispatch)
    dispatch.worker_id, dispatch.worker = worker.id, worker
    dispatch.status, dispatch.dispatched_at, dispatch.escalated_at = DispatchStatus.dispatched, utcnow(), None
    db.session.flush()
    summary.move(before, summary.counted(dispatch))
    audit.record(dispatch.case, actor, "field_dispatched", {"worker": worker.id, "grid": dispatch.grid_id})


def can_take(dispatch: Dispatch, user: User) -> bool:
    """Whether ``user`` is a worker of a grid of the dispatch's organisation."""
    return db.session.scalar(
        sa.select(GridWorker.user_id).join(Grid, Grid.id == GridWorker.grid_id)
        .where(GridWorker.user_id == user.id, Grid.organization_id == dispatch.organization_id).limit(1)
    ) is not None


def assign(dispatch: Dispatch, worker: User, actor) -> Dispatch:
    """The command room sends the dispatch to ``worker`` (one tap), before anyone accepted it.

    :raise FieldError: not the command room's, accepted already, or not a worker of these grids.
    """
    if not dispatch.can_command(actor):
        raise FieldError(_l("You may not make this change in this case."))
    _lock(dispatch)
    if dispatch.status not in (DispatchStatus.waiting, DispatchStatus.dispatched):
        raise FieldError(_l("A worker has already accepted this dispatch."))
    if dispatch.worker_id == worker.id:
        raise FieldError(_l("It is already with this worker."))
    if not can_take(dispatch, worker):
        raise FieldError(_l("This person is not a worker of these grids."))
    _send_to(dispatch, worker, actor)
    logger.info("Dispatch %s sent to %s by %s", dispatch, worker.id, audit.actor_label(actor))
    return dispatch


def _lock(dispatch: Dispatch) -> None:
    db.session.execute(sa.select(Dispatch.id).where(Dispatch.id == dispatch.id).with_for_update())
    db.session.refresh(dispatch)


def seconds_between(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else max(0, round((end - start).total_seconds()))


def step(dispatch: Dispatch, worker: User, to: DispatchStatus, *, lat: float | None = None,
         lng: float | None = None, how: str | None = None) -> Dispatch:
    """The worker accepts, has reached the party (``how``: call or message), or is on the scene
    (with the phone's location when the person allowed it).

    :raise FieldError: not their dispatch, or not the next step.
    """
    if not dispatch.can_work(worker):
        raise FieldError(_l("This dispatch is not yours."))
    _lock(dispatch)
    if STEPS.get(to) is not dispatch.status:
        raise FieldError(_l("This step was already recorded, or an earlier one is missing."))
    before = summary.counted(dispatch)
    now = utcnow()
    payload: dict = {"seconds": seconds_between(dispatch.received_at, now)}
    case = dispatch.case
    if to is DispatchStatus.accepted:
        dispatch.accepted_at = now
        _stop_transfer_clock(case, worker, transfers.stop_accept_clock)
    elif to is DispatchStatus.contacted:
        dispatch.contacted_at = now
        payload["how"] = how if how in ("call", "message") else "call"
        _stop_transfer_clock(case, worker, transfers.stop_contact_clock)
    else:
        dispatch.on_scene_at = now
        if lat is not None and lng is not None:
            dispatch.scene_lat, dispatch.scene_lng = lat, lng
            if dispatch.lat is not None and dispatch.lng is not None:
                dispatch.scene_distance_m = distance_m(lat, lng, dispatch.lat, dispatch.lng)
        payload.update(lat=_coord(lat), lng=_coord(lng), distance_m=dispatch.scene_distance_m)
    dispatch.status = to
    db.session.flush()
    summary.move(before, summary.counted(dispatch))
    audit.record(case, worker, f"field_{to.value}", payload)
    callbacks.notify(case, to.value, status_of(dispatch))
    logger.info("Dispatch %s: %s by %s after %ss", dispatch.id, to.value, worker.id, payload["seconds"])
    return dispatch


def refer(dispatch: Dispatch, worker: User, present: str, facts: str) -> Dispatch:
    """Not settled on the spot: the worker records who was there (identity checked in person by
    them) and the facts, and refers the dispute into the ordinary online process — the case goes
    on to mediation with the record in its file, and both parties are told by SMS.

    :raise FieldError: not their dispatch, or not on the scene yet.
    """
    from odr import outbox
    from odr.cases import workflow
    from odr.cases.models import Stage

    if not dispatch.can_work(worker):
        raise FieldError(_l("This dispatch is not yours."))
    _lock(dispatch)
    if dispatch.status is not DispatchStatus.on_scene:
        raise FieldError(_l("Check in on the scene first."))
    case = dispatch.case
    now = utcnow()
    before = summary.counted(dispatch)
    dispatch.status, dispatch.closed_at = DispatchStatus.referred, now
    db.session.flush()
    summary.move(before, summary.counted(dispatch))
    audit.record(case, worker, "field_referred", {"present": present, "identity_checked_by": worker.name,
                                                  "facts": facts,
                                                  "seconds": seconds_between(dispatch.received_at, now)})
    if case.stage is Stage.consultation:
        workflow.move(case, Stage.mediation, worker, reason="referred on site")
    for party in case.parties:
        if party.phone:
            link = case_ops.invitation_url(party) if party.invite_token else None
            body = _("The grid worker %(name)s referred your dispute %(number)s to online mediation.",
                     name=worker.name, number=case.number)
            if link:
                body += " " + _("Open this link to join: %(url)s", url=link)
            outbox.enqueue(party.phone, _("Your dispute %(number)s goes on to online mediation", number=case.number),
                           body, case=case)
    callbacks.notify(case, DispatchStatus.referred.value, status_of(dispatch))
    logger.info("Dispatch %s referred to mediation by %s", dispatch.id, worker.id)
    return dispatch


def _stop_transfer_clock(case, worker, stop) -> None:
    """The worker's step is the center's answer to the transfer too (its response times)."""
    try:
        stop(case, worker)
    except transfers.TransferError:
        pass  # staff already recorded it at the desk: their earlier time stands


def escalate_unanswered(now: datetime) -> list[Dispatch]:
    """Raise in the command room the dispatches still unaccepted past the acceptance target
    (the periodic job, :func:`odr.field.views.escalate_unanswered`); returns them."""
    limit = targets()["accept"]
    due = list(db.session.scalars(
        sa.select(Dispatch).where(Dispatch.closed_at.is_(None), Dispatch.escalated_at.is_(None),
                                  Dispatch.status.in_((DispatchStatus.waiting, DispatchStatus.dispatched)))
        .order_by(Dispatch.received_at).limit(500)))
    escalated = []
    for dispatch in due:
        if (now - dispatch.received_at).total_seconds() < limit:
            continue
        dispatch.escalated_at = now
        audit.record(dispatch.case, None, "field_escalated",
                     {"worker": dispatch.worker_id, "seconds": seconds_between(dispatch.received_at, now)})
        escalated.append(dispatch)
    db.session.flush()
    if escalated:
        logger.info("%s dispatches unanswered past %ss raised in the command room", len(escalated), limit)
    return escalated


# --- what the sender and the command room read ------------------------------------------

def _at(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def clock(dispatch: Dispatch, now: datetime | None = None) -> dict:
    """Each 1-3-8 step: when, seconds from arrival, target, met (None until done), and overdue."""
    goal = targets()
    now = now or utcnow()
    out = {}
    for name, at in (("accept", dispatch.accepted_at), ("contact", dispatch.contacted_at),
                     ("on_scene", dispatch.on_scene_at)):
        seconds = seconds_between(dispatch.received_at, at)
        out[name] = {"at": _at(at), "seconds": seconds, "target_seconds": goal[name],
                     "met": None if seconds is None else seconds <= goal[name],
                     "overdue": at is None and dispatch.is_open
                     and (now - dispatch.received_at).total_seconds() > goal[name]}
    return out


def status_of(dispatch: Dispatch) -> dict:
    """The dispatch as the sender reads it (``field`` in ``GET /api/v1/intake/{reference}`` and in
    each callback)."""
    steps = clock(dispatch)
    for value in steps.values():
        value.pop("overdue")
    return {
        "status": dispatch.status.value,
        "grid": dispatch.grid.name if dispatch.grid else None,
        "worker": dispatch.worker.name if dispatch.worker else None,
        "received_at": _at(dispatch.received_at),
        "dispatched_at": _at(dispatch.dispatched_at),
        "closed_at": _at(dispatch.closed_at),
        "steps": steps,
    }


def dispatch_of(case: Case) -> Dispatch | None:
    return db.session.scalar(sa.select(Dispatch).where(Dispatch.case_id == case.id))


def sender_status(case: Case) -> dict | None:
    """``odr.cases.transfers`` status source: the field dispatch of a transfer, if it has one."""
    dispatch = dispatch_of(case)
    return {"field": status_of(dispatch)} if dispatch else None


def case_roles(case: Case, user, roles: set) -> set:
    """``odr.cases`` role source: the worker a case is dispatched to may open its file."""
    if not user.organizations_for(Role.grid_worker):
        return set()
    dispatch = dispatch_of(case)
    return {"grid_worker"} if dispatch is not None and dispatch.worker_id == user.id else set()


def queue(user, limit: int = 50) -> list[Dispatch]:
    """A worker's open dispatches, oldest first."""
    return list(db.session.scalars(
        sa.select(Dispatch).where(Dispatch.worker_id == user.id, Dispatch.status.in_(OPEN_STATUSES))
        .order_by(Dispatch.received_at).limit(limit)))


def command_room(organization_ids, limit: int = 200) -> list[Dispatch]:
    """The open dispatches the command room of these organisations sees, oldest first."""
    q = sa.select(Dispatch).where(Dispatch.closed_at.is_(None), Dispatch.status.in_(OPEN_STATUSES))
    if organization_ids is not None:
        q = q.where(Dispatch.organization_id.in_(organization_ids))
    return list(db.session.scalars(q.order_by(Dispatch.received_at).limit(limit)))
