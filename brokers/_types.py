"""Broker vocabulary: requests we send, orders/positions/bars/trade updates the venue reports.

All prices and quantities are ``Decimal``; all times timezone-aware. Field names and order values
follow the Alpaca Trading API v2 (``docs/alpaca-wire.md``), so converting an order to and
from the wire is a field-by-field copy. What a trade update reports is a neutral ``UpdateKind``
(FIX-like names); a venue's own spelling of it lives with that venue's wire
(``brokers.alpaca._wire_streams`` for Alpaca), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

__all__ = [
    "TERMINAL_STATUSES",
    "Account",
    "Asset",
    "Bar",
    "Order",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "ReplaceRequest",
    "TimeInForce",
    "TradeUpdate",
    "UpdateKind",
]

_ZERO = Decimal(0)


class OrderSide(StrEnum):
    """Buy or sell (an order's side; the machine layer has a ``Side`` of its own)."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order types of the supported subset."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    OTHER = "other"  # a type outside the subset (a trailing stop someone else placed, ...)


class TimeInForce(StrEnum):
    """How long an order works."""

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    OPG = "opg"
    CLS = "cls"


class OrderStatus(StrEnum):
    """Alpaca's order statuses (``docs/alpaca-behaviours.md`` row 4)."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    DONE_FOR_DAY = "done_for_day"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    PENDING_REVIEW = "pending_review"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"
    OTHER = "other"  # a status newer than this list: read as open (it may still fill)


class UpdateKind(StrEnum):
    """What a trade update reports about its order: every kind a venue can send.

    Neutral, FIX-like names (execution types); ``brokers.alpaca._wire_streams`` maps each to
    Alpaca's event name and back.
    """

    NEW = "new"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    DONE_FOR_DAY = "done_for_day"
    REPLACED = "replaced"
    REJECTED = "rejected"
    PENDING_NEW = "pending_new"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"
    CANCEL_REJECTED = "cancel_rejected"
    REPLACE_REJECTED = "replace_rejected"
    TRADE_BUST = "trade_bust"
    TRADE_CORRECT = "trade_correct"
    RESTATED = "restated"


TERMINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REPLACED,
        OrderStatus.REJECTED,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A new order as we ask for it."""

    symbol: str
    qty: Decimal
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce = TimeInForce.DAY
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    client_order_id: str | None = None
    extended_hours: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest:
    """What to change in a working order; ``None`` keeps the old value."""

    qty: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order as the venue knows it (Alpaca's Order object)."""

    id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime
    asset_id: str
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    extended_hours: bool = False

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill."""
        return self.status not in TERMINAL_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        """Quantity not filled yet."""
        return self.qty - self.filled_qty


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A net position in one symbol; ``qty`` is negative for a short."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    asset_id: str
    exchange: str = "NASDAQ"
    current_price: Decimal | None = None
    qty_available: Decimal | None = None  # not held by open closing orders (None: not told)

    @property
    def side(self) -> str:
        """``long`` or ``short``."""
        return "long" if self.qty > 0 else "short"

    @property
    def cost_basis(self) -> Decimal:
        """What the position cost (signed like ``qty``)."""
        return self.qty * self.avg_entry_price

    @property
    def market_value(self) -> Decimal:
        """The position valued at the current price."""
        return self.qty * (
            self.current_price if self.current_price is not None else self.avg_entry_price
        )

    @property
    def unrealized_pl(self) -> Decimal:
        """Gain or loss if closed at the current price."""
        return self.market_value - self.cost_basis


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """The trading account."""

    id: str
    account_number: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    currency: str = "USD"
    status: str = "ACTIVE"
    pattern_day_trader: bool = False
    daytrade_count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """A tradable instrument as the venue lists it (Alpaca's Asset object, the fields we use)."""

    symbol: str
    id: str
    exchange: str = "NASDAQ"
    name: str = ""
    tradable: bool = True
    marginable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    fractionable: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One OHLCV bar; ``start`` is when it opened.

    Every bar loaded, aggregated or streamed is built once, so a bar is built without the
    frozen dataclass's ``__init__`` (which stores each field through ``object.__setattr__``):
    ``__new__`` stores them on a plain slotted twin of the same layout, then gives the object
    this class, at about half the cost (``machines``' ``@value`` builds the machine's
    messages so; ``brokers`` does not import ``machines``). Fields, equality, hash, repr and
    the frozen fields stay the dataclass's; a copy or an unpickled bar is checked again.
    """

    symbol: str
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = _ZERO
    trade_count: int = 0
    vwap: Decimal | None = None

    def __new__(
        cls,
        *,
        symbol: str,
        start: datetime,
        open: Decimal,
        high: Decimal,
        low: Decimal,
        close: Decimal,
        volume: Decimal = _ZERO,
        trade_count: int = 0,
        vwap: Decimal | None = None,
    ) -> Bar:
        made: Any = _BarBuilding()
        made.symbol, made.start, made.open, made.high = symbol, start, open, high
        made.low, made.close, made.volume, made.trade_count = low, close, volume, trade_count
        made.vwap = vwap
        made.__class__ = cls
        made.__post_init__()
        return made  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        # The default would call __new__ without the fields.
        return _rebuild_bar, tuple(getattr(self, name) for name in _BarBuilding.__slots__)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError(f"bar start must be timezone-aware: {self.start!r}")
        low, high = self.low, self.high
        # Chained comparisons, not min()/max(): every loaded and aggregated bar passes here, and
        # the two builtin calls on Decimals cost more than the rest of the check.
        if not (low <= self.open <= high and low <= self.close <= high):
            raise ValueError(f"bar {self.symbol} {self.start}: open/close outside [low, high]")


del Bar.__init__  # object's, which ignores the keywords ``__new__`` took


class _BarBuilding:
    """``Bar``'s layout with plain attribute stores (see ``Bar``)."""

    __slots__ = ("close", "high", "low", "open", "start", "symbol", "trade_count", "volume", "vwap")


def _rebuild_bar(*values: Any) -> Bar:
    """Unpickle or copy a bar: through its constructor, checked again."""
    return Bar(**dict(zip(_BarBuilding.__slots__, values, strict=True)))


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeUpdate:
    """One trade update: what happened to ``order`` (``kind``), with the fill's price and
    quantity when it is a fill."""

    kind: UpdateKind
    order: Order
    timestamp: datetime
    execution_id: str | None = None
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, UpdateKind):  # a venue's spelling must not pass for a kind
            raise TypeError(f"TradeUpdate.kind must be an UpdateKind, not {self.kind!r}")
