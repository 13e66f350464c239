"""The sender hears of each status change: a signed JSON POST to a real HTTP server, retried with
backoff after a failure, delivered exactly once and in order; failing deliveries listed for staff."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from odr import jobs
from odr.cases import callbacks
from odr.extensions import db
from odr.field import operations as ops
from odr.field.models import Dispatch, DispatchStatus
from tests.api.openapi import load_spec, spec_validator
from tests.field.conftest import transfer


def _register(field_world, url):
    secret = callbacks.register(field_world.api_client, url)
    db.session.commit()
    return secret


def _walk(client, login, field_world, clock):
    resp = transfer(client, field_world.token)
    dispatch = db.session.scalar(sa.select(Dispatch))
    login(client, field_world.worker)
    for url, data in (("accept", None), ("contact", {"how": "call"}), ("scene", {"lat": "40", "lng": "116.48"})):
        clock.advance(seconds=30)
        assert client.post(f"/field/d/{dispatch.id}/{url}", data=data).status_code == 303
    return resp.get_json(), dispatch


def test_each_status_change_reaches_the_sender_once_signed_after_a_failure(client, login, field_world, clock,
                                                                           receiver):
    secret = _register(field_world, receiver.url)
    receiver.fail = 1  # the sender's first answer is a 500
    body, dispatch = _walk(client, login, field_world, clock)

    assert jobs.run_all(clock.now)["deliver_callbacks"] == 0  # the first attempt failed; the rest wait behind it
    assert receiver.received == []
    first = db.session.scalar(sa.select(callbacks.CallbackDelivery).order_by(callbacks.CallbackDelivery.id))
    assert first.attempts == 1 and first.last_error == "HTTP 500" and first.delivered_at is None
    assert first.next_attempt_at == clock.now + callbacks.backoff(1)

    clock.advance(seconds=5)  # before the backoff: nothing sent
    assert jobs.run_all(clock.now)["deliver_callbacks"] == 0
    clock.advance(seconds=10)
    assert jobs.run_all(clock.now)["deliver_callbacks"] == 3
    assert jobs.run_all(clock.advance(hours=2))["deliver_callbacks"] == 0  # nothing sent twice

    assert [r["json"]["event"] for r in receiver.received] == ["accepted", "contacted", "on_scene"]
    keys = [r["json"]["idempotency_key"] for r in receiver.received]
    assert len(set(keys)) == 3
    validator = spec_validator(load_spec(), "components", "schemas", "StatusCallback")
    for r in receiver.received:
        headers = {k.lower(): v for k, v in r["headers"].items()}
        expected = "sha256=" + hmac.new(secret.encode(), r["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-odr-signature"], expected)
        assert headers["idempotency-key"] == r["json"]["idempotency_key"]
        assert headers["x-odr-event"] == r["json"]["event"]
        assert int(headers["x-odr-timestamp"]) > 0
        assert r["json"]["reference"] == "110-0001" and r["json"]["case_number"] == body["case_number"]
        validator.validate(r["json"])
    last = receiver.received[-1]["json"]["status"]
    assert last["status"] == "on_scene" and last["steps"]["on_scene"]["seconds"] == 90
    assert last["steps"]["accept"] == {"at": last["steps"]["accept"]["at"], "seconds": 30, "target_seconds": 60,
                                       "met": True}
    # The same as the sender reads by polling.
    polled = client.get(f"/api/v1/intake/{body['reference']}", headers={"Authorization": f"Bearer {field_world.token}"})
    assert polled.get_json()["field"] == last


def test_a_wrong_signature_does_not_match(field_world):
    body = b'{"event":"accepted"}'
    assert callbacks.sign("secret", body) != callbacks.sign("other", body)
    assert callbacks.sign("secret", body) != callbacks.sign("secret", body + b" ")


def test_no_callback_registered_queues_nothing(client, login, field_world, clock):
    _walk(client, login, field_world, clock)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(callbacks.CallbackDelivery)) == 0


def test_failing_deliveries_are_listed_for_staff(client, login, field_world, clock, receiver):
    _register(field_world, receiver.url)
    receiver.fail = 100
    _walk(client, login, field_world, clock)
    for _ in range(callbacks.FAILING_AFTER):
        jobs.run_all(clock.now)
        clock.advance(hours=1)
    failing = callbacks.failing()
    assert [f.event for f in failing] == ["accepted"]  # the later ones wait behind it
    assert failing[0].attempts == callbacks.FAILING_AFTER

    login(client, field_world.staff)
    page = client.get("/ops/transfers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="failing-callbacks"' in html and receiver.url in html and failing[0].case.number in html

    # Once the sender answers again, everything goes through, in order.
    receiver.fail = 0
    jobs.run_all(clock.advance(hours=1))
    assert [r["json"]["event"] for r in receiver.received] == ["accepted", "contacted", "on_scene"]
    assert callbacks.failing() == []


def test_a_sender_that_does_not_answer_at_all(client, login, field_world, clock):
    _register(field_world, "http://127.0.0.1:9/nothing-listens-here")
    _walk(client, login, field_world, clock)
    jobs.run_all(clock.now)
    first = db.session.scalar(sa.select(callbacks.CallbackDelivery).order_by(callbacks.CallbackDelivery.id))
    assert first.attempts == 1 and first.last_error.startswith("no answer")


@pytest.mark.parametrize("url", ["", "ftp://example.org/x", "example.org/x", "http://", "http://a b/",
                                 "https://example.org/" + "x" * 500])
def test_bad_callback_urls_are_refused(field_world, url):
    with pytest.raises(callbacks.CallbackError):
        callbacks.register(field_world.api_client, url)


def test_the_cli_registers_a_callback(runner, field_world):
    result = runner.invoke(args=["api-token", "callback", "police-110", "https://police.example/odr"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().rsplit(" ", 1)[-1]
    row = db.session.get(callbacks.SenderCallback, field_world.api_client.id)
    assert row.url == "https://police.example/odr" and row.secret == secret
    bad = runner.invoke(args=["api-token", "callback", "police-110", "not a url"])
    assert bad.exit_code != 0
    unknown = runner.invoke(args=["api-token", "callback", "nobody", "https://x.example/"])
    assert unknown.exit_code != 0


def test_callbacks_hold_a_copy_of_the_status_at_the_change(client, login, field_world, clock, receiver):
    _register(field_world, receiver.url)
    _walk(client, login, field_world, clock)
    rows = list(db.session.scalars(sa.select(callbacks.CallbackDelivery).order_by(callbacks.CallbackDelivery.id)))
    assert [json.loads(r.body)["status"]["status"] for r in rows] == ["accepted", "contacted", "on_scene"]
    assert {r.event for r in rows} == {s.value for s in (DispatchStatus.accepted, DispatchStatus.contacted,
                                                         DispatchStatus.on_scene)}
    assert ops.status_of(db.session.scalar(sa.select(Dispatch)))["status"] == "on_scene"
