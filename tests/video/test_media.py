"""Real media between aiortc peers in the test process, negotiated through the live ``/video``
signalling server: joint session, a caucus that stops media between the separated sides and
brings it back, and a removed peer cut off."""

import time


from tests.fixtures.media import flowing
from tests.polling import eventually


def test_media_flows_stops_in_caucus_and_comes_back(video, peers, rtc):
    m, rid = video.m, video.room_id
    host, a, b = peers(m.mediator), peers(m.claimant), peers(m.respondent)
    agents = {p.user_id: rtc(p, rid) for p in (host, a, b)}
    H, A, B = host.user_id, a.user_id, b.user_id
    assert host.call("join", {"room_id": rid})["ok"]
    for p in (a, b):
        p.call("join", {"room_id": rid})
        assert host.call("admit", {"room_id": rid, "user_id": p.user_id})["ok"]

    pairs = [(x, y) for x in (H, A, B) for y in (H, A, B) if x != y]
    eventually(lambda: all(agents[x].frames_from(y, "video") > 5 and agents[x].frames_from(y, "audio") > 5
                           for x, y in pairs), what="audio and video between everyone")

    assert host.call("caucus", {"room_id": rid, "side": "claimant"})["ok"]
    # The respondent neither sees nor hears the caucus, and the caucus does not see them.
    eventually(lambda: not flowing(agents[B], A) and not flowing(agents[B], H) and not flowing(agents[A], B),
               timeout=5, what="media between the separated sides stopped")
    before = {(x, y, k): agents[x].frames_from(y, k) for x, y in ((B, A), (B, H), (A, B), (H, B))
              for k in ("video", "audio")}
    time.sleep(0.5)  # a quiet half second proves nothing more arrives
    assert {key: agents[key[0]].frames_from(key[1], key[2]) for key in before} == before
    assert flowing(agents[A], H) and flowing(agents[H], A)  # the caucus itself goes on

    assert host.call("caucus", {"room_id": rid, "side": None})["ok"]
    eventually(lambda: all(agents[x].frames_from(y, k) > before[(x, y, k)] + 5 for (x, y, k) in before),
               what="media back after the caucus")

    # A removed peer is cut off: its media stops and its signalling is refused.
    assert host.call("remove", {"room_id": rid, "user_id": B})["ok"]
    eventually(lambda: not flowing(agents[A], B) and not flowing(agents[H], B), timeout=5,
               what="media from the removed peer stopped")
    answer = b.call("signal", {"room_id": rid, "to": A, "type": "offer", "sdp": "v=0\r\n"})
    assert answer == {"ok": False, "error": "Join the room first."}
