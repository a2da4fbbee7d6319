"""Commands: immutable, imperative requests the machine hands to the runner.

The runner executes them after the machine's lock is released, in order per symbol; their
results come back as events. Each names the client order id it concerns, fixed by the machine.
"""

from __future__ import annotations

from decimal import Decimal

from machines._orders import Side
from machines._values import value

__all__ = ["CancelOrder", "ClosePosition", "Command", "PlaceEntry", "PlaceStop", "ReplaceStop"]


@value
class PlaceEntry:
    """Submit a stop-entry order (a buy stop above the market or a sell stop below it)."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    stop_price: Decimal


@value
class PlaceStop:
    """Submit the protective stop of an open position."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    stop_price: Decimal


@value
class ReplaceStop:
    """Replace the live stop ``client_order_id`` by ``new_client_order_id`` at a new price and
    the size ``qty`` (always named: a replace without one keeps the order's original quantity
    at Alpaca, whatever has filled of it).
    """

    client_order_id: str
    new_client_order_id: str
    symbol: str
    qty: Decimal
    stop_price: Decimal


@value
class CancelOrder:
    """Ask the broker to cancel an order (asynchronous: it may still fill)."""

    client_order_id: str
    symbol: str


@value
class ClosePosition:
    """Flatten the position with a market order carrying our client order id."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal


Command = PlaceEntry | PlaceStop | ReplaceStop | CancelOrder | ClosePosition
