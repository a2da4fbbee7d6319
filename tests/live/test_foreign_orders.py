"""Issue 14: orders on the account that tickstate did not place are tolerated.

A manual trailing stop, a bracket's held stop-loss leg and a notional order sit on FB's account while the
strategy trades FB (the collar day of ``test_collar_and_pdt``). Alpaca lists them with the
strategy's own orders; their type (``trailing_stop``) is outside the adapter's subset and
their client order ids are not the strategy's. They are left out before strict parsing and
listed in the log once each (``foreign_order``); start-up and every reconciliation go on, and the
day trades exactly as it does without them. The twin does not model such orders (it refuses
complex orders): they are listed by its ``GET /v2/orders`` as given (``SimExchange.foreign_orders``).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from structlog.testing import capture_logs

from brokers import OrderStatus, OrderType
from brokers.alpaca._wire import order_from_json
from tests.live.test_collar_and_pdt import _run, gap_day

TRAILING_STOP = {
    "id": "6f1c0a52-0000-4000-8000-000000000001",
    "client_order_id": "web-7d1f9a",
    "symbol": "FB",
    "asset_id": "fb-asset",
    "side": "sell",
    "type": "trailing_stop",
    "order_type": "trailing_stop",
    "order_class": "",
    "time_in_force": "gtc",
    "qty": "10",
    "filled_qty": "0",
    "trail_percent": "2.0",
    "hwm": "20.10",
    "status": "new",
    "created_at": "2012-11-15T14:00:00Z",
    "updated_at": "2012-11-15T14:00:00Z",
    "submitted_at": "2012-11-15T14:00:00Z",
}
HELD_BRACKET_LEG = {
    **TRAILING_STOP,
    "id": "6f1c0a52-0000-4000-8000-000000000002",
    "client_order_id": "b1e5c4d2-bracket-stop-loss",
    "type": "stop",
    "order_type": "stop",
    "order_class": "bracket",
    "stop_price": "15.00",
    "status": "held",
    "trail_percent": None,
    "hwm": None,
}

#: A notional order has no ``qty``: strict parsing would refuse it (the filter comes first).
NOTIONAL = {
    **TRAILING_STOP,
    "id": "6f1c0a52-0000-4000-8000-000000000003",
    "client_order_id": "app-notional-1",
    "type": "market",
    "order_type": "market",
    "qty": None,
    "notional": "500",
    "time_in_force": "day",
    "status": "accepted",
    "trail_percent": None,
    "hwm": None,
}
FOREIGN = (TRAILING_STOP, HELD_BRACKET_LEG, NOTIONAL)


def _foreign(sim) -> None:
    sim.foreign_orders.extend(FOREIGN)


class TestForeignOrders:
    def test_a_foreign_trailing_stop_and_a_held_bracket_leg_leave_the_run_alone(self):
        """Start-up and every reconciliation succeed; each foreign order is logged once; FB
        trades and is covered at market as it is without them."""
        with capture_logs() as logs:
            result, _orders, positions, refusals, _account = _run(gap_day(), prepare=_foreign)
        (trade,) = result.engine.recorder.trades
        assert trade.exit_reason == "collar_gapped"
        assert positions == {"FB": Decimal(0)}
        assert refusals == {}
        assert result.reconciliations >= 2
        listed = [e for e in logs if e["event"] == "foreign_order"]
        # Once by the runner's adapter, however many reconciliations listed them; once more by
        # this test's own listing of the orders afterwards.
        assert Counter(e["client_order_id"] for e in listed) == {
            o["client_order_id"]: 2 for o in FOREIGN
        }
        assert result.engine.desk.counters().anomalies == 0
        assert not [e for e in logs if e["event"] in ("reconcile_failed", "engine_fault")]

    def test_unknown_types_and_statuses_read_as_other(self):
        """Parsed strictly anyway (a listing without the prefix filter), an order of a type or a
        status outside the subset reads as ``other``, not as an error."""
        trailing = order_from_json(TRAILING_STOP)
        assert trailing.type is OrderType.OTHER
        assert trailing.is_open
        future = order_from_json({**HELD_BRACKET_LEG, "status": "pending_bust"})
        assert (future.type, future.status) == (OrderType.STOP, OrderStatus.OTHER)
        assert order_from_json(HELD_BRACKET_LEG).status is OrderStatus.HELD
