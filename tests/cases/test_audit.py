"""The hash chain: appended in order, verified, and broken links named."""

import hashlib

import pytest
import sqlalchemy as sa

from odr.cases import audit, workflow
from odr.cases.models import Event, Stage
from odr.extensions import db


def _tamper(sql, **params):
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    db.session.expire_all()


def test_chain_links_and_verifies(make_case):
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    events = audit.case_events(case)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert audit.verify_chain(audit.chain_name(case)) is None


def test_changed_payload_is_named(make_case):
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    ev = audit.case_events(case)[1]
    _tamper("UPDATE event SET payload = :p WHERE id = :id", p='{"from": "consultation", "to": "litigation"}',
            id=ev.id)
    broken = audit.verify_chain(audit.chain_name(case))
    assert broken.seq == 2 and "does not match" in broken.reason


def test_removed_entry_is_named(make_case):
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    ev = audit.case_events(case)[1]
    _tamper("DELETE FROM event WHERE id = :id", id=ev.id)
    broken = audit.verify_chain(audit.chain_name(case))
    assert broken.seq == 2 and "missing" in broken.reason


def test_rehashed_entry_still_breaks_the_next_link(make_case):
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    ev = audit.case_events(case)[1]
    ev_copy = Event(**{c: getattr(ev, c) for c in ("chain", "seq", "case_id", "actor_id", "actor", "action",
                                                   "created_at", "prev_hash", "hash_version")},
                    payload={"from": "consultation", "to": "arbitration"})
    _tamper("UPDATE event SET payload = :p, hash = :h WHERE id = :id",
            p='{"from": "consultation", "to": "arbitration"}', h=audit.compute_hash(ev_copy), id=ev.id)
    broken = audit.verify_chain(audit.chain_name(case))
    assert broken.seq == 3 and "previous" in broken.reason


def test_orm_refuses_to_change_or_delete_events(make_case):
    import pytest

    case = make_case()
    ev = audit.case_events(case)[0]
    ev.action = "something_else"
    with pytest.raises(audit.AuditTamperingError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(audit.case_events(case)[0])
    with pytest.raises(audit.AuditTamperingError):
        db.session.flush()
    db.session.rollback()


def test_payload_with_chinese_text_and_amounts_round_trips(make_case):
    from decimal import Decimal

    case = make_case(description="楼上漏水，天花板发霉，已拍照留证。", amount_claimed=Decimal("1234.50"))
    db.session.expire_all()
    ev = audit.case_events(case)[0]
    assert ev.payload["amount_claimed"] == "1234.50" and "漏水" in ev.payload["description"]
    assert audit.verify_chain(audit.chain_name(case)) is None


def test_cli_verify_reports_and_exits_non_zero(make_case, runner):
    good = make_case()
    bad = make_case(stages=(Stage.assessment,))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "0 broken" in result.output
    ev = audit.case_events(bad)[1]
    _tamper("UPDATE event SET actor = 'user:999 Someone Else' WHERE id = :id", id=ev.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN {bad.number} entry 2: " in result.output and "1 broken" in result.output
    assert f"case:{bad.id}" not in result.output  # named as people know the case, not by its row
    result = runner.invoke(args=["audit", "verify", good.number])
    assert result.exit_code == 0
    result = runner.invoke(args=["audit", "verify", bad.number])
    assert result.exit_code == 1
    result = runner.invoke(args=["audit", "verify", "ODR-1999-000000"])
    assert result.exit_code != 0 and "No case" in result.output


def test_workflow_move_without_commit_leaves_no_event_behind(make_case):
    case = make_case()
    workflow.move(case, Stage.assessment, case.claimant.user)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Event.id)).where(Event.case_id == case.id)) == 1


@pytest.mark.parametrize("column, value, reason", [
    ("payload", "{not json", "its payload is not JSON"),
    ("created_at", "yesterday at noon", "its time cannot be read"),
])
def test_an_unreadable_entry_is_named_not_raised(app, make_case, runner, tmp_path, column, value, reason):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's json and timestamp columns refuse such values")
    case = make_case(stages=(Stage.assessment, Stage.mediation))
    ev = audit.case_events(case)[1]
    _tamper(f"UPDATE event SET {column} = :v WHERE id = :id", v=value, id=ev.id)
    broken = audit.verify_chain(audit.chain_name(case))
    assert (broken.seq, broken.label) == (2, case.number) and reason in broken.reason
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN {case.number} entry 2: {reason}" in result.output, result.output
    out = tmp_path / "bundle.zip"
    result = runner.invoke(args=["export", case.number, "-o", str(out)])
    assert result.exit_code == 1 and f"entry 2 of the case's audit trail cannot be read: {reason}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_new_entries_cover_the_case_and_the_actors_account(make_case):
    case = make_case(stages=(Stage.assessment,))
    ev = audit.case_events(case)[1]
    assert ev.hash_version == audit.HASH_VERSION == 2
    fields = audit.entry_fields(ev)
    assert set(fields) == audit.FIELDS[2] and (fields["v"], fields["case_id"]) == (2, case.id)
    assert fields["actor_id"] == case.claimant.user.id


@pytest.mark.parametrize("sql", [
    "UPDATE event SET case_id = :other WHERE id = :id",
    "UPDATE event SET actor_id = :actor WHERE id = :id",
    "UPDATE event SET actor_id = NULL WHERE id = :id",
])
def test_an_edited_case_or_actor_account_is_named(make_case, make_user, runner, sql):
    case, other = make_case(stages=(Stage.assessment,)), make_case()
    ev = audit.case_events(case)[1]
    _tamper(sql, other=other.id, actor=make_user().id, id=ev.id)
    broken = audit.verify_chain(audit.chain_name(case))
    assert broken.seq == 2 and "is not the" in broken.reason, broken
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN {case.number} entry 2: its " in result.output


def test_an_edited_case_is_named_even_with_its_hash_computed_again(make_case):
    case, other = make_case(stages=(Stage.assessment,)), make_case()
    ev = audit.case_events(case)[1]
    moved = Event(**{c: getattr(ev, c) for c in ("chain", "seq", "actor_id", "actor", "action", "payload",
                                                 "created_at", "prev_hash", "hash_version")}, case_id=other.id)
    _tamper("UPDATE event SET case_id = :other, hash = :h WHERE id = :id", other=other.id,
            h=audit.compute_hash(moved), id=ev.id)
    broken = audit.verify_chain(audit.chain_name(case))
    assert broken.seq == 2 and f"its case (case_id {other.id}) is not the chain's" == broken.reason


def _chain(*specs, chain="case:7"):
    """Entries of ``chain`` as the export writes them, each hashed by its own version:
    ``(version, action)`` per entry."""
    entries, prev = [], audit.GENESIS
    for seq, (version, action) in enumerate(specs, 1):
        entry = {"chain": chain, "seq": seq, "actor": "system", "action": action, "payload": {},
                 "time": f"2026-11-0{seq}T00:00:00.000000Z", "prev_hash": prev}
        if version == 2:
            entry.update(v=2, case_id=audit.case_id_of(chain), actor_id=None)
        entry["hash"] = hashlib.sha256(audit.canonical_json(entry)).hexdigest()
        entries.append(entry)
        prev = entry["hash"]
    return entries


def test_old_entries_then_the_reanchoring_entry_then_new_ones_verify():
    assert audit.verify_entries("case:7", _chain((1, "case_filed"), (1, "stage_changed"),
                                                 (2, audit.REANCHORED), (2, "stage_changed"))) is None
    assert audit.verify_entries("case:7", _chain((2, "case_filed"), (2, "stage_changed"))) is None


@pytest.mark.parametrize("specs, seq, reason", [
    (((1, "case_filed"), (2, "stage_changed")), 2, "changes without the audit_reanchored entry"),
    (((1, "case_filed"), (2, audit.REANCHORED), (1, "stage_changed")), 3, "never goes back"),
    (((2, "case_filed"), (1, "stage_changed")), 2, "never goes back"),
])
def test_a_chain_changes_its_hash_version_only_once_and_forward(specs, seq, reason):
    broken = audit.verify_entries("case:7", _chain(*specs))
    assert broken.seq == seq and reason in broken.reason, broken


def test_an_entry_with_fields_of_another_version_or_an_unknown_one_is_named():
    entries = _chain((2, "case_filed"))
    del entries[0]["actor_id"]
    assert "not those of hash version 2" in audit.verify_entries("case:7", entries).reason
    entries = _chain((1, "case_filed"))
    entries[0]["case_id"] = 7
    assert "not those of hash version 1" in audit.verify_entries("case:7", entries).reason
    entries = _chain((2, "case_filed"))
    entries[0]["v"] = 3
    assert "unknown hash version 3" in audit.verify_entries("case:7", entries).reason
    entries = _chain((2, "case_filed"), chain="case:8")
    assert "is not the chain's" in audit.verify_entries("case:8", [{**entries[0], "case_id": 9}]).reason
