"""Orders as the machine knows them: sides, roles, statuses, and deterministic client order ids.

A client order id is fixed inside the transition that decides the order, before any I/O, so a
retried submit is harmless (the broker refuses a reused id) and a restarted runner can find its
orders: ``{strategy}-{symbol}-{yyyymmdd}-{attempt}-{role}`` plus ``-r{n}`` for the n-th
replacement in that role::

    >>> from datetime import date
    >>> client_order_id("s8020", "AAPL", date(2026, 11, 23), 1, "stop", 2)
    's8020-AAPL-20261123-1-stop-r2'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "MAX_CLIENT_ORDER_ID",
    "OrderRole",
    "OrderStatus",
    "OrderTrack",
    "Side",
    "client_order_id",
]

MAX_CLIENT_ORDER_ID = 48


class Side(StrEnum):
    """The side of an order; a position's side is the side of the entry that opened it."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        """The side that closes a position opened on this side."""
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: a fill changes the position by ``sign * qty``."""
        return 1 if self is Side.BUY else -1


class OrderRole(StrEnum):
    """Why the machine placed an order."""

    ENTRY = "entry"
    STOP = "stop"
    EXIT = "exit"


class OrderStatus(StrEnum):
    """The machine's knowledge of one of its orders."""

    SENT = "sent"  # decided and handed to the runner; no acknowledgement yet
    LIVE = "live"  # the broker accepted it
    CANCEL_SENT = "cancel_sent"  # we asked the broker to cancel it; it may still fill
    DONE = "done"  # terminal: filled, cancelled, expired, rejected or replaced


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTrack:
    """One order the machine placed, as far as the machine knows it."""

    client_order_id: str
    role: OrderRole
    side: Side
    qty: Decimal
    stop_price: Decimal | None = None
    protect_at: Decimal | None = None  # an entry's initial protective stop, before rounding
    status: OrderStatus = OrderStatus.SENT
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None

    @property
    def working(self) -> bool:
        """Whether the order can still fill."""
        return self.status is not OrderStatus.DONE

    def with_fill(self, filled_qty: Decimal, avg_fill_price: Decimal | None) -> OrderTrack:
        """This order with a grown cumulative fill (done once it is filled in full)."""
        status = OrderStatus.DONE if filled_qty >= self.qty else self.status
        return self._moved(status, filled_qty, avg_fill_price)

    def with_status(self, status: OrderStatus) -> OrderTrack:
        """This order in another status."""
        return self._moved(status, self.filled_qty, self.avg_fill_price)

    def _moved(
        self, status: OrderStatus, filled_qty: Decimal, avg_fill_price: Decimal | None
    ) -> OrderTrack:
        # Spelled out rather than ``dataclasses.replace``: it runs on every order event, and
        # ``replace`` re-inspects the fields each call (a tenth of ``fire()``'s time).
        return OrderTrack(
            client_order_id=self.client_order_id,
            role=self.role,
            side=self.side,
            qty=self.qty,
            stop_price=self.stop_price,
            protect_at=self.protect_at,
            status=status,
            filled_qty=filled_qty,
            avg_fill_price=avg_fill_price,
        )

    def with_protect_at(self, protect_at: Decimal) -> OrderTrack:
        """This entry with another initial protective stop (before any fill placed one)."""
        return replace(self, protect_at=protect_at)


def client_order_id(
    strategy: str, symbol: str, trading_date: date, attempt: int, role: str, seq: int = 0
) -> str:
    """The deterministic client order id of the ``seq``-th order in ``role`` of an attempt."""
    base = f"{strategy}-{symbol}-{_day_tag(trading_date)}-{attempt}-{role}"
    return f"{base}-r{seq}" if seq else base


@lru_cache(maxsize=64)
def _day_tag(trading_date: date) -> str:
    # ``strftime`` costs more than the rest of an order id; a run touches a handful of dates.
    return f"{trading_date:%Y%m%d}"
