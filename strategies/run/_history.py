"""History at start-up: the sessions before the first live day, from the broker's historical data.

A signal reads the sessions before today (``SessionContext.history``: 80-20 needs D-1, and the 20
before it with ``mean_range_20``); a live run that starts with none never trades on its first
day. So ``fetch_history`` asks the venue's historical bars API (Alpaca's, or the twin's) for the
feed's bars of as many sessions as the strategy's signal declares (``history_sessions``), builds
them into the strategy's bars exactly as the live feed does (regular hours, aligned to the
open: ``aggregate_bars``) and summarises each session. A replay of the same data sees the same
daily bars.

A run that starts after the open (``bars_so_far``) reads today's bars so far the same way: the
complete ones warm the signals up (``Engine.warm_up``: a range, an extreme, an arming — what they
ask for is in the past and dropped), the minutes of the bucket still open go to the live feed.

What cannot be had is said at start-up: a failed request ends the start-up with one line
(``HistoryError``); a symbol with fewer sessions than its signal reads is logged as
``history_short`` (its signal then waits for enough sessions, as in a replay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

import structlog

from brokers import AuthenticationError, Bar, BrokerError, TransportError
from strategies._exceptions import CalendarError, StrategyError
from strategies.engine import aggregate_bars
from strategies.run._bars import daily_from_intraday
from strategies.signals import DailyBar
from strategies.spec import StrategySpec

__all__ = [
    "BarSource",
    "HistoryError",
    "bars_so_far",
    "daily_history",
    "fetch_history",
    "history_sessions",
]

_log = structlog.get_logger("tickstate.history")


class HistoryError(StrategyError):
    """The broker's historical data could not be read at start-up: it refused (``unreachable``
    false: the keys, the request) or could not be reached (true: not the user's mistake)."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class BarSource(Protocol):
    """A historical bars API (``AlpacaMarketData`` fits)."""

    def get_bars(
        self,
        symbols: Sequence[str],
        *,
        start: datetime,
        end: datetime | None = None,
        timeframe: timedelta = ...,
        feed: str = ...,
        limit: int | None = None,
    ) -> dict[str, list[Bar]]:
        """``symbols``' bars from ``start`` to ``end``, oldest first."""
        ...


def _base_url(source: BarSource) -> str:
    """Where ``source`` sends its requests, when it says (``AlpacaMarketData`` does)."""
    return str(getattr(source, "base_url", None) or "the venue")


def history_sessions(spec: StrategySpec) -> int:
    """How many sessions before the first live day the strategy's signal reads."""
    return spec.signal.registered.history_sessions(spec.signal.params)


def daily_history(spec: StrategySpec, bars: Iterable[Bar]) -> dict[str, tuple[DailyBar, ...]]:
    """Each of ``spec``'s symbols' sessions in ``bars`` (any bar size, extended hours or not),
    summarised from the strategy's own bars of the regular session."""
    session = spec.session.hours()
    interval = timedelta(minutes=spec.bar_minutes)
    by_symbol: dict[str, list[Bar]] = {symbol: [] for symbol in spec.symbols}
    for bar in bars:
        if bar.symbol in by_symbol:
            by_symbol[bar.symbol].append(bar)
    history: dict[str, tuple[DailyBar, ...]] = {}
    for symbol, series in by_symbol.items():
        series.sort(key=lambda bar: bar.start)
        built, _outside = aggregate_bars(series, session, interval)
        history[symbol] = tuple(daily_from_intraday(built, session.timezone))
    return history


def fetch_history(
    source: BarSource, spec: StrategySpec, first_day: date, *, feed: timedelta
) -> Mapping[str, tuple[DailyBar, ...]]:
    """The sessions before ``first_day`` the strategy reads, per symbol, from ``source``'s bars
    of size ``feed``. Raises ``HistoryError`` (one line) when the source refuses."""
    wanted = history_sessions(spec)
    if wanted == 0:
        return {symbol: () for symbol in spec.symbols}
    session = spec.session.hours()
    days: list[date] = []
    day = first_day
    for _ in range(wanted):
        day = session.previous_session(day)
        days.append(day)
    start, end = session.open_at(days[-1]), session.close_at(days[0])
    try:
        found = source.get_bars(list(spec.symbols), start=start, end=end, timeframe=feed)
    except AuthenticationError as exc:
        raise HistoryError(
            "the broker refused the API keys in APCA_API_KEY_ID and APCA_API_SECRET_KEY "
            f"({exc.status}: {exc.message})"
        ) from None
    except TransportError as exc:
        raise HistoryError(
            f"cannot reach the broker's historical bars at {_base_url(source)}: {exc}",
            unreachable=True,
        ) from None
    except BrokerError as exc:
        raise HistoryError(
            f"history before {first_day}: the broker's historical bars: {exc}"
        ) from None
    history = daily_history(spec, (bar for series in found.values() for bar in series))
    for symbol, sessions in history.items():
        if len(sessions) < wanted:
            _log.warning(
                "history_short",
                symbol=symbol,
                wanted=wanted,
                got=len(sessions),
                since=days[-1].isoformat(),
            )
    _log.info("history_fetched", sessions=wanted, symbols=len(history), since=days[-1].isoformat())
    return history


def bars_so_far(
    source: BarSource, spec: StrategySpec, day: date, now: datetime, *, feed: timedelta
) -> tuple[list[Bar], list[Bar]]:
    """Today's strategy bars complete by ``now`` (for ``Engine.warm_up``), and the feed's bars of
    the bucket still open (for the live feed); nothing before the open or on no session."""
    session = spec.session.hours()
    try:
        opens, closes = session.open_at(day), session.close_at(day)
    except CalendarError:
        return [], []
    if not opens < now:
        return [], []
    interval = timedelta(minutes=spec.bar_minutes)
    try:
        found = source.get_bars(list(spec.symbols), start=opens, end=now, timeframe=feed)
    except BrokerError as exc:
        raise HistoryError(f"today's bars before {now:%H:%M}: the broker's bars: {exc}") from None
    minutes = sorted(
        (bar for series in found.values() for bar in series if bar.start + feed <= now),
        key=lambda bar: (bar.start, bar.symbol),
    )
    open_from = opens + ((min(now, closes) - opens) // interval) * interval
    complete = [bar for bar in minutes if bar.start < open_from]
    built, _outside = aggregate_bars(complete, session, interval)
    pending = [bar for bar in minutes if bar.start >= open_from]
    _log.info("late_start", bars=len(built), minutes_pending=len(pending), since=opens.isoformat())
    return built, pending
