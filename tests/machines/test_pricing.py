"""Prices on the tick grid: floor, ceil, on-tick checks, NSE bands and their edges."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import machines as m
from machines import NSE_TICKS, FixedTick, PriceBands, Side

D = Decimal
TICK_05 = FixedTick(D("0.05"))
TICK_01 = m.US_EQUITY_TICK


class TestFixedTick:
    @pytest.mark.parametrize(
        ("price", "tick", "floor", "ceil"),
        [
            ("101.237", TICK_05, "101.20", "101.25"),
            ("101.25", TICK_05, "101.25", "101.25"),
            ("101.237", TICK_01, "101.23", "101.24"),
            ("0.005", TICK_01, "0.00", "0.01"),
        ],
    )
    def test_floor_and_ceil_bracket_the_price(self, price, tick, floor, ceil):
        """Floor goes down to the grid, ceil up; a price on the grid stays put."""
        assert m.floor_to_tick(D(price), tick) == D(floor)
        assert m.ceil_to_tick(D(price), tick) == D(ceil)

    def test_rounded_prices_carry_the_tick_exponent(self):
        """A rounded price prints with the tick's decimals (101.20, not 101.2)."""
        assert str(m.floor_to_tick(D("101.2"), TICK_05)) == "101.20"

    @pytest.mark.parametrize(("price", "on"), [("101.25", True), ("101.26", False), ("0", True)])
    def test_is_on_tick(self, price, on):
        """Only multiples of the tick are on it."""
        assert m.is_on_tick(D(price), TICK_05) is on

    @pytest.mark.parametrize("size", [D(0), D("-0.01"), 0.05])
    def test_unusable_tick_is_refused(self, size):
        """A tick must be a positive Decimal."""
        with pytest.raises(m.InvalidRulesError):
            FixedTick(size)

    def test_stops_round_toward_safety_entries_away_from_the_market(self):
        """A long's stop floors, a short's ceils; a buy stop entry ceils, a sell stop floors."""
        price = D("100.03")
        assert m.round_stop(Side.BUY, price, TICK_05) == D("100.00")
        assert m.round_stop(Side.SELL, price, TICK_05) == D("100.05")
        assert m.round_entry(Side.BUY, price, TICK_05) == D("100.05")
        assert m.round_entry(Side.SELL, price, TICK_05) == D("100.00")

    @given(
        cents=st.integers(min_value=1, max_value=10_000_000),
        tick=st.sampled_from([D("0.01"), D("0.05"), D("0.10"), D("0.25")]),
    )
    def test_floor_and_ceil_are_the_nearest_grid_points(self, cents, tick):
        """floor <= price <= ceil, both on the grid, each within one tick of the price."""
        price, rule = D(cents) / 1000, FixedTick(tick)
        low, high = m.floor_to_tick(price, rule), m.ceil_to_tick(price, rule)
        assert low <= price <= high
        assert high - low in (0, tick)
        assert m.is_on_tick(low, rule)
        assert m.is_on_tick(high, rule)

    @given(
        price=st.decimals(min_value=D("-100000"), max_value=D("100000"), places=4, allow_nan=False),
        tick=st.sampled_from([D("0.01"), D("0.05"), D("0.10"), D("0.25"), D("5.00"), D("1")]),
    )
    def test_rounding_is_the_division_formula_to_the_digit(self, price, tick):
        """The remainder-based rounding gives what the division formula it replaced gave,
        ``floor(price / tick) * tick`` quantized: the same digits and exponent for every price
        (a negative one may round to a zero without its sign, which prices never are)."""
        rule = FixedTick(tick)
        for rounded, direction in ((m.floor_to_tick, ROUND_FLOOR), (m.ceil_to_tick, ROUND_CEILING)):
            expected = ((price / tick).to_integral_value(rounding=direction) * tick).quantize(tick)
            got = rounded(price, rule)
            assert got == expected
            if price >= 0 or expected:
                assert str(got) == str(expected)


class TestNseBands:
    @pytest.mark.parametrize(
        ("price", "tick"),
        [
            ("0.05", "0.01"),
            ("249.99", "0.01"),
            ("250", "0.05"),
            ("999.95", "0.05"),
            ("1000", "0.10"),
            ("4999.90", "0.10"),
            ("5000", "0.50"),
            ("10000", "1.00"),
            ("20000", "5.00"),
            ("123456", "5.00"),
        ],
    )
    def test_tick_by_band_with_inclusive_lower_edges(self, price, tick):
        """Each band starts at its lower bound: 250 takes 0.05, 1,000 takes 0.10."""
        assert NSE_TICKS.size_at(D(price)) == D(tick)

    @pytest.mark.parametrize(
        ("price", "floor", "ceil"),
        [
            ("249.995", "249.99", "250.00"),  # rounds up into the 0.05 band, on its grid
            ("250.03", "250.00", "250.05"),
            ("999.97", "999.95", "1000.00"),  # rounds up into the 0.10 band, on its grid
            ("1000.07", "1000.00", "1000.10"),
        ],
    )
    def test_rounding_at_band_edges_lands_on_the_grid(self, price, floor, ceil):
        """Rounding across a band edge lands on a price valid in the band it reaches."""
        low, high = m.floor_to_tick(D(price), NSE_TICKS), m.ceil_to_tick(D(price), NSE_TICKS)
        assert (low, high) == (D(floor), D(ceil))
        assert m.is_on_tick(low, NSE_TICKS)
        assert m.is_on_tick(high, NSE_TICKS)

    @pytest.mark.parametrize(
        ("price", "on"),
        [
            ("249.99", True),
            ("250.01", False),
            ("250.05", True),
            ("1000.05", False),
            ("1000.10", True),
        ],
    )
    def test_is_on_tick_uses_the_band_of_the_price(self, price, on):
        """250.01 is off the 0.05 grid although it would be fine below 250."""
        assert m.is_on_tick(D(price), NSE_TICKS) is on

    @pytest.mark.parametrize(
        "bands",
        [
            (),
            ((D(1), D("0.01")),),
            ((D(0), D("0.01")), (D(0), D("0.05"))),
            ((D(0), D("0.05")), (D("250.01"), D("0.05"))),
            ((D(0), D("0.05")), (D(250), D("0.07"))),
            ((D(0), D(0)),),
        ],
        ids=[
            "empty",
            "not_from_zero",
            "not_ascending",
            "edge_off_grid",
            "tick_not_dividing",
            "zero",
        ],
    )
    def test_inconsistent_bands_are_refused(self, bands):
        """Bands start at zero, ascend, and each tick divides the band above it."""
        with pytest.raises(m.InvalidRulesError):
            PriceBands(bands)
