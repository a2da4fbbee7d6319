"""Events: immutable, past-tense facts that drive a symbol's lifecycle, validated when built.

An event that cannot be true cannot exist: prices and quantities are ``Decimal`` (never float),
timestamps carry a timezone, an entry's initial stop lies on the protective side of its price.
Time arrives only inside events; the machine never reads a clock.

Strategy events name their lifecycle trigger directly (``EntrySignalled.trigger ==
"entry_signal"``). Broker order events name a client order id and a ``kind``; the machine maps
them to a role-specific trigger (``entry_filled``, ``stop_replaced``, ...) by the id it awaits.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from machines._exceptions import InvalidEventError
from machines._orders import Side
from machines._values import value

__all__ = [
    "BrokerSnapshotTaken",
    "DayRolledOver",
    "EntryLeg",
    "EntrySignalled",
    "EntryTimedOut",
    "Event",
    "ExitSignalled",
    "HaltRequested",
    "InitialStopRevised",
    "OrderAccepted",
    "OrderCancelled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "PriceMoved",
    "ResumeRequested",
    "SquareOffReached",
    "StrategyEvent",
    "TrailProposed",
]


def _require_aware(at: datetime) -> None:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidEventError(f"event time must be a timezone-aware datetime, got {at!r}")


def _require_decimal(name: str, value: object, *, positive: bool = False) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidEventError(f"{name} must be a finite Decimal, got {value!r}")
    if positive and not value > 0:
        raise InvalidEventError(f"{name} must be positive, got {value}")
    if not positive and value < 0:
        raise InvalidEventError(f"{name} must not be negative, got {value}")


def _require_id(client_order_id: str) -> None:
    if not isinstance(client_order_id, str) or not client_order_id:
        raise InvalidEventError(
            f"client_order_id must be a non-empty string, got {client_order_id!r}"
        )


# --- from the strategy ------------------------------------------------------------------------


@value
class EntryLeg:
    """One stop-entry order of an attempt: where it triggers and where its protective stop goes."""

    side: Side
    entry_price: Decimal
    initial_stop: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.side, Side):
            raise InvalidEventError(f"side must be a Side, got {self.side!r}")
        _require_decimal("entry_price", self.entry_price, positive=True)
        _require_decimal("initial_stop", self.initial_stop, positive=True)
        protective = (
            self.initial_stop < self.entry_price
            if self.side is Side.BUY
            else self.initial_stop > self.entry_price
        )
        if not protective:
            raise InvalidEventError(
                f"a {self.side.value} entry at {self.entry_price} needs its initial stop on the "
                f"protective side, got {self.initial_stop}"
            )


@value
class EntrySignalled:
    """The strategy wants a position: one leg, or a one-cancels-other pair of opposite legs."""

    trigger: ClassVar[str] = "entry_signal"
    at: datetime
    qty: Decimal
    legs: tuple[EntryLeg, ...]
    # The last price the strategy saw: where ``Rules.one_resting_leg`` rests only one leg of a
    # pair, it rests the leg nearer this price (None: both legs go to the venue).
    mark: Decimal | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at)
        _require_decimal("qty", self.qty, positive=True)
        if self.mark is not None:
            _require_decimal("mark", self.mark, positive=True)
        if not 1 <= len(self.legs) <= 2:
            raise InvalidEventError(f"an entry has one leg or an OCO pair, got {len(self.legs)}")
        if len(self.legs) == 2 and self.legs[0].side is self.legs[1].side:
            raise InvalidEventError("the two legs of a one-cancels-other entry need opposite sides")


@value
class TrailProposed:
    """A candidate protective stop; accepted only if, rounded toward safety, it is tighter."""

    trigger: ClassVar[str] = "trail"
    at: datetime
    stop_price: Decimal

    def __post_init__(self) -> None:
        _require_aware(self.at)
        _require_decimal("stop_price", self.stop_price, positive=True)


@value
class PriceMoved:
    """The strategy saw a bar close at ``price`` while a pair rests one leg at a time: the leg
    held back is swapped in when it is now the nearer one (``Rules.one_resting_leg``)."""

    trigger: ClassVar[str] = "price_moved"
    at: datetime
    price: Decimal

    def __post_init__(self) -> None:
        _require_aware(self.at)
        _require_decimal("price", self.price, positive=True)


@value
class InitialStopRevised:
    """The strategy moved the initial stop of its working entry leg on ``side`` (before any fill).

    Accepted only while the entry is pending and the price lies on the protective side of that
    leg's entry; it may loosen or tighten, because no stop order exists yet.
    """

    trigger: ClassVar[str] = "revise_initial_stop"
    at: datetime
    side: Side
    stop_price: Decimal

    def __post_init__(self) -> None:
        _require_aware(self.at)
        if not isinstance(self.side, Side):
            raise InvalidEventError(f"side must be a Side, got {self.side!r}")
        _require_decimal("stop_price", self.stop_price, positive=True)


@value
class ExitSignalled:
    """The strategy wants out (target, manual exit, ...): cancel working orders, then flatten."""

    trigger: ClassVar[str] = "exit_signal"
    at: datetime
    reason: str = "exit_signal"

    def __post_init__(self) -> None:
        _require_aware(self.at)


@value
class SquareOffReached:
    """The session's square-off time passed: flatten, and no new entry until the next day."""

    trigger: ClassVar[str] = "square_off"
    at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.at)


@value
class DayRolledOver:
    """A new trading session began: the day's entry counter starts again from zero."""

    trigger: ClassVar[str] = "day_rollover"
    trading_date: date

    def __post_init__(self) -> None:
        if not isinstance(self.trading_date, date) or isinstance(self.trading_date, datetime):
            raise InvalidEventError(f"trading_date must be a date, got {self.trading_date!r}")


@value
class HaltRequested:
    """A kill switch: stop this symbol; cancel its entries, keep its stop, flatten if asked."""

    trigger: ClassVar[str] = "halt"
    at: datetime
    reason: str
    flatten: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.at)


@value
class ResumeRequested:
    """An operator lets a halted symbol trade again (refused unless its books are coherent)."""

    trigger: ClassVar[str] = "resume"
    at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.at)


@value
class EntryTimedOut:
    """The entry of ``attempt`` waited too long: cancel what has not filled."""

    trigger: ClassVar[str] = "entry_timeout"
    at: datetime
    attempt: int

    def __post_init__(self) -> None:
        _require_aware(self.at)
        if not isinstance(self.attempt, int) or self.attempt < 1:
            raise InvalidEventError(f"attempt must be a positive int, got {self.attempt!r}")


@value
class BrokerSnapshotTaken:
    """Reconciliation: the broker's net position for the symbol (negative for a short) and, when
    known, the client order ids of the symbol's orders the broker holds open.

    ``open_orders=None`` says nothing about orders (a position-only reconciliation, and every
    journal written before orders were reported). A tuple is a claim about *now*: it must be
    read after every command the machine decided so far was executed and after every order
    event the broker sent so far was fired, so that a working order the tuple lacks has
    really ended at the broker. Then, if the position agrees, the machine takes such an order
    as ended with the fills it knows (its notices were lost), and an order the tuple holds as
    acknowledged.
    """

    trigger: ClassVar[str] = "broker_snapshot"
    at: datetime
    position_qty: Decimal
    open_orders: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at)
        if not isinstance(self.position_qty, Decimal) or not self.position_qty.is_finite():
            raise InvalidEventError(
                f"position_qty must be a finite Decimal, got {self.position_qty!r}"
            )
        if self.open_orders is not None:
            if not isinstance(self.open_orders, tuple):
                raise InvalidEventError(
                    f"open_orders must be a tuple of client order ids, got {self.open_orders!r}"
                )
            for client_order_id in self.open_orders:
                _require_id(client_order_id)


# --- from the broker --------------------------------------------------------------------------


@value
class OrderAccepted:
    """The broker acknowledged an order (Alpaca ``new``)."""

    kind: ClassVar[str] = "accepted"
    client_order_id: str
    at: datetime

    def __post_init__(self) -> None:
        _require_id(self.client_order_id)
        _require_aware(self.at)


@value
class OrderRejected:
    """The broker refused an order; it never worked."""

    kind: ClassVar[str] = "rejected"
    client_order_id: str
    at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _require_id(self.client_order_id)
        _require_aware(self.at)


@value
class OrderFilled:
    """An order filled, in part or in full. Quantities are cumulative over the order's life.

    ``done``: the venue says the order is filled and nothing of it works any more — at its own
    size, which can be smaller than the one asked for (a replacement the venue shrank by what
    the order it replaced filled while the replace was on its way, news of which may come after
    the ``replaced``). The venue's word ends the order; a fill of the size asked for ends it
    anyway.
    """

    kind: ClassVar[str] = "filled"
    client_order_id: str
    at: datetime
    filled_qty: Decimal
    avg_fill_price: Decimal
    done: bool = False

    def __post_init__(self) -> None:
        _require_id(self.client_order_id)
        _require_aware(self.at)
        _require_decimal("filled_qty", self.filled_qty, positive=True)
        _require_decimal("avg_fill_price", self.avg_fill_price, positive=True)


@value
class _OrderEnded:
    """An order stopped working without filling further; ``filled_qty`` is what it filled before."""

    kind: ClassVar[str] = "cancelled"
    client_order_id: str
    at: datetime
    filled_qty: Decimal = Decimal(0)
    avg_fill_price: Decimal | None = None

    def __post_init__(self) -> None:
        _require_id(self.client_order_id)
        _require_aware(self.at)
        _require_decimal("filled_qty", self.filled_qty)
        if self.filled_qty > 0 and self.avg_fill_price is None:
            raise InvalidEventError("a partly filled order needs its avg_fill_price")


@value
class OrderCancelled(_OrderEnded):
    """An order was cancelled; ``filled_qty`` is what it filled before."""


@value
class OrderExpired(_OrderEnded):
    """A day order ended at the close; for the lifecycle it ends like a cancel."""


@value
class OrderReplaced:
    """The broker replaced ``client_order_id`` by ``new_client_order_id`` (the old one is done)."""

    kind: ClassVar[str] = "replaced"
    client_order_id: str
    new_client_order_id: str
    at: datetime

    def __post_init__(self) -> None:
        _require_id(self.client_order_id)
        _require_id(self.new_client_order_id)
        _require_aware(self.at)


StrategyEvent = (
    EntrySignalled
    | InitialStopRevised
    | PriceMoved
    | TrailProposed
    | ExitSignalled
    | SquareOffReached
    | DayRolledOver
    | HaltRequested
    | ResumeRequested
    | EntryTimedOut
    | BrokerSnapshotTaken
)
OrderEvent = (
    OrderAccepted | OrderRejected | OrderFilled | OrderCancelled | OrderExpired | OrderReplaced
)
Event = StrategyEvent | OrderEvent
