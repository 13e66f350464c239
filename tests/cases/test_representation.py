"""Agents and helpers: appointing with a power of attorney, review, acting on the party's behalf,
read-only scope, revocation taking effect at once (pages and Socket.IO), and bad input."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from odr.auth.models import User
from odr.cases import audit
from odr.cases import representation as reps
from odr.cases.models import Event, Representation, RepresentationStatus, RepresentativeKind, Scope
from odr.extensions import db
from odr.mediate.models import Proposal, RoomMessage
from odr.outbox import OutboxMessage
from odr.uploads import path_for

#: A minimal PDF (the power of attorney).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


@pytest.fixture
def m(mediation):
    return mediation


def en(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def appoint(client, case, **form):
    data = {"kind": "agent", "name": "Lawyer Wang", "phone": "", "email": "wang@law.example", "scope": "act",
            "power_of_attorney": (io.BytesIO(PDF), "authorisation.pdf")}
    data.update(form)
    if data.get("power_of_attorney") is None:
        data.pop("power_of_attorney")
    return client.post(f"/cases/{case.number}/representatives", data=data, content_type="multipart/form-data")


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Representation, Event,
                                                                                        OutboxMessage))


def only_rep() -> Representation:
    return db.session.scalars(sa.select(Representation)).one()


def active_agent(client, login, m, make_user, scope="act"):
    """The claimant appoints an agent; the agent accepts; the mediator accepts the power of attorney."""
    agent = db.session.scalar(sa.select(User).where(User.email == "wang@law.example")) or \
        make_user(name="Lawyer Wang", contact="wang@law.example")
    en(login(client, m.claimant))
    assert appoint(client, m.case, scope=scope).status_code == 303
    rep = db.session.scalars(sa.select(Representation).order_by(Representation.id.desc())).first()
    token = rep.invite_token
    login(client, agent)
    assert client.post(f"/cases/represent/{token}/accept").status_code == 303
    login(client, m.mediator)
    resp = client.post(f"/cases/{m.case.number}/representatives/{rep.id}/review", data={"decision": "accept"})
    assert resp.status_code == 303
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.active
    return agent, rep


def test_agent_is_appointed_accepted_acts_on_behalf_and_is_revoked(client, login, m, make_user):
    agent = make_user(name="Lawyer Wang", contact="wang@law.example")
    en(login(client, m.claimant))
    resp = appoint(client, m.case)
    assert resp.status_code == 303
    rep = only_rep()
    assert (rep.kind, rep.scope, rep.status, rep.poa_mimetype) == \
        (RepresentativeKind.agent, Scope.act, RepresentationStatus.invited, "application/pdf")
    assert path_for(rep.poa_sha256).read_bytes() == PDF
    invitation = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "wang@law.example"))
    assert f"/cases/represent/{rep.invite_token}" in invitation.body

    # Before accepting, the agent sees nothing of the case.
    login(client, agent)
    assert client.get(f"/cases/{m.case.number}").status_code == 404
    en(client)
    page = client.get(f"/cases/represent/{rep.invite_token}").get_data(as_text=True)
    assert "Zhang San" in page and m.case.number in page
    assert client.post(f"/cases/represent/{rep.invite_token}/accept").status_code == 303
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.review and rep.user_id == agent.id
    # Waiting for the review: still nothing.
    assert client.get(f"/cases/{m.case.number}").status_code == 404
    assert client.get(f"/cases/{m.case.number}/representatives/{rep.id}/power-of-attorney").status_code == 404

    # Staff of another organisation and the other party may not review; the mediator does.
    login(client, m.respondent)
    assert client.post(f"/cases/{m.case.number}/representatives/{rep.id}/review",
                       data={"decision": "accept"}).status_code == 403
    assert client.get(f"/cases/{m.case.number}/representatives/{rep.id}/power-of-attorney").status_code == 404
    en(login(client, m.mediator))
    page = client.get(f"/cases/{m.case.number}/representatives").get_data(as_text=True)
    assert f"review-{rep.id}" in page
    with client.get(f"/cases/{m.case.number}/representatives/{rep.id}/power-of-attorney") as poa:
        assert poa.data == PDF and poa.mimetype == "application/pdf"
        assert poa.headers["X-Content-Type-Options"] == "nosniff"
    assert client.post(f"/cases/{m.case.number}/representatives/{rep.id}/review",
                       data={"decision": "accept"}).status_code == 303

    # The agent now has the claimant's view of this case, and acts: a message, an answer to a proposal.
    login(client, m.mediator)
    client.post(f"/mediate/{m.case.number}/proposals", data={"terms": "Quiet after 22:00.", "amount": ""})
    proposal = db.session.scalars(sa.select(Proposal)).one()
    en(login(client, agent))
    assert client.get(f"/cases/{m.case.number}").status_code == 200
    assert client.post(f"/mediate/{m.case.number}/room", data={"thread": "joint", "body": "I write for my client."}
                       ).status_code == 303
    assert client.post(f"/mediate/{m.case.number}/proposals/{proposal.id}/answer",
                       data={"decision": "accept"}).status_code == 303
    message = db.session.scalars(sa.select(RoomMessage)).one()
    assert message.sender_id == agent.id
    answered = [e for e in audit.case_events(m.case) if e.action in ("room_message", "proposal_answered")]
    assert [e.actor_id for e in answered] == [agent.id, agent.id]
    for ev in answered:
        assert ev.payload["on_behalf_of"] == {"representation": rep.id, "as": "agent", "side": "claimant",
                                              "party": "Zhang San", "party_user": m.claimant.id}
    assert answered[1].payload["side"] == "claimant"
    # The history says so, to everyone who reads it.
    en(login(client, m.respondent))
    history = client.get(f"/cases/{m.case.number}").get_data(as_text=True)
    assert "Lawyer Wang on behalf of Zhang San" in history
    # The agent sees their represented case in their list; another case stays hidden.
    login(client, agent)
    assert m.case.number in client.get("/cases/").get_data(as_text=True)

    # The party revokes; the agent is refused at once, on pages and on the same stale form.
    en(login(client, m.claimant))
    assert client.post(f"/cases/{m.case.number}/representatives/{rep.id}/revoke").status_code == 303
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.revoked and rep.revoked_at is not None
    before = db.session.scalar(sa.select(sa.func.count(RoomMessage.id)))
    login(client, agent)
    assert client.get(f"/cases/{m.case.number}").status_code == 404
    assert client.post(f"/mediate/{m.case.number}/room", data={"thread": "joint", "body": "Still here?"}
                       ).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(RoomMessage.id))) == before
    assert m.case.number not in client.get("/cases/").get_data(as_text=True)
    assert audit.verify_chain(audit.chain_name(m.case)) is None
    assert [e.action for e in audit.case_events(m.case) if e.action.startswith(("represent", "power"))] == [
        "representative_appointed", "representative_accepted", "power_of_attorney_accepted",
        "representative_revoked"]


def test_refused_power_of_attorney_needs_a_reason_and_gives_no_access(client, login, m, make_user):
    agent = make_user(contact="wang@law.example")
    login(client, m.claimant)
    appoint(client, m.case)
    rep = only_rep()
    login(client, agent)
    client.post(f"/cases/represent/{rep.invite_token}/accept")
    en(login(client, m.staff))
    url = f"/cases/{m.case.number}/representatives/{rep.id}/review"
    resp = client.post(url, data={"decision": "refuse", "reason": ""})
    assert resp.status_code == 400 and "Say why" in resp.get_data(as_text=True)
    assert client.post(url, data={"decision": "refuse", "reason": "Not signed by the party."}).status_code == 303
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.refused and rep.review_reason == "Not signed by the party."
    assert client.post(url, data={"decision": "accept"}).status_code == 409  # decided already
    login(client, agent)
    assert client.get(f"/cases/{m.case.number}").status_code == 404


def test_read_only_helper_reads_and_is_refused_every_change(client, login, m, make_user):
    helper = make_user(name="Daughter Zhang", contact="+8613800138000")
    en(login(client, m.claimant))
    resp = appoint(client, m.case, kind="helper", name="Daughter Zhang", phone="13800138000", email="",
                   scope="read", power_of_attorney=None)
    assert resp.status_code == 303
    rep = only_rep()
    assert rep.poa_sha256 is None and rep.phone == "+8613800138000"
    login(client, helper)
    assert client.post(f"/cases/represent/{rep.invite_token}/accept").status_code == 303
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.active  # a helper needs no review
    en(client)
    page = client.get(f"/cases/{m.case.number}")
    assert page.status_code == 200 and "may read this case for a party, not act" in page.get_data(as_text=True)
    assert client.get(f"/mediate/{m.case.number}/room").status_code == 200
    before = counts()
    resp = client.post(f"/mediate/{m.case.number}/room", data={"thread": "joint", "body": "Hello"})
    assert resp.status_code == 403 and "only read" in resp.get_data(as_text=True)
    assert client.post(f"/cases/{m.case.number}/move", data={"to": "withdrawn"}).status_code == 403
    assert counts() == before
    # Outside a request too: the audit trail refuses whatever a read-only helper would write.
    with pytest.raises(reps.ReadOnlyRefused):
        audit.record(m.case, helper, "room_message", {"body": "sneaked"})
    db.session.rollback()


def test_helper_who_acts_never_signs_and_helper_sign_scope_is_refused(client, login, m, make_user):
    en(login(client, m.claimant))
    before = counts()
    resp = appoint(client, m.case, kind="helper", scope="sign", power_of_attorney=None)
    assert resp.status_code == 400 and "never signs" in resp.get_data(as_text=True)
    assert counts() == before
    with pytest.raises(reps.RepresentationError):
        reps.appoint(m.case, m.claimant, RepresentativeKind.helper, Scope.sign, "X", None, "x@example.com")
    db.session.rollback()
    # The database refuses it as well.
    db.session.add(Representation(case_id=m.case.id, party_id=m.case.claimant.id, kind=RepresentativeKind.helper,
                                  scope=Scope.sign, status=RepresentationStatus.invited, name="X",
                                  appointed_by_id=m.claimant.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("form, status, message", [
    ({"power_of_attorney": (io.BytesIO(EXE), "authorisation.pdf")}, 400, "must be a PDF or a photo"),
    ({"power_of_attorney": (io.BytesIO(b""), "empty.pdf")}, 400, "empty"),
    ({"power_of_attorney": None}, 400, "Upload the power of attorney"),
    ({"email": "", "phone": ""}, 400, "phone number or e-mail"),
    ({"phone": "not a phone"}, 400, ""),
    ({"kind": "boss"}, 400, "Not a valid choice"),
    ({"scope": "everything"}, 400, "Not a valid choice"),
    ({"name": ""}, 400, ""),
])
def test_bad_appointments_are_refused_and_nothing_is_written(client, login, m, form, status, message):
    en(login(client, m.claimant))
    before = counts()
    resp = appoint(client, m.case, **form)
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert counts() == before


def stored_files():
    from odr.uploads import upload_folder

    return sorted(p.name for p in upload_folder().rglob("*") if p.is_file())


def test_too_large_power_of_attorney_is_refused_and_nothing_is_stored(app, client, login, m):
    app.config["POWER_OF_ATTORNEY_MAX_BYTES"] = 4096
    en(login(client, m.claimant))
    before, files = counts(), stored_files()
    # Over the request's cap: refused before the form is read.
    resp = appoint(client, m.case, power_of_attorney=(io.BytesIO(PDF + b"0" * 100_000), "big.pdf"))
    assert resp.status_code == 413 and "larger than" in resp.get_data(as_text=True)
    # Over the limit but under the request's margin: refused while it is stored.
    resp = appoint(client, m.case, power_of_attorney=(io.BytesIO(PDF + b"0" * 5000), "big.pdf"))
    assert resp.status_code == 400 and "larger than" in resp.get_data(as_text=True)
    resp = appoint(client, m.case, power_of_attorney=(io.BytesIO(EXE), "a.pdf"))
    assert resp.status_code == 400
    assert counts() == before and stored_files() == files


def test_a_photo_is_a_valid_power_of_attorney(client, login, m):
    login(client, m.claimant)
    assert appoint(client, m.case, power_of_attorney=(io.BytesIO(PNG), "scan.exe")).status_code == 303
    rep = only_rep()
    assert rep.poa_mimetype == "image/png" and rep.poa_filename == "scan.png"


def test_appointing_yourself_the_other_side_or_on_another_case_is_refused(client, login, m, make_case, make_user):
    other = make_case()
    en(login(client, m.claimant))
    before = counts()
    resp = appoint(client, m.case, email=m.claimant.email)
    assert resp.status_code == 400 and "cannot appoint yourself" in resp.get_data(as_text=True)
    resp = appoint(client, m.case, email=m.respondent.email)
    assert resp.status_code == 400 and "other party cannot act for you" in resp.get_data(as_text=True)
    # Someone else's case: not even known to exist.
    assert appoint(client, other).status_code == 404
    # The mediator, staff and the other party may see the page but not appoint for a party.
    for who in (m.mediator, m.staff):
        login(client, who)
        assert appoint(client, m.case).status_code == 403
    assert counts() == before


def test_the_invitation_cannot_be_taken_by_a_party_and_a_representative_cannot_join_the_other_side(
        client, login, m, make_user, make_case):
    en(login(client, m.claimant))
    appoint(client, m.case, email="someone@example.com")
    rep = only_rep()
    # The other party opens the forwarded link: refused, nothing changes.
    login(client, m.respondent)
    resp = client.post(f"/cases/represent/{rep.invite_token}/accept")
    assert resp.status_code == 409 and "party to this case" in resp.get_data(as_text=True)
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.invited and rep.user_id is None
    # A representative of the claimant cannot take the respondent's seat in the same case.
    pending = make_case(claimant=m.claimant)
    login(client, m.claimant)
    appoint(client, pending, email="agent2@example.com", kind="helper", power_of_attorney=None)
    helper_rep = db.session.scalar(sa.select(Representation).where(Representation.case_id == pending.id))
    helper = make_user()
    login(client, helper)
    assert client.post(f"/cases/represent/{helper_rep.invite_token}/accept").status_code == 303
    resp = client.post(f"/cases/join/{pending.respondent.invite_token}/accept")
    assert resp.status_code == 409
    db.session.refresh(pending.respondent)
    assert pending.respondent.user_id is None


def test_only_the_represented_party_revokes(client, login, m, make_user):
    agent, rep = active_agent(client, login, m, make_user)
    url = f"/cases/{m.case.number}/representatives/{rep.id}/revoke"
    for who in (m.respondent, m.mediator, agent):
        login(client, who)
        assert client.post(url).status_code == 403
    login(client, m.outsider)
    assert client.post(url).status_code == 404
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.active
    login(client, m.claimant)
    assert client.post(url).status_code == 303
    assert client.post(url).status_code == 409  # already revoked


def test_an_agent_may_not_appoint_others(client, login, m, make_user):
    agent, rep = active_agent(client, login, m, make_user)
    login(client, agent)
    assert appoint(client, m.case, email="third@example.com").status_code == 403


def test_revocation_refuses_the_next_socket_event_of_an_open_video_connection(app, client, login, m, make_user):
    """A video room opened for the session: the agent's open connection is refused right after the
    party revokes (each event checks the sender's part in the case again)."""
    from odr.cases import rooms

    agent, rep = active_agent(client, login, m, make_user)
    room = rooms.keeper().open(m.case, m.mediator, "mediation")
    db.session.commit()
    login(client, agent)
    sio = app.extensions["socketio"].test_client(app, namespace="/video", flask_test_client=client)
    assert sio.is_connected("/video")
    joined = sio.emit("join", {"room_id": room.id}, namespace="/video", callback=True)
    assert joined["ok"] is True
    reps.revoke(rep, m.claimant)
    db.session.commit()
    answer = sio.emit("join", {"room_id": room.id}, namespace="/video", callback=True)
    assert answer["ok"] is False
    sio.disconnect(namespace="/video")


def test_demo_has_a_party_with_a_helper_and_one_with_an_agent(app):
    from odr.demo import ACCOUNTS
    from tests.snapshot import load_demo

    load_demo()
    contacts = {role: contact for role, contact, _name in ACCOUNTS}
    active = db.session.scalars(sa.select(Representation).where(
        Representation.status == RepresentationStatus.active).order_by(Representation.id)).all()
    assert [(r.kind, r.scope, r.party.side.value, r.user.contact) for r in active] == [
        (RepresentativeKind.helper, Scope.act, "claimant", contacts["helper"]),
        (RepresentativeKind.agent, Scope.act, "respondent", contacts["agent"])]
    agent = active[1]
    assert path_for(agent.poa_sha256).read_bytes().startswith(b"%PDF-") and agent.reviewed_by_id is not None
    case = agent.case
    assert {"respondent", "agent"} <= case.roles_of(agent.user)
    assert case.is_open and audit.verify_chain(audit.chain_name(case)) is None


def test_an_agent_with_the_sign_scope_signs_for_the_party_helpers_and_acting_agents_do_not(
        client, login, m, make_user, tmp_path):
    """The agreement's claimant signature, given by the claimant's agent: their own code, key and
    certificate, in the name "agent（代party）"; pyHanko and poppler's pdfsig accept the file."""
    from odr.documents import storage
    from odr.documents.ca import platform_ca
    from odr.documents.verify import verify
    from tests.documents.signing import approved_agreement, pdfsig, sign_via_http

    document = approved_agreement(m)
    helper = make_user(name="Son Zhang", contact="son@example.com")
    en(login(client, m.claimant))
    appoint(client, m.case, kind="helper", email="son@example.com", power_of_attorney=None, scope="act")
    helper_rep = only_rep()
    login(client, helper)
    client.post(f"/cases/represent/{helper_rep.invite_token}/accept")
    # A helper who acts is still no signer.
    assert client.post(f"/documents/{document.id}/code", json={}).status_code == 409
    login(client, m.claimant)
    client.post(f"/cases/{m.case.number}/representatives/{helper_rep.id}/revoke")

    agent, rep = active_agent(client, login, m, make_user, scope="act")
    login(client, agent)
    assert client.post(f"/documents/{document.id}/code", json={}).status_code == 409  # act: no signing
    login(client, m.claimant)
    client.post(f"/cases/{m.case.number}/representatives/{rep.id}/revoke")

    agent, rep = active_agent(client, login, m, make_user, scope="sign")
    login(client, agent)
    assert sign_via_http(client, document, agent).status_code == 200
    db.session.expire_all()
    claimant_signer = next(s for s in document.signers if s.user_id == m.claimant.id)
    assert claimant_signer.status.value == "signed"
    report = verify(storage.get(document.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.signatures[0].signer == "Lawyer Wang（代Zhang San）" and report.signatures[0].ok
    signed = [e for e in audit.case_events(m.case) if e.action == "document_signed"]
    assert signed[-1].actor_id == agent.id and signed[-1].payload["on_behalf_of"]["party"] == "Zhang San"
    path = tmp_path / "signed.pdf"
    path.write_bytes(storage.get(document.current_sha256))
    assert "Signature is Valid" in pdfsig(path, platform_ca().pem(), tmp_path)
