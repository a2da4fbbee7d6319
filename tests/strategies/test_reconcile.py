"""Reconciliation against snapshots older than the broker's list: no halt over our own new stop.

The poller takes the machines' snapshots, then lists the broker's orders; a stop the engine
placed in between is listed but not in the snapshots. It is ours — the machine decided it — so
it is no orphan: the next pass compares it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from brokers import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from machines import (
    ClosePosition,
    Desk,
    EntryLeg,
    EntrySignalled,
    HaltRequested,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRole,
    PlaceStop,
    ReplaceStop,
    Side,
    SquareOffReached,
    TrailProposed,
)
from strategies.engine import FailedCommand
from strategies.run import reconcile, redrive, unprotected

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


def _protected_desk() -> tuple[Desk, str]:
    """A desk holding 100 AAPL whose stop has been decided (not yet acknowledged)."""
    desk, _snapshots, stop = _stop_placed_after_the_snapshots()
    return desk, stop


def _failed(command, symbol: str = "AAPL") -> FailedCommand:
    return FailedCommand(command=command, symbol=symbol, transition_seq=3, failed_at=AT)


def _absent_past_the_grace(desk: Desk, stop: str):
    """A pass that finds ``stop`` missing from the broker's list for the whole grace."""
    return reconcile(
        strategy="s",
        snapshots=desk.snapshots(),
        orders={},
        positions={"AAPL": D(100)},
        client_id_of=lambda _venue: None,
        now=AT + timedelta(seconds=10),
        missing_since={stop: AT},
        grace_seconds=10.0,
    )


class TestNeverPlaced:
    def test_an_order_absent_past_the_grace_is_rejected_not_halted(self):
        """Past the not-found grace the stop never reached the broker: its machine is told it
        was rejected (and places a fresh one) — the square-off cannot wait on it for ever."""
        desk, stop = _protected_desk()
        found = _absent_past_the_grace(desk, stop)
        ((symbol, event),) = found.events
        assert symbol == "AAPL"
        assert isinstance(event, OrderRejected)
        assert (event.client_order_id, event.reason) == (stop, "not_at_broker")
        assert found.lost == [("AAPL", stop)]
        outcome = desk.fire(symbol, event)
        (fresh,) = outcome.commands
        assert isinstance(fresh, PlaceStop)
        assert fresh.client_order_id == f"{stop}-r1"


class TestRedrive:
    def test_a_failed_stop_still_awaited_is_sent_again(self):
        """Its machine waits for it and the broker does not have it: resend, same id."""
        desk, stop = _protected_desk()
        command = next(t for t in desk.snapshots()[0].working_orders if t.client_order_id == stop)
        place = PlaceStop(
            client_order_id=stop, symbol="AAPL", side=command.side, qty=D(100), stop_price=D(99)
        )
        (decision,) = redrive([_failed(place)], _by_symbol(desk), {}, lambda c: True)
        assert decision.action == "resend"
        assert decision.command is place

    def test_a_failed_stop_the_broker_has_after_all_is_adopted(self):
        """The answer was lost but the order went in: adopt it, send nothing."""
        desk, stop = _protected_desk()
        place = PlaceStop(
            client_order_id=stop, symbol="AAPL", side=Side.SELL, qty=D(100), stop_price=D(99)
        )
        (decision,) = redrive([_failed(place)], _by_symbol(desk), {stop: _order(stop)}, bool)
        assert decision.action == "adopt"
        assert decision.order is not None

    def test_a_command_the_machine_no_longer_awaits_or_the_runner_lets_go_is_dropped(self):
        """An order the machine finished with, and a kind the runner does not re-drive."""
        desk, stop = _protected_desk()
        gone = PlaceStop(
            client_order_id="s-AAPL-20261123-1-stop-r9",
            symbol="AAPL",
            side=Side.SELL,
            qty=D(100),
            stop_price=D(99),
        )
        place = PlaceStop(
            client_order_id=stop, symbol="AAPL", side=Side.SELL, qty=D(100), stop_price=D(99)
        )
        decisions = redrive([_failed(gone), _failed(place)], _by_symbol(desk), {}, lambda c: False)
        assert [d.action for d in decisions] == ["drop", "drop"]


class TestUnprotected:
    def test_a_position_with_its_stop_in_flight_or_working_is_protected(self):
        """Decided and not failed, or open at the broker: covered."""
        desk, stop = _protected_desk()
        positions = {"AAPL": D(100)}
        assert unprotected(desk.snapshots(), positions, {}) == set()
        assert unprotected(desk.snapshots(), positions, {stop: _order(stop)}) == set()

    def test_a_failed_stop_leaves_the_position_bare(self):
        """Its delivery failed and the broker does not have it: nothing protects the 100."""
        desk, stop = _protected_desk()
        assert unprotected(desk.snapshots(), {"AAPL": D(100)}, {}, failed=[stop]) == {"AAPL"}

    def test_books_that_disagree_with_the_broker_are_not_flattened_on_a_guess(self):
        """The broker holds 50 while the machine holds 100: the position check decides, not
        the protection watch (lesson 1)."""
        desk, stop = _protected_desk()
        assert unprotected(desk.snapshots(), {"AAPL": D(50)}, {}, failed=[stop]) == set()


def _by_symbol(desk: Desk) -> dict:
    return {s.symbol: s for s in desk.snapshots()}


def test_a_square_off_never_waits_on_the_cancel_of_a_stop_that_never_arrived():
    """The stop's submit never reached the broker; the square-off asks to cancel it (the broker
    answers "not found", which says nothing yet). Past the grace the stop is rejected for the
    machine: the cancel is done and the position is closed — the square-off completes."""
    desk, stop = _protected_desk()
    outcome = desk.fire("AAPL", SquareOffReached(at=AT))
    assert [type(c).__name__ for c in outcome.commands] == ["CancelOrder"]
    found = _absent_past_the_grace(desk, stop)
    ((symbol, event),) = found.events
    closing = desk.fire(symbol, event)
    (close,) = closing.commands
    assert isinstance(close, ClosePosition)
    assert close.qty == 100


class TestAnOrderTheVenueFilledAtItsOwnSize:
    def test_a_filled_order_ends_the_machines_track_and_the_next_pass_is_quiet(self):
        """The venue sized a stop 14 (a replacement shrunk by its predecessor's fills) where the
        machine asked 28; the broker lists it filled, 14 of 14. Reconciliation's fill ends the
        machine's track; it is not fed again on every later pass (chaos seed 4)."""
        from dataclasses import replace as with_fields

        desk = Desk(strategy="s", trading_date=DAY)
        leg = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
        (entry,) = desk.fire("AAPL", EntrySignalled(at=AT, qty=D(28), legs=(leg,))).commands
        desk.fire("AAPL", OrderAccepted(client_order_id=entry.client_order_id, at=AT))
        fill = OrderFilled(
            client_order_id=entry.client_order_id, at=AT, filled_qty=D(28), avg_fill_price=D(101)
        )
        (stop,) = desk.fire("AAPL", fill).commands
        cid = stop.client_order_id
        desk.fire("AAPL", OrderAccepted(client_order_id=cid, at=AT))
        desk.fire("AAPL", HaltRequested(at=AT, reason="test"))
        desk.fire("AAPL", SquareOffReached(at=AT))  # asks to cancel the stop
        part = OrderFilled(client_order_id=cid, at=AT, filled_qty=D(14), avg_fill_price=D(99))
        desk.fire("AAPL", part)
        listed = with_fields(
            _order(cid),
            qty=D(14),
            filled_qty=D(14),
            filled_avg_price=D(99),
            status=OrderStatus.FILLED,
        )

        def one_pass():
            return reconcile(
                strategy="s",
                snapshots=list(desk.snapshots()),
                orders={cid: listed},
                positions={"AAPL": D(14)},
                client_id_of=lambda _venue: None,
                now=AT,
                missing_since={},
                grace_seconds=10.0,
            )

        first = one_pass()
        assert [type(e).__name__ for _, e in first.events] == ["OrderFilled"]
        for symbol, event in first.events:
            desk.fire(symbol, event)
        (snapshot,) = desk.snapshots()
        assert cid not in {t.client_order_id for t in snapshot.working_orders}
        assert one_pass().events == []


class TestAReplacementOfAnEndedStop:
    """A replace the venue refused after every retry leaves the machine waiting on the
    replacement; the square-off cancels the old stop and waits for both. Once the list shows
    the old stop ended without being replaced, the replacement cannot exist (a venue never
    replaces an ended order): it is rejected for the machine at once, no grace waited, and the
    position is closed."""

    def _squared_off_with_a_lost_replace(self, status: OrderStatus):
        desk, stop = _protected_desk()
        desk.fire("AAPL", OrderAccepted(client_order_id=stop, at=AT))
        (replace_stop,) = desk.fire("AAPL", TrailProposed(at=AT, stop_price=D("99.50"))).commands
        assert isinstance(replace_stop, ReplaceStop)  # its delivery failed: no event follows
        desk.fire("AAPL", SquareOffReached(at=AT))
        ended = replace(_order(stop), status=status)
        if status is OrderStatus.CANCELED:
            desk.fire("AAPL", OrderCancelled(client_order_id=stop, at=AT, filled_qty=D(0)))
        found = reconcile(
            strategy="s",
            snapshots=desk.snapshots(),
            orders={stop: ended},
            positions={"AAPL": D(100)},
            client_id_of=lambda _venue: None,
            now=AT,  # nothing has been missing for any time: no grace has passed
            missing_since={},
            grace_seconds=10.0,
        )
        return desk, replace_stop.new_client_order_id, found

    def test_the_old_stop_cancelled_rejects_the_replacement_and_closes(self):
        desk, replacement, found = self._squared_off_with_a_lost_replace(OrderStatus.CANCELED)
        ((symbol, event),) = found.events
        assert isinstance(event, OrderRejected)
        assert (event.client_order_id, event.reason) == (replacement, "not_at_broker")
        (close,) = desk.fire(symbol, event).commands
        assert isinstance(close, ClosePosition)

    def test_the_old_stop_replaced_waits_out_the_grace(self):
        """Replaced: the replacement exists, the list may not show it yet."""
        _desk, replacement, found = self._squared_off_with_a_lost_replace(OrderStatus.REPLACED)
        assert not [e for _s, e in found.events if isinstance(e, OrderRejected)]
        assert replacement in found.missing


class TestAVerdictReadBeforeAResend:
    def test_an_order_delivered_after_the_list_was_read_is_not_declared_lost(self):
        """The pass read the list, then a failed stop's resend landed, then the pass was
        applied: its "never placed" verdict on that stop is dropped (else a second stop goes
        beside the first and the venue refuses it for want of shares); a verdict on an order
        not delivered since stays."""
        desk, stop = _protected_desk()
        found = _absent_past_the_grace(desk, stop)
        assert found.lost == [("AAPL", stop)]
        found.forget_deliveries_after(lambda cid: False)
        assert found.lost == [("AAPL", stop)]
        assert len(found.events) == 1
        found.forget_deliveries_after(lambda cid: cid == stop)
        assert (found.lost, found.events) == ([], [])


    def test_a_cancel_sent_after_the_list_was_read_is_not_asked_again(self):
        """The square-off decided the stop's cancel before the snapshots were taken, and sent
        it after the list was read: the list shows the stop open, not pending cancel. That is
        the order before the cancel reached it, not a cancel the venue lost: it is not sent
        twice (a false ``command_redriven``). One sent before the read, still open, is."""
        desk, stop = _protected_desk()
        desk.fire("AAPL", OrderAccepted(client_order_id=stop, at=AT))
        (cancel,) = desk.fire("AAPL", SquareOffReached(at=AT)).commands
        assert cancel.client_order_id == stop  # its cancel
        found = reconcile(
            strategy="s",
            snapshots=desk.snapshots(),
            orders={stop: _order(stop)},
            positions={"AAPL": D(100)},
            client_id_of=lambda _venue: None,
            now=AT,
            missing_since={},
            grace_seconds=10.0,
        )
        assert [o.client_order_id for o in found.cancel_again] == [stop]
        found.forget_deliveries_after(lambda cid: False)
        assert [o.client_order_id for o in found.cancel_again] == [stop]
        found.forget_deliveries_after(lambda cid: cid == stop)
        assert found.cancel_again == []


def test_a_fill_read_from_the_broker_carries_the_venues_time_not_the_pollers():
    """The poller lists an entry the venue filled a minute before it looked, the stream's copy
    not applied yet: the fill fed to the machine (and booked from it) is at the order's
    ``updated_at``, as the stream would have carried it — a trade's entry time is the venue's,
    however the fill was learnt (the month live, a loaded CI host)."""
    desk = Desk(strategy="s", trading_date=DAY)
    leg = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
    (entry,) = desk.fire("AAPL", EntrySignalled(at=AT, qty=D(100), legs=(leg,))).commands
    cid = entry.client_order_id
    desk.fire("AAPL", OrderAccepted(client_order_id=cid, at=AT))
    filled_at = AT + timedelta(minutes=1)
    listed = replace(
        _order(cid),
        side=OrderSide.BUY,
        filled_qty=D(100),
        filled_avg_price=D("101.02"),
        status=OrderStatus.FILLED,
        updated_at=filled_at,
        filled_at=filled_at,
    )
    found = reconcile(
        strategy="s",
        snapshots=list(desk.snapshots()),
        orders={cid: listed},
        positions={"AAPL": D(100)},
        client_id_of=lambda _venue: None,
        now=filled_at + timedelta(seconds=30),
        missing_since={},
        grace_seconds=10.0,
    )
    ((symbol, fill),) = found.events
    assert (symbol, type(fill), fill.at) == ("AAPL", OrderFilled, filled_at)
