"""End to end over real sockets: the runner, the adapter and the simulated exchange on loopback."""

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import AlpacaBroker, Order, OrderType, SimExchange
from machines import ClientOrderId, OrderRole
from strategies.run import RunSettings, first_sessions, load_bars, run_live
from strategies.spec import load_strategy

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2012, 11, 15)  # three 80-20 trades in the demo data (AAPL, IBM, GOOG)


def _cid(order: Order) -> ClientOrderId:
    cid = ClientOrderId.parse(order.client_order_id)
    assert cid is not None, order.client_order_id
    return cid


@pytest.fixture(scope="module")
def live_day():
    """One live session of the 80-20 example against the simulated exchange, kept for reading."""
    spec = load_strategy(ROOT / "examples" / "eighty_twenty.toml")
    bars, history = first_sessions(load_bars(ROOT / "data" / "intraday_5min"), spec, 1, DAY)
    sim = SimExchange(bars, speed=4000, rate_limit=100_000, hold_until_subscribed=True).start()
    try:
        result = run_live(
            spec,
            bars=bars,
            history=history,
            settings=RunSettings(poll_interval=0.5),
            exchange=sim,
        )
        rest = AlpacaBroker(sim.client_settings())
        orders = rest.list_orders(status="all", limit=500)
        positions = rest.list_positions()
        rest.close()
        yield spec, result, orders, positions
    finally:
        sim.stop()


class TestLiveDay:
    def test_the_day_trades_through_entries_stops_and_exits(self, live_day):
        """Entries filled, protective stops placed and trailed, every trade closed by day end."""
        _spec, result, orders, _positions = live_day
        trades = result.engine.recorder.trades
        assert len(trades) >= 2
        # Every bar the exchange sent reached the runner: 78 buckets for each of the four
        # symbols, less the four quiet buckets of that day's demo data (no print, no bar).
        assert result.bars == 78 * 4 - 4
        roles = Counter(_cid(o).role for o in orders)
        assert roles[OrderRole.STOP] >= len(trades)  # each position protected, some replaced
        assert any(o.replaces for o in orders)  # trailing replaced a stop at the exchange

    def test_the_exchange_order_book_agrees_with_the_machines(self, live_day):
        """Read over the exchange's REST API: ids unique, attempts bounded, flat, books agree."""
        spec, result, orders, positions = live_day
        ids = [o.client_order_id for o in orders]
        assert len(ids) == len(set(ids))
        assert all(_cid(o).strategy == spec.name for o in orders)
        entries = Counter(
            (o.symbol, _cid(o).trading_date, _cid(o).attempt)
            for o in orders
            if o.type is OrderType.STOP and _cid(o).role is OrderRole.ENTRY
        )
        assert all(count <= spec.max_attempts for count in entries.values())
        assert positions == []
        for symbol in spec.symbols:
            snapshot = result.engine.desk.machine(symbol).snapshot()
            assert snapshot.position == Decimal(0)
            assert snapshot.working_orders == ()
            assert snapshot.anomalies == 0
        filled_at_exchange = {o.client_order_id: o.filled_qty for o in orders if o.filled_qty}
        traded = sum(t.qty for t in result.engine.recorder.trades) * 2
        assert sum(filled_at_exchange.values()) == traded

    def test_reconciliation_ran_at_start_and_while_trading(self, live_day):
        """The poller reconciled at start-up and on its interval."""
        _spec, result, _orders, _positions = live_day
        assert result.reconciliations >= 2
