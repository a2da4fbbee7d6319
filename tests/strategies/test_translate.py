"""Broker updates to machine events: a ``replaced`` update carries the old order's fills.

The venue shrinks a replacement by what the old order filled while the replace was on its way;
the partial fill's own update may be lost or come after the replacement. Fed from the
``replaced`` update first, the fill is learnt either way: the machine ends flat, not short.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from brokers import OrderStatus, TradeUpdate, UpdateKind
from machines import (
    Desk,
    OrderAccepted,
    OrderFilled,
    OrderReplaced,
    OutcomeKind,
    ReplaceStop,
    State,
    TrailProposed,
)
from strategies.engine import order_events
from tests.strategies.test_reconcile import _order, _protected_desk  # their AAPL books

D = Decimal
AT = datetime(2026, 11, 23, 15, tzinfo=UTC)  # as test_reconcile's orders have it


def _trailing_desk() -> tuple[Desk, str, ReplaceStop]:
    """100 AAPL held, its stop working, a replace of it asked for."""
    desk, stop = _protected_desk()
    desk.fire("AAPL", OrderAccepted(client_order_id=stop, at=AT))
    (replace_stop,) = desk.fire("AAPL", TrailProposed(at=AT, stop_price=D("99.50"))).commands
    assert isinstance(replace_stop, ReplaceStop)
    return desk, stop, replace_stop


def _replaced_after_70(old: str, new: str) -> TradeUpdate:
    order = replace(
        _order(old),
        status=OrderStatus.REPLACED,
        filled_qty=D(70),
        filled_avg_price=D("99.40"),
        replaced_by=f"venue-{new}",
    )
    return TradeUpdate(kind=UpdateKind.REPLACED, order=order, timestamp=AT)


def _new_ids(new: str):
    return lambda venue_id: new if venue_id == f"venue-{new}" else None


class TestAReplacedUpdateCarriesTheOldOrdersFills:
    def test_the_fill_comes_first_then_the_replacement(self) -> None:
        update = _replaced_after_70("s-AAPL-20261123-1-stop", "s-AAPL-20261123-1-stop-r1")
        fill, replaced = order_events(update, _new_ids("s-AAPL-20261123-1-stop-r1"))
        assert isinstance(fill, OrderFilled)
        assert (fill.filled_qty, fill.avg_fill_price, fill.done) == (D(70), D("99.40"), False)
        assert isinstance(replaced, OrderReplaced)

    def test_a_replaced_update_without_fills_is_the_replacement_alone(self) -> None:
        update = _replaced_after_70("s-AAPL-20261123-1-stop", "s-AAPL-20261123-1-stop-r1")
        bare = replace(update, order=replace(update.order, filled_qty=D(0), filled_avg_price=None))
        (replaced,) = order_events(bare, _new_ids("s-AAPL-20261123-1-stop-r1"))
        assert isinstance(replaced, OrderReplaced)

    def test_a_lost_partial_fill_is_learnt_and_the_machine_ends_flat(self) -> None:
        """The old stop's 70 were never streamed; the replacement came for the 30 left."""
        desk, old, replace_stop = _trailing_desk()
        new = replace_stop.new_client_order_id
        for event in order_events(_replaced_after_70(old, new), _new_ids(new)):
            desk.fire("AAPL", event)
        desk.fire("AAPL", OrderAccepted(client_order_id=new, at=AT))
        last = OrderFilled(client_order_id=new, at=AT, filled_qty=D(30), avg_fill_price=D("99.5"))
        outcome = desk.fire("AAPL", last)
        assert (outcome.snapshot.state, outcome.snapshot.position) == (State.FLAT, D(0))

    def test_the_partial_fill_coming_after_the_replacement_is_stale_not_a_halt(self) -> None:
        desk, old, replace_stop = _trailing_desk()
        new = replace_stop.new_client_order_id
        for event in order_events(_replaced_after_70(old, new), _new_ids(new)):
            desk.fire("AAPL", event)
        late = OrderFilled(
            client_order_id=old, at=AT, filled_qty=D(70), avg_fill_price=D("99.40"), done=False
        )
        outcome = desk.fire("AAPL", late)
        assert outcome.kind is OutcomeKind.IGNORED
        assert outcome.snapshot.position == D(30)
