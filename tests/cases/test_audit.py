"""The hash chain: appended in order, verified, and broken links named."""

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
    ev_copy = Event(**{c: getattr(ev, c) for c in ("chain", "seq", "actor", "action", "created_at", "prev_hash")},
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
