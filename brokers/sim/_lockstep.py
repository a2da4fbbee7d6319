"""Lock-step: the simulated exchange's control channel; the clock moves when the client is done.

A ``LockStep`` is handed, in-process, to the exchange and to the one client that drives it (the
live runner). At every moment of its replay (a bar's end, a late print's return, a session's
close) the exchange steps its clock to that moment, sends what the moment brings (fills and
expirations on the trading stream, bars on the bar stream, over the sockets as always), then
posts a ``Moment``: when it is, how many trade updates the exchange has sent so far, and which
bars it sent. It goes on to the next moment only once the client ``ack``'s that one: the client
has received the moment's bars and every trade update sent before it took them (``sent()``:
those its REST calls caused too, so their order is the exchange's), applied them, and every
REST call it made in answer has returned (the client acks from the thread that makes its REST
calls, so they have).

Lock-step never hides a fault: a dropped trade update is never sent, so it is not counted (nor
one queued to a socket that closed before it was written); one delayed or held for a reorder is
counted from the moment that held it, so that moment waits for it (milliseconds of delay stay
milliseconds of market time); a duplicate's second copy is sent but not counted (the client
drops it as a duplicate); a bar the feed leaves out is not listed. What a socket loses in
flight is waited for no longer than the client's own timeout, and the exchange waits for an ack
at most ``timeout`` seconds: each expiry is counted in ``timeouts`` (a fault the client
reports), never a hang.

Nothing Alpaca-specific is here, and nothing on the wire changes: the channel is beside it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["LockStep", "Moment", "MomentBar"]

#: Real seconds the exchange waits for an ack before it moves on (a fault, counted).
_ACK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MomentBar:
    """A bar the exchange sent at a moment: its channel (``bars``, ``updatedBars``), symbol and
    start."""

    channel: str
    symbol: str
    start: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Moment:
    """One step of a lock-step replay: the exchange's clock shows ``at``; ``updates_sent``
    trade updates were sent on the trading stream by then; ``bars`` were sent."""

    seq: int
    at: datetime
    updates_sent: int
    bars: frozenset[MomentBar]


class LockStep:
    """The barrier between a replaying exchange and its client (see the module's docstring)."""

    def __init__(self, *, timeout: float = _ACK_TIMEOUT) -> None:
        if not timeout > 0:
            raise ValueError("LockStep.timeout must be positive")
        self.timeout = timeout
        self.timeouts = 0  # acks the exchange stopped waiting for
        self._lock = threading.Lock()
        self._listener: Callable[[Moment], None] | None = None
        self._seq = 0
        self._acked = 0
        self._waiting: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._sent: Callable[[], int] = lambda: 0
        self.closed = False

    # --- the client's side (any thread) ----------------------------------------------------

    def listen(self, listener: Callable[[Moment], None]) -> None:
        """Hand every posted moment to ``listener`` (on the exchange's thread: keep it short)."""
        self._listener = listener

    def ack(self, seq: int) -> None:
        """The client is done with moment ``seq`` (and every earlier one)."""
        with self._lock:
            if seq <= self._acked:
                return
            self._acked = seq
            waiting = self._waiting if seq >= self._seq else None
        if waiting is not None:
            loop, event = waiting
            loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        """The client went away: the exchange stops waiting (free-running from now)."""
        self.closed = True
        self.ack(self._seq)

    def sent(self) -> int:
        """How many trade updates the exchange has sent so far (any thread)."""
        return self._sent()

    @property
    def acked(self) -> int:
        """The last moment the client acknowledged."""
        return self._acked

    # --- the exchange's side (on its loop) -------------------------------------------------

    def count_sent(self, sent: Callable[[], int]) -> None:
        """How the exchange counts the trade updates it sent (read from the client's thread)."""
        self._sent = sent

    async def step(self, at: datetime, updates_sent: int, bars: frozenset[MomentBar]) -> bool:
        """Post a moment and wait for its ack; False when the wait timed out (counted)."""
        if self.closed or self._listener is None:
            return True
        event = asyncio.Event()
        with self._lock:
            self._seq += 1
            moment = Moment(seq=self._seq, at=at, updates_sent=updates_sent, bars=bars)
            self._waiting = (asyncio.get_running_loop(), event)
        self._listener(moment)
        if self._acked >= moment.seq:
            return True
        try:
            await asyncio.wait_for(event.wait(), self.timeout)
        except TimeoutError:
            self.timeouts += 1
            return False
        return True
