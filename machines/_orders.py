"""Orders as the machine knows them: sides, roles, what the machine knows of each order.

An ``OrderTrack`` is the machine's record of one order it decided; its ``TrackStatus`` is the
machine's knowledge (sent, live, being cancelled, done), not the venue's order status. Client
order ids are formatted and read in ``_order_ids``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from enum import StrEnum

from machines._values import value

__all__ = ["OrderRole", "OrderTrack", "Side", "TrackStatus"]


class Side(StrEnum):
    """The side of an order; a position's side is the side of the entry that opened it."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        """The side that closes a position opened on this side."""
        return _OPPOSITE[self]  # a lookup: reading ``Side.BUY`` off the class costs more

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: a fill changes the position by ``sign * qty``."""
        return _SIGN[self]


_OPPOSITE = {Side.BUY: Side.SELL, Side.SELL: Side.BUY}
_SIGN = {Side.BUY: 1, Side.SELL: -1}


class OrderRole(StrEnum):
    """Why the machine placed an order."""

    ENTRY = "entry"
    STOP = "stop"
    EXIT = "exit"


class TrackStatus(StrEnum):
    """The machine's knowledge of one of its orders."""

    SENT = "sent"  # decided and handed to the runner; no acknowledgement yet
    LIVE = "live"  # the broker accepted it
    CANCEL_SENT = "cancel_sent"  # we asked the broker to cancel it; it may still fill
    DONE = "done"  # terminal: filled, cancelled, expired, rejected or replaced


@value
class OrderTrack:
    """One order the machine placed, as far as the machine knows it."""

    client_order_id: str
    role: OrderRole
    side: Side
    qty: Decimal
    stop_price: Decimal | None = None
    protect_at: Decimal | None = None  # an entry's initial protective stop, before rounding
    status: TrackStatus = TrackStatus.SENT
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None

    @property
    def working(self) -> bool:
        """Whether the order can still fill."""
        return self.status is not TrackStatus.DONE

    def with_fill(self, filled_qty: Decimal, avg_fill_price: Decimal | None) -> OrderTrack:
        """This order with a grown cumulative fill (done once it is filled in full)."""
        status = TrackStatus.DONE if filled_qty >= self.qty else self.status
        return self._moved(status, filled_qty, avg_fill_price)

    def with_status(self, status: TrackStatus) -> OrderTrack:
        """This order in another status (itself, if already in it: it is immutable)."""
        if status is self.status:  # retiring a finished order, acknowledging twice, ...
            return self
        return self._moved(status, self.filled_qty, self.avg_fill_price)

    def _moved(
        self, status: TrackStatus, filled_qty: Decimal, avg_fill_price: Decimal | None
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

    def with_qty(self, qty: Decimal) -> OrderTrack:
        """This order at another size (a replacement shrunk by fills of the order it replaces)."""
        return replace(self, qty=qty)

    def with_protect_at(self, protect_at: Decimal) -> OrderTrack:
        """This entry with another initial protective stop (before any fill placed one)."""
        return replace(self, protect_at=protect_at)
