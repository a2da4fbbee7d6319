"""Fixtures for the simulated exchange: every server binds 127.0.0.1 on an ephemeral port and is
stopped by the test that started it; stream clients are websocket-client connections with timeouts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import websocket

from brokers import Bar, SimExchange

T0 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)  # a Monday, 09:30 in New York
MINUTE = timedelta(minutes=1)
HEADERS = {"APCA-API-KEY-ID": "K", "APCA-API-SECRET-KEY": "S"}
TIMEOUT = 5.0


def make_bar(i: int, o: str, h: str, low: str, c: str, symbol: str = "AAPL") -> Bar:
    """Bar ``i`` (one minute each from T0)."""
    D = Decimal
    return Bar(
        symbol=symbol,
        start=T0 + i * MINUTE,
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
        volume=D(1000),
        trade_count=10,
        vwap=D(o),
    )


class Rest:
    """A tiny requests wrapper bound to one exchange and its keys."""

    def __init__(self, sim: SimExchange) -> None:
        self.base = sim.rest_url + "/v2"
        self.session = requests.Session()
        self.session.headers.update(HEADERS)

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, self.base + path, **kwargs)

    def submit(self, **fields: Any) -> requests.Response:
        body = {
            "symbol": "AAPL",
            "qty": "10",
            "side": "buy",
            "type": "stop",
            "time_in_force": "day",
            "stop_price": "101.5",
        } | fields
        return self("POST", "/orders", json=body)


class StreamClient:
    """A websocket-client session on ``/stream``: authenticated and listening."""

    def __init__(self, sim: SimExchange, *, listen: bool = True) -> None:
        self.ws = websocket.create_connection(sim.trading_stream_url, timeout=TIMEOUT)
        self.send({"action": "authenticate", "data": {"key_id": "K", "secret_key": "S"}})
        self.auth = self.recv()
        if listen:
            self.send({"action": "listen", "data": {"streams": ["trade_updates"]}})
            self.listening = self.recv()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def recv(self) -> dict[str, Any]:
        opcode, data = self.ws.recv_data()
        assert opcode == websocket.ABNF.OPCODE_BINARY, "the paper endpoint sends binary frames"
        result: dict[str, Any] = json.loads(data)
        return result

    def events(self, n: int) -> list[tuple[str, dict[str, Any]]]:
        """The next ``n`` trade updates as (event, data)."""
        out = []
        for _ in range(n):
            message = self.recv()
            assert message["stream"] == "trade_updates"
            out.append((message["data"]["event"], message["data"]))
        return out

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(start=T0, rate_limit=1000) as exchange:
        yield exchange


@pytest.fixture
def rest(sim: SimExchange) -> Iterator[Rest]:
    client = Rest(sim)
    yield client
    client.session.close()


@pytest.fixture
def stream(sim: SimExchange) -> Iterator[StreamClient]:
    client = StreamClient(sim)
    yield client
    client.close()


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimExchange]]:
    started: list[SimExchange] = []

    def make(*args: Any, **kwargs: Any) -> SimExchange:
        kwargs.setdefault("start", T0)
        exchange = SimExchange(*args, **kwargs).start()
        started.append(exchange)
        return exchange

    yield make
    for exchange in started:
        exchange.stop()
