"""Alpaca's historical market-data wire (``GET /v2/stocks/bars``), both directions, without I/O.

Timeframes are spelled ``{n}Min``, ``{n}Hour`` and ``1Day`` on the wire (``T``, ``H`` and ``D``
are read too) and are a ``timedelta`` on our side. A bar leaves with JSON numbers (as Alpaca
sends them) and arrives as numbers or strings, converted through ``Decimal(str(x))``. A page
holds the bars of one or more symbols and an opaque ``next_page_token`` (null on the last page).
Errors of the data API are not about orders: a refused request is a ``RequestRejectedError``
whatever its code (Alpaca answers a bad timeframe with 422 ``42210000``, the code a terminal
order's cancel gets on the trading API).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

from brokers._exceptions import (
    AuthenticationError,
    BrokerError,
    NotFoundError,
    RequestRejectedError,
    VenueError,
)
from brokers._types import Bar
from brokers.alpaca._wire import JSON, Reader, format_time, venue_error

__all__ = [
    "BarsPage",
    "as_data_error",
    "bar_from_rest_json",
    "bar_to_rest_json",
    "bars_page_from_json",
    "parse_timeframe",
    "timeframe_to_wire",
]

#: ``(symbol → its bars, oldest first)`` and the token of the next page (None: the last).
BarsPage = tuple[dict[str, list[Bar]], str | None]

_TIMEFRAME = re.compile(r"([0-9]+)(Min|T|Hour|H|Day|D)")
_MINUTE, _HOUR, _DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def parse_timeframe(text: str) -> timedelta:
    """``1Min`` → one minute: 1-59 minutes, 1-23 hours, or one day; ``ValueError`` otherwise."""
    match = _TIMEFRAME.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid timeframe: {text!r}")
    amount, unit = int(match[1]), match[2]
    if unit in ("Min", "T") and 1 <= amount <= 59:
        return amount * _MINUTE
    if unit in ("Hour", "H") and 1 <= amount <= 23:
        return amount * _HOUR
    if unit in ("Day", "D") and amount == 1:
        return _DAY
    raise ValueError(f"invalid timeframe: {text!r}")


def timeframe_to_wire(timeframe: timedelta) -> str:
    """One minute → ``1Min``; the inverse of ``parse_timeframe``."""
    if timeframe == _DAY:
        return "1Day"
    if timeframe > timedelta(0) and timeframe % _HOUR == timedelta(0) and timeframe < _DAY:
        return f"{timeframe // _HOUR}Hour"
    if timeframe > timedelta(0) and timeframe % _MINUTE == timedelta(0) and timeframe < _HOUR:
        return f"{timeframe // _MINUTE}Min"
    raise ValueError(f"no Alpaca timeframe for {timeframe}: 1-59 minutes, 1-23 hours or 1 day")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def bar_to_rest_json(bar: Bar) -> JSON:
    """A historical bar: ``t`` (its start, RFC 3339), ``o h l c v n vw`` as JSON numbers."""
    vwap = bar.vwap if bar.vwap is not None else (bar.high + bar.low + bar.close) / 3
    return {
        "t": format_time(bar.start),
        "o": float(bar.open),
        "h": float(bar.high),
        "l": float(bar.low),
        "c": float(bar.close),
        "v": _number(bar.volume),
        "n": bar.trade_count,
        "vw": float(round(vwap, 6)),
    }


def bar_from_rest_json(symbol: str, obj: object) -> Bar:
    """A Bar of ``symbol`` from one historical bar object; ``VenueError`` if malformed."""
    r = Reader(obj, venue_error("bar"), "bar")
    count = r.obj.get("n", 0)
    try:
        return Bar(
            symbol=symbol,
            start=r.req_time("t").astimezone(UTC),
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


def bars_page_from_json(obj: object, symbol: str | None = None) -> BarsPage:
    """One page of ``/v2/stocks/bars`` (``bars`` maps symbols to lists) or of
    ``/v2/stocks/{symbol}/bars`` (``bars`` is the list of ``symbol``)."""
    if not isinstance(obj, Mapping):
        raise VenueError("a bars page must be a JSON object")
    token = obj.get("next_page_token")
    if token is not None and not isinstance(token, str):
        raise VenueError("malformed bars page: next_page_token is not a string")
    raw: Any = obj.get("bars")
    if raw is None:  # Alpaca sends null for a page without bars
        raw = [] if symbol is not None else {}
    found: dict[str, list[Bar]] = {}
    if symbol is not None:
        if not isinstance(raw, list):
            raise VenueError("malformed bars page: bars is not a list")
        found[symbol] = [bar_from_rest_json(symbol, item) for item in raw]
        return found, token or None
    if not isinstance(raw, Mapping):
        raise VenueError("malformed bars page: bars is not an object")
    for name, items in raw.items():
        if not isinstance(items, list):
            raise VenueError(f"malformed bars page: the bars of {name!r} are not a list")
        found[str(name)] = [bar_from_rest_json(str(name), item) for item in items]
    return found, token or None


def as_data_error(error: BrokerError) -> BrokerError:
    """``error`` as the data API means it: key and not-found errors and transport failures as on
    the trading API, any other refusal a plain ``RequestRejectedError`` (never an order's)."""
    if type(error) is RequestRejectedError or not isinstance(error, RequestRejectedError):
        return error
    if isinstance(error, AuthenticationError | NotFoundError):
        return error
    return RequestRejectedError(error.message, status=error.status, code=error.code)
