"""Migrations that change data, run on a database of their own holding what the older schema held.

The audit trail's hash version 2 (migration 4b8e2d7c9f13): a database with chains hashed by
version 1 is upgraded to the newest schema; every chain ends with the version-2 re-anchoring entry
linked to its last old one, ``odr audit verify`` passes, new entries are version 2 and the first
checkpoint signs every chain's head, the columns the old hashes left out are still checked, and a
downgrade is refused once version-2 entries were written.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime

import pytest
import sqlalchemy as sa

from odr.cases.models import Case, Category, Channel, Stage
from odr.extensions import db
from tests import conftest

BEFORE_HASH_V2 = "8c4e1f2a6b30"
HASH_V2 = "4b8e2d7c9f13"


@pytest.fixture
def old_app(tmp_path, instance_path, worker_id):
    """An app on an empty database of this test's own, migrated to ``BEFORE_HASH_V2``."""
    url = os.environ.get("ODR_TEST_DATABASE_URL")
    url = conftest.ensure_postgres_database(url, f"{worker_id}_migrations") if url else f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = conftest.new_app(conftest.test_config(url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        _migrate(app, BEFORE_HASH_V2)
        yield app
        db.session.remove()
        db.engine.dispose()


def _migrate(app, revision, down=False):
    from flask_migrate import downgrade, upgrade

    from odr.cli import migrations

    # The session's open transaction would hold locks the migration waits for (PostgreSQL).
    db.session.remove()
    migrations(app)
    (downgrade if down else upgrade)(revision=revision)


def _v1_hash(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def _old_chain(conn, chain, case_id, entries):
    """Append version-1 entries ``(actor_id, actor, action, payload)`` as the old code wrote them."""
    prev = "0" * 64
    for seq, (actor_id, actor, action, payload) in enumerate(entries, 1):
        when = datetime(2026, 10, 1, 8, seq, 0, 123456)
        fields = {"chain": chain, "seq": seq, "actor": actor, "action": action, "payload": payload,
                  "time": when.isoformat(timespec="microseconds") + "Z", "prev_hash": prev}
        conn.execute(sa.text("INSERT INTO event (chain, seq, case_id, actor_id, actor, action, payload, created_at, "
                             "prev_hash, hash) VALUES (:chain, :seq, :case_id, :actor_id, :actor, :action, :payload, "
                             ":created_at, :prev_hash, :hash)"),
                     {"chain": chain, "seq": seq, "case_id": case_id, "actor_id": actor_id, "actor": actor,
                      "action": action, "payload": json.dumps(payload, ensure_ascii=False), "created_at": when,
                      "prev_hash": prev, "hash": _v1_hash(fields)})
        prev = _v1_hash(fields)
    return prev


def _old_case(number) -> Case:
    case = Case(number=number, category=Category.neighbour, description="楼上漏水", claim="赔偿", district="朝阳区",
                channel=Channel.web, stage=Stage.assessment)
    db.session.add(case)
    db.session.flush()
    return case


def test_hash_version_2_reanchors_every_chain_and_the_trail_verifies(old_app, capfd):
    from odr.cases import audit
    from odr.cases.models import Event

    # The cases table is as it was; the user table has gained columns since (elderly mode), so the
    # account is written as the old code wrote it, and so are the audit entries.
    from odr.auth.models import User

    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO \"user\" (email, name, failed_logins, created_at) "
                             "VALUES ('old@example.com', '老用户', 0, :now)"), {"now": datetime(2026, 10, 1)})
    user = db.session.scalar(sa.select(User.id).where(User.email == "old@example.com"))
    user = type("OldUser", (), {"id": user})()
    first, second = _old_case("ODR-2026-000001"), _old_case("ODR-2026-000002")
    db.session.commit()
    heads = {}
    with db.engine.begin() as conn:
        heads[f"case:{first.id}"] = _old_chain(conn, f"case:{first.id}", first.id, [
            (user.id, f"user:{user.id} 老用户", "case_filed", {"description": "楼上漏水", "amount_claimed": "1234.50"}),
            (user.id, f"user:{user.id} 老用户", "stage_changed", {"from": "consultation", "to": "assessment"}),
        ])
        heads[f"case:{second.id}"] = _old_chain(conn, f"case:{second.id}", second.id, [
            (None, "api:hotline", "case_filed", {"description": "噪音"}),
        ])
        heads["platform"] = _old_chain(conn, "platform", None, [
            (None, "system", "api_token_issued", {"client": "hotline"}),
        ])

    _migrate(old_app, "head")
    db.session.expire_all()
    for chain, head in heads.items():
        events = db.session.scalars(sa.select(Event).where(Event.chain == chain).order_by(Event.seq)).all()
        assert {e.hash_version for e in events[:-1]} == {1}
        last = events[-1]
        assert (last.action, last.hash_version, last.prev_hash, last.actor) == (audit.REANCHORED, 2, head, "system")
        assert last.case_id == audit.case_id_of(chain) and last.payload["entries_before"] == len(events) - 1
    runner = old_app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "3 chain(s) checked against 0 checkpoint(s), 0 broken" in result.output, result.output

    user = db.session.get(User, user.id)
    new = audit.record(first, user, "stage_changed", {"from": "assessment", "to": "mediation"})
    db.session.commit()
    assert new.hash_version == 2 and new.seq == 4
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0 and "3 chain head(s) signed" in result.output, result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "3 chain(s) checked against 1 checkpoint(s), 0 broken" in result.output

    # An old entry's case is outside its version-1 hash, and still checked.
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE event SET case_id = :other WHERE chain = :chain AND seq = 1"),
                     {"other": second.id, "chain": f"case:{first.id}"})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN {first.number} entry 1: its case" in result.output, result.output
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE event SET case_id = :id WHERE chain = :chain AND seq = 1"),
                     {"id": first.id, "chain": f"case:{first.id}"})

    # Version-2 entries were written: the old code could not check them, so no way back.
    _migrate(old_app, HASH_V2, down=True)  # the checkpoints' tables go
    with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits
        _migrate(old_app, BEFORE_HASH_V2, down=True)
    assert "1 audit entries were written with hash version 2" in capfd.readouterr().err
    assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == HASH_V2


def test_the_downgrade_removes_only_the_reanchoring_entries(old_app):
    case = _old_case("ODR-2026-000001")
    db.session.commit()
    with db.engine.begin() as conn:
        head = _old_chain(conn, f"case:{case.id}", case.id, [(None, "system", "case_filed", {})])
    _migrate(old_app, "head")
    _migrate(old_app, BEFORE_HASH_V2, down=True)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT seq, action, hash FROM event")).all()
    assert [tuple(r) for r in rows] == [(1, "case_filed", head)]
