"""What every broker offers: one method per request, and two streams.

A broker method is named after what it does to an order; implementations raise the errors of
``brokers._exceptions`` and nothing else. Streams call back on their own thread; a handler must
not block on REST (hand the update to a queue instead). How to read a "not found" is the same
for every broker and lives here too: ``absence_is_evidence``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from brokers._types import Account, Bar, Order, OrderRequest, Position, ReplaceRequest, TradeUpdate

__all__ = [
    "BarHandler",
    "BarStream",
    "Broker",
    "ConnectHandler",
    "TradeUpdateHandler",
    "TradeUpdateStream",
    "absence_is_evidence",
]

TradeUpdateHandler = Callable[[TradeUpdate], None]
BarHandler = Callable[[Bar], None]
ConnectHandler = Callable[[], None]


def absence_is_evidence(sent_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a "not found" for an order sent at ``sent_at`` proves it was never placed.

    Only once ``grace`` has passed: before that the venue may simply not know it yet, and
    re-placing it would duplicate it (field lesson 6). Resending with the *same* client order id
    is harmless at any time — the venue refuses a second order with it.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 5, 15, tzinfo=UTC)
    >>> absence_is_evidence(t, t + timedelta(seconds=2), timedelta(seconds=10))
    False
    >>> absence_is_evidence(t, t + timedelta(seconds=10), timedelta(seconds=10))
    True
    """
    return now - sent_at >= grace


class Broker(Protocol):
    """The REST side of a broker."""

    def submit_order(self, request: OrderRequest) -> Order:
        """Place an order (idempotent through its client order id)."""
        ...

    def cancel_order(self, order_id: str) -> None:
        """Ask to cancel an order; the ``canceled`` trade update confirms it."""
        ...

    def replace_order(self, order_id: str, request: ReplaceRequest) -> Order:
        """Replace a working order; returns the new order."""
        ...

    def get_order(self, order_id: str) -> Order:
        """One order by venue id."""
        ...

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        """One order by client order id; ``NotFoundError`` when there is none."""
        ...

    def find_order_by_client_id(self, client_order_id: str) -> Order | None:
        """One order by client order id, or None when the broker does not know it (yet: a None
        proves absence only as ``absence_is_evidence`` says)."""
        ...

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        symbols: Sequence[str] | None = None,
        client_id_prefix: str | None = None,
    ) -> list[Order]:
        """Orders by status (``open``, ``closed``, ``all``), newest first; with
        ``client_id_prefix``, only those whose client order id starts with it — the others
        (orders someone else placed) are left out before they are parsed."""
        ...

    def list_positions(self) -> list[Position]:
        """Every open position."""
        ...

    def close_position(self, symbol: str) -> Order:
        """Flatten one symbol with a market order."""
        ...

    def get_account(self) -> Account:
        """The account."""
        ...


class TradeUpdateStream(Protocol):
    """Order events, pushed; ``on_connect`` runs after every (re)connection."""

    def start(self, on_update: TradeUpdateHandler, on_connect: ConnectHandler) -> None:
        """Connect and start delivering."""
        ...

    def stop(self) -> None:
        """Disconnect and stop delivering."""
        ...


class BarStream(Protocol):
    """Bars for a set of symbols, pushed; ``on_connect`` runs after every (re)connection."""

    def start(self, symbols: Sequence[str], on_bar: BarHandler, on_connect: ConnectHandler) -> None:
        """Connect, subscribe and start delivering."""
        ...

    def stop(self) -> None:
        """Disconnect and stop delivering."""
        ...
