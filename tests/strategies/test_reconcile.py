"""Reconciliation against snapshots older than the broker's list: no halt over our own new stop.

The poller takes the machines' snapshots, then lists the broker's orders; a stop the engine
placed in between is listed but not in the snapshots. It is ours — the machine decided it — so
it is no orphan: the next pass compares it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from brokers import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from machines import (
    Desk,
    EntryLeg,
    EntrySignalled,
    HaltRequested,
    OrderAccepted,
    OrderFilled,
    OrderRole,
    Side,
)
from strategies.run import reconcile

D = Decimal
DAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 15, tzinfo=UTC)


def _order(client_order_id: str, symbol: str = "AAPL") -> Order:
    """An open sell stop as the broker lists it."""
    return Order(
        id=f"venue-{client_order_id}",
        client_order_id=client_order_id,
        symbol=symbol,
        side=OrderSide.SELL,
        type=OrderType.STOP,
        time_in_force=TimeInForce.DAY,
        qty=D(100),
        status=OrderStatus.NEW,
        created_at=AT,
        updated_at=AT,
        submitted_at=AT,
        asset_id="asset",
        stop_price=D("99.00"),
    )


def _stop_placed_after_the_snapshots() -> tuple[Desk, list, str]:
    """A desk whose AAPL entry filled (placing its stop) after its snapshots were read."""
    desk = Desk(strategy="s", trading_date=DAY)
    leg = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
    (entry,) = desk.fire("AAPL", EntrySignalled(at=AT, qty=D(100), legs=(leg,))).commands
    desk.fire("AAPL", OrderAccepted(client_order_id=entry.client_order_id, at=AT))
    snapshots = list(desk.snapshots())  # the poller's view, taken first
    fill = OrderFilled(
        client_order_id=entry.client_order_id, at=AT, filled_qty=D(100), avg_fill_price=D(101)
    )
    (stop,) = [c for c in desk.fire("AAPL", fill).commands]
    return desk, snapshots, stop.client_order_id


def _pass(desk: Desk, snapshots: list, orders: dict[str, Order], **decided):
    return reconcile(
        strategy="s",
        snapshots=snapshots,
        orders=orders,
        positions={"AAPL": D(100)},
        client_id_of=lambda _venue: None,
        now=AT,
        missing_since={},
        grace_seconds=10.0,
        **decided,
    )


class TestOrdersPlacedAfterTheSnapshots:
    def test_our_own_new_stop_is_not_an_orphan(self):
        """Listed by the broker, missing from the older snapshots, decided by the machine: the
        symbol is not halted."""
        desk, snapshots, stop = _stop_placed_after_the_snapshots()
        found = _pass(desk, snapshots, {stop: _order(stop)}, decided=desk.decided)
        assert not [e for _, e in found.events if isinstance(e, HaltRequested)]
        assert found.cancel_orphans == []

    def test_without_asking_the_machine_the_same_stop_halts_the_symbol(self):
        """What the runner did before it asked (the race this closes)."""
        desk, snapshots, stop = _stop_placed_after_the_snapshots()
        found = _pass(desk, snapshots, {stop: _order(stop)})
        assert [e.reason for _, e in found.events if isinstance(e, HaltRequested)] == [
            f"unknown_open_order:{stop}"
        ]

    def test_a_stop_no_machine_decided_still_halts_its_symbol(self):
        """An open stop with our strategy's id that no machine decided is still ambiguous."""
        desk, snapshots, _ = _stop_placed_after_the_snapshots()
        stranger = "s-AAPL-20261123-7-stop"
        found = _pass(desk, snapshots, {stranger: _order(stranger)}, decided=desk.decided)
        assert [e.reason for _, e in found.events if isinstance(e, HaltRequested)] == [
            f"unknown_open_order:{stranger}"
        ]


class TestDecided:
    def test_a_desk_knows_the_orders_its_machines_decided_working_or_finished(self):
        """Working and finished orders are the desk's; another strategy's or symbol's are not."""
        desk, snapshots, stop = _stop_placed_after_the_snapshots()
        (entry,) = [o for o in snapshots[0].working_orders if o.role is OrderRole.ENTRY]
        assert desk.decided(stop)  # working
        assert desk.decided(entry.client_order_id)  # filled: finished
        assert not desk.decided(stop.replace("s-", "t-", 1))  # another strategy
        assert not desk.decided(stop.replace("AAPL", "MSFT"))  # a symbol with no machine
        assert not desk.decided("manual-order-1")  # not an id of ours at all
