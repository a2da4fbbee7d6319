"""Commands: immutable, imperative requests the machine hands to the runner.

The runner executes them after the machine's lock is released, in order per symbol; their
results come back as events. Each names the client order id it concerns, fixed by the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from machines._orders import Side

__all__ = ["CancelOrder", "ClosePosition", "Command", "PlaceEntry", "PlaceStop", "ReplaceStop"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceEntry:
    """Submit a stop-entry order (a buy stop above the market or a sell stop below it)."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    stop_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceStop:
    """Submit the protective stop of an open position."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    stop_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceStop:
    """Replace the live stop ``client_order_id`` by ``new_client_order_id`` at a new price, and
    at a new size when ``qty`` is given.

    ``qty=None`` leaves the size to the venue: the new order gets what the old one has left to
    fill *when the replace lands*. A trail sends that, so a part of the old stop filling while
    the replace is in flight can never make the new one close more than the position (a
    ``qty`` fixed when the replace was decided would: fill 40 of 100, then the new stop for
    100 sells 140).
    """

    client_order_id: str
    new_client_order_id: str
    symbol: str
    qty: Decimal | None
    stop_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    """Ask the broker to cancel an order (asynchronous: it may still fill)."""

    client_order_id: str
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosePosition:
    """Flatten the position with a market order carrying our client order id."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal


Command = PlaceEntry | PlaceStop | ReplaceStop | CancelOrder | ClosePosition
