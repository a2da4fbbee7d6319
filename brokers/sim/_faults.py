"""The simulated exchange's fault knobs: what to break, how often, decided by seeded generators.

``SimFaults`` is a frozen value (all knobs off by default); ``FaultDice`` rolls the dice for it,
one seeded ``random.Random`` per concern, so a run with the same seed, knobs and requests breaks
the same messages. Everything here runs on the exchange's event-loop thread.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from brokers._types import Bar, Order
from brokers._venue import PartialFills

__all__ = ["FaultDice", "SimFaults", "StreamShaper"]

_PROBABILITIES = (
    "drop",
    "duplicate",
    "delay",
    "reorder",
    "rest_429",
    "rest_5xx",
    "cancel_filled_204",
    "partial_fill",
)
_REORDER_FLUSH_SECONDS = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class SimFaults:
    """Fault knobs of one run; probabilities in [0, 1], all off by default.

    Trade-update stream: ``drop``, ``duplicate``, ``delay`` (held ``delay_ms``) and ``reorder``
    (swapped with the next message) are per-message probabilities; ``close_after`` closes a
    trading-stream socket after that many ``trade_updates`` messages.
    REST: ``rest_429`` / ``rest_5xx`` answer a request with 429 / ``rest_5xx_status`` before it
    is carried out — only requests whose ``"METHOD /path"`` matches one of ``rest_fail_routes``
    when it is given (glob patterns; empty = every route), and only the first
    ``rest_fail_first`` of them after these knobs were set when that is above 0 (a submit whose
    every retry fails, then a venue that works again); ``rest_delay`` seconds are added
    *after* carrying out a request whose ``"METHOD /path"`` matches one of ``rest_delay_routes``
    (glob patterns; empty = every route), so a client that times out leaves the order placed.
    ``stream_before_response``: the stream event goes out before the REST answer that caused it.
    ``cancel_filled_204``: a cancel of an already filled order answers 204 (and sends nothing).
    ``partial_fill``: a fill takes only a random part (10 to 90 %) of what is left, this often
    (when 0, the venue's own rate applies: ``VenueRules.partial_fill_rate``, Alpaca's 10 %).

    Market data: ``quiet_from`` pairs ``(symbol, when)``: from ``when`` on, the data stream
    sends no bar of ``symbol`` (its prints still trade: only the socket is quiet).
    ``stray_bars`` pairs ``(when, bar)``: at exchange time ``when`` the data stream sends ``bar``
    as a broken feed would (a weekend date, a zero price); the exchange never trades on it nor
    keeps it in its history.
    """

    drop: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    delay_ms: int = 0
    reorder: float = 0.0
    close_after: int | None = None
    rest_429: float = 0.0
    rest_5xx: float = 0.0
    rest_5xx_status: int = 503
    rest_fail_routes: tuple[str, ...] = ()
    rest_fail_first: int = 0
    rest_delay: float = 0.0
    rest_delay_routes: tuple[str, ...] = ()
    stream_before_response: bool = False
    cancel_filled_204: float = 0.0
    partial_fill: float = 0.0
    quiet_from: tuple[tuple[str, datetime], ...] = ()
    stray_bars: tuple[tuple[datetime, Bar], ...] = ()

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"SimFaults.{name} must be a probability in [0, 1], not {value}")
        if self.delay_ms < 0 or self.rest_delay < 0:
            raise ValueError("SimFaults delays must not be negative")
        if self.rest_fail_first < 0:
            raise ValueError("SimFaults.rest_fail_first must not be negative")
        if self.close_after is not None and self.close_after < 1:
            raise ValueError("SimFaults.close_after must be at least 1")
        if not 500 <= self.rest_5xx_status <= 599:
            raise ValueError("SimFaults.rest_5xx_status must be a 5xx status")

    def is_quiet(self, symbol: str, start: datetime) -> bool:
        """Whether the data stream keeps ``symbol``'s bar of ``start`` to itself."""
        return any(s == symbol and start >= when for s, when in self.quiet_from)

    def delays(self, method: str, path: str) -> bool:
        """Whether a request is delayed by ``rest_delay``."""
        if self.rest_delay <= 0:
            return False
        return _matches(self.rest_delay_routes, method, path)

    def may_fail(self, method: str, path: str) -> bool:
        """Whether ``rest_429`` / ``rest_5xx`` apply to a request."""
        return _matches(self.rest_fail_routes, method, path)


def _matches(patterns: tuple[str, ...], method: str, path: str) -> bool:
    if not patterns:
        return True
    route = f"{method.upper()} {path}"
    return any(fnmatch.fnmatchcase(route, pattern) for pattern in patterns)


class FaultDice:
    """Seeded decisions for the current ``SimFaults``; swap ``faults`` at any time."""

    def __init__(self, faults: SimFaults, seed: int, partial_fill_rate: float = 0.0) -> None:
        self.faults = faults
        self._partial_fill_rate = partial_fill_rate
        self._stream = random.Random(f"{seed}/stream")
        self._rest = random.Random(f"{seed}/rest")
        self._fills = PartialFills(seed, partial_fill_rate)
        self._failed = 0  # REST failures answered under ``_failed_for`` (``rest_fail_first``)
        self._failed_for: SimFaults | None = None

    def stream_roll(self, faults: SimFaults | None = None) -> tuple[bool, bool, bool, bool]:
        """(drop, duplicate, delay, reorder) for one message; always draws four numbers."""
        f = faults or self.faults
        draws = [self._stream.random() for _ in range(4)]
        return (
            draws[0] < f.drop,
            draws[1] < f.duplicate,
            draws[2] < f.delay,
            draws[3] < f.reorder,
        )

    def rest_failure(
        self, faults: SimFaults | None = None, method: str = "", path: str = ""
    ) -> int | None:
        """429, a 5xx status, or None for one REST request (``method path``)."""
        f = faults or self.faults
        if f.rest_429 <= 0 and f.rest_5xx <= 0:
            return None
        if not f.may_fail(method, path):
            return None
        if f.rest_fail_first:
            if self._failed_for is not f:
                self._failed_for, self._failed = f, 0
            if self._failed >= f.rest_fail_first:
                return None
        draw = self._rest.random()
        failure = None
        if draw < f.rest_429:
            failure = 429
        elif draw < f.rest_429 + f.rest_5xx:
            failure = f.rest_5xx_status
        if failure is not None:
            self._failed += 1
        return failure

    def cancel_filled_gets_204(self) -> bool:
        """Whether this cancel of a filled order answers 204."""
        return self.faults.cancel_filled_204 > 0 and self._rest.random() < (
            self.faults.cancel_filled_204
        )

    def fill_ratio(self, order: Order, bar: Bar) -> Decimal:
        """The matching engine's ``fill_ratio``: 1, or a random part when a partial fill hits
        (the fault knob's rate when set, else the venue's)."""
        return self._fills(order, bar, self.faults.partial_fill or self._partial_fill_rate)


class StreamShaper:
    """Applies drop / duplicate / delay / reorder to outgoing messages, then calls ``deliver``.

    A message held back (delayed, or kept for a reorder) is ``promise``d when it is held, so
    lock-step counts it as sent at the moment that sent it and waits for it there: a delay of
    milliseconds stays milliseconds of market time, as on a real-time run, instead of reaching
    the client minutes of replayed market later. ``promise`` returns how many sessions were
    promised it; ``deliver`` is handed that number back when the message leaves. A duplicate's
    second copy leaves through ``echo``: sent like any message, never waited for (the client
    drops it as a duplicate).
    """

    def __init__(
        self,
        dice: FaultDice,
        deliver: Callable[[bytes, int | None], None],
        promise: Callable[[], int],
        echo: Callable[[bytes], None],
    ) -> None:
        self._dice = dice
        self._deliver = deliver
        self._promise = promise
        self._echo = echo
        self._held: tuple[bytes, int] | None = None
        self._flush: asyncio.TimerHandle | None = None

    def send(self, message: bytes, faults: SimFaults | None = None) -> None:
        """Pass one message through ``faults`` (default: those in force); on the event loop."""
        faults = faults or self._dice.faults
        drop, duplicate, delay, reorder = self._dice.stream_roll(faults)
        if drop:
            self._release()
            return
        if delay and faults.delay_ms > 0:
            later = asyncio.get_running_loop().call_later
            later(faults.delay_ms / 1000, self._deliver, message, self._promise())
            if duplicate:
                later(faults.delay_ms / 1000, self._echo, message)
            return
        if reorder and self._held is None:
            self._held = (message, self._promise())
            self._flush = asyncio.get_running_loop().call_later(
                _REORDER_FLUSH_SECONDS, self._release
            )
        else:
            self._deliver(message, None)
        if duplicate:
            self._echo(message)
        if not reorder:
            self._release()

    def _release(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        held, self._held = self._held, None
        if held is not None:
            self._deliver(*held)
