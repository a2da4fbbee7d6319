"""Helpers for the adapter's tests: settings pointed at a simulated exchange with fast retries and
reconnects, a recorder of retry sleeps, stream collectors fed through queues, and a session
subclass that scripts lost answers around the real exchange (the HTTP seam, not monkeypatching).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests

from brokers import (
    AlpacaSettings,
    Bar,
    OrderRequest,
    OrderSide,
    OrderType,
    ReconnectPolicy,
    RetryPolicy,
    SimExchange,
    TimeInForce,
    TradeUpdate,
)

WAIT = 5.0


def settings_for(sim: SimExchange, **overrides: Any) -> AlpacaSettings:
    """The sim's three endpoints and keys; millisecond backoffs so tests stay fast."""
    values: dict[str, Any] = {
        "rest_url": sim.rest_url,
        "trading_stream_url": sim.trading_stream_url,
        "data_stream_url": sim.data_stream_url,
        "key_id": "K",
        "secret_key": "S",
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "retry": RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05),
        "reconnect": ReconnectPolicy(
            ping_interval=2.0,
            ping_timeout=1.0,
            initial_backoff=0.01,
            max_backoff=0.1,
            close_timeout=0.5,
            stop_timeout=3.0,
        ),
    }
    values.update(overrides)
    return AlpacaSettings(**values)


def stop_order(client_order_id: str | None, price: str = "101.5", qty: str = "10") -> OrderRequest:
    """A DAY buy stop on AAPL (the conformance scenario's order)."""
    return OrderRequest(
        symbol="AAPL",
        qty=Decimal(qty),
        side=OrderSide.BUY,
        type=OrderType.STOP,
        time_in_force=TimeInForce.DAY,
        stop_price=Decimal(price),
        client_order_id=client_order_id,
    )


class Sleeps:
    """Records the retry waits instead of sleeping; ``then`` runs after each (e.g. heal a fault)."""

    def __init__(self, then: Callable[[], None] | None = None) -> None:
        self.delays: list[float] = []
        self._then = then

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self._then is not None:
            self._then()


class Collector:
    """Stream callbacks that hand everything to queues, as the runner would."""

    def __init__(self) -> None:
        self.updates: queue.Queue[TradeUpdate] = queue.Queue()
        self.bars: queue.Queue[Bar] = queue.Queue()
        self.connects: queue.Queue[int] = queue.Queue()
        self._connected = 0

    def on_update(self, update: TradeUpdate) -> None:
        self.updates.put(update)

    def on_bar(self, bar: Bar) -> None:
        self.bars.put(bar)

    def on_connect(self) -> None:
        self._connected += 1
        self.connects.put(self._connected)

    def next_connect(self) -> int:
        """Block until the next (re)connection; its number (1 for the first)."""
        return self.connects.get(timeout=WAIT)

    def take(self, n: int) -> list[TradeUpdate]:
        """The next ``n`` updates (each waited for with a timeout)."""
        return [self.updates.get(timeout=WAIT) for _ in range(n)]

    def until(self, client_order_id: str) -> list[TradeUpdate]:
        """Every update up to and including the first for ``client_order_id``."""
        seen = []
        while True:
            update = self.updates.get(timeout=WAIT)
            seen.append(update)
            if update.order.client_order_id == client_order_id:
                return seen

    def nothing_more(self) -> bool:
        """No update is waiting."""
        return self.updates.empty()


Script = Callable[[str, str, Callable[[], requests.Response]], requests.Response]


class ScriptedSession(requests.Session):
    """A real session whose requests first pass through ``script(method, url, send)``.

    ``send()`` carries the request out against the exchange; a script can call it and then
    raise (an answer lost on the way back), raise without calling it (a request that never
    arrived), or answer by itself (a lagging replica). ``sent`` lists every request that
    reached the exchange.
    """

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script
        self.sent: list[tuple[str, str]] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        m, u = str(method), str(url)

        def send() -> requests.Response:
            self.sent.append((m, u))
            return super(ScriptedSession, self).request(m, u, *args, **kwargs)

        return self.script(m, u, send)


def answer(status: int, body: bytes) -> requests.Response:
    """A made-up HTTP answer."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response
