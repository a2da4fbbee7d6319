"""Alpaca's stream messages (``docs/alpaca-wire.md``), both directions, without I/O.

The trading stream's ``trade_updates`` and control messages, and the market-data stream's bar
and control messages. A trade update's ``event`` is Alpaca's name for an ``UpdateKind``: the
table ``ALPACA_EVENTS`` below is the one place those spellings live, read both ways; an event
name it does not hold raises ``VenueError``. Bars leave with JSON numbers (as Alpaca sends them)
and arrive as numbers or strings, converted through ``Decimal(str(x))``; ``t`` arrives as text
(JSON) or a ``datetime`` (msgpack). A message of the wrong shape raises ``VenueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

from brokers._exceptions import VenueError
from brokers._types import Bar, TradeUpdate, UpdateKind
from brokers.alpaca._wire import (
    JSON,
    Reader,
    format_decimal,
    format_time,
    order_from_json,
    order_to_json,
    venue_error,
)

__all__ = [
    "ALPACA_EVENTS",
    "authorization_message",
    "bar_from_json",
    "bar_to_json",
    "listening_message",
    "trade_update_from_json",
    "trade_update_to_json",
    "update_kind_from_wire",
    "update_kind_to_wire",
]

#: Every trade-update kind and Alpaca's ``event`` name for it (``docs/alpaca-behaviours.md``
#: row 5), one row each way: read left to right to send, right to left to receive.
ALPACA_EVENTS: Mapping[UpdateKind, str] = MappingProxyType(
    {
        UpdateKind.NEW: "new",
        UpdateKind.PARTIAL_FILL: "partial_fill",
        UpdateKind.FILL: "fill",
        UpdateKind.CANCELED: "canceled",
        UpdateKind.EXPIRED: "expired",
        UpdateKind.DONE_FOR_DAY: "done_for_day",
        UpdateKind.REPLACED: "replaced",
        UpdateKind.REJECTED: "rejected",
        UpdateKind.PENDING_NEW: "pending_new",
        UpdateKind.PENDING_CANCEL: "pending_cancel",
        UpdateKind.PENDING_REPLACE: "pending_replace",
        UpdateKind.STOPPED: "stopped",
        UpdateKind.SUSPENDED: "suspended",
        UpdateKind.CALCULATED: "calculated",
        UpdateKind.HELD: "held",
        UpdateKind.CANCEL_REJECTED: "order_cancel_rejected",
        UpdateKind.REPLACE_REJECTED: "order_replace_rejected",
        UpdateKind.TRADE_BUST: "trade_bust",
        UpdateKind.TRADE_CORRECT: "trade_correct",
        UpdateKind.RESTATED: "restated",
    }
)
_KIND_OF_EVENT: Mapping[str, UpdateKind] = MappingProxyType(
    {event: kind for kind, event in ALPACA_EVENTS.items()}
)
if set(ALPACA_EVENTS) != set(UpdateKind) or len(_KIND_OF_EVENT) != len(ALPACA_EVENTS):
    raise AssertionError("ALPACA_EVENTS must name every UpdateKind once, each by its own event")


def update_kind_to_wire(kind: UpdateKind) -> str:
    """Alpaca's ``event`` name for ``kind``."""
    return ALPACA_EVENTS[kind]


def update_kind_from_wire(event: str) -> UpdateKind:
    """The kind Alpaca's ``event`` name stands for; ``VenueError`` for a name it never sends.

    >>> update_kind_from_wire("order_cancel_rejected")
    <UpdateKind.CANCEL_REJECTED: 'cancel_rejected'>
    """
    try:
        return _KIND_OF_EVENT[event]
    except KeyError:
        raise VenueError(f"malformed trade update: unknown event {event!r}") from None


def authorization_message(*, authorized: bool, action: str = "authenticate") -> JSON:
    """The trading stream's answer to ``authenticate``."""
    status = "authorized" if authorized else "unauthorized"
    return {"stream": "authorization", "data": {"status": status, "action": action}}


def listening_message(streams: list[str]) -> JSON:
    """The trading stream's answer to ``listen``."""
    return {"stream": "listening", "data": {"streams": streams}}


def trade_update_to_json(update: TradeUpdate) -> JSON:
    """The whole ``trade_updates`` stream message; price/qty/position_qty only on fills."""
    data: JSON = {
        "event": update_kind_to_wire(update.kind),
        "execution_id": update.execution_id,
        "timestamp": format_time(update.timestamp),
        "order": order_to_json(update.order),
    }
    for key in ("price", "qty", "position_qty"):
        value = getattr(update, key)
        if value is not None:
            data[key] = format_decimal(value)
    return {"stream": "trade_updates", "data": data}


def trade_update_from_json(obj: object) -> TradeUpdate:
    """A TradeUpdate from a ``trade_updates`` message (or its ``data``); ``VenueError`` if bad."""
    outer = Reader(obj, venue_error("trade update"), "trade update")
    data = outer.obj.get("data", outer.obj) if "stream" in outer.obj else outer.obj
    r = Reader(data, venue_error("trade update"), "trade update data")
    return TradeUpdate(
        kind=update_kind_from_wire(r.req_text("event")),
        order=order_from_json(r.obj.get("order")),
        timestamp=r.req_time("timestamp"),
        execution_id=r.text("execution_id", required=False),
        price=r.decimal("price"),
        qty=r.decimal("qty"),
        position_qty=r.decimal("position_qty"),
    )


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def bar_to_json(bar: Bar) -> JSON:
    """A bar message (``{"T":"b",...}``) with JSON numbers and ``t`` as RFC 3339."""
    vwap = bar.vwap if bar.vwap is not None else (bar.high + bar.low + bar.close) / 3
    return {
        "T": "b",
        "S": bar.symbol,
        "o": float(bar.open),
        "h": float(bar.high),
        "l": float(bar.low),
        "c": float(bar.close),
        "v": _number(bar.volume),
        "t": format_time(bar.start),
        "n": bar.trade_count,
        "vw": float(round(vwap, 6)),
    }


def bar_from_json(obj: object) -> Bar:
    """A Bar from a ``{"T":"b",...}`` message; ``t`` as text or a ``datetime``."""
    r = Reader(obj, venue_error("bar"), "bar")
    start = r.obj.get("t")
    when = start.astimezone(UTC) if isinstance(start, datetime) else r.req_time("t")
    count = r.obj.get("n", 0)
    try:
        return Bar(
            symbol=r.req_text("S"),
            start=when,
            open=r.req_decimal("o"),
            high=r.req_decimal("h"),
            low=r.req_decimal("l"),
            close=r.req_decimal("c"),
            volume=r.decimal("v") or Decimal(0),
            trade_count=count if isinstance(count, int) else 0,
            vwap=r.decimal("vw"),
        )
    except ValueError as exc:
        raise VenueError(f"malformed bar: {exc}") from None
