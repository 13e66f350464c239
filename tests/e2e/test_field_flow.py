"""Field dispatch, end to end: the police's system transfers a dispute by place name over HTTP; the
command room (a desk browser) sees it arrive live; the grid worker's phone (360×640, a fake
geolocation) hears of it live, accepts, reaches the party, checks in on the scene with the phone's
location and refers the dispute to online mediation; the sender's own HTTP server receives each
status change exactly once, signed, after refusing the first attempt."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from odr import jobs
from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases import callbacks
from odr.cases import operations as case_ops
from odr.cases.models import Organization, OrgType
from odr.extensions import db
from odr.field import operations as ops
from odr.field.models import Dispatch, DispatchStatus
from odr.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.e2e.pages import sign_in
from tests.e2e.test_axe import serious
from tests.field.conftest import TRANSFER, receiver  # noqa: F401 (the callback server fixture)

pytestmark = pytest.mark.e2e

STAFF = "command@example.com"
WORKER = "+8613700137001"


def seed(server, callback_url):
    with server.app.app_context():
        center = Organization(name="Wangjing street", type=OrgType.peoples_mediation, district="朝阳区",
                              takes_intake=True)
        db.session.add(center)
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Command Chen", PASSWORD)
        case_ops.grant_role(staff, Role.staff, center)
        worker = auth_ops.create_user(WORKER, "Worker Wu", PASSWORD)
        grid = ops.create_grid(center, "Wangjing West", ["望京西园三区"], [], staff)
        ops.add_worker(grid, worker, staff)
        client, token = case_ops.issue_api_token("police-110", center)
        secret = callbacks.register(client, callback_url)
        db.session.commit()
        db.session.remove()
        return token, secret


def test_transfer_to_the_worker_on_the_scene_with_callbacks(phone, server, receiver, shot, layout):  # noqa: F811
    token, secret = seed(server, receiver.url)
    receiver.fail = 1

    desk = phone(desk=True).new_page()
    sign_in(desk, STAFF)
    desk.goto("/field/command")
    expect(desk.locator("#field-none")).to_be_visible()

    worker_context = phone()
    worker_context.grant_permissions(["geolocation"], origin=server.url)
    worker_context.set_geolocation({"latitude": 40.0005, "longitude": 116.4801})
    worker = worker_context.new_page()
    sign_in(worker, WORKER[3:])
    worker.goto("/field/")
    layout.check(worker)
    worker.locator("#on-duty").click()
    expect(worker.locator("#off-duty")).to_be_visible()
    expect(worker.locator("#field-empty")).to_be_visible()
    worker.wait_for_timeout(300)  # the page's Socket.IO connection is up before the transfer

    resp = requests.post(f"{server.url}/api/v1/intake", json=TRANSFER, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.text
    number = resp.json()["case_number"]
    assert resp.json()["field"]["worker"] == "Worker Wu"

    # Live, without anyone reloading: the command room and the phone.
    expect(desk.locator("tr[data-dispatch]", has_text=number)).to_be_visible()
    card = worker.locator("a[data-dispatch]", has_text=number)
    expect(card).to_be_visible()
    expect(worker.locator("#field-new")).to_be_visible()
    shot(worker, "field-queue")
    layout.check(worker)
    found = serious(worker) + serious(desk)

    # Unanswered past the acceptance target: the escalation job (run for that moment) is heard live
    # in the command room and on the phone, shown and said in each page's live region.
    with server.app.app_context():
        received = db.session.scalar(sa.select(Dispatch)).received_at
        assert jobs.run_all(received + timedelta(seconds=61))["escalate_unanswered"] == 1
        db.session.remove()
    for page in (desk, worker):
        expect(page.locator("#field-escalated")).to_contain_text(number)
        expect(page.locator("#announce")).to_contain_text(number)
        expect(page.locator("[data-dispatch][data-escalated=yes]", has_text=number)).to_have_count(1)

    card.click()
    expect(worker.locator("a[data-call]").first).to_have_attribute("href", "tel:+8613800138000")
    worker.locator("#field-accept").click()
    expect(worker.locator("#dispatch-status")).to_have_attribute("data-status", "accepted")
    worker.locator("#field-contacted-call").click()
    expect(worker.locator("#dispatch-status")).to_have_attribute("data-status", "contacted")
    layout.check(worker)
    found += serious(worker)
    worker.locator("#field-on-scene").click()
    expect(worker.locator("#dispatch-status")).to_have_attribute("data-status", "on_scene")
    shot(worker, "field-on-scene")
    layout.check(worker)
    found += serious(worker)
    assert not found, "\n".join(found)
    # Not settled on the spot: the worker records who is there and what happened, and refers it.
    worker.fill("textarea[name=present]", "王芳（身份证已核）、李雷（身份证已核）")
    worker.fill("textarea[name=facts]", "楼上每晚十二点后放音乐，双方同意线上调解。")
    worker.locator("#field-refer").click()
    expect(worker.locator("#dispatch-status")).to_have_attribute("data-status", "referred")
    layout.check(worker)  # no serious accessibility violation on the phone or in the command room
    # The command room's row moved on too (it reloads on each change).
    expect(desk.locator("tr[data-dispatch]", has_text=number)).to_have_count(0)  # closed: off the live list

    with server.app.app_context():
        dispatch = db.session.scalar(sa.select(Dispatch))
        assert dispatch.status is DispatchStatus.referred and dispatch.case.stage.value == "mediation"
        assert (dispatch.scene_lat, dispatch.scene_lng) == (40.0005, 116.4801)
        now = utcnow()
        assert callbacks.deliver_callbacks(now) == 0  # the sender's first answer is a 500
        db.session.commit()
        assert callbacks.deliver_callbacks(now + timedelta(seconds=5)) == 0  # still waiting its turn
        db.session.commit()
        assert callbacks.deliver_callbacks(now + timedelta(seconds=11)) == 4
        db.session.commit()
        assert callbacks.deliver_callbacks(now + timedelta(hours=3)) == 0
        db.session.commit()
        db.session.remove()

    assert [r["json"]["event"] for r in receiver.received] == ["accepted", "contacted", "on_scene", "referred"]
    for r in receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), r["body"], hashlib.sha256).hexdigest()
        headers = {k.lower(): v for k, v in r["headers"].items()}
        assert hmac.compare_digest(headers["x-odr-signature"], expected)
        assert r["json"]["case_number"] == number
    polled = requests.get(f"{server.url}/api/v1/intake/{TRANSFER['reference']}", timeout=10,
                          headers={"Authorization": f"Bearer {token}"}).json()
    assert polled["field"] == receiver.received[-1]["json"]["status"]
    layout.assert_all_fit()
