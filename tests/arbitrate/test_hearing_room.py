"""The hearing's video room: the presiding arbitrator hosts it, the other members of the tribunal
are in at once beside them, the parties wait to be admitted, and there is no private caucus —
through the real Socket.IO signalling server."""

from __future__ import annotations

from datetime import timedelta

from odr.arbitrate import proceedings
from odr.arbitrate.models import Arbitration, ArbitrationStatus, ArbitratorSeat, Procedure, SeatRole, SeatStatus
from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.cases import workflow
from odr.cases.models import ArbitrationBasis, OrgType, Stage
from odr.extensions import db
from odr.timeutil import utcnow
from odr.video import events, rooms
from odr.video.models import VideoRoom
from tests.conftest import sign_in_cookie
from tests.video.conftest import Peer, peer_ids


def test_the_tribunal_hears_together_and_the_parties_are_admitted(server, make_org, make_user, make_case):
    events.reset()
    commission = make_org(OrgType.arbitration_commission)
    presiding, member, other = (make_user(Role.arbitrator, commission, name=n) for n in ("Chen", "Sun", "Wu"))
    claimant, respondent, outsider = make_user(name="Zhang"), make_user(name="Li"), make_user(name="Outsider")
    case = make_case(claimant=claimant, respondent=respondent, stages=(Stage.assessment,), amount_claimed=2_500_000)
    now = utcnow()
    arb = Arbitration(case_id=case.id, commission_id=commission.id, status=ArbitrationStatus.accepted,
                      basis=ArbitrationBasis.clause, requested_by_id=claimant.id, accepted_at=now, fee=22360,
                      tribunal_size=3, procedure=Procedure.hearing, nomination_due=now, claim_due=now,
                      hearing_at=now + timedelta(hours=1))
    db.session.add(arb)
    case_ops.record_arbitration_basis(case, ArbitrationBasis.clause, claimant)
    case_ops.route_case(case, commission, None)
    workflow.move(case, Stage.arbitration, claimant)
    for user, role, side in ((presiding, SeatRole.presiding, None), (member, SeatRole.member, "claimant"),
                             (other, SeatRole.member, "respondent")):
        db.session.add(ArbitratorSeat(case_id=case.id, user_id=user.id, role=role, side=side, chosen_by="commission",
                                      status=SeatStatus.serving))
    case_ops.assign_handler(case, None, arbitrator=presiding)
    room = db.session.get(VideoRoom, proceedings.open_hearing(case, arb, presiding).id)
    db.session.commit()
    assert [rooms.role_in_room(room, u) for u in (presiding, member, claimant, outsider)] == \
        [rooms.HOST, rooms.PANEL, "claimant", None]

    made = []
    try:
        host, panel, party = (Peer(server, u).connect() for u in (presiding, member, claimant))
        made += [host, panel, party]
        rid = room.id
        joined = panel.call("join", {"room_id": rid})
        assert joined["seat"] == "admitted", joined  # a member is in at once …
        assert panel.roster()["state"] == "admitted" and peer_ids(panel.roster()) == []  # … waiting for the host
        assert host.call("join", {"room_id": rid})["ok"]
        assert party.call("join", {"room_id": rid})["seat"] == "waiting"
        assert panel.call("admit", {"room_id": rid, "user_id": claimant.id})["ok"] is False  # not the host's controls
        assert host.call("admit", {"room_id": rid, "user_id": claimant.id})["ok"]
        assert peer_ids(party.roster(lambda r: len(r["peers"]) == 2)) == sorted([presiding.id, member.id])
        assert peer_ids(panel.roster(lambda r: len(r["peers"]) == 2)) == sorted([presiding.id, claimant.id])
        refused = host.call("caucus", {"room_id": rid, "side": "claimant"})
        assert refused["ok"] is False and "no private caucus" in refused["error"]
    finally:
        for peer in made:
            peer.close()
        events.reset()
    with server.app.test_client() as client:
        with server.app.app_context(), client.session_transaction() as session:
            sign_in_cookie(session, member.id)
        page = client.get(f"/video/{case.number}/rooms/{room.id}").get_data(as_text=True)
        assert 'data-role="panel"' in page and 'data-t-host="首席仲裁员"' in page  # the hearing's words
