"""The simulated exchange's two WebSocket endpoints: trade updates and market-data bars.

Both live on the exchange's event loop and are fed by it. The trading stream (``/stream``)
speaks JSON in binary frames, one live session per key (a second session closes the first);
each session has a queue and a writer task so messages leave in order. The data stream
(``/v2/{feed}``) speaks JSON arrays in text frames, or msgpack in binary frames when the
client's handshake says ``Content-Type: application/msgpack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
from aiohttp import WSCloseCode, WSMsgType, web

from brokers._types import Bar, TradeUpdate
from brokers.alpaca._wire import JSON
from brokers.alpaca._wire_streams import (
    authorization_message,
    bar_to_json,
    listening_message,
    trade_update_to_json,
)
from brokers.sim._faults import FaultDice, SimFaults, StreamShaper

__all__ = ["DataStreamHub", "TradingStreamHub"]

KeyCheck = Callable[[str, str], bool]
#: Told how many sessions are live and listening/subscribed, after every change.
Watcher = Callable[[int], None]


def _dumps(message: JSON) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def _decode_json(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


@dataclass(eq=False)
class _TradingSession:
    ws: web.WebSocketResponse
    key: str | None = None
    listening: bool = False
    sent: int = 0
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None


class TradingStreamHub:
    """``/stream``: authenticate, listen, then ``trade_updates`` through the fault knobs."""

    def __init__(self, check_key: KeyCheck, dice: FaultDice, watch: Watcher, keys: int = 1) -> None:
        self._check_key = check_key
        self._keys = keys
        self._dice = dice
        self._watch = watch
        self._sessions: dict[str, _TradingSession] = {}  # key → its one live session
        self._all: set[_TradingSession] = set()
        self._shaper = StreamShaper(dice, self._deliver)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One client connection, until either side closes it. While every key already has its
        live session, a new handshake is refused with 429 (row 12: one session per account)."""
        if self._keys and len(self._sessions) >= self._keys:
            return web.Response(status=429, text="connection limit exceeded")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = _TradingSession(ws=ws)
        session.writer = asyncio.create_task(self._write(session), name="sim-stream-writer")
        self._all.add(session)
        try:
            async for frame in ws:
                if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                if not await self._on_message(session, _decode_json(frame.data)):
                    break
        finally:
            self._all.discard(session)
            if session.key is not None and self._sessions.get(session.key) is session:
                del self._sessions[session.key]
            self._changed()
            session.writer.cancel()
            await ws.close()
        return ws

    def _changed(self) -> None:
        self._watch(sum(1 for s in self._sessions.values() if s.listening))

    async def _on_message(self, session: _TradingSession, message: Any) -> bool:
        """Answer one client message; False closes the connection."""
        action = message.get("action") if isinstance(message, dict) else None
        data = message.get("data") if isinstance(message, dict) else None
        data = data if isinstance(data, dict) else {}
        if action == "authenticate":
            key, secret = str(data.get("key_id", "")), str(data.get("secret_key", ""))
            if not self._check_key(key, secret):
                await session.ws.send_bytes(_dumps(authorization_message(authorized=False)))
                return False
            previous = self._sessions.get(key)
            if previous is not None and previous is not session:
                # the key's session is still live (not reaped yet): this one is refused
                await session.ws.close(
                    code=WSCloseCode.POLICY_VIOLATION, message=b"connection limit exceeded"
                )
                return False
            session.key = key
            self._sessions[key] = session
            await session.ws.send_bytes(_dumps(authorization_message(authorized=True)))
            return True
        if action == "listen":
            if session.key is None:
                await session.ws.send_bytes(
                    _dumps(authorization_message(authorized=False, action="listen"))
                )
                return False
            streams = data.get("streams")
            wanted = (
                [s for s in streams if s == "trade_updates"] if isinstance(streams, list) else []
            )
            session.listening = bool(wanted)
            self._changed()
            await session.ws.send_bytes(_dumps(listening_message(wanted)))
            return True
        error = {"stream": "listening", "data": {"error": "invalid syntax"}}
        await session.ws.send_bytes(_dumps(error))
        return True

    def publish(self, updates: list[TradeUpdate], faults: SimFaults | None = None) -> None:
        """Send trade updates to every listening session through ``faults`` (default: in force)."""
        for update in updates:
            self._shaper.send(_dumps(trade_update_to_json(update)), faults)

    def _deliver(self, message: bytes) -> None:
        for session in list(self._sessions.values()):
            if session.listening:
                session.queue.put_nowait(message)

    async def _write(self, session: _TradingSession) -> None:
        while True:
            message = await session.queue.get()
            try:
                if session.ws.closed:
                    continue
                await session.ws.send_bytes(message)
                session.sent += 1
                close_after = self._dice.faults.close_after
                if close_after is not None and session.sent >= close_after:
                    await session.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fault")
            except (ConnectionError, RuntimeError):
                pass  # the client went away; its handler cleans up
            finally:
                session.queue.task_done()

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait until every queued message has been written (bounded by ``timeout``)."""
        waits = [s.queue.join() for s in list(self._sessions.values())]
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), timeout)

    async def close_all(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close every connection (a fault, or shutdown)."""
        for session in list(self._all):
            await session.ws.close(code=code, message=b"closed by the exchange")


@dataclass(eq=False)
class _DataSession:
    ws: web.WebSocketResponse
    msgpack: bool
    authenticated: bool = False
    bars: set[str] = field(default_factory=set)


class DataStreamHub:
    """``/v2/{feed}``: connected, auth, subscribe; then bars as they close."""

    def __init__(self, check_key: KeyCheck, watch: Watcher) -> None:
        self._check_key = check_key
        self._watch = watch
        self._sessions: set[_DataSession] = set()

    def _changed(self) -> None:
        self._watch(sum(1 for s in self._sessions if s.authenticated and s.bars))

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
        action = message.get("action") if isinstance(message, dict) else None
        if action == "auth":
            if session.authenticated:
                await self._error(session, 403, "already authenticated")
                return True
            if not self._check_key(str(message.get("key", "")), str(message.get("secret", ""))):
                await self._error(session, 402, "auth failed")
                return False
            session.authenticated = True
            await self._send(session, [{"T": "success", "msg": "authenticated"}])
            return True
        if action in ("subscribe", "unsubscribe"):
            if not session.authenticated:
                await self._error(session, 401, "not authenticated")
                return False
            symbols = message.get("bars", [])
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                await self._error(session, 400, "invalid syntax")
                return True
            if action == "subscribe":
                session.bars.update(symbols)
            else:
                session.bars.difference_update(symbols)
            self._changed()
            subscription = {"T": "subscription", "trades": [], "quotes": [], "bars": []}
            subscription["bars"] = sorted(session.bars)
            await self._send(session, [subscription])
            return True
        await self._error(session, 400, "invalid syntax")
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

    async def publish(self, bar: Bar) -> None:
        """Send one closed bar to every session subscribed to its symbol (or ``*``)."""
        text = bar_to_json(bar)
        packed = dict(text, t=msgpack.Timestamp.from_datetime(bar.start))
        for session in list(self._sessions):
            if session.authenticated and (bar.symbol in session.bars or "*" in session.bars):
                await self._send(session, [packed if session.msgpack else text])

    async def close_all(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close every connection (a fault, or shutdown)."""
        for session in list(self._sessions):
            await session.ws.close(code=code, message=b"closed by the exchange")
