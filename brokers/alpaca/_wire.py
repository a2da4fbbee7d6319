"""Alpaca's JSON wire format (``docs/alpaca-wire.md``), both directions, without I/O.

REST objects here, stream messages in ``_wire_streams``. Our types → JSON for the simulated
exchange; JSON → our types for the adapter and for the exchange reading requests. Decimals leave
as strings and arrive as strings or numbers (the official SDK sends ``10.0``), always converted
through ``Decimal(str(x))``, never through float arithmetic. A bad request raises
``InvalidOrderError`` (422 ``40010001``) naming the field; a venue message of the wrong shape
raises ``VenueError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from brokers._exceptions import BrokerError, InvalidOrderError, VenueError
from brokers._types import (
    Account,
    Asset,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    ReplaceRequest,
    TimeInForce,
)
from brokers.alpaca._wire_errors import UNAUTHORIZED_BODY, error_body, error_from_response

__all__ = [
    "JSON",
    "ORDER_FIELDS",
    "UNAUTHORIZED_BODY",
    "Reader",
    "account_from_json",
    "account_to_json",
    "asset_from_json",
    "asset_to_json",
    "error_body",
    "error_from_response",
    "format_decimal",
    "format_time",
    "order_from_json",
    "order_request_from_json",
    "order_request_to_json",
    "order_to_json",
    "parse_time",
    "position_from_json",
    "position_to_json",
    "replace_request_from_json",
    "replace_request_to_json",
    "venue_error",
]

JSON = dict[str, Any]
E = TypeVar("E")

#: Every key of Alpaca's Order object, in the order the reference lists them.
ORDER_FIELDS = (
    "id",
    "client_order_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "filled_at",
    "expired_at",
    "canceled_at",
    "failed_at",
    "replaced_at",
    "replaced_by",
    "replaces",
    "asset_id",
    "symbol",
    "asset_class",
    "notional",
    "qty",
    "filled_qty",
    "filled_avg_price",
    "order_class",
    "order_type",
    "type",
    "side",
    "time_in_force",
    "limit_price",
    "stop_price",
    "status",
    "extended_hours",
    "legs",
    "trail_percent",
    "trail_price",
    "hwm",
)

_FRACTION = re.compile(r"(\.\d{6})\d+")

# --- scalars ---------------------------------------------------------------------------------


def format_decimal(value: Decimal) -> str:
    """A decimal as Alpaca writes it: plain notation, no exponent, no trailing zeros."""
    return format(value.normalize(), "f") if value else "0"


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z``."""
    if value.tzinfo is None:
        raise ValueError(f"timestamp must be timezone-aware: {value!r}")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp (nanoseconds truncated to microseconds); ``ValueError`` if bad."""
    cleaned = _FRACTION.sub(r"\1", text.strip())
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    return parsed.astimezone(UTC)


def _opt_decimal(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def _opt_time(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


class Reader:
    """Reads fields of one JSON object, raising the caller's error type on a bad one."""

    def __init__(self, obj: object, error: Callable[[str], BrokerError], what: str) -> None:
        if not isinstance(obj, Mapping):
            raise error(f"{what} must be a JSON object")
        self.obj: Mapping[str, Any] = obj
        self.error = error

    def has(self, key: str) -> bool:
        return self.obj.get(key) is not None

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise self.error(f"{key} is required")
            return None
        if not isinstance(value, str):
            raise self.error(f"invalid {key}: {value!r}")
        return value

    def req_text(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def decimal(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                raise self.error(f"{key} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(f"invalid {key}: {value!r}")
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.error(f"invalid {key}: {value!r}") from None
        if not parsed.is_finite():
            raise self.error(f"invalid {key}: {value!r}")
        return parsed

    def req_decimal(self, key: str) -> Decimal:
        value = self.decimal(key, required=True)
        assert value is not None
        return value

    def enum(self, key: str, kind: Callable[[str], E], *, required: bool = True) -> E | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return kind(value.lower())
        except ValueError:
            raise self.error(f"invalid {key}: {value!r}") from None

    def lenient_enum(self, key: str, kind: Callable[[str], E], other: E) -> E:
        """A required enum whose unknown values read as ``other`` (types, statuses)."""
        value = self.req_text(key)
        try:
            return kind(value.lower())
        except ValueError:
            return other

    def req_enum(self, key: str, kind: Callable[[str], E]) -> E:
        value = self.enum(key, kind)
        assert value is not None
        return value

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError:
            raise self.error(f"invalid {key}: {value!r}") from None

    def req_time(self, key: str) -> datetime:
        value = self.time(key, required=True)
        assert value is not None
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.obj.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.error(f"invalid {key}: {value!r}")


def venue_error(what: str) -> Callable[[str], BrokerError]:
    """An error factory for ``Reader`` over a message from the venue."""
    return lambda message: VenueError(f"malformed {what}: {message}")


# --- orders ----------------------------------------------------------------------------------


def order_to_json(order: Order) -> JSON:
    """The full Alpaca Order object: every key present, decimals as strings."""
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": format_time(order.created_at),
        "updated_at": format_time(order.updated_at),
        "submitted_at": format_time(order.submitted_at),
        "filled_at": _opt_time(order.filled_at),
        "expired_at": _opt_time(order.expired_at),
        "canceled_at": _opt_time(order.canceled_at),
        "failed_at": _opt_time(order.failed_at),
        "replaced_at": _opt_time(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": format_decimal(order.qty),
        "filled_qty": format_decimal(order.filled_qty),
        "filled_avg_price": _opt_decimal(order.filled_avg_price),
        "order_class": "",
        "order_type": order.type.value,
        "type": order.type.value,
        "side": order.side.value,
        "time_in_force": order.time_in_force.value,
        "limit_price": _opt_decimal(order.limit_price),
        "stop_price": _opt_decimal(order.stop_price),
        "status": order.status.value,
        "extended_hours": order.extended_hours,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


def order_from_json(obj: object) -> Order:
    """An Order from Alpaca's JSON; ``VenueError`` if a needed field is missing or bad."""
    r = Reader(obj, venue_error("order"), "order")
    key = "type" if r.has("type") else "order_type"
    kind = r.lenient_enum(key, OrderType, OrderType.OTHER)
    return Order(
        id=r.req_text("id"),
        client_order_id=r.req_text("client_order_id"),
        symbol=r.req_text("symbol"),
        side=r.req_enum("side", OrderSide),
        type=kind,
        time_in_force=r.req_enum("time_in_force", TimeInForce),
        qty=r.req_decimal("qty"),
        status=r.lenient_enum("status", OrderStatus, OrderStatus.OTHER),
        created_at=r.req_time("created_at"),
        updated_at=r.req_time("updated_at"),
        submitted_at=r.req_time("submitted_at"),
        asset_id=r.req_text("asset_id"),
        filled_qty=r.decimal("filled_qty") or Decimal(0),
        filled_avg_price=r.decimal("filled_avg_price"),
        stop_price=r.decimal("stop_price"),
        limit_price=r.decimal("limit_price"),
        filled_at=r.time("filled_at"),
        canceled_at=r.time("canceled_at"),
        expired_at=r.time("expired_at"),
        failed_at=r.time("failed_at"),
        replaced_at=r.time("replaced_at"),
        replaced_by=r.text("replaced_by", required=False),
        replaces=r.text("replaces", required=False),
        extended_hours=r.flag("extended_hours"),
    )


_UNSUPPORTED_REQUEST_FIELDS = ("notional", "trail_price", "trail_percent", "legs", "take_profit")


def order_request_from_json(obj: object) -> OrderRequest:
    """A new-order request body; ``InvalidOrderError`` (422 ``40010001``) naming a bad field."""
    r = Reader(obj, InvalidOrderError, "request body")
    for key in _UNSUPPORTED_REQUEST_FIELDS:
        if r.has(key):
            raise InvalidOrderError(f"{key} is not supported here")
    order_class = r.text("order_class", required=False)
    if order_class not in (None, "", "simple"):
        raise InvalidOrderError(f"invalid order_class: {order_class!r}")
    kind = r.enum("type", OrderType, required=False) or r.enum("order_type", OrderType)
    if kind is None:
        raise InvalidOrderError("type is required")
    return OrderRequest(
        symbol=r.req_text("symbol").upper(),
        qty=r.req_decimal("qty"),
        side=r.req_enum("side", OrderSide),
        type=kind,
        time_in_force=r.req_enum("time_in_force", TimeInForce),
        stop_price=r.decimal("stop_price"),
        limit_price=r.decimal("limit_price"),
        client_order_id=r.text("client_order_id", required=False),
        extended_hours=r.flag("extended_hours"),
    )


def order_request_to_json(request: OrderRequest) -> JSON:
    """The body of ``POST /v2/orders``; decimals as strings, absent prices left out."""
    body: JSON = {
        "symbol": request.symbol,
        "qty": format_decimal(request.qty),
        "side": request.side.value,
        "type": request.type.value,
        "time_in_force": request.time_in_force.value,
    }
    if request.stop_price is not None:
        body["stop_price"] = format_decimal(request.stop_price)
    if request.limit_price is not None:
        body["limit_price"] = format_decimal(request.limit_price)
    if request.client_order_id is not None:
        body["client_order_id"] = request.client_order_id
    if request.extended_hours:
        body["extended_hours"] = True
    return body


def replace_request_from_json(obj: object) -> ReplaceRequest:
    """A ``PATCH /v2/orders/{id}`` body; ``InvalidOrderError`` naming a bad field."""
    r = Reader(obj, InvalidOrderError, "request body")
    return ReplaceRequest(
        qty=r.decimal("qty"),
        stop_price=r.decimal("stop_price"),
        limit_price=r.decimal("limit_price"),
        time_in_force=r.enum("time_in_force", TimeInForce, required=False),
        client_order_id=r.text("client_order_id", required=False),
    )


def replace_request_to_json(request: ReplaceRequest) -> JSON:
    """The body of ``PATCH /v2/orders/{id}``: only what changes."""
    body: JSON = {}
    for key in ("qty", "stop_price", "limit_price"):
        value = getattr(request, key)
        if value is not None:
            body[key] = format_decimal(value)
    if request.time_in_force is not None:
        body["time_in_force"] = request.time_in_force.value
    if request.client_order_id is not None:
        body["client_order_id"] = request.client_order_id
    return body


# --- positions and account -------------------------------------------------------------------


def position_to_json(position: Position) -> JSON:
    """Alpaca's Position object (``qty`` negative for a short)."""
    current = position.current_price
    cost = position.cost_basis
    pl = position.unrealized_pl
    plpc = pl / abs(cost) if cost != 0 else Decimal(0)
    return {
        "asset_id": position.asset_id,
        "symbol": position.symbol,
        "exchange": position.exchange,
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": format_decimal(position.avg_entry_price),
        "qty": format_decimal(position.qty),
        "side": position.side,
        "market_value": format_decimal(position.market_value),
        "cost_basis": format_decimal(cost),
        "unrealized_pl": format_decimal(pl),
        "unrealized_plpc": format_decimal(plpc.quantize(Decimal("0.0000000001"))),
        "unrealized_intraday_pl": format_decimal(pl),
        "unrealized_intraday_plpc": format_decimal(plpc.quantize(Decimal("0.0000000001"))),
        "current_price": _opt_decimal(current),
        "lastday_price": _opt_decimal(current),
        "change_today": "0",
        "qty_available": format_decimal(
            position.qty_available if position.qty_available is not None else abs(position.qty)
        ),
    }


def position_from_json(obj: object) -> Position:
    """A Position from Alpaca's JSON; ``VenueError`` if malformed."""
    r = Reader(obj, venue_error("position"), "position")
    return Position(
        symbol=r.req_text("symbol"),
        qty=r.req_decimal("qty"),
        avg_entry_price=r.req_decimal("avg_entry_price"),
        asset_id=r.req_text("asset_id"),
        exchange=r.text("exchange", required=False) or "NASDAQ",
        current_price=r.decimal("current_price"),
        qty_available=r.decimal("qty_available"),
    )


def account_to_json(account: Account) -> JSON:
    """Alpaca's Account object (the fields a paper account shows, as strings)."""
    money = {
        "cash": account.cash,
        "buying_power": account.buying_power,
        "regt_buying_power": account.buying_power,
        "daytrading_buying_power": account.buying_power,
        "non_marginable_buying_power": account.cash,
        "equity": account.equity,
        "last_equity": account.equity,
        "portfolio_value": account.equity,
    }
    return {
        "id": account.id,
        "account_number": account.account_number,
        "status": account.status,
        "crypto_status": "INACTIVE",
        "currency": account.currency,
        **{key: format_decimal(value) for key, value in money.items()},
        "accrued_fees": "0",
        "pattern_day_trader": account.pattern_day_trader,
        "daytrade_count": account.daytrade_count,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": True,
        "multiplier": "4",
    }


def account_from_json(obj: object) -> Account:
    """An Account from Alpaca's JSON; ``VenueError`` if malformed."""
    r = Reader(obj, venue_error("account"), "account")
    return Account(
        id=r.req_text("id"),
        account_number=r.req_text("account_number"),
        cash=r.req_decimal("cash"),
        equity=r.req_decimal("equity"),
        buying_power=r.req_decimal("buying_power"),
        currency=r.text("currency", required=False) or "USD",
        status=r.req_text("status"),
        pattern_day_trader=r.flag("pattern_day_trader"),
        daytrade_count=_count(r.obj.get("daytrade_count")),
    )


def _count(value: object) -> int:
    """A non-negative count the venue may send as a number or a numeric string."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return 0


def asset_to_json(asset: Asset) -> JSON:
    """Alpaca's Asset object."""
    return {
        "id": asset.id,
        "class": "us_equity",
        "exchange": asset.exchange,
        "symbol": asset.symbol,
        "name": asset.name or asset.symbol,
        "status": "active",
        "tradable": asset.tradable,
        "marginable": asset.marginable,
        "shortable": asset.shortable,
        "easy_to_borrow": asset.easy_to_borrow,
        "fractionable": asset.fractionable,
        "maintenance_margin_requirement": 30,
        "attributes": [],
    }


def asset_from_json(obj: object) -> Asset:
    """An Asset from Alpaca's JSON; ``VenueError`` if malformed."""
    r = Reader(obj, venue_error("asset"), "asset")
    return Asset(
        symbol=r.req_text("symbol"),
        id=r.req_text("id"),
        exchange=r.text("exchange", required=False) or "NASDAQ",
        name=r.text("name", required=False) or "",
        tradable=r.flag("tradable", True),
        marginable=r.flag("marginable", True),
        shortable=r.flag("shortable"),
        easy_to_borrow=r.flag("easy_to_borrow"),
        fractionable=r.flag("fractionable"),
    )
