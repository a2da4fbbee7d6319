"""The notification hook: what an operator must hear of, posted as JSON to a webhook, off the
engine thread.

One rule: the engine never waits for a receiver. ``Notifier`` is an engine observer (fills and
halts, from the machines' outcomes) and an incidents watcher (``kill_switch``, ``data_stale``);
both only put a small dict on a bounded queue. One thread, ``notify``, posts them in order. A
slow receiver fills the queue and what does not fit is dropped and counted; a failing one
(refused, timed out, non-2xx) is counted and logged at warning; nothing here raises into the
run. At the end ``close`` gives the queue at most one timeout to drain, then counts what is
left as unsent.

Each POST body is one JSON object (amounts as strings):

| ``kind``        | when                                        | fields (besides the common) |
|-----------------|---------------------------------------------|-----------------------------|
| ``fill``        | an order of ours filled (partly or wholly)  | client_order_id, filled_qty,|
|                 |                                             | avg_fill_price, position,   |
|                 |                                             | state_from, state_to        |
| ``halt``        | a symbol entered ``halted``                 | reason, alarm, trigger      |
| ``kill_switch`` | the daily loss limit halted every symbol    | pnl, limit, symbols, ...    |
| ``data_stale``  | in the session, a symbol had no bar for long| since, minutes              |

Common fields: ``kind``, ``strategy``, ``symbol`` (null for the kill switch), ``run_id``,
``market_ts`` (the event's market time). The URL is a credential: logs name only its host.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

import structlog

from brokers import Clock
from machines import OrderFilled, OutcomeKind, State
from strategies.engine import _incidents as incident
from strategies.engine._engine import Fired
from strategies.spec import receiver_of

__all__ = ["Notifier", "Post", "post_json"]

_log = structlog.get_logger("tickstate.notify")

#: The I/O seam: POST ``body`` (JSON) to ``url`` within ``timeout`` seconds; the HTTP status.
Post = Callable[[str, bytes, float], int]

_WATCHED = frozenset({incident.KILL_SWITCH, incident.DATA_STALE})


def post_json(url: str, body: bytes, timeout: float) -> int:
    """The standard library's POST (no session to keep: a few notifications a session)."""
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    request = Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except HTTPError as exc:  # a non-2xx answer is an answer: its status says what failed
        return int(exc.code)


def _plain(value: object) -> str:
    if isinstance(value, Decimal | datetime):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return str(value)


class Notifier:
    """Posts fills, halts, the kill switch and ``data_stale`` to one webhook, off the engine's
    thread; ``start()`` before the run, ``close()`` after it."""

    def __init__(
        self,
        url: str,
        *,
        strategy: str,
        run_id: str | None = None,
        timeout: float = 5.0,
        capacity: int = 1000,
        clock: Clock | None = None,
        zone: tzinfo | None = None,
        post: Post = post_json,
    ) -> None:
        self._url = url
        self.receiver = receiver_of(url)  # what of the URL logs may show
        self._strategy = strategy
        self._run_id = run_id
        self._timeout = timeout
        self._clock = clock
        self._zone = zone
        self._post = post
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._work, name="notify", daemon=True)
        # Counted by one thread each (queued/dropped: the noting thread; sent/failed: the
        # worker), read at the end.
        self.queued = 0
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self.unsent = 0

    # --- the run's side (never blocks) ------------------------------------------------------

    def start(self) -> Notifier:
        """Start the ``notify`` thread."""
        self._thread.start()
        return self

    def __call__(self, fired: Fired) -> None:
        """An engine observer: a fill or a halt becomes a notification."""
        outcome = fired.outcome
        if outcome.kind not in (OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY):
            return
        snapshot = outcome.snapshot
        event = outcome.event
        at = getattr(event, "at", None)
        if isinstance(event, OrderFilled):
            self.notify(
                "fill",
                symbol=snapshot.symbol,
                at=at,
                client_order_id=event.client_order_id,
                filled_qty=event.filled_qty,
                avg_fill_price=event.avg_fill_price,
                position=snapshot.position,
                state_from=outcome.state_from.value,
                state_to=outcome.state_to.value,
            )
        if outcome.state_to is State.HALTED and outcome.state_from is not State.HALTED:
            self.notify(
                "halt",
                symbol=snapshot.symbol,
                at=at,
                reason=snapshot.halt_reason or outcome.reason,
                alarm=snapshot.alarm,
                trigger=outcome.trigger,
            )

    def incident(self, name: str, symbol: str | None, fields: Mapping[str, Any]) -> None:
        """An incidents watcher: the kill switch and ``data_stale`` become notifications."""
        if name in _WATCHED:
            self.notify(name, symbol=symbol, **fields)

    def notify(self, kind: str, *, symbol: str | None, at: Any = None, **fields: Any) -> None:
        """Queue one notification; dropped (counted, warned) when the queue is full."""
        record: dict[str, Any] = {
            "kind": kind,
            "strategy": self._strategy,
            "symbol": symbol,
            "run_id": self._run_id,
            "market_ts": self._market_ts(at),
            **fields,
        }
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1
            _log.warning(
                "notify_dropped",
                kind=kind,
                symbol=symbol,
                receiver=self.receiver,
                dropped=self.dropped,
            )
            return
        self.queued += 1

    def _market_ts(self, at: Any) -> str | None:
        moment = at if isinstance(at, datetime) else None
        if moment is None and self._clock is not None:
            moment = self._clock.now()
        if moment is None:
            return None
        return (moment if self._zone is None else moment.astimezone(self._zone)).isoformat()

    # --- the notify thread ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            record = self._queue.get()
            if record is None:
                return
            self._send(record)

    def _send(self, record: dict[str, Any]) -> None:
        body = json.dumps(record, sort_keys=True, default=_plain).encode("utf-8")
        try:
            status = self._post(self._url, body, self._timeout)
        except Exception as exc:  # refused, timed out, reset: counted, never raised
            self.failed += 1
            _log.warning(
                "notify_failed",
                kind=record["kind"],
                symbol=record["symbol"],
                receiver=self.receiver,
                error=type(exc).__name__,
            )
            return
        if 200 <= status < 300:
            self.sent += 1
            return
        self.failed += 1
        _log.warning(
            "notify_failed",
            kind=record["kind"],
            symbol=record["symbol"],
            receiver=self.receiver,
            status=status,
        )

    def close(self) -> None:
        """Give what is queued at most one timeout (plus one POST's) to go, then stop; what is
        left is counted as unsent and warned about."""
        deadline = threading.Event()
        timer = threading.Timer(self._timeout, deadline.set)
        timer.daemon = True
        timer.start()
        try:
            while not deadline.is_set():
                try:
                    self._queue.put(None, timeout=0.05)
                    break
                except queue.Full:
                    continue
            self._thread.join(self._timeout)
        finally:
            timer.cancel()
        if self._thread.is_alive():  # a slow receiver holds the thread: leave it (a daemon)
            left: list[dict[str, Any] | None] = []
            while True:
                try:
                    left.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.unsent = sum(record is not None for record in left) + 1  # and the one in flight
            _log.warning("notify_unsent", unsent=self.unsent, receiver=self.receiver)
        _log.info(
            "notify_closed",
            receiver=self.receiver,
            sent=self.sent,
            failed=self.failed,
            dropped=self.dropped,
            unsent=self.unsent,
        )
