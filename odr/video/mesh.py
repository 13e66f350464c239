"""An aiortc participant of a video room's mesh, driven by the room's ``/video`` signalling.

Used by the media bridge (``odr media-bridge``) and by the tests' peers. It follows the
same rules as the browsers (static/video.js): a connection per peer the server lists in the
roster; of two peers the one with the smaller user id makes the offer; a new ``epoch`` of a
peer (they reconnected) replaces the connection; ``hangup`` or leaving the roster closes it.

The socket side is a plain python-socketio client in its own thread; everything else runs on
one asyncio loop (``MeshAgent.handle`` is safe to call from any thread).
"""

from __future__ import annotations

import asyncio
import fractions
import itertools
import logging
import threading
import time
from collections import defaultdict
from typing import Callable

import av
from aiortc import RTCConfiguration, RTCIceCandidate, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AUDIO_PTIME, AudioStreamTrack, MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

logger = logging.getLogger(__name__)


class PatternVideoTrack(MediaStreamTrack):
    """A synthetic camera: ``width``×``height`` frames at ``fps`` whose brightness changes."""

    kind = "video"

    def __init__(self, width=320, height=240, fps=15, moving=False):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._start, self._n = None, 0
        #: ``moving``: diagonal bars that move, so encoders have real work (benchmarks).
        self._planes = [self._bars(shift) for shift in range(0, 256, 8)] if moving else None

    def _bars(self, shift):
        w, h = self.width, self.height
        rows = [bytes(((x + y + shift) * 3) % 256 for x in range(w)) for y in range(0, 64)]
        y_plane = b"".join(rows[y % 64] for y in range(h))
        return y_plane

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._n += 1
            await asyncio.sleep(max(0.0, self._start + self._n / self.fps - time.monotonic()))
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        shade = (self._n * 4) % 256
        for i, plane in enumerate(frame.planes):
            if i == 0 and self._planes and plane.line_size == self.width:
                plane.update(self._planes[self._n % len(self._planes)])
            else:
                plane.update(bytes([shade if i == 0 else 128]) * plane.buffer_size)
        frame.pts, frame.time_base = self._n * 90000 // self.fps, fractions.Fraction(1, 90000)
        return frame


def ice_configuration(servers: list[dict] | None) -> RTCConfiguration:
    """aiortc would use a public STUN server when given no configuration: always pass one."""
    out = []
    for s in servers or []:
        out.append(RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential")))
    return RTCConfiguration(iceServers=out)


def parse_candidate(c) -> RTCIceCandidate | None:
    """An ICE candidate as the signalling carries it (``None`` for the end of candidates)."""
    if not c or not c.get("candidate"):
        return None
    cand = candidate_from_sdp(c["candidate"].removeprefix("a=").removeprefix("candidate:"))
    cand.sdpMid, cand.sdpMLineIndex = c.get("sdpMid"), c.get("sdpMLineIndex")
    return cand


async def add_candidate(pc: RTCPeerConnection, cand: RTCIceCandidate, early: list) -> None:
    """Add a remote candidate, or keep it in ``early`` until the remote description is set
    (aiortc drops a candidate that comes before it)."""
    if pc.remoteDescription is None:
        early.append(cand)
    else:
        await pc.addIceCandidate(cand)


async def add_early(pc: RTCPeerConnection, early: list) -> None:
    """Add the candidates kept until now, once the remote description is set."""
    for cand in early:
        await pc.addIceCandidate(cand)
    early.clear()


class MeshAgent:
    """Keeps one RTCPeerConnection per peer the signalling server says we share a group with.

    ``send(event, data)`` emits on the socket; ``tracks()`` gives fresh local tracks for a new
    connection (may be empty: receive only); ``on_track(user_id, track)`` is called for each
    remote track. ``frames[(user_id, kind)]`` counts frames received.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Callable, room_id: int, me: int,
                 tracks: Callable[[int], list] = lambda uid: [], on_track: Callable | None = None,
                 ice_servers: list[dict] | None = None, offer_to_all: bool = False,
                 on_close: Callable | None = None):
        self.loop, self.send, self.room_id, self.me = loop, send, room_id, me
        self.tracks, self.on_track, self.ice_servers = tracks, on_track, ice_servers
        #: The bridge offers to everyone (browsers never offer to it); peers follow the id rule.
        self.offer_to_all = offer_to_all
        #: ``on_close(user_id)`` (a coroutine function) after a peer's connection closed.
        self.on_close = on_close
        self.pcs: dict[int, tuple[int, RTCPeerConnection]] = {}
        #: The number of each connection's offer (ours, or the peer's we answered): an answer or a
        #: candidate carrying another number belongs to a negotiation since replaced.
        self.offer_of: dict[int, int | None] = {}
        #: Candidates that came before the remote description (aiortc would drop them).
        self.early: dict[int, list] = defaultdict(list)
        self._offers = itertools.count(1)
        #: How the connection to each peer runs: ``direct`` or ``relay`` (through the media bridge).
        self.via: dict[int, str] = {}
        self.frames: dict[tuple[int, str], int] = defaultdict(int)
        self.last_frame: dict[tuple[int, str], float] = {}
        self.first_frame: dict[int, float] = {}
        self._tasks: set = set()
        self._last = None

    # -- thread-safe entry ---------------------------------------------------------------
    def handle(self, event: str, data) -> None:
        try:
            self.loop.call_soon_threadsafe(self._spawn, event, data)
        except RuntimeError:  # the loop was closed: this peer has left; a late event has nobody to reach
            logger.debug("dropped %s for a closed peer", event)

    def _spawn(self, event, data):
        # One event after another, as they arrived: a roster must not close a connection that an
        # offer handled meanwhile has just made. A step that hangs gives up after a while.
        previous = self._last

        async def step():
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await asyncio.wait_for(self._dispatch(event, data), 15)
            except asyncio.TimeoutError:
                logger.warning("mesh agent %s: %s took too long", self.me, event)

        task = self._last = self.loop.create_task(step())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, event, data):
        try:
            if not isinstance(data, dict) or data.get("room_id", self.room_id) != self.room_id:
                return
            if event == "roster":
                await self.on_roster(data)
            elif event == "signal":
                await self.on_signal(data)
            elif event == "hangup":
                await self.close_peer(data.get("peer"))
            elif event in ("removed", "ended", "refused"):
                await self.close_all()
        except Exception:
            logger.exception("mesh agent %s: %s failed", self.me, event)

    # -- connections ---------------------------------------------------------------------
    def _new_pc(self, uid: int, epoch: int) -> RTCPeerConnection:
        pc = RTCPeerConnection(ice_configuration(self.ice_servers))
        self.pcs[uid] = (epoch, pc)

        @pc.on("track")
        def _on_track(track):
            if self.on_track:
                self.on_track(uid, track)
            self._spawn_consumer(uid, track)

        tracks = self.tracks(uid)
        for track in tracks:
            pc.addTrack(track)
        if not tracks:  # receive only (the recorder): ask for audio and video all the same
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
        return pc

    def _spawn_consumer(self, uid, track):
        async def consume():
            while True:
                try:
                    await track.recv()
                except MediaStreamError:
                    return
                key = (uid, track.kind)
                self.frames[key] += 1
                self.last_frame[key] = time.monotonic()
                if track.kind == "video":
                    self.first_frame.setdefault(uid, time.monotonic())

        if self.on_track is None:  # whoever gets the track otherwise reads it (e.g. a recorder)
            task = self.loop.create_task(consume())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close_peer(self, uid):
        entry = self.pcs.pop(uid, None)
        self.offer_of.pop(uid, None)
        self.early.pop(uid, None)
        if entry is not None:
            await entry[1].close()
            if self.on_close is not None:
                await self.on_close(uid)

    async def close_all(self):
        for uid in list(self.pcs):
            await self.close_peer(uid)

    async def on_roster(self, roster):
        wanted = {p["user_id"]: p["epoch"] for p in roster.get("peers", [])}
        via = {p["user_id"]: p.get("via", "direct") for p in roster.get("peers", [])}
        for uid in list(self.pcs):
            if uid not in wanted or self.pcs[uid][0] != wanted[uid] or self.via.get(uid, "direct") != via[uid]:
                await self.close_peer(uid)
        self.via = via
        for uid, epoch in wanted.items():
            # A relayed peer's connection is offered by the bridge standing in for them.
            if uid not in self.pcs and via[uid] != "relay" and (self.offer_to_all or self.me < uid):
                pc = self._new_pc(uid, epoch)
                tag = self.offer_of[uid] = next(self._offers)
                await pc.setLocalDescription(await pc.createOffer())
                self.send("signal", {"room_id": self.room_id, "to": uid, "type": "offer", "offer": tag,
                                     "sdp": pc.localDescription.sdp})

    async def on_signal(self, data):
        uid, epoch, kind = data.get("from"), data.get("epoch"), data.get("type")
        entry = self.pcs.get(uid)
        if kind == "offer":
            if entry is not None:
                await self.close_peer(uid)
            pc = self._new_pc(uid, epoch)
            tag = self.offer_of[uid] = data.get("offer")
            await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
            await add_early(pc, self.early[uid])
            await pc.setLocalDescription(await pc.createAnswer())
            self.send("signal", {"room_id": self.room_id, "to": uid, "type": "answer", "offer": tag,
                                 "sdp": pc.localDescription.sdp})
        elif entry is None or data.get("offer") != self.offer_of.get(uid):
            return  # for a connection since closed or offered again
        elif kind == "answer":
            if entry[1].signalingState == "have-local-offer":
                await entry[1].setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
                await add_early(entry[1], self.early[uid])
        elif kind == "candidate" and (cand := parse_candidate(data.get("candidate"))) is not None:
            await add_candidate(entry[1], cand, self.early[uid])

    def frames_from(self, uid: int, kind: str = "video") -> int:
        return self.frames.get((uid, kind), 0)


class LoopThread:
    """An asyncio loop in a daemon thread (aiortc needs a loop; socket clients are threaded)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="aiortc-loop", daemon=True)
        self.thread.start()

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        async def shutdown():
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(shutdown(), timeout=5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            # An event that arrived from a socket thread meanwhile may have scheduled a step after
            # the shutdown looked: run the loop until nothing is left, every task cancelled. In a
            # thread of its own: the calling thread may have a loop of its own running (Playwright's
            # sync API keeps one in the thread that drives the browser), and a thread runs one loop.
            def drain():
                for _ in range(5):
                    pending = asyncio.all_tasks(self.loop)
                    if not pending:
                        break
                    for t in pending:
                        t.cancel()
                    self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

            drainer = threading.Thread(target=drain, name="aiortc-loop-drain", daemon=True)
            drainer.start()
            drainer.join(timeout=10)
            self.loop.close()


__all__ = ["AUDIO_PTIME", "AudioStreamTrack", "LoopThread", "MeshAgent", "PatternVideoTrack", "ice_configuration"]
