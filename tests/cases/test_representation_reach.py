"""What reaches a party's agents and helpers, and what they may do: they are told what the party is
told (saying on whose behalf) until revoked; an agent who may act withdraws the party's own proposal
or offer, recorded on the party's behalf; neither sees what the party would not (the other side's
mediator-only evidence, its private thread with the mediator)."""

from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa

from odr.cases import audit
from odr.cases.evidence import Visibility
from odr.cases.models import Representation, RepresentationStatus
from odr.cases.notices import notify_users
from odr.cases.service.models import ServiceRecord
from odr.cases.service.operations import Served
from odr.extensions import db
from odr.mediate.models import Proposal, ProposalStatus
from odr.mediate.room import operations as room
from odr.negotiate import operations as negotiation
from odr.negotiate.models import Offer, OfferStatus
from odr.outbox import OutboxMessage
from tests.cases.test_representation import appoint, en

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def to(address: str) -> list[str]:
    return list(db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.id)))


def representative(client, login, make_user, case, party_user, reviewer, *, kind="agent", scope="act",
                   name="Lawyer Wang", email="wang@law.example"):
    """``party_user`` appoints a representative, who accepts; an agent's power of attorney is accepted."""
    user = make_user(name=name, contact=email)
    en(login(client, party_user))
    form = {"kind": kind, "scope": scope, "name": name, "email": email}
    if kind == "helper":
        form["power_of_attorney"] = None
    assert appoint(client, case, **form).status_code == 303
    rep = db.session.scalars(sa.select(Representation).order_by(Representation.id.desc())).first()
    login(client, user)
    assert client.post(f"/cases/represent/{rep.invite_token}/accept").status_code == 303
    if kind == "agent":
        login(client, reviewer)
        assert client.post(f"/cases/{case.number}/representatives/{rep.id}/review",
                           data={"decision": "accept"}).status_code == 303
    db.session.refresh(rep)
    assert rep.status is RepresentationStatus.active
    return user, rep


def test_agents_and_helpers_are_told_what_their_party_is_told_until_revoked(client, login, mediation, make_user):
    m = mediation
    agent, agent_rep = representative(client, login, make_user, m.case, m.claimant, m.mediator)
    helper, _ = representative(client, login, make_user, m.case, m.claimant, m.mediator, kind="helper",
                               scope="read", name="Daughter Zhang", email="daughter@example.com")

    # A notice through the ordinary path: a proposal the mediator puts to both parties.
    en(login(client, m.mediator))
    assert client.post(f"/mediate/{m.case.number}/proposals",
                       data={"terms": "Quiet after 22:00.", "amount": ""}).status_code == 303
    for address, kind in (("wang@law.example", "agent"), ("daughter@example.com", "helper")):
        copies = [b for b in to(address) if m.case.number in b and "proposal" in b.lower()]
        assert copies and copies[-1].startswith(f"As {kind} of Zhang San in case {m.case.number}: "), to(address)

    # A formal notice served on the claimant: the representatives get a copy; the proof of service
    # (records with their own links) stays the party's.
    notify_users(m.case, [m.claimant, m.respondent], "Formal notice 1", served=Served.link("notice", "/cases/"))
    db.session.commit()
    copy = to("wang@law.example")[-1]  # (told outside a request: in the platform's default language)
    assert "Zhang San" in copy and m.case.number in copy and copy.endswith("Formal notice 1")
    records = db.session.scalars(sa.select(ServiceRecord).where(ServiceRecord.kind == "notice")).all()
    assert records and {r.address for r in records}.isdisjoint({"wang@law.example", "daughter@example.com"})
    # What only the other side is told does not reach them.
    notify_users(m.case, [m.respondent], "For Li Si only")
    db.session.commit()
    assert not [b for b in to("wang@law.example") + to("daughter@example.com") if "For Li Si only" in b]

    # Revoked: nothing more for the agent; the helper still hears.
    en(login(client, m.claimant))
    assert client.post(f"/cases/{m.case.number}/representatives/{agent_rep.id}/revoke").status_code == 303
    before = len(to("wang@law.example"))
    notify_users(m.case, [m.claimant], "After the revocation")
    db.session.commit()
    assert len(to("wang@law.example")) == before
    assert to("daughter@example.com")[-1].endswith("After the revocation")


def test_an_acting_agent_withdraws_the_partys_own_proposal_on_their_behalf(client, login, mediation, make_user):
    m = mediation
    agent, rep = representative(client, login, make_user, m.case, m.claimant, m.mediator)
    en(login(client, m.claimant))
    assert client.post(f"/mediate/{m.case.number}/proposals",
                       data={"terms": "I pay half.", "amount": ""}).status_code == 303
    proposal = db.session.scalars(sa.select(Proposal)).one()
    # The other side may not withdraw it, nor a read-only helper of the claimant.
    login(client, m.respondent)
    assert client.post(f"/mediate/{m.case.number}/proposals/{proposal.id}/withdraw").status_code == 403
    reader, _ = representative(client, login, make_user, m.case, m.claimant, m.mediator, kind="helper",
                               scope="read", name="Son Zhang", email="son@example.com")
    assert client.post(f"/mediate/{m.case.number}/proposals/{proposal.id}/withdraw").status_code in (403, 404)
    en(login(client, agent))
    assert 'proposals/%s/withdraw' % proposal.id in client.get(f"/mediate/{m.case.number}/proposals").text
    assert client.post(f"/mediate/{m.case.number}/proposals/{proposal.id}/withdraw").status_code == 303
    db.session.refresh(proposal)
    assert proposal.status is ProposalStatus.withdrawn
    event = next(e for e in audit.case_events(m.case) if e.action == "proposal_withdrawn")
    assert event.actor_id == agent.id and event.payload["on_behalf_of"]["party"] == "Zhang San"
    en(login(client, m.respondent))
    assert "Lawyer Wang on behalf of Zhang San" in client.get(f"/cases/{m.case.number}").text


def test_an_acting_agent_withdraws_the_partys_own_offer_and_a_revoked_one_cannot(client, login, parties, make_user):
    p = parties
    agent, rep = representative(client, login, make_user, p.case, p.claimant, p.staff)
    first = negotiation.make_offer(p.case, p.claimant, amount=Decimal("2000"), terms="I take 2,000.", schedule=[],
                                   respond_by=None)
    db.session.commit()
    login(client, p.respondent)
    assert client.post(f"/negotiate/{p.case.number}/offers/{first.id}/withdraw").status_code in (403, 409)
    assert db.session.get(Offer, first.id).status is OfferStatus.open
    login(client, agent)
    assert client.post(f"/negotiate/{p.case.number}/offers/{first.id}/withdraw").status_code == 303
    assert db.session.get(Offer, first.id).status is OfferStatus.withdrawn
    event = next(e for e in audit.case_events(p.case) if e.action == "negotiation_offer_withdrawn")
    assert event.actor_id == agent.id and event.payload["on_behalf_of"]["side"] == "claimant"

    # The agent's own offer: the party may take it back; a revoked agent may not.
    second = negotiation.make_offer(p.case, agent, amount=Decimal("2500"), terms="2,500.", schedule=[], respond_by=None)
    db.session.commit()
    login(client, p.claimant)
    assert client.post(f"/cases/{p.case.number}/representatives/{rep.id}/revoke").status_code == 303
    login(client, agent)
    assert client.post(f"/negotiate/{p.case.number}/offers/{second.id}/withdraw").status_code == 404
    assert db.session.get(Offer, second.id).status is OfferStatus.open
    login(client, p.claimant)
    assert client.post(f"/negotiate/{p.case.number}/offers/{second.id}/withdraw").status_code == 303
    assert db.session.get(Offer, second.id).status is OfferStatus.withdrawn


def test_representatives_see_no_more_than_their_party(client, login, mediation, make_user):
    m = mediation
    agent, _ = representative(client, login, make_user, m.case, m.claimant, m.mediator)
    helper, _ = representative(client, login, make_user, m.case, m.claimant, m.mediator, kind="helper",
                               name="Daughter Zhang", email="daughter@example.com")
    hidden = room.add_evidence(m.case, m.respondent, io.BytesIO(JPEG), "private.jpg", Visibility.mediator,
                               "For the mediator")
    shared = room.add_evidence(m.case, m.respondent, io.BytesIO(JPEG + b"x"), "shared.jpg", Visibility.all,
                               "For everyone")
    room.post_message(m.case, m.respondent, room.RoomChannel.respondent, "Only the mediator may read this.")
    db.session.commit()
    for who in (agent, helper):
        en(login(client, who))
        listing = client.get(f"/mediate/{m.case.number}/evidence").text
        assert "shared.jpg" in listing and "private.jpg" not in listing
        with client.get(f"/mediate/{m.case.number}/evidence/{shared.id}") as file:
            assert file.status_code == 200
        assert client.get(f"/mediate/{m.case.number}/evidence/{hidden.id}").status_code in (403, 404)
        assert client.get(f"/mediate/{m.case.number}/room?thread=respondent").status_code == 403
        assert client.get(f"/mediate/{m.case.number}/room?thread=claimant").status_code == 200
        assert "Only the mediator may read this." not in client.get(f"/mediate/{m.case.number}/room").text
