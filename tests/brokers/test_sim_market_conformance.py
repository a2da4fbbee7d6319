"""Conformance of the twin's market data: the official ``alpaca-py`` SDK, pointed at the simulated
exchange, sees what Alpaca does — minute bars with gaps on the stream, one data connection per
key, the calendar's early close, and the historical daily bars, paged."""

from __future__ import annotations

import asyncio
import csv
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.live import StockDataStream
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.requests import GetCalendarRequest

from brokers import SimExchange
from strategies.run import load_bars, load_daily

from .conftest import HEADERS, TIMEOUT, make_bar

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
NY = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)


class _Runner:
    """Runs an SDK stream (its own asyncio loop) on a thread; stops it within a bound."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.thread = threading.Thread(target=stream.run, name="sdk-stream", daemon=True)

    def stop(self, sim: SimExchange) -> None:
        loop = getattr(self.stream, "_loop", None)
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self.stream.stop_ws(), loop).result(TIMEOUT)
        sim.drop_streams()  # wakes the SDK's receive loop so it sees the stop at once
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the SDK stream did not stop"


@pytest.fixture
def sdk_streams() -> Iterator[Callable[[SimExchange, Any], _Runner]]:
    started: list[tuple[SimExchange, _Runner]] = []

    def run(sim: SimExchange, stream: Any) -> _Runner:
        runner = _Runner(stream)
        started.append((sim, runner))
        runner.thread.start()
        return runner

    yield run
    for sim, runner in reversed(started):
        runner.stop(sim)


def _minutes(symbol: str) -> list[Any]:
    return load_bars(DATA / "intraday_1min" / f"{symbol}.csv.gz")


class TestStockDataStream:
    def test_streamed_bars_are_minutes_with_gaps_and_pre_market(
        self, make_sim: Callable[..., SimExchange], sdk_streams: Callable[..., _Runner]
    ) -> None:
        """Replaying the demo's 1-minute data, the SDK gets each bar with a print, one minute or
        more apart, pre-market ones too, exactly the minutes the data has."""
        first, last = datetime(2012, 11, 15, 8, 0, tzinfo=NY), datetime(2012, 11, 15, 10, 0, tzinfo=NY)
        window = [b for b in _minutes("FB") if first <= b.start < last]
        sim = make_sim(window, speed=6000.0, start=None, hold_until_subscribed=True)
        received: list[Any] = []
        done = threading.Event()

        async def on_bar(bar: Any) -> None:
            received.append(bar)
            if len(received) == len(window):
                done.set()

        stream = StockDataStream("K", "S", url_override=sim.data_stream_url)
        stream.subscribe_bars(on_bar, "FB")
        sdk_streams(sim, stream)
        assert done.wait(TIMEOUT)
        starts = [bar.timestamp for bar in received]
        assert starts == [b.start for b in window]
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(gap >= MINUTE and gap % MINUTE == timedelta(0) for gap in gaps)
        assert any(gap > MINUTE for gap in gaps)  # minutes without a print have no bar
        assert any(start < datetime(2012, 11, 15, 9, 30, tzinfo=NY) for start in starts)
        assert [(b.open, b.close) for b in received] == [(float(b.open), float(b.close)) for b in window]

    def test_a_second_data_connection_of_the_key_is_refused(
        self, make_sim: Callable[..., SimExchange], sdk_streams: Callable[..., _Runner]
    ) -> None:
        """The second StockDataStream of a key hears "connection limit exceeded" (406); the
        first one keeps its bars."""
        sim = make_sim()
        refused = threading.Event()

        class Catch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if "connection limit exceeded" in record.getMessage():
                    refused.set()

        catch = Catch(logging.ERROR)
        sdk_log = logging.getLogger("alpaca.data.live.websocket")
        sdk_log.addHandler(catch)
        try:
            got = threading.Event()

            async def on_bar(bar: Any) -> None:
                got.set()

            first = StockDataStream("K", "S", url_override=sim.data_stream_url)
            first.subscribe_bars(on_bar, "AAPL")
            sdk_streams(sim, first)
            assert sim.wait_for_subscribers(1, TIMEOUT)
            second = StockDataStream("K", "S", url_override=sim.data_stream_url)
            second.subscribe_bars(on_bar, "MSFT")
            sdk_streams(sim, second)
            assert refused.wait(TIMEOUT)
            sim.feed_bar(make_bar(0, "100", "101", "99.5", "100.5"))
            assert got.wait(TIMEOUT)
        finally:
            sdk_log.removeHandler(catch)


class TestCalendar:
    def test_get_calendar_shows_the_13_00_close_of_2012_11_23(self, make_sim: Callable[..., SimExchange]) -> None:
        """The day after Thanksgiving closes at 13:00; Thanksgiving is no session at all."""
        client = TradingClient("K", "S", paper=True, url_override=make_sim().rest_url)
        days = client.get_calendar(GetCalendarRequest(start=date(2012, 11, 19), end=date(2012, 11, 26)))
        by_date = {day.date: day for day in days}
        assert date(2012, 11, 22) not in by_date
        assert by_date[date(2012, 11, 23)].close == datetime(2012, 11, 23, 13, 0)
        assert by_date[date(2012, 11, 21)].close == datetime(2012, 11, 21, 16, 0)

    def test_get_clock_closes_at_13_00_that_day(self, make_sim: Callable[..., SimExchange]) -> None:
        """At 12:59 the market is open and closes next at 13:00 New York time."""
        sim = make_sim(start=datetime(2012, 11, 23, 12, 59, tzinfo=NY))
        clock = TradingClient("K", "S", paper=True, url_override=sim.rest_url).get_clock()
        assert clock.is_open is True
        assert clock.next_close == datetime(2012, 11, 23, 13, 0, tzinfo=NY)


class TestHistoricalBars:
    SYMBOLS = ("FB", "MSFT")

    def test_get_stock_bars_1day_returns_the_demo_daily_bars_paged(
        self, make_sim: Callable[..., SimExchange]
    ) -> None:
        """1Day bars over the year are the regular sessions of the 1-minute data — the real daily
        bars, volume too — and come through pages of 100 (the SDK follows the tokens)."""
        minutes = [bar for symbol in self.SYMBOLS for bar in _minutes(symbol)]
        after = datetime(2013, 1, 2, tzinfo=UTC)  # the clock stands after the data: all of it ended
        sim = make_sim(minutes, start=after, hold_until_subscribed=True, max_bars_page=100)
        request = StockBarsRequest(
            symbol_or_symbols=list(self.SYMBOLS),
            timeframe=TimeFrame.Day,
            start=datetime(2012, 1, 1, tzinfo=UTC),
            end=datetime(2012, 12, 31, 23, 0, tzinfo=UTC),
        )
        got = StockHistoricalDataClient("K", "S", url_override=sim.data_rest_url).get_stock_bars(request)
        for symbol in self.SYMBOLS:
            daily = load_daily(DATA / "daily" / f"{symbol}.csv")
            with (DATA / "daily" / f"{symbol}.csv").open(encoding="utf-8") as handle:
                volumes = [int(row["volume"]) for row in csv.DictReader(handle)]
            bars = got.data[symbol]
            assert [b.timestamp.astimezone(NY).date() for b in bars] == [d.session for d in daily]
            assert [b.timestamp.astimezone(NY).time().hour for b in bars] == [0] * len(daily)
            assert [
                tuple(Decimal(str(x)) for x in (b.open, b.high, b.low, b.close)) for b in bars
            ] == [(d.open, d.high, d.low, d.close) for d in daily]
            assert [int(b.volume) for b in bars] == volumes
        # The same query over plain HTTP: a page holds 100 bars and names the next one.
        params = {"symbols": "FB,MSFT", "timeframe": "1Day", "start": "2012-01-01", "end": "2012-12-31"}
        first = requests.get(sim.data_rest_url + "/v2/stocks/bars", params=params, headers=HEADERS, timeout=TIMEOUT)
        body = first.json()
        assert sum(len(v) for v in body["bars"].values()) == 100
        assert body["next_page_token"]
