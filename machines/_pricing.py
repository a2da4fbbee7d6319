"""Prices live on the tick grid: stops round toward safety, entries away from the market.

All arithmetic is ``Decimal``. A tick rule answers one question — the tick at a price — so a
fixed tick (US equities: 0.01) and a banded one (NSE) are used the same way::

    >>> from decimal import Decimal
    >>> round_stop(Side.BUY, Decimal("101.237"), FixedTick(Decimal("0.05")))  # a long's stop
    Decimal('101.20')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from machines._exceptions import InvalidRulesError
from machines._orders import Side

__all__ = [
    "NSE_TICKS",
    "US_EQUITY_TICK",
    "FixedTick",
    "PriceBands",
    "TickRule",
    "ceil_to_tick",
    "floor_to_tick",
    "is_on_tick",
    "round_entry",
    "round_stop",
]


class TickRule(Protocol):
    """Anything that can say which tick applies at a price."""

    def size_at(self, price: Decimal) -> Decimal:
        """The tick size that applies to ``price``."""
        ...


@dataclass(frozen=True, slots=True)
class FixedTick:
    """One tick for every price."""

    size: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.size, Decimal) or not self.size > 0:
            raise InvalidRulesError(f"tick size must be a positive Decimal, got {self.size!r}")

    def size_at(self, price: Decimal) -> Decimal:
        """The tick size (the same at every price)."""
        return self.size


@dataclass(frozen=True, slots=True)
class PriceBands:
    """Ticks by price band: ``bands`` are ``(lower_bound_inclusive, tick)`` in ascending order.

    Every band's tick must divide the next band's lower bound and tick, so that a price rounded
    into a neighbouring band is still on that band's grid.
    """

    bands: tuple[tuple[Decimal, Decimal], ...]

    def __post_init__(self) -> None:
        if not self.bands or self.bands[0][0] != 0:
            raise InvalidRulesError("price bands must start at 0")
        for (low, tick), (next_low, next_tick) in zip(self.bands, self.bands[1:], strict=False):
            if not next_low > low:
                raise InvalidRulesError("price bands must ascend")
            if next_low % tick or next_tick % tick:
                raise InvalidRulesError(f"band tick {tick} does not divide the band above it")
        if any(not tick > 0 for _, tick in self.bands):
            raise InvalidRulesError("every band tick must be positive")

    def size_at(self, price: Decimal) -> Decimal:
        """The tick of the band that holds ``price``."""
        size = self.bands[0][1]
        for low, tick in self.bands:
            if price < low:
                break
            size = tick
        return size


US_EQUITY_TICK = FixedTick(Decimal("0.01"))

#: NSE equity tick sizes by price band (since April 2025).
NSE_TICKS = PriceBands(
    (
        (Decimal("0"), Decimal("0.01")),
        (Decimal("250"), Decimal("0.05")),
        (Decimal("1000"), Decimal("0.10")),
        (Decimal("5000"), Decimal("0.50")),
        (Decimal("10000"), Decimal("1.00")),
        (Decimal("20000"), Decimal("5.00")),
    )
)


def _above_grid(price: Decimal, tick: Decimal) -> Decimal:
    """How far ``price`` lies above the grid line below it: in ``[0, tick)``, exactly.

    Decimal's ``%`` is exact and takes the dividend's sign, so a negative remainder is moved up
    by one tick. A remainder and a subtraction cost less than the division, the rounding to an
    integer (a keyword call) and the product they replace, and give the same grid line.
    """
    above = price % tick
    return above + tick if above < 0 else above


def floor_to_tick(price: Decimal, rule: TickRule) -> Decimal:
    """The largest price on the grid that is ``<= price``."""
    tick = rule.size_at(price)
    return (price - _above_grid(price, tick)).quantize(tick)


def ceil_to_tick(price: Decimal, rule: TickRule) -> Decimal:
    """The smallest price on the grid that is ``>= price``."""
    tick = rule.size_at(price)
    above = _above_grid(price, tick)
    return (price - above + tick if above else price).quantize(tick)


def is_on_tick(price: Decimal, rule: TickRule) -> bool:
    """Whether ``price`` is a multiple of the tick that applies to it."""
    return price % rule.size_at(price) == 0


def round_stop(position_side: Side, price: Decimal, rule: TickRule) -> Decimal:
    """Round a protective stop toward safety: a long's (BUY position) down, a short's up."""
    if position_side is Side.BUY:
        return floor_to_tick(price, rule)
    return ceil_to_tick(price, rule)


def round_entry(order_side: Side, price: Decimal, rule: TickRule) -> Decimal:
    """Round an entry stop away from the market: a buy stop up, a sell stop down."""
    if order_side is Side.BUY:
        return ceil_to_tick(price, rule)
    return floor_to_tick(price, rule)
