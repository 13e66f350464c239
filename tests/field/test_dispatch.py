"""Field dispatch: a transfer with a place or a location reaches the on-duty worker of its grid;
the 1-3-8 clock, escalation, the command room's one-tap dispatch, and the sender's view."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from odr import jobs
from odr.cases import audit, transfers
from odr.cases.models import Case, Event
from odr.extensions import db
from odr.field import operations as ops
from odr.field.models import Dispatch, DispatchStatus
from tests.api.openapi import assert_documented, load_spec
from tests.field.conftest import transfer


def _dispatch(number) -> Dispatch:
    case = db.session.scalar(sa.select(Case).where(Case.number == number))
    return ops.dispatch_of(case)


@pytest.fixture
def spec():
    return load_spec()


def test_a_place_name_goes_to_the_on_duty_worker_of_its_grid(client, field_world, spec, clock):
    resp = transfer(client, field_world.token)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert_documented(spec, resp)
    body = resp.get_json()
    dispatch = _dispatch(body["case_number"])
    assert dispatch.grid_id == field_world.grid.id
    assert dispatch.worker_id == field_world.worker.id  # on duty; Sun is not
    assert dispatch.status is DispatchStatus.dispatched and dispatch.place == "望京西园三区 5号楼"
    assert body["field"]["status"] == "dispatched" and body["field"]["worker"] == "Worker Wu"
    assert body["field"]["grid"] == "Wangjing West"
    actions = [e.action for e in audit.case_events(dispatch.case)]
    assert actions[-2:] == ["field_received", "field_dispatched"]

    status = client.get(f"/api/v1/intake/{body['reference']}",
                        headers={"Authorization": f"Bearer {field_world.token}"})
    assert status.status_code == 200
    assert_documented(spec, status, path="/api/v1/intake/{reference}", method="get")
    assert status.get_json()["field"]["steps"]["accept"] == {"at": None, "seconds": None, "target_seconds": 60,
                                                             "met": None}


def test_a_location_inside_the_area_finds_the_grid(client, field_world):
    resp = transfer(client, field_world.token, place=None, location={"lat": 40.0, "lng": 116.48})
    dispatch = _dispatch(resp.get_json()["case_number"])
    assert dispatch.grid_id == field_world.grid.id and (dispatch.lat, dispatch.lng) == (40.0, 116.48)


def test_the_load_is_shared_between_workers_on_duty(client, field_world):
    ops.set_duty(field_world.second_worker, True)
    db.session.commit()
    workers = [_dispatch(transfer(client, field_world.token, reference=f"R-{i}").get_json()["case_number"]).worker_id
               for i in range(4)]
    assert sorted(workers) == sorted([field_world.worker.id, field_world.second_worker.id] * 2)


def test_a_transfer_without_a_place_goes_to_the_ordinary_queue(client, field_world):
    resp = transfer(client, field_world.token, place=...)
    assert resp.status_code == 201
    assert "field" not in resp.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispatch)) == 0


def test_no_grid_or_nobody_on_duty_waits_for_the_command_room(client, login, field_world):
    unknown = _dispatch(transfer(client, field_world.token, reference="A", place="Nowhere street").get_json()["case_number"])
    assert unknown.grid_id is None and unknown.worker_id is None and unknown.status is DispatchStatus.waiting
    assert unknown.organization_id == field_world.center.id

    ops.set_duty(field_world.worker, False)
    db.session.commit()
    idle = _dispatch(transfer(client, field_world.token, reference="B").get_json()["case_number"])
    assert idle.grid_id == field_world.grid.id and idle.status is DispatchStatus.waiting

    login(client, field_world.staff)
    page = client.get("/field/command")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert unknown.case.number in html and idle.case.number in html and "Worker Sun" in html

    resp = client.post(f"/field/d/{idle.id}/assign", data={"worker": field_world.second_worker.id})
    assert resp.status_code == 303
    db.session.refresh(idle)
    assert idle.worker_id == field_world.second_worker.id and idle.status is DispatchStatus.dispatched
    last = audit.case_events(idle.case)[-1]
    assert last.action == "field_dispatched" and last.actor_id == field_world.staff.id

    # A worker of another organisation's grid cannot be chosen; nothing changes.
    resp = client.post(f"/field/d/{idle.id}/assign", data={"worker": field_world.other_worker.id})
    assert resp.status_code == 409
    db.session.refresh(idle)
    assert idle.worker_id == field_world.second_worker.id


def test_the_1_3_8_clock_and_the_transfer_clocks(client, login, field_world, clock):
    number = transfer(client, field_world.token, location={"lat": 40.0, "lng": 116.48}).get_json()["case_number"]
    dispatch = _dispatch(number)
    login(client, field_world.worker)

    clock.advance(seconds=40)
    assert client.post(f"/field/d/{dispatch.id}/accept").status_code == 303
    clock.advance(seconds=200)  # 240 s from arrival: contact target (180) missed
    assert client.post(f"/field/d/{dispatch.id}/contact", data={"how": "call"}).status_code == 303
    clock.advance(seconds=200)  # 440 s: on the scene in time, 8 minutes being 480
    resp = client.post(f"/field/d/{dispatch.id}/scene", data={"lat": "39.9990", "lng": "116.4800"})
    assert resp.status_code == 303
    db.session.refresh(dispatch)
    assert dispatch.status is DispatchStatus.on_scene
    c = ops.clock(dispatch)
    assert (c["accept"]["seconds"], c["accept"]["met"]) == (40, True)
    assert (c["contact"]["seconds"], c["contact"]["met"]) == (240, False)
    assert (c["on_scene"]["seconds"], c["on_scene"]["met"]) == (440, True)
    assert 105 < dispatch.scene_distance_m < 117  # 0.001° of latitude from the point given
    response = transfers.response_of(dispatch.case)
    assert response.accepted_by_id == response.contacted_by_id == field_world.worker.id
    assert transfers.timings(response)["accept"]["seconds"] == 40
    actions = [e.action for e in audit.case_events(dispatch.case)]
    assert actions[-5:] == ["transfer_accepted", "field_accepted", "transfer_contacted", "field_contacted",
                            "field_on_scene"]
    assert audit.verify_chain(audit.chain_name(dispatch.case)) is None

    # Each step once, in order.
    assert client.post(f"/field/d/{dispatch.id}/accept").status_code == 409


def test_steps_out_of_order_are_refused(client, login, field_world):
    dispatch = _dispatch(transfer(client, field_world.token).get_json()["case_number"])
    login(client, field_world.worker)
    assert client.post(f"/field/d/{dispatch.id}/scene", data={}).status_code == 409
    assert client.post(f"/field/d/{dispatch.id}/contact", data={"how": "call"}).status_code == 409
    db.session.refresh(dispatch)
    assert dispatch.status is DispatchStatus.dispatched


def test_overdue_clocks_and_escalation(client, field_world, clock):
    dispatch = _dispatch(transfer(client, field_world.token).get_json()["case_number"])
    clock.advance(seconds=59)
    assert jobs.run_all(clock.now)["escalate_unanswered"] == 0
    assert ops.clock(dispatch, clock.now)["accept"]["overdue"] is False
    clock.advance(seconds=2)
    assert ops.clock(dispatch, clock.now)["accept"]["overdue"] is True
    assert jobs.run_all(clock.now)["escalate_unanswered"] == 1
    db.session.refresh(dispatch)
    assert dispatch.escalated_at == clock.now
    assert audit.case_events(dispatch.case)[-1].action == "field_escalated"
    assert jobs.run_all(clock.advance(seconds=60))["escalate_unanswered"] == 0  # raised once

    # The command room sends it to another worker: the escalation is cleared for them.
    ops.assign(dispatch, field_world.second_worker, field_world.staff)
    db.session.commit()
    assert dispatch.escalated_at is None


def test_duty_from_the_phone(client, login, field_world):
    login(client, field_world.second_worker)
    page = client.get("/field/")
    assert page.status_code == 200 and 'id="on-duty"' in page.get_data(as_text=True)
    assert client.post("/field/duty", data={"on_duty": "1"}).status_code == 303
    assert all(m.on_duty for m in ops.memberships(field_world.second_worker))
    assert client.post("/field/duty", data={"on_duty": "maybe"}).status_code == 400
    assert all(m.on_duty for m in ops.memberships(field_world.second_worker))


def test_a_worker_sees_only_the_dispatches_of_their_grids(client, login, field_world, make_user):
    mine = _dispatch(transfer(client, field_world.token, reference="M").get_json()["case_number"])
    far = _dispatch(transfer(client, field_world.token, reference="F", place="远处小区").get_json()["case_number"])
    assert far.worker_id == field_world.other_worker.id and far.organization_id != field_world.center.id

    login(client, field_world.worker)
    queue = client.get("/field/").get_data(as_text=True)
    assert mine.case.number in queue and far.case.number not in queue
    assert client.get(f"/field/d/{mine.id}").status_code == 200
    assert client.get(f"/field/d/{far.id}").status_code == 404
    assert client.post(f"/field/d/{far.id}/accept").status_code == 404
    # The worker sent to a case may open its file; the others may not.
    assert client.get(f"/cases/{mine.case.number}").status_code == 200
    assert client.get(f"/cases/{far.case.number}").status_code == 404

    # A colleague of the same grid sees the dispatch, but the steps are the assigned worker's.
    login(client, field_world.second_worker)
    assert client.get(f"/field/d/{mine.id}").status_code == 200
    assert client.post(f"/field/d/{mine.id}/accept").status_code == 403
    # Staff of another organisation: not their command room.
    login(client, field_world.other_staff)
    assert client.get(f"/field/d/{mine.id}").status_code == 404
    assert client.post(f"/field/d/{mine.id}/assign", data={"worker": field_world.worker.id}).status_code == 404
    assert mine.case.number not in client.get("/field/command").get_data(as_text=True)
    # Someone who is no worker has no queue.
    login(client, make_user())
    assert client.get("/field/").status_code == 403
    assert client.get("/field/command").status_code == 403


def test_sender_sees_its_own_transfers_only(client, field_world, make_org):
    from odr.cases import operations as case_ops

    transfer(client, field_world.token)
    _other, token = case_ops.issue_api_token("hotline", make_org())
    db.session.commit()
    resp = client.get(f"/api/v1/intake/{TRANSFER_REF}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404


TRANSFER_REF = "110-0001"


@pytest.mark.parametrize("changes, field", [
    ({"location": {"lat": 91, "lng": 0}}, "location.lat"),
    ({"location": {"lat": 0, "lng": "116"}}, "location.lng"),
    ({"location": {"lat": 0, "lng": 1, "alt": 3}}, "location"),
    ({"location": [40, 116]}, "location"),
    ({"location": {"lat": True, "lng": 1}}, "location.lat"),
    ({"place": "x" * 201}, "place"),
    ({"place": "a\x07b"}, "place"),
    ({"place": 12}, "place"),
])
def test_bad_locations_are_refused_and_nothing_is_written(client, field_world, changes, field):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
    resp = transfer(client, field_world.token, **changes)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert field in {e["field"] for e in resp.get_json()["errors"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispatch)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == before


@pytest.mark.parametrize("data", [{"lat": "40"}, {"lat": "abc", "lng": "1"}, {"lat": "100", "lng": "1"},
                                  {"lat": "nan", "lng": "1"}, {"lat": "1", "lng": "inf"}])
def test_bad_check_in_is_refused(client, login, field_world, data):
    dispatch = _dispatch(transfer(client, field_world.token).get_json()["case_number"])
    login(client, field_world.worker)
    client.post(f"/field/d/{dispatch.id}/accept")
    client.post(f"/field/d/{dispatch.id}/contact", data={"how": "message"})
    resp = client.post(f"/field/d/{dispatch.id}/scene", data=data)
    assert resp.status_code == 400
    db.session.refresh(dispatch)
    assert dispatch.status is DispatchStatus.contacted and dispatch.on_scene_at is None


@pytest.mark.parametrize("data", [{}, {"worker": "abc"}, {"worker": "0"}, {"worker": "99999999999"},
                                  {"worker": "424242"}])
def test_bad_assignments_are_refused(client, login, field_world, data):
    ops.set_duty(field_world.worker, False)
    db.session.commit()
    dispatch = _dispatch(transfer(client, field_world.token).get_json()["case_number"])
    login(client, field_world.staff)
    assert client.post(f"/field/d/{dispatch.id}/assign", data=data).status_code == 400
    db.session.refresh(dispatch)
    assert dispatch.status is DispatchStatus.waiting


def test_grids_are_made_and_staffed_from_the_command_room(client, login, field_world, make_user):
    login(client, field_world.staff)
    assert client.get("/field/grids").status_code == 200
    resp = client.post("/field/grids", data={"name": "Market", "organization": field_world.center.id,
                                            "places": "Wangjing Market\n\n东湖市场", "polygon": ""})
    assert resp.status_code == 303
    from odr.field.models import Grid

    grid = db.session.scalar(sa.select(Grid).where(Grid.name == "Market"))
    assert grid.places == ["Wangjing Market", "东湖市场"] and grid.polygon == []
    newcomer = make_user(contact="+8613700137009", name="New Worker")
    assert client.post(f"/field/grids/{grid.id}/workers", data={"contact": "13700137009"}).status_code == 303
    assert [m.user_id for m in grid.workers] == [newcomer.id]
    assert client.post(f"/field/grids/{grid.id}/workers", data={"contact": "13700137009"}).status_code == 400
    assert client.post(f"/field/grids/{grid.id}/workers", data={"contact": "13700137999"}).status_code == 400
    # Another organisation's grid: not theirs to staff.
    assert client.post(f"/field/grids/{field_world.other_grid.id}/workers",
                       data={"contact": "13700137009"}).status_code == 404


@pytest.mark.parametrize("data", [
    {"name": "", "places": "A"},
    {"name": "No place"},
    {"name": "Bad area", "polygon": "40,116\n41"},
    {"name": "Two corners", "polygon": "40,116\n41,117"},
    {"name": "Off the globe", "polygon": "40,116\n41,117\n95,117"},
    {"name": "Not a number", "polygon": "40,116\n41,117\nnan,117"},
    {"name": "x" * 101, "places": "A"},
])
def test_bad_grids_are_refused(client, login, field_world, data):
    from odr.field.models import Grid

    login(client, field_world.staff)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Grid))
    resp = client.post("/field/grids", data={"organization": field_world.center.id, **data})
    assert resp.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Grid)) == before


def test_staff_cannot_make_grids_for_another_organisation(client, login, field_world):
    login(client, field_world.staff)
    resp = client.post("/field/grids", data={"name": "Theirs", "organization": field_world.other_grid.organization_id,
                                            "places": "X"})
    assert resp.status_code == 400


def _on_scene(client, login, field_world, **changes):
    dispatch = _dispatch(transfer(client, field_world.token, **changes).get_json()["case_number"])
    login(client, field_world.worker)
    client.post(f"/field/d/{dispatch.id}/accept")
    client.post(f"/field/d/{dispatch.id}/contact", data={"how": "call"})
    client.post(f"/field/d/{dispatch.id}/scene", data={})
    return dispatch


def test_referral_to_online_mediation(client, login, field_world, receiver):
    from odr.cases import callbacks
    from odr.cases.models import Stage
    from odr.outbox import OutboxMessage

    callbacks.register(field_world.api_client, receiver.url)
    db.session.commit()
    dispatch = _on_scene(client, login, field_world)
    # Not before being on the scene, and not by a colleague.
    login(client, field_world.second_worker)
    assert client.post(f"/field/d/{dispatch.id}/refer", data={"present": "x", "facts": "y"}).status_code == 403
    login(client, field_world.worker)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    resp = client.post(f"/field/d/{dispatch.id}/refer",
                       data={"present": "Wang Fang (ID card), Li Lei (ID card)", "facts": "Music after midnight."})
    assert resp.status_code == 303
    db.session.refresh(dispatch)
    case = dispatch.case
    assert dispatch.status is DispatchStatus.referred and dispatch.closed_at is not None
    assert case.stage is Stage.mediation
    referred = [e for e in audit.case_events(case) if e.action == "field_referred"][0]
    assert referred.payload["identity_checked_by"] == "Worker Wu"
    assert referred.payload["present"].startswith("Wang Fang")
    sms = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))[before:]
    assert sorted(m.recipient for m in sms) == ["+8613800138000", "+8613900139000"]
    assert all("/cases/join/" in m.body for m in sms)
    events = [d.event for d in db.session.scalars(sa.select(callbacks.CallbackDelivery)
                                                 .order_by(callbacks.CallbackDelivery.id))]
    assert events == ["accepted", "contacted", "on_scene", "referred"]
    assert client.post(f"/field/d/{dispatch.id}/refer", data={"present": "x", "facts": "y"}).status_code == 409
    assert dispatch not in ops.command_room(None)


@pytest.mark.parametrize("data", [{}, {"present": "Wang"}, {"facts": "Noise"}, {"present": "a\x01", "facts": "b"},
                                  {"present": "x" * 1001, "facts": "b"}, {"present": "a", "facts": "x" * 4001}])
def test_bad_referrals_are_refused(client, login, field_world, data):
    dispatch = _on_scene(client, login, field_world)
    resp = client.post(f"/field/d/{dispatch.id}/refer", data=data)
    assert resp.status_code == 400
    db.session.refresh(dispatch)
    assert dispatch.status is DispatchStatus.on_scene
    assert [e.action for e in audit.case_events(dispatch.case)][-1] == "field_on_scene"


def test_referral_needs_the_scene(client, login, field_world):
    dispatch = _dispatch(transfer(client, field_world.token).get_json()["case_number"])
    login(client, field_world.worker)
    client.post(f"/field/d/{dispatch.id}/accept")
    assert client.post(f"/field/d/{dispatch.id}/refer", data={"present": "a", "facts": "b"}).status_code == 409
