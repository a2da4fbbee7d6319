"""The matching core: fill model, order lifecycle, positions and the venue's refusals."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from brokers import (
    Bar,
    DuplicateClientOrderIdError,
    InsufficientFundsError,
    InvalidOrderError,
    MatchingEngine,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    ReplaceRequest,
    TimeInForce,
    UnchangedOrderError,
    UpdateKind,
)

D = Decimal
T0 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
STEP = timedelta(minutes=5)


def bar(i: int, o: str, h: str, low: str, c: str, symbol: str = "AAPL") -> Bar:
    return Bar(symbol=symbol, start=T0 + i * STEP, open=D(o), high=D(h), low=D(low), close=D(c))


def stop(side: OrderSide, price: str, qty: int = 100, cid: str | None = None) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL",
        qty=D(qty),
        side=side,
        type=OrderType.STOP,
        stop_price=D(price),
        client_order_id=cid,
    )


def market(side: OrderSide, qty: int = 100, cid: str | None = None) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL", qty=D(qty), side=side, type=OrderType.MARKET, client_order_id=cid
    )


def limit(side: OrderSide, price: str, qty: int = 100) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL", qty=D(qty), side=side, type=OrderType.LIMIT, limit_price=D(price)
    )


class TestFillModel:
    def test_buy_stop_fills_at_its_price_when_the_high_reaches_it(self):
        """A buy stop inside the bar's range fills at the stop price."""
        engine = MatchingEngine()
        engine.submit(stop(OrderSide.BUY, "101.00"), T0)
        (fill,) = engine.on_bar(bar(0, "100.00", "101.50", "99.80", "101.20"), T0 + STEP)
        assert (fill.kind, fill.price, fill.qty, fill.position_qty) == (
            UpdateKind.FILL,
            D("101.00"),
            D(100),
            D(100),
        )

    def test_buy_stop_fills_at_the_open_on_a_gap_through(self):
        """A bar opening above a buy stop fills it at the open, not at the stop."""
        engine = MatchingEngine()
        engine.submit(stop(OrderSide.BUY, "101.00"), T0)
        (fill,) = engine.on_bar(bar(0, "102.00", "102.50", "101.80", "102.20"), T0 + STEP)
        assert fill.price == D("102.00")

    def test_sell_stop_mirrors_the_buy_stop(self):
        """A sell stop fills at the stop when the low reaches it, at the open on a gap down."""
        engine = MatchingEngine()
        engine.submit(stop(OrderSide.SELL, "99.00", cid="a"), T0)
        engine.submit(stop(OrderSide.SELL, "98.00", cid="b"), T0)
        fills = engine.on_bar(bar(0, "97.50", "99.50", "97.00", "98.00"), T0 + STEP)
        assert {f.order.client_order_id: f.price for f in fills} == {
            "a": D("97.50"),
            "b": D("97.50"),
        }
        engine2 = MatchingEngine()
        engine2.submit(stop(OrderSide.SELL, "99.00"), T0)
        (fill,) = engine2.on_bar(bar(0, "100.00", "100.50", "98.50", "99.20"), T0 + STEP)
        assert fill.price == D("99.00")

    def test_a_stop_the_bar_does_not_reach_keeps_working(self):
        """No fill while the bar stays on the safe side of the stop."""
        engine = MatchingEngine()
        order, _ = engine.submit(stop(OrderSide.BUY, "105.00"), T0)
        assert engine.on_bar(bar(0, "100", "104.99", "99", "104"), T0 + STEP) == []
        assert engine.get_order(order.id).status is OrderStatus.NEW

    def test_market_order_fills_at_the_next_bar_open(self):
        """A market order fills at the open of the first bar after it was placed."""
        engine = MatchingEngine()
        engine.submit(market(OrderSide.BUY), T0)
        (fill,) = engine.on_bar(bar(0, "100.10", "101", "99", "100.50"), T0 + STEP)
        assert fill.price == D("100.10")

    def test_limit_orders_fill_at_the_limit_or_better(self):
        """A buy limit fills at the limit when the low reaches it; a sell limit at the open if better."""
        engine = MatchingEngine()
        engine.submit(limit(OrderSide.BUY, "99.50"), T0)
        (fill,) = engine.on_bar(bar(0, "100", "100.20", "99.10", "99.90"), T0 + STEP)
        assert fill.price == D("99.50")
        engine.submit(limit(OrderSide.SELL, "99.00"), T0 + STEP)
        (fill,) = engine.on_bar(bar(1, "99.80", "100", "99.60", "99.70"), T0 + 2 * STEP)
        assert fill.price == D("99.80")

    def test_an_order_placed_after_the_bar_opened_waits_for_the_next_bar(self):
        """Orders submitted after a bar's start match from the next bar unless a cutoff says otherwise."""
        engine = MatchingEngine()
        engine.submit(stop(OrderSide.BUY, "101"), T0 + timedelta(minutes=2))
        late_bar = bar(0, "100", "102", "99", "101.5")
        assert engine.on_bar(late_bar, T0 + STEP) == []
        (fill,) = engine.on_bar(late_bar, T0 + STEP, cutoff=T0 + STEP)
        assert fill.price == D("101")

    def test_an_order_placed_inside_a_bar_never_fills_at_its_open(self):
        """Re-matched with inside=True, a sell stop below a bar's open-below-it fills at its price."""
        engine = MatchingEngine()
        engine.submit(stop(OrderSide.SELL, "98.84"), T0)
        fill_bar = bar(0, "98.75", "99.10", "98.74", "99.05")  # opened under the stop
        (fill,) = engine.on_bar(fill_bar, T0, cutoff=T0 + STEP, inside=True)
        assert fill.price == D("98.84")

    def test_stops_match_before_limits_in_the_same_bar(self):
        """When one bar reaches a long's stop and its target, the stop is taken first."""
        engine = MatchingEngine()
        engine.submit(market(OrderSide.BUY), T0)
        engine.on_bar(bar(0, "100", "100", "100", "100"), T0 + STEP)
        engine.submit(limit(OrderSide.SELL, "103", qty=50), T0 + STEP)
        engine.submit(stop(OrderSide.SELL, "98", qty=50), T0 + STEP)
        fills = engine.on_bar(bar(1, "100", "104", "97", "100"), T0 + 2 * STEP)
        assert fills[0].order.type is OrderType.STOP
        assert fills[0].price == D("98")

    def test_partial_fills_follow_the_fill_ratio(self):
        """A fill ratio of one half fills half now and the rest on a later bar, cumulative."""
        engine = MatchingEngine(fill_ratio=lambda order, bar: D("0.5"))
        engine.submit(stop(OrderSide.BUY, "101"), T0)
        (first,) = engine.on_bar(bar(0, "100", "102", "99", "101.5"), T0 + STEP)
        assert (first.kind, first.qty, first.order.filled_qty) == (
            UpdateKind.PARTIAL_FILL,
            D(50),
            D(50),
        )
        (second,) = engine.on_bar(bar(1, "101.5", "102", "101", "101.8"), T0 + 2 * STEP)
        assert (second.kind, second.order.filled_qty) == (UpdateKind.PARTIAL_FILL, D(75))
        assert second.order.filled_avg_price == (D(101) * 50 + D("101.5") * 25) / 75


class TestOrderLifecycle:
    def test_submit_answers_accepted_and_streams_new(self):
        """The REST answer says accepted; the stream says new; the order is open."""
        engine = MatchingEngine()
        order, updates = engine.submit(stop(OrderSide.BUY, "101", cid="x-1"), T0)
        assert order.status is OrderStatus.ACCEPTED
        assert [u.kind for u in updates] == [UpdateKind.NEW]
        assert engine.get_order_by_client_id("x-1").status is OrderStatus.NEW

    def test_client_order_ids_are_unique_forever(self):
        """A client order id used once, even by a cancelled order, is refused again."""
        engine = MatchingEngine()
        order, _ = engine.submit(stop(OrderSide.BUY, "101", cid="x-1"), T0)
        engine.cancel(order.id, T0)
        with pytest.raises(DuplicateClientOrderIdError, match="client_order_id must be unique"):
            engine.submit(stop(OrderSide.BUY, "101", cid="x-1"), T0)

    def test_cancelling_a_terminal_order_is_refused(self):
        """Cancel twice: the second names the terminal state with 422."""
        engine = MatchingEngine()
        order, _ = engine.submit(stop(OrderSide.BUY, "101"), T0)
        assert [u.kind for u in engine.cancel(order.id, T0)] == [UpdateKind.CANCELED]
        with pytest.raises(NotCancelableError, match='order is already in "canceled" state') as exc:
            engine.cancel(order.id, T0)
        assert (exc.value.status, exc.value.code) == (422, 42210000)

    def test_replace_creates_a_new_order_and_retires_the_old(self):
        """Replace: a new id that `replaces` the old; the old is `replaced` with `replaced_by`."""
        engine = MatchingEngine()
        old, _ = engine.submit(stop(OrderSide.BUY, "101", cid="s-1"), T0)
        new, updates = engine.replace(
            old.id, ReplaceRequest(stop_price=D("100.50"), client_order_id="s-1-r1"), T0
        )
        assert [u.kind for u in updates] == [UpdateKind.REPLACED, UpdateKind.NEW]
        assert (new.replaces, new.stop_price, new.client_order_id) == (
            old.id,
            D("100.50"),
            "s-1-r1",
        )
        retired = engine.get_order(old.id)
        assert (retired.status, retired.replaced_by) == (OrderStatus.REPLACED, new.id)
        with pytest.raises(NotReplaceableError, match="order is not open"):
            engine.replace(old.id, ReplaceRequest(stop_price=D("100")), T0)

    def test_a_replace_without_a_size_asks_for_the_original_size(self):
        """Alpaca-API issue 165: a partly filled order replaced at a new price comes back at its
        original quantity, not what it had left (so a client must always name the size)."""
        engine = MatchingEngine(fill_ratio=lambda order, bar: D("0.5"))
        order, _ = engine.submit(stop(OrderSide.BUY, "105", qty=10), T0)
        engine.on_bar(bar(0, "104", "106", "104", "105"), T0 + STEP)
        assert engine.get_order(order.id).filled_qty == 5
        new, _ = engine.replace(order.id, ReplaceRequest(stop_price=D("107")), T0 + STEP)
        assert new.qty == 10  # all of it again, though 5 are filled

    def test_a_part_fill_while_a_replace_flies_comes_off_the_replacement(self):
        """The old stop fills in part before the replace lands: the replacement is for what the
        old one had left then, never more than the position it protects."""
        from brokers import ALPACA_PAPER

        def ratio(order, bar):
            return D("0.3") if order.client_order_id == "st" else D(1)

        rules = replace(ALPACA_PAPER, partial_fill_rate=0.0)
        engine = MatchingEngine(rules=rules, fill_ratio=ratio)
        engine.submit(market(OrderSide.BUY, 100), T0)
        engine.on_bar(bar(0, "100", "101", "99", "100"), T0 + STEP)
        now = T0 + 2 * STEP
        old, _ = engine.submit(stop(OrderSide.SELL, "95", qty=100, cid="st"), now)
        engine.replace(
            old.id, ReplaceRequest(qty=D(100), stop_price=D("96"), client_order_id="st-r1"), now
        )
        engine.on_bar(bar(3, "96", "96", "94", "94.5"), now + STEP)  # the old stop: 30 of 100
        assert engine.get_order(old.id).filled_qty == 30
        engine.settle(now + 2 * STEP)
        landed = engine.get_order_by_client_id("st-r1")
        assert landed.status is OrderStatus.NEW
        assert landed.qty == 70 == engine.position("AAPL").qty

    def test_replace_that_changes_nothing_is_refused(self):
        """A replace with the same parameters answers 403 'order parameters are not changed'."""
        engine = MatchingEngine()
        old, _ = engine.submit(stop(OrderSide.BUY, "101"), T0)
        with pytest.raises(UnchangedOrderError, match="order parameters are not changed"):
            engine.replace(old.id, ReplaceRequest(stop_price=D("101")), T0)

    def test_unknown_orders_are_not_found(self):
        """Unknown ids and client ids answer 404."""
        engine = MatchingEngine()
        with pytest.raises(NotFoundError, match="order not found for nope"):
            engine.get_order("nope")
        with pytest.raises(NotFoundError):
            engine.get_order_by_client_id("nope")

    def test_day_orders_expire_at_the_close(self):
        """Closing the session expires every working DAY order."""
        engine = MatchingEngine()
        engine.submit(stop(OrderSide.BUY, "101"), T0)
        (update,) = engine.expire_day_orders(T0 + timedelta(hours=7))
        assert (update.kind, update.order.status) == (UpdateKind.EXPIRED, OrderStatus.EXPIRED)
        assert engine.list_orders(status="open") == []

    def test_expiry_follows_submission_order_across_symbols_and_skips_closed_orders(self):
        """Expirations come in the order the orders were placed, whatever their symbol; a
        replaced, cancelled or filled order does not expire, and a GTC one is done for the day."""
        engine = MatchingEngine()
        ibm = OrderRequest(
            symbol="IBM", qty=D(10), side=OrderSide.BUY, type=OrderType.STOP, stop_price=D("200")
        )
        gtc = OrderRequest(
            symbol="IBM",
            qty=D(10),
            side=OrderSide.BUY,
            type=OrderType.STOP,
            stop_price=D("210"),
            time_in_force=TimeInForce.GTC,
        )
        first, _ = engine.submit(stop(OrderSide.BUY, "101", cid="a1"), T0)
        engine.submit(ibm, T0)
        engine.submit(gtc, T0)
        cancelled, _ = engine.submit(stop(OrderSide.BUY, "102", cid="a2"), T0)
        engine.submit(market(OrderSide.BUY, cid="a3"), T0)
        engine.replace(first.id, ReplaceRequest(stop_price=D("103"), client_order_id="a1r"), T0)
        engine.cancel(cancelled.id, T0)
        engine.on_bar(bar(1, "100", "100", "100", "100"), T0 + STEP)  # fills the market order
        updates = engine.expire_day_orders(T0 + timedelta(hours=7))
        assert [(u.kind, u.order.symbol, u.order.stop_price) for u in updates] == [
            (UpdateKind.EXPIRED, "IBM", D("200")),
            (UpdateKind.DONE_FOR_DAY, "IBM", D("210")),
            (UpdateKind.EXPIRED, "AAPL", D("103")),
        ]
        assert [o.stop_price for o in engine.list_orders(status="open")] == [D("210")]

    @pytest.mark.parametrize(
        ("request_", "message"),
        [
            (
                OrderRequest(symbol="AAPL", qty=D(0), side=OrderSide.BUY, type=OrderType.MARKET),
                "qty must be > 0",
            ),
            (
                OrderRequest(symbol="AAPL", qty=D(1), side=OrderSide.BUY, type=OrderType.STOP),
                "stop_price is required",
            ),
            (
                OrderRequest(
                    symbol="AAPL",
                    qty=D(1),
                    side=OrderSide.BUY,
                    type=OrderType.MARKET,
                    client_order_id="x" * 49,
                ),
                "no more than 48 characters",
            ),
        ],
    )
    def test_invalid_orders_are_refused_with_422(self, request_, message):
        """Bad fields are refused before anything is stored."""
        engine = MatchingEngine()
        with pytest.raises(InvalidOrderError, match=message) as exc:
            engine.submit(request_, T0)
        assert exc.value.status == 422
        assert engine.all_orders() == []


class TestPositions:
    def test_a_closing_order_may_not_exceed_the_unreserved_position(self):
        """Long 100 with a sell stop for 100: another sell is refused (qty held by the stop)."""
        engine = MatchingEngine()
        engine.submit(market(OrderSide.BUY), T0)
        engine.on_bar(bar(0, "100", "100", "100", "100"), T0 + STEP)
        engine.submit(stop(OrderSide.SELL, "98"), T0 + STEP)
        with pytest.raises(InsufficientFundsError, match=r"requested: 100, available: 0"):
            engine.submit(market(OrderSide.SELL), T0 + STEP)

    def test_positions_and_cash_follow_the_fills(self):
        """Buy 100 at 100, sell 100 at 102: flat, cash up 200."""
        engine = MatchingEngine(cash=D(100000))
        engine.submit(market(OrderSide.BUY), T0)
        engine.on_bar(bar(0, "100", "100", "100", "100"), T0 + STEP)
        assert engine.position("AAPL").qty == D(100)
        assert engine.position("AAPL").avg_entry_price == D(100)
        engine.close_position("AAPL", T0 + STEP)
        engine.on_bar(bar(1, "102", "102", "102", "102"), T0 + 2 * STEP)
        assert engine.positions() == []
        assert engine.account().cash == D(100200)
        with pytest.raises(NotFoundError, match="position does not exist"):
            engine.close_position("AAPL", T0)

    def test_same_seed_gives_the_same_ids(self):
        """Ids are UUID v4 from a seeded generator: two runs agree."""
        ids = []
        for _ in range(2):
            engine = MatchingEngine(seed=7)
            order, _ = engine.submit(stop(OrderSide.BUY, "101"), T0)
            ids.append(order.id)
        assert ids[0] == ids[1]
        assert ids[0][14] == "4"  # version 4
