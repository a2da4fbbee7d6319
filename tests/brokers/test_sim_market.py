"""The simulated exchange's market data as Alpaca serves it: historical bars (only what has ended,
5Min aligned to the hour, 1Day the regular session, pages), the calendar and clock with holidays
and early closes, and the bar stream's minutes, late prints, daily bars and connection limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import websocket

from brokers import Bar, SimExchange

from .conftest import TIMEOUT, Rest, StreamClient

NY = ZoneInfo("America/New_York")
D = Decimal


def at(day: str, clock: str) -> datetime:
    """A New York time of day, as an aware datetime."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=NY)


def bar(day: str, clock: str, o: str, h: str, lo: str, c: str, v: int = 100, symbol: str = "AAPL") -> Bar:
    return Bar(
        symbol=symbol,
        start=at(day, clock).astimezone(UTC),
        open=D(o),
        high=D(h),
        low=D(lo),
        close=D(c),
        volume=D(v),
    )


def utc(day: str, clock: str) -> str:
    return at(day, clock).astimezone(UTC).isoformat().replace("+00:00", "Z")


def history(rest: Rest, timeframe: str, **params: Any) -> dict[str, Any]:
    response = rest("GET", "/stocks/bars", params={"symbols": "AAPL", "timeframe": timeframe} | params)
    assert response.status_code == 200, response.text
    return response.json()


DAY = "2012-11-21"  # a Wednesday; the Thursday is Thanksgiving, the Friday closes at 13:00


def replaying(make_sim: Callable[..., SimExchange], bars: list[Bar], **kwargs: Any) -> SimExchange:
    """An exchange replaying ``bars`` as 1-minute bars (a gap is never taken for their length)."""
    return make_sim(bars, bar_interval=timedelta(minutes=1), **kwargs)


class TestHistoricalBars:
    def test_minutes_are_served_once_they_have_ended_with_their_gaps(self, make_sim) -> None:
        """Only bars that ended by the exchange's clock are served; missing minutes stay missing."""
        bars = [
            bar(DAY, "09:30", "10", "11", "9", "10.5"),
            bar(DAY, "09:31", "10.5", "11", "10", "10.25"),
            bar(DAY, "09:35", "10.25", "10.5", "10", "10.5"),
        ]
        sim = replaying(make_sim, bars, hold_until_subscribed=True, start=at(DAY, "09:35"))
        body = history(Rest(sim), "1Min", start=DAY)
        assert [b["t"] for b in body["bars"]["AAPL"]] == [utc(DAY, "09:30"), utc(DAY, "09:31")]
        assert body["bars"]["AAPL"][0] == {
            "t": utc(DAY, "09:30"), "o": 10.0, "h": 11.0, "l": 9.0, "c": 10.5, "v": 100, "n": 0,
            "vw": 10.166667,
        }
        assert body["next_page_token"] is None

    def test_bars_fed_by_hand_are_history_too(self, make_sim) -> None:
        """Without recorded data, each bar fed is served once fed (its end is the clock)."""
        sim = make_sim(start=at(DAY, "09:30"))
        sim.feed_bar(bar(DAY, "09:30", "10", "11", "9", "10.5"))
        sim.feed_bar(bar(DAY, "09:33", "10.5", "12", "10", "11"))
        body = history(Rest(sim), "1Min", start=DAY)
        assert [b["t"] for b in body["bars"]["AAPL"]] == [utc(DAY, "09:30"), utc(DAY, "09:33")]

    def test_five_minute_bars_are_aligned_to_the_hour_with_extended_hours(self, make_sim) -> None:
        """5Min buckets start on the hour's fives, pre-market included; each summarises its minutes."""
        bars = [
            bar(DAY, "08:58", "9", "9", "9", "9", v=5),
            bar(DAY, "09:02", "9.5", "9.5", "9.5", "9.5", v=6),
            bar(DAY, "09:30", "10", "11", "9", "10.5", v=100),
            bar(DAY, "09:34", "10.5", "12", "10", "11", v=50),
            bar(DAY, "09:36", "11", "11", "10.5", "10.75", v=25),
        ]
        sim = replaying(make_sim, bars, hold_until_subscribed=True, start=at(DAY, "10:00"))
        found = history(Rest(sim), "5Min", start=DAY)["bars"]["AAPL"]
        assert [(b["t"], b["o"], b["h"], b["l"], b["c"], b["v"]) for b in found] == [
            (utc(DAY, "08:55"), 9.0, 9.0, 9.0, 9.0, 5),
            (utc(DAY, "09:00"), 9.5, 9.5, 9.5, 9.5, 6),
            (utc(DAY, "09:30"), 10.0, 12.0, 9.0, 11.0, 150),
            (utc(DAY, "09:35"), 11.0, 11.0, 10.5, 10.75, 25),
        ]

    def test_daily_bars_are_the_regular_session_labelled_at_new_york_midnight(self, make_sim) -> None:
        """1Day leaves extended hours out (after 13:00 on an early close too); t is 00:00 New York."""
        bars = [
            bar(DAY, "08:00", "50", "50", "50", "50", v=7),
            bar(DAY, "09:30", "10", "11", "9", "10.5"),
            bar(DAY, "15:59", "10.5", "12", "10", "11"),
            bar(DAY, "16:30", "20", "20", "20", "20", v=7),
            bar("2012-11-23", "12:59", "11", "11.5", "11", "11.25"),
            bar("2012-11-23", "13:30", "30", "30", "30", "30", v=7),
        ]
        sim = replaying(make_sim, bars, hold_until_subscribed=True, start=at("2012-11-26", "09:00"))
        found = history(Rest(sim), "1Day", start="2012-11-19", end="2012-11-26")["bars"]["AAPL"]
        assert [(b["t"], b["o"], b["h"], b["l"], b["c"], b["v"]) for b in found] == [
            ("2012-11-21T05:00:00Z", 10.0, 12.0, 9.0, 11.0, 200),
            ("2012-11-23T05:00:00Z", 11.0, 11.5, 11.0, 11.25, 100),
        ]

    def test_pages_follow_the_token_symbol_by_symbol(self, make_sim) -> None:
        """``limit`` bars a page, symbols in order, ``next_page_token`` until the last page."""
        bars = [bar(DAY, f"09:3{i}", "10", "10", "10", "10", symbol=s) for s in ("MSFT", "AAPL") for i in range(4)]
        sim = replaying(make_sim, bars, hold_until_subscribed=True, start=at(DAY, "10:00"))
        rest, pages, token = Rest(sim), [], None
        while True:
            params = {"symbols": "MSFT,AAPL", "timeframe": "1Min", "start": DAY, "limit": 3}
            body = rest("GET", "/stocks/bars", params=params | ({"page_token": token} if token else {})).json()
            pages.append({s: [b["t"][11:16] for b in found] for s, found in body["bars"].items()})
            token = body["next_page_token"]
            if token is None:
                break
        assert pages == [
            {"AAPL": ["14:30", "14:31", "14:32"]},
            {"AAPL": ["14:33"], "MSFT": ["14:30", "14:31"]},
            {"MSFT": ["14:32", "14:33"]},
        ]

    def test_the_one_symbol_endpoint_and_descending_order(self, make_sim) -> None:
        """``/v2/stocks/{symbol}/bars`` answers a list and names the symbol; ``sort=desc`` reverses."""
        bars = [bar(DAY, f"09:3{i}", "10", "10", "10", "10") for i in range(3)]
        sim = replaying(make_sim, bars, hold_until_subscribed=True, start=at(DAY, "10:00"))
        params = {"timeframe": "1Min", "start": DAY, "sort": "desc", "limit": 2}
        body = Rest(sim)("GET", "/stocks/AAPL/bars", params=params).json()
        assert body["symbol"] == "AAPL"
        assert [b["t"] for b in body["bars"]] == [utc(DAY, "09:32"), utc(DAY, "09:31")]
        rest = Rest(sim)("GET", "/stocks/AAPL/bars", params=params | {"page_token": body["next_page_token"]})
        assert [b["t"] for b in rest.json()["bars"]] == [utc(DAY, "09:30")]
        assert rest.json()["next_page_token"] is None

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"timeframe": "1Week"}, "invalid timeframe"),
            ({"timeframe": "bars"}, "invalid timeframe"),
            ({"timeframe": "1Min", "limit": "0"}, "invalid limit: 0"),
            ({"timeframe": "1Min", "feed": "nyse"}, "invalid feed: 'nyse'"),
            ({"timeframe": "1Min", "start": "yesterday"}, "invalid start: 'yesterday'"),
            ({"timeframe": "1Min", "page_token": "!!"}, "invalid page token"),
        ],
    )
    def test_bad_parameters_are_422_as_alpaca_answers_them(self, rest: Rest, params, message) -> None:
        """A bad parameter: 422 with code 42210000 and the reason."""
        response = rest("GET", "/stocks/bars", params={"symbols": "AAPL"} | params)
        assert response.status_code == 422
        assert response.json() == {"code": 42210000, "message": message}

    def test_a_timeframe_finer_than_the_data_is_refused(self, make_sim) -> None:
        """5-minute data cannot give 1-minute bars (nor 7-minute ones)."""
        bars = [bar(DAY, "09:30", "10", "10", "10", "10"), bar(DAY, "09:35", "10", "10", "10", "10")]
        sim = make_sim(bars, hold_until_subscribed=True, start=at(DAY, "10:00"))  # 5-minute bars
        for timeframe in ("1Min", "7Min"):
            response = Rest(sim)("GET", "/stocks/bars", params={"symbols": "AAPL", "timeframe": timeframe})
            assert response.status_code == 422
            assert "5-minute bars" in response.json()["message"]
        assert len(history(Rest(sim), "15Min", start=DAY)["bars"]["AAPL"]) == 1

    @pytest.mark.parametrize(("seconds", "volume"), [(10, "first"), (31, 100)])
    def test_a_late_print_shows_as_first_streamed_until_it_comes_back(self, make_sim, seconds, volume) -> None:
        """A bar sent without a late print is served so until updatedBars sends it whole (30 s on)."""
        recorded = bar(DAY, "09:30", "10", "11", "9", "10.5", v=100)
        start = at(DAY, "09:31") + timedelta(seconds=seconds)
        sim = replaying(make_sim, [recorded], hold_until_subscribed=True, start=start, updated_bars=1.0)
        [shown] = history(Rest(sim), "1Min", start=DAY)["bars"]["AAPL"]
        if volume == "first":
            assert 80 <= shown["v"] < 100  # one print of at most a fifth of the volume is late
        else:
            assert shown["v"] == volume
        assert (shown["o"], shown["h"], shown["l"], shown["c"]) == (10.0, 11.0, 9.0, 10.5)


class TestCalendarAndClock:
    def test_the_calendar_knows_holidays_early_closes_and_extended_hours(self, rest: Rest) -> None:
        """Thanksgiving is absent, the day after closes at 13:00 and its extended hours at 17:00."""
        days = rest("GET", "/calendar", params={"start": "2012-11-19", "end": "2012-11-26"}).json()
        assert [d["date"] for d in days] == ["2012-11-19", "2012-11-20", "2012-11-21", "2012-11-23", "2012-11-26"]
        friday = days[3]
        assert friday == {
            "date": "2012-11-23", "open": "09:30", "close": "13:00", "session_open": "0400", "session_close": "1700"
        }
        assert (days[0]["close"], days[0]["session_close"]) == ("16:00", "2000")

    @pytest.mark.parametrize(
        ("now", "is_open", "next_open", "next_close"),
        [
            (at("2012-11-23", "12:59"), True, "2012-11-26T14:30:00Z", "2012-11-23T18:00:00Z"),
            (at("2012-11-23", "13:00"), False, "2012-11-26T14:30:00Z", "2012-11-26T21:00:00Z"),
            (at("2012-11-22", "10:00"), False, "2012-11-23T14:30:00Z", "2012-11-23T18:00:00Z"),
            (at("2012-11-21", "08:00"), False, "2012-11-21T14:30:00Z", "2012-11-21T21:00:00Z"),
        ],
        ids=["early-close-open", "early-close-closed", "thanksgiving", "before-the-open"],
    )
    def test_the_clock_knows_holidays_and_early_closes(self, make_sim, now, is_open, next_open, next_close) -> None:
        """``/v2/clock`` is open only in a session, and its next open and close skip holidays."""
        body = Rest(make_sim(start=now))("GET", "/clock").json()
        assert (body["is_open"], body["next_open"], body["next_close"]) == (is_open, next_open, next_close)


def _data_client(sim: SimExchange, **subscribe: list[str]) -> tuple[websocket.WebSocket, Callable[[], list[dict[str, Any]]]]:
    """A JSON bar-stream client: connected, authenticated and subscribed as asked."""
    ws = websocket.create_connection(sim.data_stream_url, timeout=TIMEOUT)

    def recv() -> list[dict[str, Any]]:
        return json.loads(ws.recv())

    assert recv() == [{"T": "success", "msg": "connected"}]
    ws.send(json.dumps({"action": "auth", "key": "K", "secret": "S"}))
    assert recv() == [{"T": "success", "msg": "authenticated"}]
    if subscribe:
        ws.send(json.dumps({"action": "subscribe", **subscribe}))
        [subscription] = recv()
        assert subscription["T"] == "subscription"
    return ws, recv


class TestBarStream:
    def test_a_second_connection_of_the_key_is_refused_with_406(self, sim: SimExchange) -> None:
        """One data connection per key: the second gets 406 and is closed; the first lives on."""
        first, recv = _data_client(sim, bars=["AAPL"])
        second = websocket.create_connection(sim.data_stream_url, timeout=TIMEOUT)
        try:
            assert json.loads(second.recv()) == [{"T": "success", "msg": "connected"}]
            second.send(json.dumps({"action": "auth", "key": "K", "secret": "S"}))
            assert json.loads(second.recv()) == [{"T": "error", "code": 406, "msg": "connection limit exceeded"}]
            opcode, _ = second.recv_data(control_frame=True)
            assert opcode == websocket.ABNF.OPCODE_CLOSE
            sim.feed_bar(bar(DAY, "09:30", "10", "10", "10", "10"))
            assert recv()[0]["T"] == "b"
        finally:
            first.close()
            second.close()

    def test_late_prints_and_the_daily_bar_reach_a_subscriber(self, make_sim) -> None:
        """updatedBars about 30 s after a bar, dailyBars at the 13:00 close, when subscribed; DAY
        orders expire at that close."""
        day = "2012-11-23"
        bars = [bar(day, "12:58", "10", "11", "9", "10.5"), bar(day, "12:59", "10.5", "12", "10", "11")]
        sim = replaying(make_sim, bars, speed=600.0, start=None, updated_bars=1.0, hold_until_subscribed=True)
        stream = StreamClient(sim)
        Rest(sim).submit(stop_price="200")
        assert [e for e, _ in stream.events(1)] == ["new"]
        ws, recv = _data_client(sim, bars=["AAPL"], updatedBars=["*"], dailyBars=["AAPL"])
        try:
            got = [recv()[0] for _ in range(5)]
            assert [(m["T"], m["t"]) for m in got] == [
                ("b", utc(day, "12:58")),
                ("u", utc(day, "12:58")),
                ("b", utc(day, "12:59")),
                ("d", "2012-11-23T05:00:00Z"),
                ("u", utc(day, "12:59")),
            ]
            assert got[0]["v"] < got[1]["v"] == 100  # the late print is in the updated bar
            assert (got[3]["o"], got[3]["h"], got[3]["l"], got[3]["c"]) == (10.0, 12.0, 9.0, 11.0)
            [(expired, data)] = stream.events(1)
            assert (expired, data["timestamp"]) == ("expired", "2012-11-23T18:00:00Z")
            assert sim.finished.wait(TIMEOUT)
        finally:
            ws.close()
            stream.close()

    def test_a_bars_only_client_gets_bars_only(self, make_sim) -> None:
        """Without updatedBars or dailyBars subscribed, only the bars come."""
        day = "2012-11-23"
        bars = [bar(day, "12:58", "10", "11", "9", "10.5"), bar(day, "12:59", "10.5", "12", "10", "11")]
        sim = replaying(make_sim, bars, speed=600.0, start=None, updated_bars=1.0, hold_until_subscribed=True)
        ws, recv = _data_client(sim, bars=["AAPL"])
        try:
            assert [recv()[0]["T"] for _ in range(2)] == ["b", "b"]
            assert sim.finished.wait(TIMEOUT)
            ws.settimeout(0.2)  # everything was written before `finished`: nothing else comes
            with pytest.raises(websocket.WebSocketTimeoutException):
                ws.recv()
        finally:
            ws.close()


class TestReplayClock:
    def test_quiet_minutes_pass_on_the_clock_and_are_not_skipped(self, make_sim) -> None:
        """Between two bars nine minutes apart the exchange's clock runs through the gap."""
        bars = [bar(DAY, "09:30", "10", "10", "10", "10"), bar(DAY, "09:40", "10", "10", "10", "10")]
        start = at(DAY, "09:30") + timedelta(seconds=50)  # the first bar ends a second after it
        sim = replaying(make_sim, bars, speed=10.0, start=start, hold_until_subscribed=True)
        ws, recv = _data_client(sim, bars=["AAPL"])
        try:
            assert recv()[0]["t"] == utc(DAY, "09:30")
            now = datetime.fromisoformat(Rest(sim)("GET", "/clock").json()["timestamp"])
            assert at(DAY, "09:31") <= now < at(DAY, "09:40")
        finally:
            ws.close()

    def test_extended_hours_stream_and_nights_are_skipped(self, make_sim) -> None:
        """Pre- and post-market bars are streamed; DAY orders expire at 16:00 between them; the
        night to the next session is skipped, not waited through."""
        bars = [
            bar(DAY, "04:05", "10", "10", "10", "10"),
            bar(DAY, "09:30", "10", "10", "10", "10"),
            bar(DAY, "16:30", "10", "10", "10", "10"),
            bar("2012-11-23", "09:30", "10", "10", "10", "10"),
        ]
        sim = replaying(make_sim, bars, speed=36_000.0, start=None, hold_until_subscribed=True)
        stream = StreamClient(sim)
        Rest(sim).submit(stop_price="200")
        assert [e for e, _ in stream.events(1)] == ["new"]
        ws, recv = _data_client(sim, bars=["AAPL"])
        try:
            assert [recv()[0]["t"] for _ in range(4)] == [
                utc(DAY, "04:05"), utc(DAY, "09:30"), utc(DAY, "16:30"), utc("2012-11-23", "09:30")
            ]
            [(expired, data)] = stream.events(1)
            assert (expired, data["timestamp"]) == ("expired", utc(DAY, "16:00"))
            assert sim.finished.wait(TIMEOUT)
        finally:
            ws.close()
            stream.close()

    def test_the_calendar_is_built_before_the_clock_runs(self, make_sim) -> None:
        """A replaying exchange knows its sessions when it starts (no stall on the loop later)."""
        sim = replaying(make_sim, [bar(DAY, "09:30", "10", "10", "10", "10")], hold_until_subscribed=True)
        assert sim._calendar is not None
        assert sim._calendar.session(date(2012, 11, 22)) is None
