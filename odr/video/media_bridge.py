"""The media bridge process (``odr media-bridge``): an aiortc peer in its own process and
asyncio loop, connected to the web app as an authenticated Socket.IO client on ``/video``.

It records: the web app tells it (``bridge_room``) which participants of a room to record —
only while the host wants a recording and every participant present has consented — and it
offers each of them a receive-only connection, writing one Matroska file per participant
(H.264 ultrafast + Opus) under the recordings folder. When a connection ends (recording
stopped, consent withdrawn, the participant left), the file is closed, hashed (SHA-256) and
reported (``bridge_recorded``); the web app checks it and records it in the case's audit trail.
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import av
import socketio
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from odr.video.mesh import LoopThread, MeshAgent, add_candidate, add_early, parse_candidate

logger = logging.getLogger("odr.media_bridge")
NS = "/video"
MS = fractions.Fraction(1, 1000)


def _utcnow() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")


class ParticipantRecorder:
    """One participant's file: their audio and video tracks, re-encoded into Matroska."""

    def __init__(self, path: Path, width=640, height=360, fps=15):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(path), mode="w", format="matroska")
        self.width, self.height, self.fps = width, height, fps
        self.video = self.audio = None
        self.tasks: list[asyncio.Task] = []
        self.t0 = None
        self.last_video_pts = -1
        self.audio_samples = 0
        self.frames = 0
        self.started_at = _utcnow()

    def add(self, track):
        if track.kind == "video" and self.video is None:
            self.video = self.container.add_stream("libx264", rate=self.fps)
            self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
            self.video.codec_context.time_base = MS
            self.video.options = {"preset": "ultrafast", "tune": "zerolatency"}
        elif track.kind == "audio" and self.audio is None:
            self.audio = self.container.add_stream("libopus", rate=48000)
            self.audio.layout = "stereo"
        else:
            return
        self.tasks.append(asyncio.ensure_future(self._run(track)))

    async def _run(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            if self.t0 is None:
                self.t0 = now
            if track.kind == "video":
                frame = frame.reformat(self.width, self.height, "yuv420p")
                pts = max(int((now - self.t0) * 1000), self.last_video_pts + 1)
                self.last_video_pts = pts
                frame.pts, frame.time_base = pts, MS
                packets = self.video.encode(frame)
                self.frames += 1
            else:
                frame.pts, frame.time_base = self.audio_samples, fractions.Fraction(1, frame.sample_rate)
                self.audio_samples += frame.samples
                packets = self.audio.encode(frame)
            for packet in packets:
                self.container.mux(packet)

    async def stop(self) -> bool:
        """Close the file; False (and no file) if nothing was recorded."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for stream in (self.video, self.audio):
            if stream is not None and self.t0 is not None:
                for packet in stream.encode(None):
                    self.container.mux(packet)
        try:
            self.container.close()
        except Exception:  # nothing written: the header may not even exist
            logger.warning("closing %s failed", self.path, exc_info=True)
        if self.frames == 0:
            self.path.unlink(missing_ok=True)
            return False
        return True


class ForwardTrack(MediaStreamTrack):
    """Sends on one connection what arrives on another (the relay); waits for its source, and
    for the next one when the source's connection ends and is made again."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self.source = None
        self._ready = asyncio.Event()

    def attach(self, track):
        self.source = track
        self._ready.set()

    async def recv(self):
        while True:
            await self._ready.wait()
            source = self.source
            try:
                return await source.recv()
            except MediaStreamError:
                if self.source is source:
                    self._ready.clear()


@dataclass
class Leg:
    """One connection of the relay: the bridge standing in for ``as_`` toward ``to``."""

    pc: object
    forward: dict
    #: Both sides' connection epochs: a new epoch (a reload, a reconnection) makes a new leg.
    key: tuple
    #: The number of the bridge's offer: the answer and candidates for an older offer are dropped.
    offer: int
    #: Candidates that came before the answer (aiortc would drop them).
    early: list = field(default_factory=list)


class Relay:
    """The relay of one room: for each relayed pair (a, b) two connections, the bridge standing in
    for b toward a and for a toward b; what one side sends is forwarded to the other.

    The bridge offers every leg, so it also watches them: a leg not connected after the stall
    time (a lost answer, a page that reloaded meanwhile) is offered again from scratch."""

    offers = itertools.count(1)

    def __init__(self, bridge: "Bridge", room_id: int):
        self.bridge, self.room_id = bridge, room_id
        self.stall = 8.0
        #: (to, as) → the leg
        self.pcs: dict[tuple[int, int], Leg] = {}
        #: (whose media, toward whom) → {kind: track received}
        self.sources: dict[tuple[int, int], dict] = {}

    async def set_pairs(self, pairs: list[dict], stall_ms=None):
        if isinstance(stall_ms, (int, float)) and stall_ms > 0:
            # Never quicker than an aiortc connection can come up on a busy machine.
            self.stall = max(stall_ms / 1000, 3.0)
        wanted = {}
        for p in pairs:
            key = (p["a_epoch"], p["b_epoch"])
            wanted[(p["a"], p["b"])] = key
            wanted[(p["b"], p["a"])] = key
        for k in list(self.pcs):
            if k not in wanted or self.pcs[k].key != wanted[k]:
                await self.close(k)
        for (to, as_), key in wanted.items():
            if (to, as_) not in self.pcs:
                await self.open(to, as_, key)

    async def close(self, k):
        leg = self.pcs.pop(k, None)
        self.sources.pop(k, None)
        if leg is not None:
            await leg.pc.close()

    async def open(self, to: int, as_: int, key):
        from aiortc import RTCPeerConnection

        from odr.video.mesh import ice_configuration

        pc = RTCPeerConnection(ice_configuration(self.bridge.ice_servers))
        forward = {kind: ForwardTrack(kind) for kind in ("audio", "video")}
        for track in forward.values():
            pc.addTrack(track)
        leg = self.pcs[(to, as_)] = Leg(pc, forward, key, next(self.offers))
        # ``as_``'s media toward ``to`` comes in on the connection (as_, to), if it is already there.
        for kind, track in self.sources.get((as_, to), {}).items():
            forward[kind].attach(track)

        @pc.on("track")
        def on_track(track):
            # ``to`` sends their media here: forward it on the connection standing in for ``to`` toward ``as_``.
            self.sources.setdefault((to, as_), {})[track.kind] = track
            other = self.pcs.get((as_, to))
            if other is not None:
                other.forward[track.kind].attach(track)

        await pc.setLocalDescription(await pc.createOffer())
        self.bridge._send("signal", {"room_id": self.room_id, "to": to, "as": as_, "type": "offer",
                                     "offer": leg.offer, "sdp": pc.localDescription.sdp})
        self.bridge.loop.loop.call_later(self.stall, lambda: self.bridge._on_loop(self.watch((to, as_), leg)))

    async def watch(self, k, leg: Leg):
        """Offer again a leg that has not connected (still the same leg, still wanted)."""
        if self.pcs.get(k) is leg and leg.pc.connectionState not in ("connected", "closed"):
            logger.info("relay leg %s in room %s did not connect: offering again", k, self.room_id)
            await self.close(k)
            await self.open(*k, leg.key)

    async def on_signal(self, data):
        leg = self.pcs.get((data.get("from"), data.get("for")))
        if leg is None or data.get("offer") != leg.offer:
            return
        pc = leg.pc
        if data.get("type") == "answer" and pc.signalingState == "have-local-offer":
            from aiortc import RTCSessionDescription

            await pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
            await add_early(pc, leg.early)
        elif data.get("type") == "candidate" and (cand := parse_candidate(data.get("candidate"))) is not None:
            await add_candidate(pc, cand, leg.early)

    async def close_all(self):
        for k in list(self.pcs):
            await self.close(k)


class Bridge:
    def __init__(self, url: str, token: str, recordings: Path, ice_servers=None):
        self.url, self.token, self.recordings = url, token, Path(recordings)
        self.ice_servers = ice_servers or []
        self.loop = LoopThread()
        # The bridge runs beside the web process: with ``odr run --self-signed`` the local
        # certificate cannot be verified, and needs not be (loopback).
        local = url.split("://", 1)[-1].startswith(("127.0.0.1", "localhost", "[::1]"))
        self.sio = socketio.Client(reconnection=True, reconnection_delay=1, reconnection_delay_max=5,
                                   ssl_verify=not local)
        self.rooms: dict[int, tuple[MeshAgent, dict]] = {}
        self.relays: dict[int, Relay] = {}
        self.sio.on("bridge_room", self.on_room, namespace=NS)
        self.sio.on("signal", self.on_signal, namespace=NS)

    def _send(self, event, data):
        self.sio.emit(f"bridge_{event}", data, namespace=NS)

    def _room(self, room_id: int, case_id: int):
        if room_id not in self.rooms:
            recorders: dict[int, ParticipantRecorder] = {}

            def on_track(uid, track):
                rec = recorders.get(uid)
                if rec is None:
                    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
                    rec = recorders[uid] = ParticipantRecorder(
                        self.recordings / f"case-{case_id}" / f"room{room_id}-user{uid}-{stamp}.mkv")
                rec.add(track)

            async def on_close(uid):
                rec = recorders.pop(uid, None)
                if rec is not None and await rec.stop():
                    self._report(room_id, uid, rec)

            agent = MeshAgent(self.loop.loop, self._send, room_id, 0, tracks=lambda uid: [], on_track=on_track,
                              ice_servers=self.ice_servers, offer_to_all=True, on_close=on_close)
            self.rooms[room_id] = (agent, recorders)
        return self.rooms[room_id][0]

    def _report(self, room_id, uid, rec: ParticipantRecorder):
        data = rec.path.read_bytes()
        report = {"room_id": room_id, "user_id": uid, "filename": str(rec.path.relative_to(self.recordings)),
                  "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                  "started_at": rec.started_at, "stopped_at": _utcnow()}
        logger.info("recorded %s (%d bytes)", report["filename"], len(data))
        self.sio.emit("bridge_recorded", report, namespace=NS)

    def on_room(self, data):
        if isinstance(data, dict) and isinstance(data.get("room_id"), int):
            rid = data["room_id"]
            agent = self._room(rid, data.get("case_id"))
            agent.handle("roster", {"room_id": rid, "peers": data.get("peers") or []})
            relay = self.relays.setdefault(rid, Relay(self, rid))
            self._on_loop(relay.set_pairs(data.get("relay") or [], data.get("stall_ms")))

    def on_signal(self, data):
        if not isinstance(data, dict):
            return
        if data.get("for") is not None and data.get("room_id") in self.relays:
            self._on_loop(self.relays[data["room_id"]].on_signal(data))
        elif data.get("room_id") in self.rooms:
            self.rooms[data["room_id"]][0].handle("signal", data)

    def _on_loop(self, coro):
        """Run on the bridge's loop, one step after another (a relay's steps must keep their order)."""
        async def guarded(previous):
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            try:
                await coro
            except Exception:
                logger.exception("relay step failed")

        def schedule():
            self._last = self.loop.loop.create_task(guarded(getattr(self, "_last", None)))

        self.loop.loop.call_soon_threadsafe(schedule)

    def connect(self):
        self.sio.connect(self.url, namespaces=[NS], transports=["websocket"], auth={"bridge_token": self.token},
                         wait_timeout=10)
        return self

    def stop(self):
        async def close_all():
            for agent, _ in self.rooms.values():
                await agent.close_all()
            for relay in self.relays.values():
                await relay.close_all()

        try:
            self.loop.run(close_all(), timeout=10)
        finally:
            self.sio.disconnect()
            self.loop.stop()


def run(url: str, app, stop: threading.Event | None = None) -> None:
    """Serve as the media bridge of the app at ``url`` until interrupted, or until ``stop`` is set."""
    from odr.video.bridge import recordings_dir, service_token

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiortc here talks to browsers on the same network; ICE servers come from configuration.
    from odr.video.ice import servers_for

    bridge = Bridge(url, service_token(app), recordings_dir(app), servers_for(app.config, 0))
    for attempt in range(60):  # the web process may still be starting
        try:
            bridge.connect()
            break
        except socketio.exceptions.ConnectionError:
            time.sleep(1)
    else:
        raise SystemExit(f"media bridge: cannot connect to {url}")
    logger.info("media bridge connected to %s", url)
    if stop is not None:
        threading.Thread(target=lambda: stop.wait() and bridge.sio.disconnect(), name="bridge-stop",
                         daemon=True).start()
    try:
        bridge.sio.wait()
    except KeyboardInterrupt:
        pass
    finally:
        bridge.stop()
