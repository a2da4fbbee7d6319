"""The simulated exchange's market-data WebSocket (``/v2/{feed}``), as Alpaca's stream behaves.

JSON arrays in text frames, or msgpack in binary frames when the client's handshake says
``Content-Type: application/msgpack`` (the official SDK does). After ``auth`` a client
subscribes to ``bars`` (``T: "b"``, each bar once it has ended), ``updatedBars`` (``"u"``, a bar
sent again once a late print came in) and ``dailyBars`` (``"d"``, the session's bar at its end),
per symbol or ``*``. A key may hold one authenticated connection at a time, as on Alpaca's free
plan: another one is answered ``406 connection limit exceeded`` and closed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import msgpack
from aiohttp import WSCloseCode, WSMsgType, web

from brokers._types import Bar
from brokers.alpaca._wire import JSON
from brokers.alpaca._wire_streams import bar_to_json

__all__ = ["BAR_CHANNELS", "DataStreamHub"]

KeyCheck = Callable[[str, str], bool]
#: Told how many sessions are authenticated and subscribed to something, after every change.
Watcher = Callable[[int], None]

#: The channels the twin produces, and each one's message type.
BAR_CHANNELS: Final = {"bars": "b", "updatedBars": "u", "dailyBars": "d"}
#: Every channel a subscription message lists (Alpaca's order); the others stay empty.
_LISTED: Final = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)


def _decode_json(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


@dataclass(eq=False)
class _DataSession:
    ws: web.WebSocketResponse
    msgpack: bool
    key: str | None = None  # set once authenticated
    channels: dict[str, set[str]] = field(
        default_factory=lambda: {name: set() for name in BAR_CHANNELS}
    )

    def wants(self, channel: str, symbol: str) -> bool:
        wanted = self.channels[channel]
        return self.key is not None and (symbol in wanted or "*" in wanted)


class DataStreamHub:
    """``/v2/{feed}``: connected, auth, subscribe; then bars as the exchange publishes them.

    ``connection_limit`` authenticated connections per key (Alpaca's free plan: one).
    """

    def __init__(self, check_key: KeyCheck, watch: Watcher, *, connection_limit: int = 1) -> None:
        if connection_limit < 1:
            raise ValueError("connection_limit must be at least 1")
        self._check_key = check_key
        self._watch = watch
        self._limit = connection_limit
        self._sessions: set[_DataSession] = set()

    def _changed(self) -> None:
        self._watch(
            sum(1 for s in self._sessions if s.key is not None and any(s.channels.values()))
        )

    def wants(self, channel: str) -> bool:
        """Whether any session subscribes to something on ``channel``."""
        return any(s.key is not None and s.channels[channel] for s in self._sessions)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """One client connection, until either side closes it."""
        ws = web.WebSocketResponse(autoping=True)
        content_type = request.headers.get("Content-Type", "")
        session = _DataSession(ws=ws, msgpack=content_type.startswith("application/msgpack"))
        await ws.prepare(request)
        self._sessions.add(session)
        try:
            await self._send(session, [{"T": "success", "msg": "connected"}])
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    message = _decode_json(frame.data)
                elif frame.type is WSMsgType.BINARY:
                    message = self._decode_binary(session, frame.data)
                else:
                    continue
                if not await self._on_message(session, message):
                    break
        finally:
            self._sessions.discard(session)
            self._changed()
            await ws.close()
        return ws

    @staticmethod
    def _decode_binary(session: _DataSession, data: bytes) -> Any:
        if session.msgpack:
            try:
                return msgpack.unpackb(data)
            except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
                return None
        return _decode_json(data)

    async def _on_message(self, session: _DataSession, message: Any) -> bool:
        """Answer one client message; False closes the connection."""
        action = message.get("action") if isinstance(message, dict) else None
        if action == "auth":
            return await self._authenticate(session, message)
        if action in ("subscribe", "unsubscribe"):
            if session.key is None:
                await self._error(session, 401, "not authenticated")
                return False
            return await self._subscribe(session, message, action == "subscribe")
        await self._error(session, 400, "invalid syntax")
        return True

    async def _authenticate(self, session: _DataSession, message: dict[str, Any]) -> bool:
        if session.key is not None:
            await self._error(session, 403, "already authenticated")
            return True
        key = str(message.get("key", ""))
        if not self._check_key(key, str(message.get("secret", ""))):
            await self._error(session, 402, "auth failed")
            return False
        if sum(1 for s in self._sessions if s.key == key) >= self._limit:
            await self._error(session, 406, "connection limit exceeded")
            return False
        session.key = key
        await self._send(session, [{"T": "success", "msg": "authenticated"}])
        return True

    async def _subscribe(self, session: _DataSession, message: dict[str, Any], add: bool) -> bool:
        asked = {name: message[name] for name in _LISTED if name in message}
        if not all(
            isinstance(symbols, list) and all(isinstance(s, str) for s in symbols)
            for symbols in asked.values()
        ):
            await self._error(session, 400, "invalid syntax")
            return True
        for name, symbols in asked.items():
            if name not in BAR_CHANNELS:
                continue  # trades, quotes, ...: accepted, and never produced by the twin
            if add:
                session.channels[name].update(symbols)
            else:
                session.channels[name].difference_update(symbols)
        self._changed()
        subscription: JSON = {"T": "subscription"}
        for name in _LISTED:
            subscription[name] = sorted(session.channels.get(name, ()))
        await self._send(session, [subscription])
        return True

    async def _error(self, session: _DataSession, code: int, msg: str) -> None:
        await self._send(session, [{"T": "error", "code": code, "msg": msg}])

    async def _send(self, session: _DataSession, messages: list[JSON]) -> None:
        if session.ws.closed:
            return
        try:
            if session.msgpack:
                await session.ws.send_bytes(msgpack.packb(messages, datetime=False))
            else:
                await session.ws.send_str(json.dumps(messages, separators=(",", ":")))
        except (ConnectionError, RuntimeError):
            pass  # the client went away; its handler cleans up

    async def publish(self, bar: Bar, channel: str = "bars") -> bool:
        """Send ``bar`` on ``channel`` to every session subscribed to its symbol (or ``*``);
        whether any was."""
        text = dict(bar_to_json(bar), T=BAR_CHANNELS[channel])
        packed = dict(text, t=msgpack.Timestamp.from_datetime(bar.start))
        sent = False
        for session in list(self._sessions):
            if session.wants(channel, bar.symbol):
                await self._send(session, [packed if session.msgpack else text])
                sent = True
        return sent

    async def close_all(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close every connection (a fault, or shutdown)."""
        for session in list(self._sessions):
            await session.ws.close(code=code, message=b"closed by the exchange")
