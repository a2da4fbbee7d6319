"""A venue's rules: what it refuses and how it fills — Alpaca paper's by default.

``VenueRules`` is the matching core's configuration (rows of ``docs/alpaca-behaviours.md``).
The simulated exchange runs ``ALPACA_PAPER``, every rule on, and a focused test may relax one; the
in-process paper broker of ``tickstate replay`` runs ``PLAIN`` until replay and the twin share one
fill model. The checks themselves are pure functions over the orders a venue holds:

- **wash trades** (row 1): an order is refused while an opposite-side order of the symbol works
  and the two could trade with each other — a market or a stop against anything, two limits when
  the buy's price reaches the sell's, a limit against a stop when the stop's trigger crosses it;
- **the stop-limit collar** (row 2): a buy stop becomes a stop-limit 4 % (below $50) or 2.5 % (at
  or above $50) above its stop; a gap beyond the collar leaves it elected and unfilled;
- **price increments** (row 20): at or above $1 at most two decimals, below $1 at most four.

``fill_price`` is the fill model of one order against one bar (docs/design.md §4; see
``_matching``), ``PartialFills`` the seeded share of fills that take only part (row 21): the
simulated exchange and the paper broker of ``tickstate replay`` draw from the same one, so for
the same seed and the same orders they fill the same parts.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from brokers._types import Bar, Order, OrderRequest, OrderSide, OrderType

__all__ = [
    "ALPACA_PAPER",
    "PLAIN",
    "PartialFills",
    "VenueRules",
    "collar_limit",
    "fill_price",
    "off_increment",
    "wash_trade_with",
]

_ONE = Decimal(1)
_FIFTY = Decimal(50)
_CENT, _HUNDREDTH_CENT = Decimal("0.01"), Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueRules:
    """How a venue treats orders; every field is one behaviour of Alpaca paper's."""

    wash_trades: bool = True  # refuse an order that could trade with an opposite working one
    buy_stop_collar: bool = True  # buy stops are stop-limits with Alpaca's collar
    price_increments: bool = True  # sub-penny prices are refused
    pattern_day_trader: bool = True  # equity < $25,000: the fourth day trade in 5 sessions refused
    open_orders_use_buying_power: bool = True  # open opening orders reduce buying power
    partial_fill_rate: float = 0.10  # the share of fills that take only part of what is left
    order_latency: timedelta = timedelta(milliseconds=100)  # exchange time a cancel/replace takes

    def __post_init__(self) -> None:
        if not 0.0 <= self.partial_fill_rate <= 1.0:
            raise ValueError("VenueRules.partial_fill_rate must be in [0, 1]")
        if self.order_latency < timedelta(0):
            raise ValueError("VenueRules.order_latency must not be negative")


#: Alpaca paper: every rule on (the simulated exchange's default).
ALPACA_PAPER = VenueRules()
#: The in-process paper broker's rules until replay shares the twin's fill model: plain stops,
#: whole fills, instant cancels, no refusals beyond buying power.
PLAIN = VenueRules(
    wash_trades=False,
    buy_stop_collar=False,
    price_increments=False,
    pattern_day_trader=False,
    open_orders_use_buying_power=False,
    partial_fill_rate=0.0,
    order_latency=timedelta(0),
)


class PartialFills:
    """The seeded partial-fill model: a ``rate`` share of fills take 1 to 9 tenths of what is
    left (orders of one share always fill whole). Called as the matching core's ``fill_ratio``;
    ``rate`` may be overridden per call (a fault knob)."""

    def __init__(self, seed: int, rate: float) -> None:
        self.rate = rate
        self._rng = random.Random(f"{seed}/fills")

    def __call__(self, order: Order, bar: Bar, rate: float | None = None) -> Decimal:
        """1, or the part of what is left that this fill takes."""
        rate = self.rate if rate is None else rate
        if rate <= 0 or self._rng.random() >= rate or order.qty <= 1:
            return Decimal(1)
        return Decimal(self._rng.randint(1, 9)) / 10


def collar_limit(stop: Decimal) -> Decimal:
    """The limit Alpaca gives a buy stop: 4 % above it below $50, 2.5 % at or above; on the cent."""
    rate = Decimal("1.04") if stop < _FIFTY else Decimal("1.025")
    return (stop * rate).quantize(_CENT, rounding=ROUND_DOWN)


def off_increment(price: Decimal) -> bool:
    """Whether ``price`` has more decimals than its range allows (two from $1 up, else four)."""
    step = _CENT if price >= _ONE else _HUNDREDTH_CENT
    return price != price.quantize(step)


def wash_trade_with(request: OrderRequest, working: Iterable[Order]) -> Order | None:
    """The working order of the same symbol that ``request`` could trade with, if any."""
    for order in working:
        if order.symbol != request.symbol or order.side is request.side or not order.is_open:
            continue
        if _could_cross(request.side, request.type, request.stop_price, request.limit_price, order):
            return order
    return None


def _could_cross(
    side: OrderSide,
    kind: OrderType,
    stop: Decimal | None,
    limit: Decimal | None,
    other: Order,
) -> bool:
    if OrderType.MARKET in (kind, other.type):
        return True
    stops = (OrderType.STOP, OrderType.STOP_LIMIT)
    if kind in stops and other.type in stops:
        return True  # two stops on opposite sides: either may elect into the other
    mine = _trigger(kind, stop, limit)
    theirs = _trigger(other.type, other.stop_price, other.limit_price)
    buy, sell = (mine, theirs) if side is OrderSide.BUY else (theirs, mine)
    return buy is not None and sell is not None and buy >= sell


def _trigger(kind: OrderType, stop: Decimal | None, limit: Decimal | None) -> Decimal | None:
    """The price an order would trade at first: a limit's limit, a stop's stop."""
    return limit if kind is OrderType.LIMIT else stop


def fill_price(order: Order, bar: Bar, *, placed_inside: bool = False) -> Decimal | None:
    """The price ``order`` fills at on ``bar``, or None if the bar does not reach it.

    ``placed_inside``: the order was placed after the bar opened, so the open cannot fill it.
    A stop-limit is read here as the limit it became once elected.
    """
    if order.type is OrderType.MARKET:
        return bar.open
    gap = not placed_inside
    if order.type is OrderType.STOP:
        stop = order.stop_price
        assert stop is not None
        if order.side is OrderSide.BUY:
            return bar.open if gap and bar.open >= stop else (stop if bar.high >= stop else None)
        return bar.open if gap and bar.open <= stop else (stop if bar.low <= stop else None)
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        limit = order.limit_price
        assert limit is not None
        if order.side is OrderSide.BUY:
            return bar.open if gap and bar.open <= limit else (limit if bar.low <= limit else None)
        return bar.open if gap and bar.open >= limit else (limit if bar.high >= limit else None)
    return None
