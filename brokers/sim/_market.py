"""The simulated exchange's market data over REST: historical bars, the calendar, the clock.

Alpaca serves bars from ``data.alpaca.markets`` and the calendar and clock from the trading
API; the twin serves all of them on its one port (``AlpacaSettings.data_rest_url`` names it),
behind the same keys and rate limit. The bars are the exchange's own data as its clock has seen
it: a bar is there once it has ended; an aggregate (``5Min`` aligned to the hour as Alpaca
aligns it, ``1Day`` the regular session of the calendar, labelled 00:00 New York) holds the bars
seen so far; and a bar whose late print the stream has not sent yet (``updatedBars``) is shown as
it was first streamed. No bar comes from the future, so a client cannot peek ahead.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from brokers._clock import Clock
from brokers._exceptions import BrokerError
from brokers._types import Bar
from brokers.alpaca._wire import JSON, format_time, parse_time
from brokers.alpaca._wire_market import bar_to_rest_json, parse_timeframe
from brokers.sim._calendar import NEW_YORK, MarketDay, SessionCalendar
from brokers.sim._timeline import LatePrint

__all__ = ["FEEDS", "MAX_LIMIT", "BarHistory", "SimMarket", "daily_bar"]

FEEDS = ("iex", "sip", "delayed_sip", "test", "otc", "boats", "overnight")
_ADJUSTMENTS = ("raw", "split", "dividend", "spin-off", "all")
_DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000
_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _rejected(message: str) -> BrokerError:
    """Alpaca's data API refuses a bad parameter with 422 ``42210000`` ("invalid timeframe")."""
    return BrokerError(message, status=422, code=42210000)


def _json(body: Any) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(), content_type="application/json"
    )


class BarHistory:
    """The exchange's bars by symbol, oldest first: what the historical API reads.

    ``interval`` is how long each bar lasts (the data's own bar). Touched only on the
    exchange's event loop.
    """

    def __init__(self, bars: Iterable[Bar], interval: timedelta) -> None:
        self.interval = interval
        self._bars: dict[str, list[Bar]] = {}
        self._starts: dict[str, list[datetime]] = {}
        for bar in sorted(bars, key=lambda b: (b.symbol, b.start)):
            self._bars.setdefault(bar.symbol, []).append(bar)
        for symbol, series in self._bars.items():
            self._starts[symbol] = [bar.start for bar in series]
        self._late: dict[tuple[str, datetime], LatePrint] = {}

    def add(self, bar: Bar) -> None:
        """A bar fed by hand (``SimExchange.feed_bar``); one per symbol and start."""
        starts = self._starts.setdefault(bar.symbol, [])
        series = self._bars.setdefault(bar.symbol, [])
        index = bisect.bisect_left(starts, bar.start)
        if index < len(starts) and starts[index] == bar.start:
            series[index] = bar
            return
        starts.insert(index, bar.start)
        series.insert(index, bar)

    def hold_back(self, late: LatePrint) -> None:
        """Show ``late.first`` for its bar until ``late.whole_at``."""
        self._late[late.first.symbol, late.first.start] = late

    def symbols(self) -> list[str]:
        """Every symbol with bars."""
        return sorted(self._bars)

    def seen(self, symbol: str, start: datetime, end: datetime, now: datetime) -> list[Bar]:
        """``symbol``'s bars that start in ``[start, end]`` and ended by ``now``, as shown then."""
        starts = self._starts.get(symbol)
        if not starts:
            return []
        last = min(end, now - self.interval)
        series = self._bars[symbol]
        found = series[bisect.bisect_left(starts, start) : bisect.bisect_right(starts, last)]
        if not self._late:
            return found
        shown = []
        for bar in found:
            late = self._late.get((symbol, bar.start))
            shown.append(late.first if late is not None and now < late.whole_at else bar)
        return shown


def _aggregate(symbol: str, start: datetime, bars: Sequence[Bar]) -> Bar:
    return Bar(
        symbol=symbol,
        start=start,
        open=bars[0].open,
        high=max(b.high for b in bars),
        low=min(b.low for b in bars),
        close=bars[-1].close,
        volume=sum((b.volume for b in bars), Decimal(0)),
        trade_count=sum(b.trade_count for b in bars),
        vwap=_vwap(bars),
    )


def _vwap(bars: Sequence[Bar]) -> Decimal | None:
    volume = sum((b.volume for b in bars), Decimal(0))
    if not volume:
        return None
    typical = (b.vwap if b.vwap is not None else (b.high + b.low + b.close) / 3 for b in bars)
    return sum((p * b.volume for p, b in zip(typical, bars, strict=True)), Decimal(0)) / volume


def _midnight(day: date) -> datetime:
    """How Alpaca labels a daily bar: 00:00 New York time of its session."""
    return datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(UTC)


def daily_bar(history: BarHistory, symbol: str, session: MarketDay, now: datetime) -> Bar | None:
    """``symbol``'s bar of ``session``: its regular hours as seen by ``now`` (None: no trade)."""
    seen = history.seen(symbol, session.opens, session.closes, now)
    bars = [b for b in seen if b.start < session.closes]
    return _aggregate(symbol, _midnight(session.day), bars) if bars else None


@dataclass(frozen=True, slots=True)
class _Query:
    symbols: list[str]
    timeframe: timedelta
    start: datetime
    end: datetime
    limit: int
    resume: tuple[str, datetime] | None
    descending: bool


class SimMarket:
    """``/v2/stocks/bars``, ``/v2/stocks/{symbol}/bars``, ``/v2/calendar`` and ``/v2/clock``.

    ``calendar`` is called on first need (building it loads ``exchange_calendars``);
    ``max_page`` caps a page below the limit a client asks for (Alpaca's cap: 10,000).
    """

    def __init__(
        self,
        *,
        history: BarHistory,
        clock: Clock,
        calendar: Callable[[], Awaitable[SessionCalendar]],
        max_page: int = MAX_LIMIT,
    ) -> None:
        if not 1 <= max_page <= MAX_LIMIT:
            raise ValueError(f"max_page must be 1 to {MAX_LIMIT}")
        self._history = history
        self._clock = clock
        self._calendar = calendar
        self._max_page = max_page

    def add_routes(self, app: web.Application) -> None:
        """Register the routes (before the data feed's ``/v2/{feed}``)."""
        app.router.add_get("/v2/stocks/bars", self.bars)
        app.router.add_get("/v2/stocks/{symbol}/bars", self.symbol_bars)
        app.router.add_get("/v2/calendar", self.calendar)
        app.router.add_get("/v2/clock", self.clock)

    # --- bars ------------------------------------------------------------------------------

    async def bars(self, request: web.Request) -> web.Response:
        """``GET /v2/stocks/bars?symbols=A,B&timeframe=...``: ``{"bars": {symbol: [...]}}``."""
        raw = request.query.get("symbols", "")
        symbols = sorted({s.strip().upper() for s in raw.split(",") if s.strip()})
        if not symbols:
            raise _rejected("missing symbols")
        found, token = await self._page(self._query(request, symbols))
        return _json({"bars": found, "next_page_token": token})

    async def symbol_bars(self, request: web.Request) -> web.Response:
        """``GET /v2/stocks/{symbol}/bars``: ``{"bars": [...], "symbol": ...}``."""
        symbol = request.match_info["symbol"].upper()
        found, token = await self._page(self._query(request, [symbol]))
        return _json({"bars": found.get(symbol, []), "symbol": symbol, "next_page_token": token})

    def _query(self, request: web.Request, symbols: list[str]) -> _Query:
        query = request.query
        try:
            timeframe = parse_timeframe(query.get("timeframe", ""))
        except ValueError:
            raise _rejected("invalid timeframe") from None
        base = self._history.interval
        if timeframe < base or timeframe % base:
            minutes = base // timedelta(minutes=1)
            raise _rejected(
                f"invalid timeframe: the simulated exchange's data has {minutes}-minute bars"
            )
        now = self._clock.now()
        local_today = now.astimezone(NEW_YORK).date()
        start = _query_time(query.get("start"), "start", end_of_day=False)
        end = _query_time(query.get("end"), "end", end_of_day=True)
        start = start or _midnight(local_today)  # Alpaca's default: the start of today
        end = end or now
        if end < start:
            raise _rejected("end should not be before start")
        try:
            limit = int(query.get("limit", str(_DEFAULT_LIMIT)))
        except ValueError:
            raise _rejected(f"invalid limit: {query.get('limit')!r}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise _rejected(f"invalid limit: {limit}")
        feed = query.get("feed", "iex")
        if feed not in FEEDS:
            raise _rejected(f"invalid feed: {feed!r}")
        if query.get("adjustment", "raw") not in _ADJUSTMENTS:
            raise _rejected(f"invalid adjustment: {query.get('adjustment')!r}")
        sort = query.get("sort", "asc")
        if sort not in ("asc", "desc"):
            raise _rejected(f"invalid sort: {sort!r}")
        token = query.get("page_token")
        return _Query(
            symbols=symbols,
            timeframe=timeframe,
            start=start,
            end=end,
            limit=min(limit, self._max_page),
            resume=_decode_token(token) if token else None,
            descending=sort == "desc",
        )

    async def _page(self, query: _Query) -> tuple[dict[str, list[JSON]], str | None]:
        """At most ``limit`` bars, symbol by symbol, and the token of the bar after them."""
        now = self._clock.now()
        calendar = await self._calendar() if query.timeframe == _DAY else None
        found: dict[str, list[JSON]] = {}
        taken = 0
        for symbol in query.symbols:
            resume = query.resume
            if resume is not None and symbol < resume[0]:
                continue
            series = self._series(symbol, query, now, calendar)
            if query.descending:
                series.reverse()
            if resume is not None and symbol == resume[0]:
                after = resume[1]
                if query.descending:
                    series = [b for b in series if b.start <= after]
                else:
                    series = [b for b in series if b.start >= after]
            for bar in series:
                if taken == query.limit:
                    return found, _encode_token(symbol, bar.start)
                found.setdefault(symbol, []).append(bar_to_rest_json(bar))
                taken += 1
        return found, None

    def _series(
        self, symbol: str, query: _Query, now: datetime, calendar: SessionCalendar | None
    ) -> list[Bar]:
        """``symbol``'s bars of ``query.timeframe`` labelled in ``[start, end]``, oldest first."""
        timeframe, history = query.timeframe, self._history
        if calendar is not None:
            return self._days(symbol, query, now, calendar)
        # A bucket labelled at or after ``start`` may hold bars from its label on.
        first = _bucket(query.start, timeframe)
        if first < query.start:
            first += timeframe
        bars = history.seen(symbol, first, query.end + timeframe - history.interval, now)
        if timeframe == history.interval:
            return [b for b in bars if b.start <= query.end]
        out: list[Bar] = []
        group: list[Bar] = []
        label: datetime | None = None
        for bar in bars:
            at = _bucket(bar.start, timeframe)
            if at != label and group:
                assert label is not None
                out.append(_aggregate(symbol, label, group))
                group = []
            label = at
            group.append(bar)
        if group and label is not None:
            out.append(_aggregate(symbol, label, group))
        return [b for b in out if b.start <= query.end]

    def _days(
        self, symbol: str, query: _Query, now: datetime, calendar: SessionCalendar
    ) -> list[Bar]:
        """Daily bars: each session's regular hours, labelled 00:00 New York time."""
        first = query.start.astimezone(NEW_YORK).date()
        if _midnight(first) < query.start:
            first += _DAY
        last = query.end.astimezone(NEW_YORK).date()
        out = []
        for session in calendar.between(first, last):
            bar = daily_bar(self._history, symbol, session, now)
            if bar is not None:
                out.append(bar)
        return out

    # --- calendar and clock ----------------------------------------------------------------

    async def calendar(self, request: web.Request) -> web.Response:
        """``GET /v2/calendar?start=&end=``: each session's open and close (early closes too)."""
        start = _query_date(request.query.get("start"), "start") or date(1970, 1, 1)
        end = _query_date(request.query.get("end"), "end") or date(2029, 12, 31)
        calendar = await self._calendar()
        return _json([_market_day_json(d) for d in calendar.between(start, end)])

    async def clock(self, request: web.Request) -> web.Response:
        """``GET /v2/clock``: whether the market is open now, and its next open and close."""
        calendar = await self._calendar()
        now = self._clock.now()
        return _json(
            {
                "timestamp": format_time(now),
                "is_open": calendar.is_open(now),
                "next_open": format_time(calendar.next_open(now)),
                "next_close": format_time(calendar.next_close(now)),
            }
        )


def _market_day_json(day: MarketDay) -> JSON:
    return {
        "date": day.day.isoformat(),
        "open": day.opens.strftime("%H:%M"),
        "close": day.closes.strftime("%H:%M"),
        "session_open": day.session_opens.strftime("%H%M"),
        "session_close": day.session_closes.strftime("%H%M"),
    }


def _bucket(when: datetime, size: timedelta) -> datetime:
    """The start of ``when``'s bucket of ``size``, counted from the epoch (aligned to hours)."""
    return _EPOCH + (when - _EPOCH) // size * size


def _query_time(value: str | None, name: str, *, end_of_day: bool) -> datetime | None:
    """An RFC 3339 time, or a date: its New York midnight (``end``: the day's last moment)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise _rejected(f"invalid {name}: {value!r}") from None
        moment = _midnight(day + _DAY) - timedelta(microseconds=1) if end_of_day else _midnight(day)
        return moment
    try:
        return parse_time(text)
    except ValueError:
        raise _rejected(f"invalid {name}: {value!r}") from None


def _query_date(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else parse_time(text).date()
    except ValueError:
        raise BrokerError(f"invalid {name}: {value!r}", status=422, code=40010001) from None


def _encode_token(symbol: str, start: datetime) -> str:
    return base64.urlsafe_b64encode(f"{symbol}|{format_time(start)}".encode()).decode()


def _decode_token(token: str) -> tuple[str, datetime]:
    try:
        symbol, _, at = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
        return symbol, parse_time(at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _rejected("invalid page token") from None
