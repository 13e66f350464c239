"""Electronic service with proof (odr.cases.service): the service address confirmation made when
joining (and changed later), notices served with a link for their recipient alone, what the carrier
answered (real senders: the console's log, an SMTP server that refuses the connection), failed
deliveries followed up, and the silent respondent reminded on the schedule by the moving platform
clock until the deadline, then recorded as not responding, which opens the way to court."""

from __future__ import annotations

import sqlalchemy as sa

from odr import jobs, outbox
from odr.cases import audit, workflow
from odr.cases.models import PartyStatus, Stage
from odr.cases.service import operations as service
from odr.cases.service.models import PartyService, ServiceRecord, ServiceTask
from odr.extensions import db
from odr.outbox import OutboxMessage


def _events(case):
    return [e.action for e in audit.case_events(case)]


def _records(case, **where):
    q = sa.select(ServiceRecord).where(ServiceRecord.case_id == case.id)
    for key, value in where.items():
        q = q.where(getattr(ServiceRecord, key) == value)
    return list(db.session.scalars(q.order_by(ServiceRecord.id)))


def test_the_invitation_is_served_with_a_link_of_its_own(app, make_case):
    case = make_case()
    [record] = _records(case, kind="invitation")
    assert record.channel == "sms" and record.address == "+8613900139000"
    assert record.target == f"/cases/join/{case.respondent.invite_token}"
    assert f"/s/{record.token}" in record.message.body and case.respondent.invite_token not in record.message.body
    assert len(record.document_sha256) == 64
    assert db.session.scalar(sa.select(PartyService.response_due_at).where(
        PartyService.party_id == case.respondent.id)) is not None
    outbox.deliver_pending()  # the console sender (embedded default) takes it: accepted by the carrier
    db.session.refresh(record)
    assert record.accepted_at is not None and record.error is None


def test_joining_confirms_where_the_party_accepts_service(app, client, login, make_case, make_user):
    case = make_case()
    token = case.respondent.invite_token
    me = make_user()
    login(client, me)
    page = client.get(f"/cases/join/{token}").get_data(as_text=True)
    assert 'name="service_phones"' in page and 'name="service_consent"' in page
    resp = client.post(f"/cases/join/{token}/accept", data={
        "service_phones": "13900139001，+86 139 0013 9002", "service_emails": "Me@Example.com", "service_consent": "y"})
    assert resp.status_code == 303
    state = db.session.scalar(sa.select(PartyService).where(PartyService.party_id == case.respondent.id))
    assert state.confirmed and state.phones == ["+8613900139001", "+8613900139002"] and state.emails == ["me@example.com"]
    actions = _events(case)
    assert actions[-2:] == ["party_joined", "service_address_confirmed"]
    # served from now on at the confirmed addresses, each with a link of its own
    records = service.serve(case, case.respondent, "proposal", "A proposal.", f"/cases/{case.number}")
    assert sorted(r.address for r in records) == ["+8613900139001", "+8613900139002", "me@example.com"]
    assert len({r.token for r in records}) == 3


def test_malformed_addresses_or_no_consent_are_refused_and_nothing_is_written(app, client, login, make_case, make_user):
    case = make_case()
    token = case.respondent.invite_token
    login(client, make_user())
    client.post("/lang", data={"lang": "en"})
    before = _events(case)
    for data, says in [
        ({"service_phones": "12345", "service_emails": "", "service_consent": "y"}, "valid phone number"),
        ({"service_phones": "", "service_emails": "not-an-address", "service_consent": "y"}, "valid e-mail"),
        ({"service_phones": "", "service_emails": "", "service_consent": "y"}, "at least one phone number"),
        ({"service_phones": "13900139001", "service_emails": ""}, "Consent to electronic service"),
        ({"service_phones": ",".join(f"1390013900{i}" for i in range(4)), "service_emails": "", "service_consent": "y"},
         "at most 3"),
    ]:
        resp = client.post(f"/cases/join/{token}/accept", data=data)
        assert resp.status_code == 422 and says in resp.get_data(as_text=True), (data, resp.status_code)
    db.session.expire_all()
    assert case.respondent.status is PartyStatus.invited and _events(case) == before
    assert db.session.scalar(sa.select(PartyService.confirmed_at).where(PartyService.party_id == case.respondent.id)) is None


def test_a_party_changes_the_addresses_later(app, client, login, make_case, make_user):
    respondent = make_user()
    case = make_case(respondent=respondent)
    login(client, respondent)
    assert client.get(f"/cases/{case.number}/service").status_code == 200
    resp = client.post(f"/cases/{case.number}/service/addresses", data={
        "service_phones": "13900139005", "service_emails": "", "service_consent": "y"})
    assert resp.status_code == 303
    state = db.session.scalar(sa.select(PartyService).where(PartyService.party_id == case.respondent.id))
    assert state.phones == ["+8613900139005"] and state.emails == []
    assert _events(case)[-1] == "service_address_confirmed"
    bad = client.post(f"/cases/{case.number}/service/addresses", data={"service_phones": "x1", "service_consent": "y"})
    assert bad.status_code == 422
    db.session.refresh(state)
    assert state.phones == ["+8613900139005"]


def test_a_service_link_opens_for_its_recipient_only(app, client, login, make_case, make_user, clock):
    respondent, stranger = make_user(), make_user()
    case = make_case(respondent=respondent)
    record = service.serve(case, case.respondent, "proposal", "A proposal.", f"/mediate/{case.number}/proposals")[0]
    db.session.commit()
    # signed out: sign in first
    resp = client.get(f"/s/{record.token}")
    assert resp.status_code == 302 and "/auth/login" in resp.location
    # another account, even a party of the case: refused, nothing recorded
    for other in (stranger, case.claimant.user):
        login(client, other)
        resp = client.get(f"/s/{record.token}")
        assert resp.status_code == 403 and "id=\"service-refused\"" in resp.get_data(as_text=True)
        db.session.refresh(record)
        assert record.first_opened_at is None
    login(client, respondent)
    opened_at = clock.now
    resp = client.get(f"/s/{record.token}")
    assert resp.status_code == 303 and resp.location.endswith(f"/mediate/{case.number}/proposals")
    db.session.refresh(record)
    assert record.first_opened_at == opened_at and _events(case)[-1] == "service_opened"
    clock.advance(hours=2)
    assert client.get(f"/s/{record.token}").status_code == 303
    db.session.refresh(record)
    assert record.first_opened_at == opened_at  # the first opening counts
    assert client.get("/s/" + "x" * 65).status_code == 404


def test_an_invitation_link_reused_by_another_account_after_joining_is_refused(app, client, login, make_case, make_user):
    case = make_case()
    [record] = _records(case, kind="invitation")
    resp = client.get(f"/s/{record.token}")  # before anyone joined: the invitation is open to its holder
    assert resp.status_code == 303 and resp.location.endswith(f"/cases/join/{case.respondent.invite_token}")
    respondent = make_user()
    from odr.cases import operations as ops

    ops.join_case(case.respondent, respondent)
    db.session.commit()
    login(client, make_user())
    assert client.get(f"/s/{record.token}").status_code == 403
    login(client, respondent)
    assert client.get(f"/s/{record.token}").status_code == 303


def test_a_failed_delivery_is_shown_to_staff_with_its_next_step(app, client, login, make_case, make_user, make_org):
    from odr.auth.models import Role

    center = make_org(takes_intake=True)
    staff = make_user(Role.staff, center)
    respondent = make_user(contact="+8613900139008")
    case = make_case(respondent=respondent, organization=center)
    service.confirm_addresses(case.respondent, respondent, ["+8613900139008"], ["resp@example.com"], True)
    outbox.deliver_pending()  # what was queued so far goes out by the console
    saved = dict(app.config), dict(app.extensions.get("odr_senders", {}))
    # a real SMTP client against a port where nothing listens: the carrier refuses
    app.config.update(EMAIL_SENDER="odr.outbox:SmtpSender", SMTP_HOST="127.0.0.1", SMTP_PORT=1)
    app.extensions["odr_senders"] = {}
    try:
        records = service.serve(case, case.respondent, "proposal", "A proposal.", f"/cases/{case.number}")
        db.session.commit()
        outbox.deliver_pending()
    finally:
        app.config.clear()
        app.config.update(saved[0])
        app.extensions["odr_senders"] = saved[1]
    email = next(r for r in records if r.channel == "email")
    sms = next(r for r in records if r.channel == "sms")
    db.session.refresh(email)
    db.session.refresh(sms)
    assert email.failed and "ConnectionRefusedError" in email.error and sms.accepted_at is not None
    login(client, staff)
    client.post("/lang", data={"lang": "en"})
    page = client.get(f"/cases/{case.number}/service").get_data(as_text=True)
    assert "Failed deliveries" in page and "Serve by the other channel" in page and "resp@example.com" in page
    assert "A delivery failed" in client.get(f"/cases/{case.number}").get_data(as_text=True)
    resp = client.post(f"/cases/{case.number}/service/records/{email.id}/follow-up")
    assert resp.status_code == 303
    again = _records(case, kind="proposal", channel="sms")
    assert len(again) == 2 and again[-1].document_sha256 == email.document_sha256
    assert client.post(f"/cases/{case.number}/service/records/{email.id}/follow-up").status_code == 409
    # a party may not follow deliveries up
    login(client, respondent)
    assert client.post(f"/cases/{case.number}/service/records/{email.id}/follow-up").status_code == 403


def test_a_silent_respondent_is_reminded_on_schedule_then_recorded_as_not_responding(app, make_case, clock):
    case = make_case()  # the respondent is invited by SMS (+8613900139000) and never answers
    db.session.commit()
    jobs.run_all()
    assert _records(case, kind="reminder") == []
    clock.advance(days=1, minutes=1)
    jobs.run_all()
    [first] = _records(case, kind="reminder")
    assert first.channel == "sms" and first.accepted_at is not None and case.number in first.text
    jobs.run_all()  # the same step is not repeated
    assert len(_records(case, kind="reminder")) == 1
    clock.advance(days=2)  # day 3: e-mail — no address there, so the SMS again
    jobs.run_all()
    assert len(_records(case, kind="reminder")) == 2
    clock.advance(days=2)  # day 5: a call task for the centre's staff
    jobs.run_all()
    [task] = db.session.scalars(sa.select(ServiceTask).where(ServiceTask.case_id == case.id)).all()
    assert task.kind == "call" and task.done_at is None
    assert workflow.refusal(case, Stage.litigation, case.claimant.user) is not None
    clock.advance(days=2)  # day 7: the deadline passed
    jobs.run_all()
    db.session.expire_all()
    state = service.no_response(case)
    assert state is not None and state.no_response_at == clock.now
    ev = next(e for e in audit.case_events(case) if e.action == "respondent_did_not_respond")
    assert [s["kind"] for s in ev.payload["served"]] == ["invitation", "reminder", "reminder"]
    assert all(s["accepted_at"] for s in ev.payload["served"])
    [told] = _records(case, kind="no_response")
    assert told.party_id == case.claimant.id
    jobs.run_all()  # recorded once
    assert _events(case).count("respondent_did_not_respond") == 1
    # the claimant may now go to court straight from the consultation
    assert workflow.refusal(case, Stage.litigation, case.claimant.user) is None
    workflow.move(case, Stage.litigation, case.claimant.user)
    db.session.commit()


def test_reminders_stop_when_the_respondent_answers(app, make_case, make_user, clock):
    from odr.cases import operations as ops

    case = make_case()
    db.session.commit()
    clock.advance(days=1, minutes=1)
    jobs.run_all()
    ops.join_case(case.respondent, make_user())
    db.session.commit()
    clock.advance(days=10)
    jobs.run_all()
    assert len(_records(case, kind="reminder")) == 1 and service.no_response(case) is None


def test_the_schedule_is_configurable(app, make_case, clock):
    app.config["SERVICE_REMINDERS"] = [{"day": 2, "channel": "call"}]
    try:
        case = make_case()
        db.session.commit()
        clock.advance(days=1, minutes=1)
        jobs.run_all()
        assert not service.open_tasks(case)
        clock.advance(days=1)
        jobs.run_all()
        assert len(service.open_tasks(case)) == 1 and _records(case, kind="reminder") == []
    finally:
        app.config["SERVICE_REMINDERS"] = [{"day": 1, "channel": "sms"}, {"day": 3, "channel": "email"},
                                           {"day": 5, "channel": "call"}]


def test_staff_record_the_call(app, client, login, make_case, make_user, make_org):
    from odr.auth.models import Role

    center = make_org(takes_intake=True)
    staff = make_user(Role.staff, center)
    case = make_case(organization=center)
    task = service.add_call_task(case, case.respondent, "reminder day 5")
    db.session.commit()
    login(client, staff)
    assert client.post(f"/cases/{case.number}/service/tasks/{task.id}/done", data={"note": ""}).status_code == 400
    assert client.post(f"/cases/{case.number}/service/tasks/{task.id}/done", data={"note": "No answer."}).status_code == 303
    db.session.refresh(task)
    assert task.done_at is not None and task.note == "No answer." and _events(case)[-1] == "service_call_done"
    assert client.post(f"/cases/{case.number}/service/tasks/{task.id}/done", data={"note": "Again."}).status_code == 409


def test_serving_the_invitation_leaves_the_party_free_to_join_in_the_same_session(app, make_case, make_user):
    from odr.cases import operations as ops
    from odr.cases.notices import party_signers

    case = make_case()
    service.serve(case, case.respondent, "reminder", "Reminder.", "/")  # before anyone joined
    respondent = make_user()
    ops.join_case(case.respondent, respondent)
    assert [name for _user, _side, name in party_signers(case)][1] == respondent.name
