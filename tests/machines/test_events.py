"""Events are validated when built: an event that cannot be true cannot exist."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import machines as m
from machines import EntryLeg, Side

D = Decimal
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NAIVE = datetime(2026, 11, 23, 15, 0)
BUY = EntryLeg(side=Side.BUY, entry_price=D("101"), initial_stop=D("99"))
SELL = EntryLeg(side=Side.SELL, entry_price=D("99"), initial_stop=D("101"))


class TestValidEvents:
    def test_valid_events_build(self):
        """Well-formed events of every kind can be built."""
        m.EntrySignalled(at=NOW, qty=D(10), legs=(BUY, SELL))
        m.BrokerSnapshotTaken(at=NOW, position_qty=D(-10))  # a short
        m.OrderCancelled(client_order_id="x", at=NOW, filled_qty=D(3), avg_fill_price=D(100))
        m.OrderReplaced(client_order_id="x", new_client_order_id="y", at=NOW)

    def test_events_are_frozen(self):
        """An event cannot be changed after it is built."""
        event = m.TrailProposed(at=NOW, stop_price=D(100))
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.stop_price = D(1)  # type: ignore[misc]

    def test_invalid_event_error_is_a_lifecycle_value_error(self):
        """Callers may catch it as ``LifecycleError`` or ``ValueError``."""
        assert issubclass(m.InvalidEventError, m.LifecycleError)
        assert issubclass(m.InvalidEventError, ValueError)


class TestInvalidEvents:
    @pytest.mark.parametrize(
        "build",
        [
            lambda: EntryLeg(side=Side.BUY, entry_price=101.0, initial_stop=D(99)),
            lambda: EntryLeg(side=Side.BUY, entry_price=D(101), initial_stop=99.0),
            lambda: m.TrailProposed(at=NOW, stop_price=100.5),
            lambda: m.OrderFilled(client_order_id="x", at=NOW, filled_qty=D(1), avg_fill_price=1.5),
            lambda: m.BrokerSnapshotTaken(at=NOW, position_qty=10.0),
            lambda: m.TrailProposed(at=NOW, stop_price=D("NaN")),
            lambda: m.TrailProposed(at=NOW, stop_price=D("Infinity")),
        ],
        ids=["entry_float", "stop_float", "trail_float", "fill_price_float", "snapshot_float",
             "nan", "infinity"],
    )  # fmt: skip
    def test_float_or_non_finite_prices_are_refused(self, build):
        """Prices and quantities are finite Decimals, never floats."""
        with pytest.raises(m.InvalidEventError):
            build()

    @pytest.mark.parametrize(
        "build",
        [
            lambda at: m.EntrySignalled(at=at, qty=D(1), legs=(BUY,)),
            lambda at: m.TrailProposed(at=at, stop_price=D(100)),
            lambda at: m.ExitSignalled(at=at),
            lambda at: m.SquareOffReached(at=at),
            lambda at: m.HaltRequested(at=at, reason="x"),
            lambda at: m.ResumeRequested(at=at),
            lambda at: m.EntryTimedOut(at=at, attempt=1),
            lambda at: m.BrokerSnapshotTaken(at=at, position_qty=D(0)),
            lambda at: m.OrderAccepted(client_order_id="x", at=at),
            lambda at: m.OrderRejected(client_order_id="x", at=at),
            lambda at: m.OrderFilled(
                client_order_id="x", at=at, filled_qty=D(1), avg_fill_price=D(1)
            ),
            lambda at: m.OrderCancelled(client_order_id="x", at=at),
            lambda at: m.OrderExpired(client_order_id="x", at=at),
            lambda at: m.OrderReplaced(client_order_id="x", new_client_order_id="y", at=at),
        ],
    )
    def test_naive_datetimes_are_refused(self, build):
        """Every timestamp carries a timezone; the aware twin of the same event builds."""
        build(NOW)
        with pytest.raises(m.InvalidEventError):
            build(NAIVE)

    @pytest.mark.parametrize(
        ("side", "entry", "stop"),
        [(Side.BUY, "101", "101"), (Side.BUY, "101", "102"), (Side.SELL, "99", "99"),
         (Side.SELL, "99", "98")],
    )  # fmt: skip
    def test_non_protective_initial_stop_is_refused(self, side, entry, stop):
        """A buy's initial stop lies below its entry, a sell's above."""
        with pytest.raises(m.InvalidEventError, match="protective"):
            EntryLeg(side=side, entry_price=D(entry), initial_stop=D(stop))

    @pytest.mark.parametrize("legs", [(BUY, BUY), (SELL, SELL)])
    def test_same_side_oco_legs_are_refused(self, legs):
        """A one-cancels-other pair has one buy leg and one sell leg."""
        with pytest.raises(m.InvalidEventError, match="opposite"):
            m.EntrySignalled(at=NOW, qty=D(1), legs=legs)

    @pytest.mark.parametrize("legs", [(), (BUY, SELL, BUY)])
    def test_entry_has_one_or_two_legs(self, legs):
        """An entry is one leg or an OCO pair."""
        with pytest.raises(m.InvalidEventError):
            m.EntrySignalled(at=NOW, qty=D(1), legs=legs)

    @pytest.mark.parametrize(
        "build",
        [
            lambda: m.EntrySignalled(at=NOW, qty=D(-1), legs=(BUY,)),
            lambda: m.EntrySignalled(at=NOW, qty=D(0), legs=(BUY,)),
            lambda: EntryLeg(side=Side.SELL, entry_price=D(-1), initial_stop=D(1)),
            lambda: m.OrderFilled(client_order_id="x", at=NOW, filled_qty=D(-1), avg_fill_price=D(1)),
            lambda: m.OrderFilled(client_order_id="x", at=NOW, filled_qty=D(0), avg_fill_price=D(1)),
            lambda: m.OrderCancelled(client_order_id="x", at=NOW, filled_qty=D(-1)),
            lambda: m.OrderExpired(client_order_id="x", at=NOW, filled_qty=D(-1)),
        ],
        ids=["qty_negative", "qty_zero", "price_negative", "fill_negative", "fill_zero",
             "cancel_negative", "expire_negative"],
    )  # fmt: skip
    def test_negative_or_zero_quantities_are_refused(self, build):
        """Quantities are positive (a cancel's prior fill may be zero, never negative)."""
        with pytest.raises(m.InvalidEventError):
            build()

    @pytest.mark.parametrize(
        "build",
        [
            lambda: m.OrderCancelled(client_order_id="x", at=NOW, filled_qty=D(2)),
            lambda: m.OrderExpired(client_order_id="x", at=NOW, filled_qty=D(2)),
        ],
    )
    def test_partly_filled_end_needs_its_average_price(self, build):
        """A cancel or expiry that reports fills must say at what price."""
        with pytest.raises(m.InvalidEventError, match="avg_fill_price"):
            build()

    @pytest.mark.parametrize(
        "build",
        [
            lambda: m.OrderAccepted(client_order_id="", at=NOW),
            lambda: m.OrderReplaced(client_order_id="x", new_client_order_id="", at=NOW),
            lambda: m.EntryTimedOut(at=NOW, attempt=0),
            lambda: m.DayRolledOver(trading_date=NOW),
            lambda: m.DayRolledOver(trading_date="2026-11-23"),
            lambda: EntryLeg(side="buy", entry_price=D(101), initial_stop=D(99)),
        ],
        ids=["empty_id", "empty_new_id", "attempt_zero", "date_is_datetime", "date_is_str",
             "side_is_str"],
    )  # fmt: skip
    def test_other_impossible_fields_are_refused(self, build):
        """Ids are non-empty, attempts start at 1, a trading date is a date, a side a Side."""
        with pytest.raises(m.InvalidEventError):
            build()

    def test_rollover_takes_a_plain_date(self):
        """A ``date`` builds a rollover."""
        assert m.DayRolledOver(trading_date=date(2026, 11, 24)).trigger == "day_rollover"
