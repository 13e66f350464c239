"""A lean Socket.IO client for the load generators of ``bench/socket_load.py``.

python-socketio's ``AsyncClient`` makes an Engine.IO packet object, a Socket.IO packet object and a
task for every packet: the load generators spent about 0.33 ms of CPU per chat message delivered
(98 % of a core at 3,000 msgs/s against the bare server), this client 0.12 ms (56 % at 4,806). With both
servers and the load generators on the same two cores, that cost was what capped the offered load
(the bare server kept up with everything the generators could send) and took CPU from the servers
measured. This client speaks the same wire protocol over one websocket per client — Engine.IO 4
(``0`` open, ``2`` ping answered with ``3``, ``4`` message) carrying Socket.IO 5 packets
(``40/ns,`` connect, ``42/ns,id[...]`` event, ``43/ns,id[...]`` acknowledgement, ``44/ns,{...}``
refused, ``41/ns,`` disconnect) — and parses only what it must, on the reading coroutine itself.

The subset of ``socketio.AsyncClient`` that ``socket_load.py`` uses: ``on``, ``connect`` (websocket
transport, one namespace), ``call``, ``emit`` with a callback, ``disconnect``, ``connected``.
Text packets only (the chat has no binary attachments).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit, urlunsplit

import aiohttp

_session: aiohttp.ClientSession | None = None


def _shared_session() -> aiohttp.ClientSession:
    """One HTTP session (connection pool without a limit) for all clients of this process."""
    global _session
    if _session is None or _session.closed:
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                         cookie_jar=aiohttp.DummyCookieJar())
    return _session


async def close_shared_session() -> None:
    global _session
    if _session is not None and not _session.closed:
        await _session.close()
    _session = None


class LeanClient:
    def __init__(self):
        self.connected = False
        self.namespace = "/"
        self._handlers: dict[str, object] = {}
        self._acks: dict[int, object] = {}  # id -> callback or Future
        self._ids = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        self._joined: asyncio.Future | None = None

    def on(self, event: str, handler, namespace: str = "/") -> None:
        self._handlers[event] = handler

    async def connect(self, url: str, namespaces=("/",), transports=("websocket",), headers=None,
                      wait_timeout: float = 30, auth=None) -> None:
        (self.namespace,) = namespaces
        parts = urlsplit(url)
        ws_url = urlunsplit(("ws" if parts.scheme == "http" else "wss", parts.netloc, "/socket.io/",
                             "EIO=4&transport=websocket", ""))
        self._ws = await _shared_session().ws_connect(ws_url, headers=headers or {}, autoping=True,
                                                      max_msg_size=0, compress=0)
        first = await asyncio.wait_for(self._ws.receive(), wait_timeout)
        if first.type != aiohttp.WSMsgType.TEXT or not first.data.startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {first.data!r}"[:200])
        self._joined = asyncio.get_running_loop().create_future()
        self._reader = asyncio.ensure_future(self._read())
        await self._send("40" + self._prefix() + (json.dumps(auth, separators=(",", ":")) if auth else ""))
        await asyncio.wait_for(self._joined, wait_timeout)

    def _prefix(self) -> str:
        return "" if self.namespace == "/" else self.namespace + ","

    async def _send(self, text: str) -> None:
        await self._ws.send_str(text)

    def _packet(self, event: str, data, ack_id: int | None) -> str:
        return ("42" + self._prefix() + ("" if ack_id is None else str(ack_id))
                + json.dumps([event, data], separators=(",", ":"), ensure_ascii=False))

    async def emit(self, event: str, data, namespace: str | None = None, callback=None) -> None:
        ack_id = None
        if callback is not None:
            self._ids += 1
            ack_id = self._ids
            self._acks[ack_id] = callback
        await self._send(self._packet(event, data, ack_id))

    async def call(self, event: str, data, namespace: str | None = None, timeout: float = 60):
        self._ids += 1
        ack_id = self._ids
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        try:
            await self._send(self._packet(event, data, ack_id))
            return await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop(ack_id, None)

    async def _read(self) -> None:
        reason = "transport close"
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                text = msg.data
                kind = text[0]
                if kind == "2":
                    await self._send("3")
                elif kind == "4":
                    self._packet_in(text[1:])
                elif kind == "1":
                    reason = "server close"
                    break
        except (aiohttp.ClientError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            was = self.connected
            self.connected = False
            if self._joined is not None and not self._joined.done():
                self._joined.set_exception(ConnectionError("closed before the namespace was joined"))
            for pending in self._acks.values():
                if isinstance(pending, asyncio.Future) and not pending.done():
                    pending.set_exception(ConnectionError("disconnected"))
            if was and (handler := self._handlers.get("disconnect")):
                handler(reason)

    def _packet_in(self, text: str) -> None:
        kind, rest = text[0], text[1:]
        if rest.startswith("/"):
            comma = rest.find(",")
            rest = "" if comma < 0 else rest[comma + 1:]
        if kind == "2" or kind == "3":
            i = 0
            while i < len(rest) and "0" <= rest[i] <= "9":  # the acknowledgement id
                i += 1
            ack_id = int(rest[:i]) if i else None
            args = json.loads(rest[i:])
            if kind == "3":
                pending = self._acks.pop(ack_id, None)
                value = args[0] if args else None
                if isinstance(pending, asyncio.Future):
                    if not pending.done():
                        pending.set_result(value)
                elif pending is not None:
                    pending(value)
            elif (handler := self._handlers.get(args[0])) is not None:
                handler(*args[1:])
        elif kind == "0":
            self.connected = True
            if not self._joined.done():
                self._joined.set_result(None)
        elif kind == "4":
            if not self._joined.done():
                self._joined.set_exception(ConnectionRefusedError(rest[:200]))
        elif kind == "1":
            was, self.connected = self.connected, False
            if was and (handler := self._handlers.get("disconnect")):
                handler("server disconnect")

    async def disconnect(self) -> None:
        if self._ws is None:
            return
        if self.connected:
            self.connected = False
            try:
                await self._send("41" + self._prefix())
                await self._send("1")
            except (aiohttp.ClientError, ConnectionError):
                pass
        await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
