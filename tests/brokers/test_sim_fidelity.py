"""Fidelity: the official ``alpaca-py`` SDK, against the simulated exchange's defaults, sees each
order behaviour of ``docs/alpaca-behaviours.md`` (one test per behaviour; the row in its
name). ``docs/alpaca-fidelity.md`` maps every row to its test. Where a test relaxes a rule, it is
one the behaviour under test does not need (whole fills, so a quantity is exact), named there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import websocket
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopOrderRequest,
)
from alpaca.trading.stream import TradingStream

from brokers import ALPACA_PAPER, Asset, SimExchange

from .conftest import TIMEOUT, make_bar
from .test_sim_conformance import _Runner

WHOLE_FILLS = replace(ALPACA_PAPER, partial_fill_rate=0.0)
ASSETS = {
    "AAPL": Asset(symbol="AAPL", id="b0b6dd9d-8b9b-48a9-ba46-b9d54906e415"),
    "HARD": Asset(
        symbol="HARD",
        id="5c5b6c3e-9b0e-4d6e-8c3a-2f1d1c1b0a09",
        shortable=True,
        easy_to_borrow=False,
    ),
}


@pytest.fixture
def venue(make_sim: Callable[..., SimExchange]) -> Callable[..., SimExchange]:
    """An exchange with Alpaca paper's rules and a known asset list."""

    def make(**kwargs: Any) -> SimExchange:
        kwargs.setdefault("assets", ASSETS)
        kwargs.setdefault("rate_limit", 1000)
        return make_sim(**kwargs)

    return make


def sdk(sim: SimExchange) -> TradingClient:
    client = TradingClient("K", "S", paper=True, url_override=sim.rest_url)
    client._retry = 0  # the SDK would sleep 3 s and retry a 429; a test wants to see it
    return client


def stop(side: OrderSide, price: float, cid: str, qty: int = 10, symbol: str = "AAPL") -> Any:
    return StopOrderRequest(
        symbol=symbol,
        qty=qty,
        side=side,
        time_in_force=TimeInForce.DAY,
        stop_price=price,
        client_order_id=cid,
    )


def market(side: OrderSide, cid: str, qty: float = 10, symbol: str = "AAPL") -> Any:
    return MarketOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, client_order_id=cid
    )


def refused(call: Callable[[], Any]) -> APIError:
    with pytest.raises(APIError) as caught:
        call()
    return caught.value


class Updates:
    """The SDK's TradingStream on a thread, collecting every trade update it parses."""

    def __init__(self, sim: SimExchange) -> None:
        self.sim = sim
        self.received: list[Any] = []
        self._arrived = threading.Condition()
        self.stream = TradingStream("K", "S", paper=True, url_override=sim.trading_stream_url)
        self.stream.subscribe_trade_updates(self._on_update)
        self.runner = _Runner(self.stream)
        self.runner.start()
        assert sim.wait_for_listeners(1, TIMEOUT)

    async def _on_update(self, update: Any) -> None:
        with self._arrived:
            self.received.append(update)
            self._arrived.notify_all()

    def wait_for(self, event: str, cid: str) -> list[tuple[str, str]]:
        """Block until ``event`` for ``cid`` arrived; every (event, client id) so far."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: (event, cid) in self.seen(), TIMEOUT), (
                event,
                cid,
                self.seen(),
            )
            return self.seen()

    def seen(self) -> list[tuple[str, str]]:
        return [
            (str(u.event.value if hasattr(u.event, "value") else u.event), u.order.client_order_id)
            for u in self.received
        ]

    def close(self) -> None:
        self.runner.stop(self.sim)


@pytest.fixture
def updates() -> Iterator[Callable[[SimExchange], Updates]]:
    opened: list[Updates] = []

    def open_on(sim: SimExchange) -> Updates:
        stream = Updates(sim)
        opened.append(stream)
        return stream

    yield open_on
    for stream in opened:
        stream.close()


# --- row 1: wash trades -------------------------------------------------------------------------


class TestRow01WashTrades:
    def test_a_sell_stop_while_a_buy_stop_works_is_refused_naming_it(self, venue) -> None:
        """Stop vs stop on opposite sides: 403 40310000, Alpaca's message, existing_order_id."""
        client = sdk(venue())
        buy = client.submit_order(stop(OrderSide.BUY, 101.5, "w-buy"))
        error = refused(lambda: client.submit_order(stop(OrderSide.SELL, 99, "w-sell")))
        assert (error.status_code, error.code) == (403, 40310000)
        assert error.message == "potential wash trade detected. use complex orders"
        assert json.loads(str(error))["existing_order_id"] == str(buy.id)

    def test_a_market_order_against_any_opposite_order_is_refused(self, venue) -> None:
        client = sdk(venue())
        client.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=10,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=90,
                client_order_id="w-limit",
            )
        )
        assert (
            refused(lambda: client.submit_order(market(OrderSide.SELL, "w-mkt"))).code == 40310000
        )

    def test_limits_that_cannot_cross_are_allowed_and_that_can_are_refused(self, venue) -> None:
        """Limit vs limit only when the buy's price reaches the sell's."""
        client = sdk(venue())

        def limit(side: OrderSide, price: float, cid: str) -> Any:
            return LimitOrderRequest(
                symbol="AAPL",
                qty=10,
                side=side,
                time_in_force=TimeInForce.DAY,
                limit_price=price,
                client_order_id=cid,
            )

        client.submit_order(limit(OrderSide.BUY, 99, "w-l1"))
        client.submit_order(limit(OrderSide.SELL, 101, "w-l2"))  # 99 < 101: no wash
        assert (
            refused(lambda: client.submit_order(limit(OrderSide.SELL, 98, "w-l3"))).code == 40310000
        )

    def test_the_same_side_is_never_a_wash_trade(self, venue) -> None:
        client = sdk(venue())
        client.submit_order(stop(OrderSide.BUY, 101.5, "w-s1"))
        assert (
            client.submit_order(stop(OrderSide.BUY, 102.5, "w-s2")).status == OrderStatus.ACCEPTED
        )


# --- row 2: buy stops are collared stop-limits -----------------------------------------------


class TestRow02BuyStopCollar:
    def test_buy_stops_become_stop_limits_with_the_collar_sell_stops_stay(self, venue) -> None:
        """4 % above the stop below $50, 2.5 % at or above; a sell stop stays a stop."""
        client = sdk(venue())
        dear = client.submit_order(stop(OrderSide.BUY, 101.5, "c-dear"))
        cheap = client.submit_order(stop(OrderSide.BUY, 40, "c-cheap", symbol="HARD"))
        assert (dear.type, dear.limit_price, dear.stop_price) == (
            OrderType.STOP_LIMIT,
            "104.03",
            "101.5",
        )
        assert (cheap.type, cheap.limit_price) == (OrderType.STOP_LIMIT, "41.6")

    def test_a_gap_beyond_the_collar_leaves_the_stop_elected_and_unfilled(self, venue) -> None:
        """A short's protective stop can fail to protect: the open gaps past its limit."""
        sim = venue(rules=WHOLE_FILLS)
        client = sdk(sim)
        order = client.submit_order(stop(OrderSide.BUY, 101.5, "c-gap"))
        sim.feed_bar(make_bar(0, "106", "108", "105", "107"))  # above the 104.03 limit throughout
        after = client.get_order_by_id(order.id)
        assert (after.status, after.filled_qty) == (OrderStatus.NEW, "0")
        sim.feed_bar(make_bar(1, "105", "105", "103.5", "104"))  # back inside: the limit fills
        filled = client.get_order_by_id(order.id)
        assert filled.status == OrderStatus.FILLED
        assert Decimal(filled.filled_avg_price) <= Decimal("104.03")


# --- row 3: pattern day trader ------------------------------------------------------------------


def test_row03_the_fourth_day_trade_of_a_small_account_is_refused(venue) -> None:
    """Equity under $25,000 and 3 day trades in 5 sessions: the order that would complete a
    fourth is 403 40310100; opening one is still allowed; the account shows the count."""
    sim = venue(rules=WHOLE_FILLS, cash=Decimal(20000))
    client = sdk(sim)
    minute = 0
    for n in range(3):
        client.submit_order(market(OrderSide.BUY, f"pdt-b{n}"))
        sim.feed_bar(make_bar(minute, "100", "100.5", "99.5", "100"))
        client.submit_order(market(OrderSide.SELL, f"pdt-s{n}"))
        sim.feed_bar(make_bar(minute + 1, "100", "100.5", "99.5", "100"))
        minute += 2
    account = client.get_account()
    assert (account.daytrade_count, account.pattern_day_trader) == (3, False)
    client.submit_order(market(OrderSide.BUY, "pdt-b3"))  # opening: allowed
    sim.feed_bar(make_bar(minute, "100", "100.5", "99.5", "100"))
    error = refused(lambda: client.submit_order(stop(OrderSide.SELL, 95, "pdt-stop")))
    assert (error.status_code, error.code) == (403, 40310100)
    assert error.message == "trade denied due to pattern day trading protection"


# --- rows 6-7: replace and cancel are asynchronous and race fills -------------------------


def _replace_race(sim: SimExchange, updates: Callable[[SimExchange], Updates]) -> list[Any]:
    """A replace requested, then a bar that fills the old order before the replace lands."""
    client = sdk(sim)
    stream = updates(sim)
    old = client.submit_order(stop(OrderSide.SELL, 99, "r-old"))
    new = client.replace_order_by_id(old.id, ReplaceOrderRequest(stop_price=98.5))
    assert (new.replaces, new.client_order_id) == (old.id, new.client_order_id)
    assert client.get_order_by_id(old.id).status == OrderStatus.PENDING_REPLACE
    sim.feed_bar(make_bar(0, "99.5", "99.6", "98", "98.2"))  # elects 99 before 98.5 is in
    seen = stream.wait_for("order_replace_rejected", "r-old")
    assert client.get_order_by_id(old.id).status in (
        OrderStatus.FILLED,
        OrderStatus.PARTIALLY_FILLED,
    )
    assert client.get_order_by_id(new.id).status == OrderStatus.REJECTED
    return seen


class TestRows06To07RequestsRaceFills:
    def test_row06_a_replace_that_loses_to_a_fill_is_200_then_rejected(
        self, venue, updates
    ) -> None:
        """200 with the new order; the old fills first; the new one is rejected and the old
        gets order_replace_rejected — the same events again for the same seed."""
        first = _replace_race(venue(seed=7), updates)
        assert ("pending_replace", "r-old") in first
        again = _replace_race(venue(seed=7), updates)
        assert again == first

    def test_row06_a_replace_without_a_change_is_403_and_pending_is_422(self, venue) -> None:
        client = sdk(venue())
        order = client.submit_order(stop(OrderSide.SELL, 99, "r-same"))
        unchanged = refused(
            lambda: client.replace_order_by_id(order.id, ReplaceOrderRequest(stop_price=99))
        )
        assert (unchanged.status_code, unchanged.message) == (
            403,
            "order parameters are not changed",
        )
        client.replace_order_by_id(order.id, ReplaceOrderRequest(stop_price=98))
        again = refused(
            lambda: client.replace_order_by_id(order.id, ReplaceOrderRequest(stop_price=97))
        )
        assert again.status_code == 422  # still pending_replace

    def test_row07_a_cancel_can_still_fill_and_is_then_rejected(self, venue, updates) -> None:
        """204, pending_cancel; the stop fills before the cancel lands: order_cancel_rejected."""
        sim = venue(rules=WHOLE_FILLS)
        client = sdk(sim)
        stream = updates(sim)
        order = client.submit_order(stop(OrderSide.SELL, 99, "x-late"))
        assert client.cancel_order_by_id(order.id) is None
        assert client.get_order_by_id(order.id).status == OrderStatus.PENDING_CANCEL
        sim.feed_bar(make_bar(0, "99.5", "99.6", "98", "98.2"))
        seen = stream.wait_for("order_cancel_rejected", "x-late")
        assert seen.index(("fill", "x-late")) < seen.index(("order_cancel_rejected", "x-late"))
        assert client.get_order_by_id(order.id).status == OrderStatus.FILLED

    def test_row07_a_cancel_during_a_pending_replace_is_rejected(self, venue, updates) -> None:
        sim = venue()
        client = sdk(sim)
        stream = updates(sim)
        order = client.submit_order(stop(OrderSide.SELL, 99, "x-rep"))
        new = client.replace_order_by_id(order.id, ReplaceOrderRequest(stop_price=98))
        client.cancel_order_by_id(order.id)
        stream.wait_for("order_cancel_rejected", "x-rep")
        sim.land_requests()
        stream.wait_for("replaced", "x-rep")
        assert client.get_order_by_id(new.id).status == OrderStatus.NEW


# --- rows 8-9: stops elect on a trade; market orders fill at the next minute's open ----------


def test_row08_a_sell_stop_gapped_through_fills_at_the_open_not_the_stop(venue) -> None:
    sim = venue(rules=WHOLE_FILLS)
    client = sdk(sim)
    client.submit_order(market(OrderSide.BUY, "g-buy"))
    sim.feed_bar(make_bar(0, "100", "100.5", "99.5", "100"))
    order = client.submit_order(stop(OrderSide.SELL, 99, "g-stop"))
    sim.feed_bar(make_bar(1, "97", "97.5", "96.5", "97"))
    filled = client.get_order_by_id(order.id)
    assert (filled.type, filled.status, filled.filled_avg_price) == (
        OrderType.STOP,
        OrderStatus.FILLED,
        "97",
    )


def test_row08_extended_hours_take_only_day_limit_orders(venue) -> None:
    client = sdk(venue())
    order = stop(OrderSide.BUY, 101.5, "eh-stop")
    order.extended_hours = True
    error = refused(lambda: client.submit_order(order))
    assert (error.status_code, error.message) == (
        422,
        "extended hours order must be DAY limit orders",
    )
    limit = LimitOrderRequest(
        symbol="AAPL",
        qty=10,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=99,
        extended_hours=True,
        client_order_id="eh-limit",
    )
    assert client.submit_order(limit).extended_hours is True


def test_row09_a_market_order_fills_at_the_next_minutes_open(venue) -> None:
    sim = venue(rules=WHOLE_FILLS)
    client = sdk(sim)
    order = client.submit_order(market(OrderSide.BUY, "m-buy"))
    assert client.get_order_by_id(order.id).filled_qty == "0"
    sim.feed_bar(make_bar(0, "100.25", "101", "99", "100.5"))
    assert client.get_order_by_id(order.id).filled_avg_price == "100.25"


# --- rows 10-12: client order ids, rate limit, one trading stream --------------------------


def test_row10_a_client_order_id_longer_than_48_is_422(venue) -> None:
    client = sdk(venue())
    error = refused(lambda: client.submit_order(stop(OrderSide.BUY, 101.5, "x" * 49)))
    assert error.status_code == 422
    assert "48" in error.message


def test_row11_the_rate_limit_answers_429_with_alpacas_headers(venue) -> None:
    """200 requests a minute by default; each answer counts down X-RateLimit-Remaining."""
    sim = venue(rate_limit=200)
    client = sdk(sim)
    for _ in range(200):
        client.get_clock()
    error = refused(client.get_clock)
    assert error.status_code == 429
    assert error.response is not None
    headers = error.response.headers
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("200", "0")
    assert int(headers["X-RateLimit-Reset"]) > 0


def test_row12_a_second_trading_stream_session_is_refused(venue, updates) -> None:
    """One trade_updates connection per account: the second handshake gets HTTP 429."""
    sim = venue()
    updates(sim)  # the SDK's TradingStream holds the account's one session
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        websocket.create_connection(sim.trading_stream_url, timeout=TIMEOUT)
    assert caught.value.status_code == 429


# --- rows 17-21: positions, buying power, assets, prices, partial fills --------------------


class TestRows17To21Account:
    def test_row17_shares_held_by_an_open_sell_are_not_available(self, venue) -> None:
        """qty_available excludes what the protective stop holds; a second sell is 403; the
        position closes by qty and by percentage."""
        sim = venue(rules=WHOLE_FILLS)
        client = sdk(sim)
        client.submit_order(market(OrderSide.BUY, "p-buy", qty=100))
        sim.feed_bar(make_bar(0, "100", "100.5", "99.5", "100"))
        client.submit_order(stop(OrderSide.SELL, 95, "p-stop", qty=60))
        position = client.get_open_position("AAPL")
        assert (position.qty, position.qty_available) == ("100", "40")
        error = refused(lambda: client.submit_order(market(OrderSide.SELL, "p-sell", qty=50)))
        assert error.status_code == 403
        assert error.message.startswith("insufficient qty available for order")
        too_much = refused(
            lambda: client.close_position("AAPL", ClosePositionRequest(percentage="50"))
        )
        assert too_much.status_code == 403  # 50 of 100, but the stop holds 60
        part = client.close_position("AAPL", ClosePositionRequest(percentage="25"))
        assert part.qty == "25"
        sim.feed_bar(make_bar(1, "100", "100.5", "99.5", "100"))
        assert client.get_open_position("AAPL").qty_available == "15"
        some = client.close_position("AAPL", ClosePositionRequest(qty="15"))
        assert some.qty == "15"

    def test_row18_open_buy_orders_reduce_buying_power(self, venue) -> None:
        client = sdk(venue(cash=Decimal(100000)))
        before = Decimal(client.get_account().buying_power)
        client.submit_order(stop(OrderSide.BUY, 101.5, "bp-1", qty=100))
        after = Decimal(client.get_account().buying_power)
        assert before - after == Decimal("10403")  # 100 at the 104.03 limit
        error = refused(lambda: client.submit_order(stop(OrderSide.BUY, 102.5, "bp-2", qty=5000)))
        assert (error.status_code, error.message) == (403, "insufficient buying power")

    def test_row19_a_short_needs_an_easy_to_borrow_asset(self, venue) -> None:
        client = sdk(venue())
        asset = client.get_asset("HARD")
        assert (asset.shortable, asset.easy_to_borrow, asset.fractionable) == (True, False, False)
        error = refused(
            lambda: client.submit_order(stop(OrderSide.SELL, 40, "s-hard", symbol="HARD"))
        )
        assert error.status_code == 403
        assert (
            client.submit_order(stop(OrderSide.SELL, 99, "s-aapl")).status == OrderStatus.ACCEPTED
        )

    def test_row20_sub_penny_prices_and_unknown_symbols_are_422(self, venue) -> None:
        client = sdk(venue())
        sub_penny = refused(lambda: client.submit_order(stop(OrderSide.BUY, 101.505, "pr-1")))
        assert sub_penny.status_code == 422
        assert "sub-penny increment" in sub_penny.message
        unknown = refused(
            lambda: client.submit_order(stop(OrderSide.BUY, 10, "pr-2", symbol="ZZZZ"))
        )
        assert (unknown.status_code, unknown.message) == (422, 'could not find asset "ZZZZ"')

    def test_row21_about_one_fill_in_ten_is_partial(self, venue) -> None:
        """Alpaca paper's rate, seeded: the same seed splits the same fills."""

        def partials(seed: int) -> list[str]:
            sim = venue(seed=seed)
            client = sdk(sim)
            split = []
            for i in range(60):
                order = client.submit_order(market(OrderSide.BUY, f"pf-{seed}-{i}"))
                sim.feed_bar(make_bar(i, "100", "100.5", "99.5", "100"))
                status = client.get_order_by_id(order.id).status
                if status == OrderStatus.PARTIALLY_FILLED:
                    split.append(order.client_order_id.rsplit("-", 1)[1])
                    client.cancel_order_by_id(order.id)
                    sim.land_requests()
            return split

        first = partials(3)
        assert 1 <= len(first) <= 15, first
        assert partials(3) == first
