"""The outbox: a request sends only what it queued; several deliverers (requests in other
processes, the periodic jobs) never send one message twice; a deliverer that died leaves its
claimed message to be sent later."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from odr import outbox
from odr.extensions import db
from odr.outbox import OutboxMessage
from odr.timeutil import utcnow


def queued(*recipients):
    messages = [outbox.enqueue(r, "Notice", f"Hello {r}") for r in recipients]
    db.session.commit()
    return [m.id for m in messages]


def test_a_request_delivers_only_what_it_queued(app, client):
    (earlier,) = queued("+8613800000001")  # left pending: a sender was down, say
    assert client.post("/auth/code", data={"contact": "g@example.com"}).status_code == 200
    db.session.expire_all()
    code = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "g@example.com"))
    assert code.sent_at is not None and code.attempts == 1
    left = db.session.get(OutboxMessage, earlier)
    assert left.sent_at is None and left.attempts == 0  # the jobs send it, not somebody's request
    assert outbox.deliver_pending() == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, earlier).sent_at is not None


def test_concurrent_deliverers_send_each_message_once(app, monkeypatch):
    ids = queued(*[f"+86138000001{i:02d}" for i in range(30)])
    sent, lock = [], threading.Lock()

    def record(self, msg):
        with lock:
            sent.append(msg.id)

    monkeypatch.setattr(outbox.ConsoleSender, "send", record)
    start = threading.Barrier(4)
    counts = []

    def deliver():
        with app.app_context():
            start.wait()
            try:
                counts.append(outbox.deliver_pending())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(sent) == sorted(ids)  # every message, each exactly once
    assert sum(counts) == len(ids)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert all(m.sent_at is not None and m.attempts == 1 and m.claimed_until is None for m in rows)


def test_a_message_claimed_by_a_deliverer_that_died_is_sent_after_the_claim_lapses(app):
    (message_id,) = queued("+8613800000002")
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        attempts=1, claimed_until=utcnow() + timedelta(seconds=30)))
    db.session.commit()
    assert outbox.deliver_pending() == 0  # still someone else's
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert outbox.deliver_pending() == 1
    db.session.expire_all()
    msg = db.session.get(OutboxMessage, message_id)
    assert msg.sent_at is not None and msg.attempts == 2 and msg.claimed_until is None
