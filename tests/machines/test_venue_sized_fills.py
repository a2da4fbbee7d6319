"""A fill the venue says ends an order ends it, at the venue's size (``OrderFilled.done``).

Seen in the chaos suite (seed 4, "partial"): a trailing stop's replace landed after the stop had
filled 14 of its 28, so the venue sized the replacement 14 (what was left) while the machine,
told of the replace before that fill (the stream reordered them), had it at 28. The replacement's
``fill`` for 14 was then taken as a partial fill: the machine waited for the other 14 for ever,
and every reconciliation fed the same fill again as a duplicate (the cancel it had asked for
never came: a filled order is not cancelled).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from machines import (
    Desk,
    EntryLeg,
    EntrySignalled,
    HaltRequested,
    OrderAccepted,
    OrderFilled,
    Side,
    State,
    TrackStatus,
)

D = Decimal
AT = datetime(2026, 11, 23, 15, tzinfo=UTC)


def _halted_with_a_stop_of(qty: int) -> tuple[Desk, str]:
    """AAPL long 28, halted, its stop for 28 working and its cancel asked for."""
    desk = Desk(strategy="s", trading_date=date(2026, 11, 23))
    leg = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
    (entry,) = desk.fire("AAPL", EntrySignalled(at=AT, qty=D(qty), legs=(leg,))).commands
    desk.fire("AAPL", OrderAccepted(client_order_id=entry.client_order_id, at=AT))
    filled = OrderFilled(
        client_order_id=entry.client_order_id, at=AT, filled_qty=D(qty), avg_fill_price=D(101)
    )
    (stop,) = desk.fire("AAPL", filled).commands
    desk.fire("AAPL", OrderAccepted(client_order_id=stop.client_order_id, at=AT))
    desk.fire("AAPL", HaltRequested(at=AT, reason="test"))
    return desk, stop.client_order_id


def _fill(cid: str, qty: int, *, done: bool) -> OrderFilled:
    return OrderFilled(client_order_id=cid, at=AT, filled_qty=D(qty), avg_fill_price=D(99), done=done)


def test_a_fill_the_venue_says_is_complete_ends_an_order_sized_smaller_than_asked() -> None:
    """The stop ends at 14 of 28; the 14 still held get a stop of their own (a new order)."""
    desk, stop = _halted_with_a_stop_of(28)
    desk.fire("AAPL", _fill(stop, 14, done=False))  # what the machine knew: half of it
    (snapshot,) = desk.snapshots()
    assert [t.status for t in snapshot.working_orders] == [TrackStatus.LIVE]
    outcome = desk.fire("AAPL", _fill(stop, 14, done=True))  # the venue: filled, nothing left
    assert outcome.trigger == "stop_filled"
    (snapshot,) = desk.snapshots()
    assert snapshot.state is State.HALTED
    assert snapshot.position == 14
    (fresh,) = snapshot.working_orders
    assert fresh.client_order_id != stop
    assert fresh.qty == 14


def test_the_same_complete_fill_again_is_a_duplicate() -> None:
    desk, stop = _halted_with_a_stop_of(28)
    desk.fire("AAPL", _fill(stop, 14, done=True))
    (before,) = desk.snapshots()
    again = desk.fire("AAPL", _fill(stop, 14, done=True))
    assert again.trigger in ("duplicate_order_event", "stale_order_event")
    assert again.commands == ()
    (after,) = desk.snapshots()
    assert after.working_orders == before.working_orders


def test_a_partial_fill_leaves_the_rest_working() -> None:
    desk, stop = _halted_with_a_stop_of(28)
    desk.fire("AAPL", _fill(stop, 14, done=False))
    (snapshot,) = desk.snapshots()
    (track,) = snapshot.working_orders
    assert (track.client_order_id, track.filled_qty, track.qty) == (stop, D(14), D(28))
