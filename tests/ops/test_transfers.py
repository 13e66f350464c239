"""Transfer response times on a controlled clock: acceptance and first contact against their
targets, per sender, and reported back to the sender by ``GET /api/v1/intake/{reference}``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from odr.auth.models import Role
from odr.cases import audit
from odr.cases import operations as ops
from odr.extensions import db
from odr.ops import queries, transfers
from odr.cases import transfers as clocks
from odr.cases.transfers import TransferResponse
from tests.api.openapi import GOOD, assert_documented

URL = "/api/v1/intake"


@pytest.fixture
def center(make_org):
    return make_org(name="Center", takes_intake=True)


@pytest.fixture
def senders(center):
    hotline, hotline_token = ops.issue_api_token("hotline-12345", center)
    police, police_token = ops.issue_api_token("police-110", center)
    db.session.commit()
    return {"hotline": hotline_token, "police": police_token}


def send(client, token, reference):
    resp = client.post(URL, json={**GOOD, "reference": reference}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp


def status(client, token, reference):
    return client.get(f"{URL}/{reference}", headers={"Authorization": f"Bearer {token}"})


def case_of(reference):
    from odr.cases.models import Case

    return db.session.scalar(queries.sa.select(Case).where(Case.external_ref == reference))


def test_times_are_measured_from_arrival_against_the_targets(app, client, clock, senders, center, make_user, login,
                                                             spec):
    staff = make_user(Role.staff, center)
    send(client, senders["hotline"], "HL-1")
    answer = status(client, senders["hotline"], "HL-1")
    assert_documented(spec, answer, path=f"{URL}/{{reference}}", method="get")
    body = answer.get_json()
    assert body["status"] == "open" and body["stage"] == "consultation" and body["outcome"] is None
    assert body["response"]["received_at"] == "2026-11-02T01:00:00Z"
    assert body["response"]["accept"] == {"at": None, "seconds": None, "target_seconds": 60, "met": None}

    login(client, staff)
    clock.advance(seconds=45)
    assert client.post(f"/ops/transfers/{case_of('HL-1').number}/accept").status_code == 303
    clock.advance(seconds=150)  # 195 s after arrival: later than the 180 s target
    assert client.post(f"/ops/transfers/{case_of('HL-1').number}/contact").status_code == 303

    answer = status(client, senders["hotline"], "HL-1")
    assert_documented(spec, answer, path=f"{URL}/{{reference}}", method="get")
    response = answer.get_json()["response"]
    assert response["accept"] == {"at": "2026-11-02T01:00:45Z", "seconds": 45, "target_seconds": 60, "met": True}
    assert response["contact"] == {"at": "2026-11-02T01:03:15Z", "seconds": 195, "target_seconds": 180,
                                   "met": False}
    # Both stops are in the case's audit trail.
    actions = [ev.action for ev in audit.case_events(case_of("HL-1"))]
    assert actions[-2:] == ["transfer_accepted", "transfer_contacted"]


def test_targets_are_configurable(app, client, clock, senders, center, make_user):
    app.config.update(TRANSFER_ACCEPT_SECONDS=30, TRANSFER_CONTACT_SECONDS=300)
    send(client, senders["hotline"], "HL-2")
    clock.advance(seconds=45)
    clocks.record_contact(case_of("HL-2"), make_user(Role.staff, center))
    db.session.commit()
    response = status(client, senders["hotline"], "HL-2").get_json()["response"]
    # Contact without an explicit acceptance accepts the case at the same moment.
    assert (response["accept"]["seconds"], response["accept"]["met"]) == (45, False)
    assert (response["contact"]["seconds"], response["contact"]["target_seconds"], response["contact"]["met"]) == \
        (45, 300, True)


def test_each_clock_stops_once(app, client, clock, senders, center, make_user):
    staff = make_user(Role.staff, center)
    send(client, senders["hotline"], "HL-3")
    case = case_of("HL-3")
    clocks.accept(case, staff)
    with pytest.raises(clocks.TransferError):
        clocks.accept(case, staff)
    clocks.record_contact(case, staff)
    with pytest.raises(clocks.TransferError):
        clocks.record_contact(case, staff)


def test_staff_of_another_organisation_cannot_stop_the_clock(app, client, senders, make_org, make_user, login):
    send(client, senders["hotline"], "HL-4")
    login(client, make_user(Role.staff, make_org(name="Elsewhere")))
    assert client.post(f"/ops/transfers/{case_of('HL-4').number}/accept").status_code == 404
    assert db.session.get(TransferResponse, case_of("HL-4").id).accepted_at is None


def test_a_sender_sees_only_its_own_references(app, client, senders, spec):
    send(client, senders["hotline"], "HL-5")
    for token, reference in ((senders["police"], "HL-5"), (senders["hotline"], "HL-404"),
                             (senders["hotline"], "x" * 65)):
        resp = status(client, token, reference)
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    resp = status(client, senders["police"], "HL-5")
    assert_documented(spec, resp, path=f"{URL}/{{reference}}", method="get")
    for headers in ({}, {"Authorization": "Bearer odr_wrong"}, {"Authorization": "Basic abc"}):
        resp = client.get(f"{URL}/HL-5", headers=headers)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == 'Bearer realm="odr"'
        assert_documented(spec, resp, path=f"{URL}/{{reference}}", method="get")


def test_closed_case_reports_its_outcome(app, client, senders, center, make_user):
    from odr.cases import workflow
    from odr.cases.models import Outcome

    send(client, senders["hotline"], "HL-6")
    workflow.move(case_of("HL-6"), Outcome.withdrawn, make_user(Role.staff, center))
    db.session.commit()
    body = status(client, senders["hotline"], "HL-6").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "withdrawn")


def test_per_sender_figures_and_page(app, client, clock, senders, center, make_org, make_user, login_en):
    staff = make_user(Role.staff, center)
    start = clock.now
    for i, (sender, accept_after, contact_after) in enumerate([
            ("hotline", 30, 120), ("hotline", 90, 200), ("hotline", None, None), ("police", 10, 60)]):
        clock.now = start + timedelta(minutes=10 * i)
        send(client, senders[sender], f"R-{i}")
        case = case_of(f"R-{i}")
        if accept_after is not None:
            clock.now += timedelta(seconds=accept_after)
            clocks.accept(case, staff)
            clock.now += timedelta(seconds=contact_after - accept_after)
            clocks.record_contact(case, staff)
        db.session.commit()
    rows = {r.name: r for r in transfers.per_sender(queries.Scope(None, True), start - timedelta(days=1),
                                                    start + timedelta(days=1))}
    hotline = rows["hotline-12345"]
    assert (hotline.received, hotline.accepted, hotline.accepted_in_time, hotline.contacted,
            hotline.contacted_in_time) == (3, 2, 1, 2, 1)
    assert (hotline.median_accept, hotline.median_contact) == (60, 160)
    assert (rows["police-110"].accepted_in_time, rows["police-110"].median_contact) == (1, 60)
    # In a scope, the transfers sent to its organisations, even after a case was routed on.
    window = (start - timedelta(days=1), start + timedelta(days=1))
    ops.route_case(case_of("R-1"), make_org(name="Elsewhere"), None)
    db.session.commit()
    assert [(r.name, r.received) for r in transfers.per_sender(queries.Scope(frozenset({center.id})), *window)] \
        == [("hotline-12345", 3), ("police-110", 1)]
    assert transfers.per_sender(queries.Scope(frozenset({make_org(name="Unrelated").id})), *window) == []
    login_en(client, staff)
    page = client.get(f"/ops/transfers?start={start.date()}&end={start.date()}").get_data(as_text=True)
    assert "hotline-12345" in page and "police-110" in page
    assert case_of("R-2").number in page  # still waiting for its first contact
    assert client.get("/ops/transfers?start=2026-99-01").status_code == 400
