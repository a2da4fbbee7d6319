"""History at start-up (``strategies.run._history``): what a signal reads before its first live
day, fetched from a historical bars API; said at start-up when it cannot be had."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from brokers import Bar, RequestRejectedError
from strategies.run import HistoryError, fetch_history, history_sessions
from strategies.run._history import bars_so_far
from strategies.spec import StrategySpec, load_strategy

ROOT = Path(__file__).resolve().parents[2]
NY = ZoneInfo("America/New_York")
MONDAY = date(2012, 11, 26)


def _spec(**signal: Any) -> StrategySpec:
    spec = load_strategy(ROOT / "examples" / "eighty_twenty.toml")
    if not signal:
        return spec
    raw = spec.model_dump(mode="json")
    raw["signal"].update(signal)
    return StrategySpec.model_validate(raw)


def _minute(symbol: str, day: date, hh: int, mm: int, price: str) -> Bar:
    p = Decimal(price)
    start = datetime.combine(day, time(hh, mm), tzinfo=NY).astimezone(UTC)
    return Bar(symbol=symbol, start=start, open=p, high=p, low=p, close=p, volume=Decimal(1))


class _Source:
    def __init__(self, bars: list[Bar] | None = None, error: Exception | None = None) -> None:
        self.bars = bars or []
        self.error = error
        self.asked: list[dict[str, Any]] = []

    def get_bars(self, symbols: Any, **kwargs: Any) -> dict[str, list[Bar]]:
        self.asked.append({"symbols": list(symbols), **kwargs})
        if self.error is not None:
            raise self.error
        found: dict[str, list[Bar]] = {}
        for bar in self.bars:
            if bar.symbol in symbols and kwargs["start"] <= bar.start <= kwargs.get(
                "end", bar.start
            ):
                found.setdefault(bar.symbol, []).append(bar)
        return found


def test_each_signal_declares_its_look_back():
    assert history_sessions(_spec()) == 1
    assert history_sessions(_spec(range_filter="mean_range_20")) == 21
    assert history_sessions(load_strategy(ROOT / "examples" / "opening_range.toml")) == 0


def test_d1_is_the_regular_session_before_the_first_day():
    """Friday 2012-11-23 (13:00 close) is D-1 of Monday: its pre-market and after-close minutes
    are left out of its daily bar, as the strategy's own bars leave them out."""
    spec = _spec()
    friday = date(2012, 11, 23)
    bars = [
        _minute("AAPL", friday, 8, 0, "1.00"),  # pre-market
        _minute("AAPL", friday, 9, 30, "10.00"),
        _minute("AAPL", friday, 12, 59, "12.00"),
        _minute("AAPL", friday, 13, 30, "99.00"),  # after the early close
    ]
    source = _Source(bars)
    history = fetch_history(source, spec, MONDAY, feed=timedelta(minutes=1))
    (d1,) = history["AAPL"]
    assert (d1.session, d1.open, d1.high, d1.low, d1.close) == (
        friday,
        Decimal("10.00"),
        Decimal("12.00"),
        Decimal("10.00"),
        Decimal("12.00"),
    )
    assert source.asked[0]["timeframe"] == timedelta(minutes=1)


def test_a_symbol_without_enough_sessions_is_said_at_start_up():
    with capture_logs() as logs:
        history = fetch_history(_Source(), _spec(), MONDAY, feed=timedelta(minutes=1))
    assert history["AAPL"] == ()
    short = [e for e in logs if e["event"] == "history_short"]
    assert {e["symbol"] for e in short} == set(_spec().symbols)
    assert all((e["wanted"], e["got"]) == (1, 0) for e in short)


def test_a_refused_request_is_one_line():
    refused = RequestRejectedError("subscription does not permit querying recent SIP data")
    with pytest.raises(HistoryError) as caught:
        fetch_history(_Source(error=refused), _spec(), MONDAY, feed=timedelta(minutes=1))
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("history before 2012-11-26: the broker's historical bars:")


def test_a_late_start_splits_todays_bars_into_complete_ones_and_the_open_bucket():
    spec = _spec()  # 5-minute bars
    bars = [_minute("AAPL", MONDAY, 9, 30 + i, "10.00") for i in range(8)]  # 09:30-09:37
    now = datetime.combine(MONDAY, time(9, 38), tzinfo=NY)
    complete, pending = bars_so_far(_Source(bars), spec, MONDAY, now, feed=timedelta(minutes=1))
    assert [b.start for b in complete] == [bars[0].start]  # the 09:30 bucket
    assert [b.start for b in pending] == [b.start for b in bars[5:]]  # 09:35-09:37 so far
    before = datetime.combine(MONDAY, time(9, 0), tzinfo=NY)
    assert bars_so_far(_Source(bars), spec, MONDAY, before, feed=timedelta(minutes=1)) == ([], [])
