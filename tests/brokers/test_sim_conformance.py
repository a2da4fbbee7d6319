"""Conformance: the official ``alpaca-py`` SDK, pointed at the simulated exchange, works as it
does against Alpaca's paper endpoint (REST, TradingStream, StockDataStream with msgpack)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.live import StockDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, ReplaceOrderRequest, StopOrderRequest
from alpaca.trading.stream import TradingStream

from brokers import SimExchange

from .conftest import TIMEOUT, make_bar


@pytest.fixture
def client(sim: SimExchange) -> TradingClient:
    return TradingClient("K", "S", paper=True, url_override=sim.rest_url)


def stop_order(client_order_id: str, price: float = 101.5) -> StopOrderRequest:
    return StopOrderRequest(
        symbol="AAPL",
        qty=10,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        stop_price=price,
        client_order_id=client_order_id,
    )


class TestTradingClient:
    def test_account(self, client: TradingClient) -> None:
        """get_account parses into the SDK's TradeAccount."""
        account = client.get_account()
        assert str(account.status) in ("ACTIVE", "AccountStatus.ACTIVE")
        assert float(account.cash) == 100000

    def test_submit_stop_order_and_get_it_by_client_id(self, client: TradingClient) -> None:
        """A stop order goes in with the SDK's numbers (qty 10.0) and comes back by client id."""
        order = client.submit_order(stop_order("conf-1"))
        assert order.status == OrderStatus.ACCEPTED
        assert (order.qty, order.stop_price) == ("10", "101.5")
        found = client.get_order_by_client_id("conf-1")
        assert found.id == order.id
        assert client.get_order_by_id(order.id).client_order_id == "conf-1"
        listed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["AAPL"]))
        assert [o.id for o in listed] == [order.id]

    def test_duplicate_client_id_is_api_error_422(self, client: TradingClient) -> None:
        """A reused client order id raises APIError with status 422 and Alpaca's code."""
        client.submit_order(stop_order("conf-dup"))
        with pytest.raises(APIError) as caught:
            client.submit_order(stop_order("conf-dup"))
        assert caught.value.status_code == 422
        assert caught.value.code == 40010001
        assert caught.value.message == "client_order_id must be unique"

    def test_replace_stop(self, sim: SimExchange, client: TradingClient) -> None:
        """replace_order_by_id returns a new order; the old one is pending_replace until the
        request lands, then replaced by it."""
        old = client.submit_order(stop_order("conf-r"))
        new = client.replace_order_by_id(old.id, ReplaceOrderRequest(stop_price=102.0))
        assert new.id != old.id
        assert new.replaces == old.id
        assert new.stop_price == "102"
        assert client.get_order_by_id(old.id).status == OrderStatus.PENDING_REPLACE
        sim.land_requests()
        again = client.get_order_by_id(old.id)
        assert again.status == OrderStatus.REPLACED
        assert again.replaced_by == new.id

    def test_cancel_then_cancel_again_is_an_error(
        self, sim: SimExchange, client: TradingClient
    ) -> None:
        """cancel_order_by_id succeeds (204, pending_cancel until it lands); the second raises
        APIError 422."""
        order = client.submit_order(stop_order("conf-c"))
        assert client.cancel_order_by_id(order.id) is None
        assert client.get_order_by_id(order.id).status == OrderStatus.PENDING_CANCEL
        sim.land_requests()
        assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED
        with pytest.raises(APIError) as caught:
            client.cancel_order_by_id(order.id)
        assert caught.value.status_code == 422
        assert caught.value.code == 42210000

    def test_positions(self, sim: SimExchange, client: TradingClient) -> None:
        """Positions parse into the SDK's Position; close_position returns the SDK's Order."""
        assert client.get_all_positions() == []
        client.submit_order(stop_order("conf-p", price=101.0))
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101.25"))
        [position] = client.get_all_positions()
        assert (position.symbol, position.qty, position.side.value) == ("AAPL", "10", "long")
        assert client.get_open_position("AAPL").avg_entry_price == "101"
        closing = client.close_position("AAPL")
        assert closing.side == OrderSide.SELL
        with pytest.raises(APIError) as caught:
            client.get_open_position("MSFT")
        assert caught.value.status_code == 404

    def test_clock(self, client: TradingClient) -> None:
        """get_clock parses."""
        assert client.get_clock().is_open is True


class _Runner:
    """Runs an SDK stream (its own asyncio loop) on a thread; stops it within a bound."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.thread = threading.Thread(target=stream.run, name="sdk-stream", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, sim: SimExchange) -> None:
        deadline = TIMEOUT
        loop = getattr(self.stream, "_loop", None)
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self.stream.stop_ws(), loop).result(deadline)
        sim.drop_streams()  # wakes the SDK's receive loop so it sees the stop at once
        self.thread.join(deadline)
        assert not self.thread.is_alive(), "the SDK stream did not stop"


@pytest.fixture
def sdk_streams(sim: SimExchange) -> Iterator[Callable[[Any], _Runner]]:
    runners: list[_Runner] = []

    def run(stream: Any) -> _Runner:
        runner = _Runner(stream)
        runners.append(runner)
        runner.start()
        return runner

    yield run
    for runner in runners:
        runner.stop(sim)


class TestSdkStreams:
    def test_trading_stream_receives_new_fill_and_cancel(
        self, sim: SimExchange, client: TradingClient, sdk_streams: Callable[[Any], _Runner]
    ) -> None:
        """TradingStream parses every event into the SDK's TradeUpdate."""
        received: list[Any] = []
        got = threading.Event()

        async def on_update(update: Any) -> None:
            received.append(update)
            if len(received) >= 5:
                got.set()

        stream = TradingStream("K", "S", paper=True, url_override=sim.trading_stream_url)
        stream.subscribe_trade_updates(on_update)
        sdk_streams(stream)
        assert sim.wait_for_listeners(1, TIMEOUT)
        filled = client.submit_order(stop_order("conf-s1", price=101.0))
        other = client.submit_order(stop_order("conf-s2", price=150.0))
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101.25"))
        client.cancel_order_by_id(other.id)
        sim.land_requests()
        assert got.wait(TIMEOUT)
        events = [(u.event, str(u.order.id)) for u in received]
        assert events == [
            ("new", str(filled.id)),
            ("new", str(other.id)),
            ("fill", str(filled.id)),
            ("pending_cancel", str(other.id)),
            ("canceled", str(other.id)),
        ]
        fill = received[2]
        assert (fill.price, fill.qty, fill.position_qty) == (101.0, 10.0, 10.0)
        assert fill.execution_id is not None

    def test_stock_data_stream_receives_bars_over_msgpack(
        self, sim: SimExchange, sdk_streams: Callable[[Any], _Runner]
    ) -> None:
        """StockDataStream (msgpack) parses the bar into the SDK's Bar."""
        received: list[Any] = []
        got = threading.Event()

        async def on_bar(bar: Any) -> None:
            received.append(bar)
            got.set()

        stream = StockDataStream("K", "S", url_override=sim.data_stream_url)
        stream.subscribe_bars(on_bar, "AAPL")
        sdk_streams(stream)
        assert sim.wait_for_subscribers(1, TIMEOUT)
        sim.feed_bar(make_bar(3, "100", "101", "99.5", "100.75"))
        assert got.wait(TIMEOUT)
        [bar] = received
        assert (bar.symbol, bar.open, bar.high, bar.low, bar.close) == (
            "AAPL",
            100.0,
            101.0,
            99.5,
            100.75,
        )
        assert bar.timestamp.isoformat() == "2026-11-23T14:33:00+00:00"
        assert bar.volume == 1000
