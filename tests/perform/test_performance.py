"""Performance of an agreement: receipts, confirmation and dispute, reminders and the yellow/red
alerts driven by the clock, the performed case and the dashboard's figures."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from odr import jobs
from odr.cases import audit, performance
from odr.cases.performance import Alert, ItemStatus, PerformanceItem
from odr.extensions import db
from odr.outbox import OutboxMessage
from tests.perform.conftest import PDF, PNG


def actions(case):
    return [ev.action for ev in audit.case_events(case)]


def report(client, p, item, data: bytes, name="receipt.png"):
    return client.post(f"/perform/{p.case.number}/items/{item.id}/done",
                       data={"receipt": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_paid_confirmed_disputed_reported_again_and_performed(app, client, login_en, scheduled):
    p, schedule = scheduled
    first, second = schedule.items
    login_en(client, p.respondent)
    page = client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    assert "Instalment 1: 1,200.00 yuan" in page and "Report done" in page
    assert report(client, p, first, PNG).status_code == 303
    assert report(client, p, second, PDF, "bank.pdf").status_code == 303
    db.session.expire_all()
    assert first.status is ItemStatus.reported and first.receipt_mimetype == "image/png"
    assert second.receipt_filename == "bank.pdf"
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == p.claimant.contact)).all()
    assert any(f"/perform/{p.case.number}" in body for body in told)

    login_en(client, p.claimant)
    with client.get(f"/perform/{p.case.number}/items/{first.id}/receipt") as receipt:
        assert receipt.status_code == 200 and receipt.data == PNG
    assert client.post(f"/perform/{p.case.number}/items/{first.id}/confirm").status_code == 303
    resp = client.post(f"/perform/{p.case.number}/items/{second.id}/dispute", data={"reason": "Nothing arrived."})
    assert resp.status_code == 303
    db.session.expire_all()
    assert first.status is ItemStatus.confirmed and second.status is ItemStatus.disputed
    assert schedule.performed_at is None

    login_en(client, p.respondent)
    assert "Nothing arrived." in client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    assert report(client, p, second, PDF, "bank2.pdf").status_code == 303
    login_en(client, p.claimant)
    assert client.post(f"/perform/{p.case.number}/items/{second.id}/confirm").status_code == 303
    db.session.expire_all()
    assert schedule.performed_at is not None and schedule.alert is Alert.ok
    trail = actions(p.case)
    assert trail.count("performance_item_reported") == 3 and trail.count("performance_item_confirmed") == 2
    assert trail[-1] == "case_performed" and "performance_item_disputed" in trail
    assert audit.verify_chain(audit.chain_name(p.case)) is None


@pytest.mark.parametrize("tried, data, name, status, message", [
    ("no file", None, None, 422, "Attach the receipt"),
    ("a text file", b"just some words", "receipt.png", 422, "A receipt must be a photo"),
    ("an empty file", b"", "receipt.pdf", 422, "The file is empty."),
    ("audio", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, "receipt.mp3", 422, "A receipt must be a photo"),
    ("too large", PDF + b"\x00" * 2048, "receipt.pdf", 422, "larger than"),
])
def test_bad_receipts_are_refused_and_nothing_changes(app, client, login_en, scheduled, tried, data, name, status, message):
    p, schedule = scheduled
    app.config["RECEIPT_MAX_BYTES"] = 1024 * 1024 if tried != "too large" else 1024
    if tried == "too large":
        app.config["RECEIPT_MAX_BYTES"] = len(PDF) + 1
    item = schedule.items[0]
    login_en(client, p.respondent)
    if data is None:
        resp = client.post(f"/perform/{p.case.number}/items/{item.id}/done", data={}, content_type="multipart/form-data")
    else:
        resp = report(client, p, item, data, name)
    assert resp.status_code == status and message in resp.get_data(as_text=True), tried
    db.session.expire_all()
    assert item.status is ItemStatus.pending and item.receipt_sha256 is None
    assert "performance_item_reported" not in actions(p.case)


def test_only_the_right_side_acts(app, client, login_en, scheduled):
    p, schedule = scheduled
    item = schedule.items[0]
    login_en(client, p.claimant)  # the payee may not report for the payer
    resp = report(client, p, item, PNG)
    assert resp.status_code == 409 and "Only the side that pays" in resp.get_data(as_text=True)
    assert client.post(f"/perform/{p.case.number}/items/{item.id}/confirm").status_code == 409  # not reported
    login_en(client, p.staff)
    assert report(client, p, item, PNG).status_code == 403
    login_en(client, p.outsider)
    assert client.get(f"/perform/{p.case.number}").status_code == 404
    login_en(client, p.respondent)
    assert report(client, p, item, PNG).status_code == 303
    # The payer may not confirm their own report; a dispute needs a reason.
    assert client.post(f"/perform/{p.case.number}/items/{item.id}/confirm").status_code == 409
    login_en(client, p.claimant)
    resp = client.post(f"/perform/{p.case.number}/items/{item.id}/dispute", data={"reason": "  "})
    assert resp.status_code == 422 and "Say what is wrong" in resp.get_data(as_text=True)
    assert client.post(f"/perform/{p.case.number}/items/2147483647/confirm").status_code == 404
    db.session.expire_all()
    assert item.status is ItemStatus.reported


def test_reminders_go_out_once_before_the_due_date(app, clock, scheduled):
    p, schedule = scheduled  # first item due 10 November; the clock reads 2 November

    def reminders():
        return [b for b in db.session.scalars(sa.select(OutboxMessage.body)
                                              .where(OutboxMessage.recipient == p.respondent.contact)).all()
                if "Reminder" in b or "提醒" in b]

    assert jobs.run_all(clock.now)["send_performance_reminders"] == 0
    clock.advance(days=5)  # 7 November: three days before
    assert jobs.run_all(clock.now)["send_performance_reminders"] == 1
    assert jobs.run_all(clock.now)["send_performance_reminders"] == 0
    assert len(reminders()) == 1 and "2026-11-10" in reminders()[0]


def test_an_unconfirmed_item_turns_the_case_yellow_then_red(app, clock, client, login_en, scheduled):
    p, schedule = scheduled
    clock.advance(days=8)  # 10 November, 09:00 in Beijing: due today, not late yet
    assert jobs.run_all(clock.now)["update_performance_alerts"] == 0
    assert schedule.alert is Alert.ok
    clock.advance(days=1)
    assert jobs.run_all(clock.now)["update_performance_alerts"] == 1
    db.session.expire_all()
    assert schedule.alert is Alert.yellow
    assert performance.figures().yellow == 1
    clock.advance(days=5)  # six days late: still yellow
    jobs.run_all(clock.now)
    db.session.expire_all()
    assert schedule.alert is Alert.yellow
    clock.advance(days=1)  # seven days late: red
    jobs.run_all(clock.now)
    db.session.expire_all()
    assert schedule.alert is Alert.red
    assert performance.figures().red == 1
    login_en(client, p.claimant)
    assert "Seriously late" in client.get(f"/perform/{p.case.number}").get_data(as_text=True)
    # Paid and confirmed late: the colour goes with it.
    login_en(client, p.respondent)
    assert report(client, p, schedule.items[0], PNG).status_code == 303
    login_en(client, p.claimant)
    assert client.post(f"/perform/{p.case.number}/items/{schedule.items[0].id}/confirm").status_code == 303
    db.session.expire_all()
    assert schedule.alert is Alert.ok


def test_voluntary_performance_rate_counts_schedules_due_in_the_period(app, clock, make_case, scheduled):
    p, schedule = scheduled  # last item due 2026-12-10
    other = make_case(claimant=p.claimant, respondent=p.respondent)
    performance.create_schedule(other, [performance.PlannedItem(date(2026, 11, 20), "All of it", None)],
                                payer_side="respondent", source="test:2")
    db.session.commit()
    assert performance.figures(period=(date(2026, 10, 1), date(2026, 10, 31))).voluntary_rate is None
    late = performance.figures(period=(date(2026, 11, 1), date(2026, 12, 31)))
    assert (late.due, late.performed_when_due, late.voluntary_rate, late.ok) == (2, 0, 0.0, 2)
    only_november = performance.figures(period=(date(2026, 11, 1), date(2026, 11, 30)))
    assert only_november.due == 1
    for item in schedule.items:
        item.status, item.reported_at = ItemStatus.confirmed, clock.now
    performance.refresh(schedule)
    db.session.commit()
    figures = performance.figures(period=(date(2026, 11, 1), date(2026, 12, 31)))
    assert (figures.performed_when_due, figures.due, figures.voluntary_rate, figures.ok) == (1, 2, 0.5, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PerformanceItem)) == 3


def test_the_dashboard_shows_late_agreements_and_the_voluntary_rate(app, clock, client, login_en, scheduled):
    p, schedule = scheduled
    clock.advance(days=20)  # the first instalment is ten days late: red
    jobs.run_all(clock.now)
    login_en(client, p.staff)
    page = client.get("/ops/").get_data(as_text=True)
    assert "Seriously late: 1" in page and "Late: 0" in page and "Voluntary performance rate" in page
    # Figures are counted over the cases asked about only.
    figures = performance.figures([p.org.id + 1000])
    assert (figures.red, figures.yellow) == (0, 0)


def test_the_schedule_carries_its_cases_organisation_and_follows_its_routing(app, scheduled, make_org, make_user):
    """The dashboard's figures read the case's organisation, district and category copied onto the
    schedule: they are the case's when it is made, and routing the case moves them with it."""
    from odr.auth.models import Role
    from odr.cases import operations as case_ops

    p, schedule = scheduled
    assert (schedule.organization_id, schedule.district, schedule.category) == (
        p.case.organization_id, p.case.district, "debt")
    assert performance.figures([p.org.id]).ok == 1
    other = make_org(name="海淀区人民调解委员会")
    case_ops.route_case(p.case, other, make_user(Role.admin))
    db.session.commit()
    db.session.refresh(schedule)
    assert schedule.organization_id == other.id
    assert performance.figures([p.org.id]).ok == 0
    assert performance.figures([other.id]).ok == 1
