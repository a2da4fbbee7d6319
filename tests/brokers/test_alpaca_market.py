"""The adapter's market data: historical bars through the REST choke point (pages followed,
exact decimals, the data API's errors as the data API means them, 429 retried), the wire's
timeframes, and the bar stream's optional updatedBars/dailyBars channels."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from brokers import (
    AlpacaBarStream,
    AlpacaMarketData,
    AlpacaSettings,
    AuthenticationError,
    Bar,
    RequestRejectedError,
    SimExchange,
    SimFaults,
    VenueError,
)
from brokers.alpaca._wire_market import bars_page_from_json, parse_timeframe, timeframe_to_wire

from .alpaca_support import WAIT, settings_for

NY = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)


def _bars(symbol: str, first: datetime, count: int, price: str = "409.49") -> list[Bar]:
    return [
        Bar(
            symbol=symbol,
            start=first + i * MINUTE,
            open=Decimal(price),
            high=Decimal(price),
            low=Decimal(price),
            close=Decimal(price),
            volume=Decimal(100),
        )
        for i in range(count)
    ]


OPEN = datetime(2012, 11, 21, 9, 30, tzinfo=NY)


@pytest.fixture
def market(make_sim: Callable[..., SimExchange]) -> Iterator[tuple[SimExchange, AlpacaMarketData]]:
    bars = _bars("AAPL", OPEN, 5) + _bars("MSFT", OPEN, 4, price="26.96")
    sim = make_sim(bars, start=OPEN + timedelta(hours=1), hold_until_subscribed=True, max_bars_page=3)
    client = AlpacaMarketData(settings_for(sim, data_rest_url=sim.data_rest_url))
    yield sim, client
    client.close()


class TestHistoricalBars:
    def test_every_page_is_followed_and_prices_stay_exact(self, market) -> None:
        """Pages of three: every bar of both symbols comes back, oldest first, as ``Decimal``."""
        _sim, client = market
        found = client.get_bars(["MSFT", "AAPL"], start=OPEN)
        assert {s: len(b) for s, b in found.items()} == {"AAPL": 5, "MSFT": 4}
        assert [b.start for b in found["AAPL"]] == [OPEN.astimezone(UTC) + i * MINUTE for i in range(5)]
        assert found["AAPL"][0].close == Decimal("409.49")
        assert found["MSFT"][0].close == Decimal("26.96")
        assert client.counters.requests == 3

    def test_limit_and_the_one_symbol_endpoint(self, market) -> None:
        """``limit`` bounds the bars in all; ``get_symbol_bars`` reads ``/v2/stocks/{symbol}/bars``."""
        _sim, client = market
        limited = client.get_bars(["AAPL", "MSFT"], start=OPEN, limit=4)
        assert sum(len(b) for b in limited.values()) == 4
        assert len(client.get_symbol_bars("MSFT", start=OPEN, timeframe=timedelta(minutes=5))) == 1

    def test_a_refused_query_is_a_plain_rejection_not_an_orders_error(self, market) -> None:
        """422 42210000 from the data API is a RequestRejectedError (on the trading API that code
        means an order cannot be cancelled)."""
        sim, client = market
        with pytest.raises(RequestRejectedError) as caught:
            client.get_bars(["AAPL"], start=OPEN, feed="nyse")
        assert type(caught.value) is RequestRejectedError
        assert (caught.value.status, caught.value.code) == (422, 42210000)
        wrong = AlpacaMarketData(settings_for(sim, data_rest_url=sim.data_rest_url, secret_key="no"))
        with pytest.raises(AuthenticationError):
            wrong.get_bars(["AAPL"], start=OPEN)
        wrong.close()

    def test_a_429_is_waited_out_and_retried(self, make_sim: Callable[..., SimExchange]) -> None:
        """Rate-limited reads are retried with the REST retry policy."""
        sim = make_sim(_bars("AAPL", OPEN, 2), start=OPEN + timedelta(hours=1), hold_until_subscribed=True)
        sim.faults = SimFaults(rest_429=0.5)
        waits: list[float] = []
        client = AlpacaMarketData(settings_for(sim, data_rest_url=sim.data_rest_url), sleep=waits.append)
        try:
            for _ in range(4):
                assert len(client.get_bars(["AAPL"], start=OPEN)["AAPL"]) == 2
            assert client.counters.retries == len(waits) > 0
        finally:
            client.close()

    def test_the_data_base_is_a_setting_of_its_own(self, sim: SimExchange) -> None:
        """Alpaca's data host by default; the sim's clients get its own port; no /v2."""
        assert AlpacaSettings().data_rest_url == "https://data.alpaca.markets"
        assert sim.client_settings().data_rest_url == sim.rest_url
        assert AlpacaSettings(data_rest_url="http://127.0.0.1:1/").data_rest_url == "http://127.0.0.1:1"
        with pytest.raises(ValueError, match="data_rest_url is the base without /v2"):
            AlpacaSettings(data_rest_url="https://data.alpaca.markets/v2")


class TestWire:
    @pytest.mark.parametrize(
        ("text", "span"),
        [("1Min", MINUTE), ("5Min", 5 * MINUTE), ("5T", 5 * MINUTE), ("1Hour", timedelta(hours=1)), ("1Day", timedelta(days=1))],
    )
    def test_timeframes_read_and_written(self, text: str, span: timedelta) -> None:
        assert parse_timeframe(text) == span
        assert parse_timeframe(timeframe_to_wire(span)) == span

    @pytest.mark.parametrize("text", ["0Min", "60Min", "2Day", "1Week", "Min", "5 Min"])
    def test_timeframes_alpaca_refuses(self, text: str) -> None:
        with pytest.raises(ValueError, match="invalid timeframe"):
            parse_timeframe(text)

    def test_a_page_of_the_wrong_shape_is_a_venue_error(self) -> None:
        with pytest.raises(VenueError):
            bars_page_from_json({"bars": [{"t": "2012-11-21T14:30:00Z"}]})
        with pytest.raises(VenueError):
            bars_page_from_json({"bars": {"AAPL": [{"t": "x", "o": 1, "h": 1, "l": 1, "c": 1}]}})
        assert bars_page_from_json({"bars": None, "next_page_token": None}) == ({}, None)


class TestBarStreamChannels:
    def test_updated_and_daily_bars_reach_their_handlers_when_asked_for(
        self, make_sim: Callable[..., SimExchange]
    ) -> None:
        """With handlers for them, the stream subscribes to updatedBars and dailyBars too."""
        last = datetime(2012, 11, 23, 12, 58, tzinfo=NY)  # the 13:00 close of the day
        sim = make_sim(_bars("AAPL", last, 2), start=None, speed=600.0, updated_bars=1.0, hold_until_subscribed=True)
        got: dict[str, queue.Queue[Bar]] = {name: queue.Queue() for name in ("bar", "updated", "daily")}
        stream = AlpacaBarStream(
            settings_for(sim),
            on_updated_bar=got["updated"].put,
            on_daily_bar=got["daily"].put,
        )
        try:
            stream.start(["AAPL"], got["bar"].put, lambda: None)
            first, _second = got["bar"].get(timeout=WAIT), got["bar"].get(timeout=WAIT)
            updated = got["updated"].get(timeout=WAIT)
            assert (updated.start, updated.volume) == (first.start, Decimal(100))
            assert first.volume < updated.volume  # first sent without its late print
            daily = got["daily"].get(timeout=WAIT)
            assert daily.start == datetime(2012, 11, 23, tzinfo=NY)
        finally:
            stream.stop()

    def test_by_default_only_bars_are_subscribed(self, make_sim: Callable[..., SimExchange]) -> None:
        """Without those handlers the stream asks for ``bars`` alone."""
        sim = make_sim()
        connected: queue.Queue[Any] = queue.Queue()
        stream = AlpacaBarStream(settings_for(sim))
        try:
            stream.start(["AAPL"], lambda bar: None, lambda: connected.put(True))
            assert connected.get(timeout=WAIT)
            assert sim.call(lambda: (sim._data.wants("bars"), sim._data.wants("updatedBars"), sim._data.wants("dailyBars"))) == (
                True,
                False,
                False,
            )
        finally:
            stream.stop()
