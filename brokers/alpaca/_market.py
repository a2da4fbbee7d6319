"""Alpaca's historical bars (``GET /v2/stocks/bars``) for the runner's history, over ``requests``.

One rule: a read is retried on any transport failure, and never trusted half-read — a call
returns every page up to the end or raises. Requests go through ``AlpacaBroker``'s choke point
(its ``_send``, where ``requests`` exceptions and error answers become ``brokers`` errors) and
retry policy, pointed at ``AlpacaSettings.data_rest_url`` (``https://data.alpaca.markets``, or
the simulated exchange's own port); the data API's refusals are then read as the data API means
them (``as_data_error``). The SDK's equivalent is ``StockHistoricalDataClient.get_stock_bars``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

import requests

from brokers._exceptions import BrokerError
from brokers._types import Bar
from brokers.alpaca._rest import AlpacaBroker, RestCounters
from brokers.alpaca._settings import AlpacaSettings
from brokers.alpaca._wire import format_time
from brokers.alpaca._wire_market import as_data_error, bars_page_from_json, timeframe_to_wire

__all__ = ["AlpacaMarketData"]

_MINUTE = timedelta(minutes=1)
#: Alpaca's largest page; asking for it costs the fewest requests.
_PAGE = 10_000


class AlpacaMarketData:
    """Historical bars from Alpaca's market-data API (or the simulated exchange's).

    ``session`` and ``sleep`` are the same seams as ``AlpacaBroker``'s; without a session the
    client makes its own and closes it in ``close()``.
    """

    def __init__(
        self,
        settings: AlpacaSettings,
        session: requests.Session | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        # The data host speaks the trading host's conventions (keys, errors, 429): the one
        # choke point serves it, pointed at the data base.
        pointed = dataclasses.replace(settings, rest_url=settings.data_rest_url)
        self._rest = AlpacaBroker(pointed, session, sleep=sleep)

    def __repr__(self) -> str:
        return f"AlpacaMarketData(data_rest_url={self._settings.data_rest_url!r})"

    @property
    def base_url(self) -> str:
        """The historical market-data REST base it requests (named in errors)."""
        return str(self._settings.data_rest_url)

    @property
    def counters(self) -> RestCounters:
        """Requests sent and retries waited for."""
        return self._rest.counters

    def close(self) -> None:
        """Close the HTTP session if the client made it."""
        self._rest.close()

    def get_bars(
        self,
        symbols: Sequence[str],
        *,
        start: datetime,
        end: datetime | None = None,
        timeframe: timedelta = _MINUTE,
        feed: str = "iex",
        limit: int | None = None,
    ) -> dict[str, list[Bar]]:
        """``symbols``' bars of ``timeframe`` (1-59 minutes, 1-23 hours, or a day) labelled from
        ``start`` to ``end`` (default: now), oldest first, every page followed; at most ``limit``
        bars in all. A symbol without bars is absent."""
        if not symbols:
            raise ValueError("get_bars needs at least one symbol")
        if limit is not None and limit < 1:
            raise ValueError("get_bars: limit must be at least 1")
        params = {
            "symbols": ",".join(symbols),
            "timeframe": timeframe_to_wire(timeframe),
            "start": format_time(start),
            "feed": feed,
        }
        if end is not None:
            params["end"] = format_time(end)
        found: dict[str, list[Bar]] = {}
        taken = 0
        token: str | None = None
        while True:
            page_size = _PAGE if limit is None else min(_PAGE, limit - taken)
            asked = params | {"limit": str(page_size)}
            if token is not None:
                asked["page_token"] = token
            bars, token = bars_page_from_json(self._get("/stocks/bars", asked))
            for symbol, series in bars.items():
                found.setdefault(symbol, []).extend(series)
                taken += len(series)
            if token is None or (limit is not None and taken >= limit):
                return found

    def get_symbol_bars(
        self,
        symbol: str,
        *,
        start: datetime,
        end: datetime | None = None,
        timeframe: timedelta = _MINUTE,
        feed: str = "iex",
    ) -> list[Bar]:
        """One symbol's bars through ``GET /v2/stocks/{symbol}/bars``, every page followed."""
        params = {
            "timeframe": timeframe_to_wire(timeframe),
            "start": format_time(start),
            "feed": feed,
            "limit": str(_PAGE),
        }
        if end is not None:
            params["end"] = format_time(end)
        path = "/stocks/" + quote(symbol, safe="") + "/bars"
        found: list[Bar] = []
        token: str | None = None
        while True:
            asked = params if token is None else params | {"page_token": token}
            bars, token = bars_page_from_json(self._get(path, asked), symbol)
            found.extend(bars[symbol])
            if token is None:
                return found

    def _get(self, path: str, params: dict[str, str]) -> object:
        try:
            return self._rest._call("GET", path, idempotent=True, params=params)
        except BrokerError as exc:
            translated = as_data_error(exc)
            if translated is exc:
                raise
            raise translated from exc
