"""The simulated exchange's trading stream: trade updates (market data: ``_data_stream``).

It lives on the exchange's event loop and is fed by it. The trading stream (``/stream``)
speaks JSON in binary frames, one live session per key (a second session closes the first);
each session has a queue and a writer task so messages leave in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from brokers._types import TradeUpdate
from brokers.alpaca._wire import JSON
from brokers.alpaca._wire_streams import (
    authorization_message,
    listening_message,
    trade_update_to_json,
)
from brokers.sim._faults import FaultDice, SimFaults, StreamShaper

__all__ = ["TradingStreamHub"]

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
    # Each message with whether lock-step counts it (a duplicate's second copy it does not).
    queue: asyncio.Queue[tuple[bytes, bool]] = field(default_factory=asyncio.Queue)
    counted: int = 0  # the queued messages lock-step counts
    writer: asyncio.Task[None] | None = None


class TradingStreamHub:
    """``/stream``: authenticate, listen, then ``trade_updates`` through the fault knobs."""

    def __init__(
        self, check_key: KeyCheck, dice: FaultDice, watch: Watcher, keys: int = 1
    ) -> None:
        self._check_key = check_key
        self._keys = keys
        self._dice = dice
        self._watch = watch
        self._sessions: dict[str, _TradingSession] = {}  # key → its one live session
        self._all: set[_TradingSession] = set()
        self._shaper = StreamShaper(dice, self._deliver, self._promise, self._echo)
        # Trade updates handed (or promised, when a fault holds them back) to a listening
        # session and not known lost: queued, or written to its socket (lock-step counts them;
        # a dropped one is never handed over).
        self.sent = 0

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
            self.sent -= session.counted  # never to be written
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

    def _listening(self) -> list[_TradingSession]:
        return [s for s in self._sessions.values() if s.listening]

    def _promise(self) -> int:
        promised = len(self._listening())
        self.sent += promised
        return promised

    def _deliver(self, message: bytes, promised: int | None) -> None:
        sessions = self._listening()
        for session in sessions:
            session.queue.put_nowait((message, True))
            session.counted += 1
        # A message promised while held counts for the sessions listening then; one that closed
        # meanwhile never gets it, one that opened meanwhile gets it beyond what was promised.
        self.sent += len(sessions) - (promised or 0)

    def _echo(self, message: bytes) -> None:
        # A duplicate's second copy goes out like any message, but lock-step does not wait for
        # it: the client drops it as a duplicate, so waiting would cost a timeout each time.
        for session in self._listening():
            session.queue.put_nowait((message, False))

    async def _write(self, session: _TradingSession) -> None:
        while True:
            message, counted = await session.queue.get()
            session.counted -= counted
            written = False
            try:
                if session.ws.closed:
                    continue
                await session.ws.send_bytes(message)
                written = True
                session.sent += 1
                close_after = self._dice.faults.close_after
                if close_after is not None and session.sent >= close_after:
                    await session.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fault")
            except (ConnectionError, RuntimeError):
                pass  # the client went away; its handler cleans up
            finally:
                if not written and counted:
                    self.sent -= 1
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
