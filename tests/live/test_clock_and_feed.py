"""Issue 12's must-shows, live against the simulated exchange over real sockets, on the demo's
1-minute bars (what Alpaca streams: gaps, extended hours):

- an early close (2012-11-23, 13:00) with ``square_off = "15:45"``: squared off before 13:00,
  nothing held, nothing left to expire;
- the data socket quiet for one symbol from 11:10: still squared off at its time;
- ORB at ``bar_minutes`` 1 and 5 on the 1-minute stream: the opening range is exactly the first
  ``or_minutes`` of the session;
- 80-20 trades on its first live day with its D-1 fetched from the exchange's historical API, and
  a pre-market bar through the trigger does not use up the setup;
- a weekend-dated bar, a bar past the calendar, a zero bar and an absurd bar on the stream:
  dropped and counted, the run completes, the books are clean.

Each run replays only the hours it needs (at a speed where a session takes seconds).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from brokers import AlpacaBroker, Bar, LockStep, OrderStatus, SimExchange, SimFaults
from machines import ClientOrderId, OrderRole
from strategies.run import (
    LiveRunner,
    RunSettings,
    daily_history,
    load_bars,
    run_live,
    split_sessions,
)
from strategies.signals._eighty_twenty import qualify
from strategies.signals._opening_range import OpeningRange
from strategies.spec import StrategySpec
from tests.live.support import ROOT, JournalView, audit, positions_of, spec_for, wait_until

NY = ZoneInfo("America/New_York")
MINUTES = ROOT / "data" / "intraday_1min"
DAY = date(2012, 11, 15)  # 80-20: GOOG (09:40) and AAPL (10:55) long
BLACK_FRIDAY = date(2012, 11, 23)  # NYSE closes at 13:00
SPEED = 1e6  # in lock-step: as fast as the run applies each moment


def et(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=NY)


@cache
def _minutes(symbols: tuple[str, ...], day: date) -> tuple[Bar, ...]:
    """The 1-minute bars of ``symbols`` from five weeks before ``day`` to ``day``."""
    return tuple(load_bars(MINUTES, symbols=symbols, dates=(day - timedelta(days=35), day)))


def _day_and_before(
    spec: StrategySpec, day: date, *, since: time = time(9, 0), until: time = time(16, 30)
) -> tuple[list[Bar], list[Bar]]:
    """``day``'s bars from ``since`` to ``until`` (New York), and the bars of the sessions before
    it (what the exchange's historical API serves)."""
    earlier, live = split_sessions(list(_minutes(spec.symbols, day)), spec, 1, day)
    window = et(day, since.hour, since.minute), et(day, until.hour, until.minute)
    return [b for b in live if window[0] <= b.start < window[1]], earlier


def _eighty_twenty(*, square_off: str = "11:45", cutoff: str = "11:30") -> StrategySpec:
    """The example 80-20 on AAPL and GOOG with an earlier day: a run's data must reach past
    its square-off (a recording that ends sooner jumps the exchange to the close)."""
    raw = spec_for().model_dump(mode="json")
    raw["square_off"] = square_off
    raw["entry_window"]["end"] = raw["signal"]["trigger_window_end"] = cutoff
    return StrategySpec.model_validate(raw)


def _orb(**changes: Any) -> StrategySpec:
    raw: dict[str, Any] = tomllib.loads((ROOT / "examples" / "opening_range.toml").read_text())
    raw["signal"].pop("target_r")  # held until the stop or the square-off
    signal = changes.pop("signal", {})
    raw["signal"].update(signal)
    raw.update(changes)
    return StrategySpec.model_validate(raw)


def _run(
    spec: StrategySpec,
    bars: list[Bar],
    earlier: list[Bar],
    tmp_path: Path,
    *,
    faults: SimFaults | None = None,
    settings: dict[str, Any] | None = None,
    speed: float = SPEED,
) -> tuple[Any, list[Any], dict[str, Decimal], LiveRunner]:
    sim = SimExchange(
        bars,
        speed=speed,
        lockstep=LockStep(),  # the default of tickstate run: market time never outruns the run
        hold_until_subscribed=True,
        history=earlier,
        faults=faults,
        # Buying power (row 18) is not what these tests are about: ORB's five symbols enter
        # together, and $100,000 refuses whichever come last.
        cash=Decimal(10_000_000),
    ).start()
    seen: list[LiveRunner] = []
    tmp_path.mkdir(parents=True, exist_ok=True)
    try:
        result = run_live(
            spec,
            bars=bars,
            settings=RunSettings(poll_interval=0.5, **(settings or {})),
            exchange=sim,
            journal_path=tmp_path / "run.sqlite",
            on_runner=seen.append,
        )
        rest = AlpacaBroker(sim.client_settings())
        orders = rest.list_orders(status="all", limit=500)
        rest.close()
        positions = positions_of(sim, spec.symbols)
    finally:
        sim.stop()
    return result, orders, positions, seen[0]


def _role(order: Any) -> OrderRole:
    cid = ClientOrderId.parse(order.client_order_id)
    assert cid is not None, order.client_order_id
    return cid.role


class TestTimersOnTheClock:
    def test_an_early_close_is_squared_off_before_13_00_with_nothing_left(self, tmp_path):
        """2012-11-23 closes at 13:00; the file says 15:45. Every position is closed before 13:00
        by the square-off (capped one bar before the close), none is left at the exchange, and
        no order is left to expire at the close."""
        spec = _orb(square_off="15:45")
        bars, earlier = _day_and_before(spec, BLACK_FRIDAY, since=time(9, 25), until=time(13, 30))
        result, orders, positions, _runner = _run(spec, bars, earlier, tmp_path)
        trades = result.engine.recorder.trades
        squared = [t for t in trades if t.exit_reason == "square_off"]
        assert squared, "the day should hold a position to the square-off"
        assert all(t.exit_time < et(BLACK_FRIDAY, 13) for t in trades)
        assert all(t.exit_time >= et(BLACK_FRIDAY, 12, 55) for t in squared)
        assert positions == dict.fromkeys(spec.symbols, Decimal(0))
        assert [o.client_order_id for o in orders if o.status is OrderStatus.EXPIRED] == []
        assert [o.client_order_id for o in orders if o.is_open] == []
        findings = audit(
            spec=spec,
            orders=orders,
            positions=positions,
            journal=JournalView.read(tmp_path / "run.sqlite"),
        )
        assert findings == []

    def test_a_quiet_data_socket_still_squares_off_at_its_time(self, tmp_path):
        """AAPL, long since 10:55, gets no bar after 11:10 (its prints still trade at the
        exchange): it goes stale two minutes later, and the 11:15 square-off closes it at 11:15
        all the same."""
        spec = _eighty_twenty(square_off="11:15", cutoff="11:00")
        bars, earlier = _day_and_before(spec, DAY, until=time(12, 0))
        quiet = SimFaults(quiet_from=(("AAPL", et(DAY, 11, 10).astimezone(UTC)),))
        result, orders, positions, runner = _run(
            spec, bars, earlier, tmp_path, faults=quiet, settings={"stale_after": 120.0}
        )
        (aapl,) = [t for t in result.engine.recorder.trades if t.symbol == "AAPL"]
        assert aapl.entry_time < et(DAY, 11, 10)
        assert aapl.exit_reason == "square_off"
        # The square-off fired at its time, on the clock (AAPL had no bar since 11:10); the
        # closing order went out from then (how soon it fills depends on the host's load at
        # this replay speed, not on the runner's rules).
        journal = JournalView.read(tmp_path / "run.sqlite")
        (square,) = [
            t
            for t in journal.transitions
            if t["symbol"] == "AAPL" and t["event"]["type"] == "SquareOffReached"
        ]
        assert datetime.fromisoformat(square["event"]["at"].split("[")[0]) == et(DAY, 11, 15)
        exits = [o for o in orders if o.symbol == "AAPL" and _role(o) is OrderRole.EXIT]
        assert [o.created_at >= et(DAY, 11, 15) for o in exits] == [True]
        assert runner.feed.counters["data_stale"] >= 1
        assert "AAPL" in runner.feed.stale
        assert positions == dict.fromkeys(spec.symbols, Decimal(0))
        assert [o.client_order_id for o in orders if o.is_open] == []


class TestTheStrategysBars:
    def _range_of(self, bars: list[Bar], symbol: str, day: date, minutes: int) -> tuple[Any, Any]:
        opens = et(day, 9, 30)
        first = [
            b
            for b in bars
            if b.symbol == symbol and opens <= b.start < opens + timedelta(minutes=minutes)
        ]
        return max(b.high for b in first), min(b.low for b in first)

    def test_orb_measures_exactly_the_first_or_minutes_at_any_bar_size(self, tmp_path):
        """On the 1-minute stream, with pre-market bars in it: ``bar_minutes = 1`` and ``= 5``
        both measure the opening range over exactly 09:30-09:45 of the regular session."""
        for bar_minutes in (1, 5):
            spec = _orb(bar_minutes=bar_minutes, square_off="10:15", entry_window={"end": "10:00"})
            bars, earlier = _day_and_before(spec, BLACK_FRIDAY, until=time(10, 30))
            result, _orders, _positions, runner = _run(
                spec, bars, earlier, tmp_path / str(bar_minutes)
            )
            assert runner.feed.outside_session > 0  # 09:00-09:30 streamed, never measured
            for symbol in spec.symbols:
                signal = result.engine.signals[symbol]
                assert isinstance(signal, OpeningRange)
                assert signal.plan is not None, symbol
                assert (signal.plan.high, signal.plan.low) == self._range_of(
                    bars, symbol, BLACK_FRIDAY, 15
                ), (bar_minutes, symbol)


class TestHistory:
    def test_eighty_twenty_trades_on_its_first_day_with_d1_from_the_broker(self, tmp_path):
        """No history handed in: the run reads D-1 from the exchange's historical bars at
        start-up and trades GOOG and AAPL as a replay of the same data does."""
        spec = _eighty_twenty()
        bars, earlier = _day_and_before(spec, DAY, until=time(12, 0))
        result, orders, positions, _runner = _run(spec, bars, earlier, tmp_path)
        assert {t.symbol for t in result.engine.recorder.trades} == {"GOOG", "AAPL"}
        assert positions == dict.fromkeys(spec.symbols, Decimal(0))
        assert audit(spec=spec, orders=orders, positions=positions, journal=None) == []

    def test_a_pre_market_bar_through_the_trigger_leaves_the_setup_alone(self, tmp_path):
        """A 09:00 GOOG print straddling the trigger arrives before the open: it never reaches
        the signal, which arms and enters at 09:40 as on a day without it."""
        spec = _eighty_twenty(square_off="10:15", cutoff="10:00")
        bars, earlier = _day_and_before(spec, DAY, until=time(10, 30))
        d1 = daily_history(spec, earlier)["GOOG"]
        setup = qualify(spec.signal.params, d1, spec.rules()["GOOG"].tick)
        assert setup is not None
        assert setup.long
        when = et(DAY, 9, 0).astimezone(UTC)
        straddle = Bar(
            symbol="GOOG",
            start=when,
            open=setup.trigger + 1,
            high=setup.trigger + 2,
            low=setup.trigger - 2,
            close=setup.trigger + 1,
            volume=Decimal(100),
            trade_count=1,
            vwap=None,
        )
        bars = sorted(
            [b for b in bars if not (b.symbol == "GOOG" and b.start == when)] + [straddle],
            key=lambda b: (b.start, b.symbol),
        )
        result, orders, _positions, runner = _run(spec, bars, earlier, tmp_path)
        assert runner.feed.outside_session > 0
        goog = next(t for t in result.engine.recorder.trades if t.symbol == "GOOG")
        assert goog.side == "long"
        assert et(DAY, 9, 35) <= goog.entry_time < et(DAY, 9, 50)
        entries = [o for o in orders if o.symbol == "GOOG" and _role(o) is OrderRole.ENTRY]
        assert all(o.created_at >= et(DAY, 9, 30) for o in entries)


class TestDataHealth:
    def test_stray_bars_are_dropped_and_counted_and_the_books_stay_clean(self, tmp_path):
        """At 10:00 the stream carries a Saturday's bar, a bar of 2199, a zero bar and a bar ten
        times AAPL's price. Each is dropped with its reason; the day trades as usual and ends
        flat, every fill protected."""
        spec = _eighty_twenty()
        bars, earlier = _day_and_before(spec, DAY, until=time(12, 0))
        at = et(DAY, 10, 0).astimezone(UTC)

        def stray(start: datetime, price: str) -> Bar:
            p = Decimal(price)
            return Bar(
                symbol="AAPL",
                start=start,
                open=p,
                high=p,
                low=p,
                close=p,
                volume=Decimal(1),
                trade_count=1,
                vwap=None,
            )

        strays = (
            (at, stray(et(date(2012, 11, 17), 10).astimezone(UTC), "540.00")),
            (at, stray(et(date(2199, 1, 6), 10).astimezone(UTC), "540.00")),
            (at, stray(at, "0")),
            (at, stray(at, "5400.00")),
        )
        result, orders, positions, runner = _run(
            spec, bars, earlier, tmp_path, faults=SimFaults(stray_bars=strays)
        )
        assert runner.feed.rejected == {
            "not_a_session": 1,
            "outside_calendar": 1,
            "price_not_positive": 1,
            "absurd_move": 1,
        }
        assert {t.symbol for t in result.engine.recorder.trades} == {"GOOG", "AAPL"}
        findings = audit(
            spec=spec,
            orders=orders,
            positions=positions,
            journal=JournalView.read(tmp_path / "run.sqlite"),
        )
        assert findings == []


class TestLateStart:
    def test_a_run_started_after_the_open_learns_the_range_from_todays_bars_so_far(self, tmp_path):
        """The exchange has been trading since 09:00 when the run starts, after 10:00: ORB's
        range still comes from 09:30-09:45 (today's bars so far, from the historical API), and
        its entries go out from the first live bar, never before the run began."""
        spec = _orb(square_off="11:45", entry_window={"end": "11:30"})
        bars, earlier = _day_and_before(spec, BLACK_FRIDAY, until=time(12, 30))
        sim = SimExchange(bars, speed=2000.0, history=earlier).start()  # free-running: it trades on
        try:
            assert wait_until(lambda: sim.clock.now() >= et(BLACK_FRIDAY, 10), timeout=60)
            started = sim.clock.now()
            result = run_live(
                spec,
                bars=bars,
                settings=RunSettings(poll_interval=0.5),
                exchange=sim,
                journal_path=tmp_path / "late.sqlite",
            )
            rest = AlpacaBroker(sim.client_settings())
            orders = rest.list_orders(status="all", limit=500)
            rest.close()
        finally:
            sim.stop()
        for symbol in spec.symbols:
            signal = result.engine.signals[symbol]
            assert isinstance(signal, OpeningRange)
            assert signal.plan is not None, symbol
            assert (signal.plan.high, signal.plan.low) == TestTheStrategysBars()._range_of(
                bars, symbol, BLACK_FRIDAY, 15
            )
        entries = [o for o in orders if _role(o) is OrderRole.ENTRY]
        assert entries
        assert all(o.created_at >= started for o in entries)
