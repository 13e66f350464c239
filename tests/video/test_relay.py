"""The media bridge as a relay: a participant whose direct connections fail asks for it, and
their media with everyone in their group then goes through the bridge (real frames both ways)."""

from tests.video.test_media import eventually, flowing, loop, rtc  # noqa: F401  (fixtures)
from tests.video.test_recording import joined_with_media, media_bridge  # noqa: F401


def test_relayed_participant_exchanges_media_through_the_bridge(media_bridge, video, peers, rtc):
    host, a, b, agents = joined_with_media(video, peers, rtc)
    rid = video.room_id
    H, A, B = host.user_id, a.user_id, b.user_id
    assert a.call("relay", {"room_id": rid, "on": "yes"})["ok"] is False
    assert a.call("relay", {"room_id": rid, "on": True})["ok"]
    for p, others in ((host, [A]), (b, [A]), (a, [H, B])):
        p.roster(lambda r, o=others: all(x["via"] == "relay" for x in r["peers"] if x["user_id"] in o)
                 and any(x["via"] == "relay" for x in r["peers"]))
    # The claimant's connections now come from the bridge standing in for each peer.
    eventually(lambda: agents[A].via.get(H) == "relay" and agents[A].via.get(B) == "relay"
               and agents[B].via.get(A) == "relay" and agents[B].via.get(H) == "direct", what="relay in place")
    eventually(lambda: all(A in agents[x].pcs and agents[x].pcs[A][1].connectionState == "connected" for x in (H, B))
               and all(y in agents[A].pcs and agents[A].pcs[y][1].connectionState == "connected" for y in (H, B)),
               timeout=20, what="relayed connections up")
    before = {(x, y): agents[x].frames_from(y) for x, y in ((A, H), (A, B), (H, A), (B, A))}
    eventually(lambda: all(agents[x].frames_from(y) > before[(x, y)] + 5 and flowing(agents[x], y)
                           for (x, y) in before), timeout=20, what="frames through the relay both ways")
    assert flowing(agents[B], H) and flowing(agents[H], B)  # the others still talk directly
    # Back to direct.
    assert a.call("relay", {"room_id": rid, "on": False})["ok"]
    eventually(lambda: agents[B].via.get(A) == "direct", what="direct again")
    eventually(lambda: flowing(agents[B], A) and flowing(agents[A], B), timeout=20, what="direct media again")
