"""Faults stay local, halts have a scope, fills are counted from the books — in the engine.

A signal that raises halts and flattens its own symbol (``signal_error``) while the others trade;
with the default ``halt_scope`` the symbol trades again the next session once it is settled,
with ``until_resumed`` it waits for an operator. Every fill the machine takes counts once in the
trades, whether it came from the stream or from a reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from structlog.testing import capture_logs

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    HaltRequested,
    OrderFilled,
    Outcome,
    Side,
    Snapshot,
    StrategyEvent,
)
from strategies._policy import HaltScope
from strategies.engine import TradeRecorder
from tests.strategies.replaying import Replayed, replay, session_bars, until

D = Decimal
DAY = date(2013, 3, 4)  # a Monday
NEXT = date(2013, 3, 5)
STEP = timedelta(minutes=5)
FLAT_ROW = ("100.00", "100.50", "99.80", "100.20")
UP_ROW = ("100.50", "101.60", "100.40", "101.50")


@dataclass
class Fragile:
    """Buys each session on the first bar; raises on the ``breaks_on``-th bar of ``broken``."""

    broken: str = "AAPL"
    breaks_on: int = 3
    seen: dict[tuple[str, date], int] = field(default_factory=dict)
    raised: int = 0

    def start_session(self, context: object) -> None:
        """Nothing to prepare."""

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> tuple[StrategyEvent, ...]:
        key = (bar.symbol, snapshot.trading_date)
        self.seen[key] = n = self.seen.get(key, 0) + 1
        if bar.symbol == self.broken and n == self.breaks_on and snapshot.trading_date == DAY:
            self.raised += 1
            raise ZeroDivisionError("a plugin's bug")
        if n == 1:
            leg = EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("95.00"))
            return (EntrySignalled(at=bar.start + STEP, qty=D(100), legs=(leg,)),)
        return ()

    def on_outcome(self, outcome: Outcome) -> None:
        """Decides nothing from the machine's answers."""


def _two_days(symbols: tuple[str, ...] = ("AAPL", "IBM")) -> list[Bar]:
    rows = until(UP_ROW, [FLAT_ROW, UP_ROW], time(15, 20))  # past the square-off at 15:15
    return [
        bar
        for day in (DAY, NEXT)
        for symbol in symbols
        for bar in session_bars(day, rows, symbol=symbol)
    ]


class TestSignalErrors:
    def test_a_signal_that_raises_halts_and_flattens_its_symbol_only(self):
        """AAPL's signal raises while AAPL holds 100: AAPL is flattened and halted, the error
        logged once with its traceback as ``signal_error``; IBM keeps its position."""
        signal = Fragile()
        with capture_logs() as logs:
            done = replay(signal, _two_days(), square_off=_late())
        engine = done.engine
        errors = [e for e in logs if e["event"] == "signal_error"]
        assert len(errors) == 1
        assert errors[0]["symbol"] == "AAPL"
        assert isinstance(errors[0]["exc_info"], ZeroDivisionError)  # its traceback, logged
        assert engine.incidents.count("signal_error", "AAPL") == 1
        aapl = [t for t in engine.recorder.trades if t.symbol == "AAPL"]
        assert aapl[0].exit_reason == "signal_error"
        assert signal.raised == 1  # silenced for the rest of its session
        ibm = [t for t in engine.recorder.trades if t.symbol == "IBM"]
        assert [t.exit_reason for t in ibm] == ["square_off", "square_off"]

    def test_by_default_the_halted_symbol_trades_again_the_next_session(self):
        """``halt_scope = session``: flat and settled at the rollover, AAPL is resumed
        (``halt_lifted``) and its signal enters again on the second day."""
        done = replay(Fragile(), _two_days(), square_off=_late())
        engine = done.engine
        assert engine.incidents.count("halt_lifted", "AAPL") == 1
        days = {t.entry_time.astimezone(done.market.timezone).date() for t in _aapl(engine)}
        assert days == {DAY, NEXT}
        assert not engine.desk.machine("AAPL").snapshot().is_halted

    def test_until_resumed_keeps_the_symbol_halted_over_the_rollover(self):
        """``halt_scope = until_resumed``: AAPL stays halted the next day (``halt_kept``) and
        does not trade; IBM trades both days."""
        signal = Fragile()
        done = replay(signal, _two_days(), square_off=_late(), halt_scope=HaltScope.UNTIL_RESUMED)
        engine = done.engine
        assert engine.incidents.count("halt_kept", "AAPL") == 1
        assert engine.desk.machine("AAPL").snapshot().is_halted
        assert {t.entry_time.date() for t in _aapl(engine)} == {DAY}
        assert len([t for t in engine.recorder.trades if t.symbol == "IBM"]) == 2


class TestAlarmsOutlastTheSession:
    """A halt with an operator alarm (verify's ``Snapshot.alarm``: an anomaly the machine will
    not resolve) is kept over the rollover even with ``halt_scope = session``: the rollover's
    resume is the engine's, not the operator's."""

    @staticmethod
    def _first_day_then(event_of) -> Replayed:
        quiet = Fragile(breaks_on=10_000)
        done = replay(quiet, [b for b in _two_days(("AAPL",)) if b.start.date() == DAY])
        engine = done.engine
        at = replace_day(DAY).replace(hour=20)
        engine.fire("AAPL", event_of(at))
        assert engine.desk.machine("AAPL").snapshot().is_halted
        (first,) = [b for b in _two_days(("AAPL",)) if b.start.date() == NEXT][:1]
        engine.start_bar(first)
        return done

    def test_a_halt_with_an_alarm_is_kept_over_the_rollover(self):
        """A fill for an order nobody placed (``foreign_fill``) halts AAPL with the alarm, flat
        and settled: the next session keeps it halted (``halt_kept``), the alarm still up."""
        done = self._first_day_then(
            lambda at: OrderFilled(
                client_order_id="someone-else-1", at=at, filled_qty=D(1), avg_fill_price=D(1)
            )
        )
        snapshot = done.engine.desk.machine("AAPL").snapshot()
        assert snapshot.is_halted
        assert snapshot.alarm == "foreign_fill"
        assert done.engine.incidents.count("halt_kept", "AAPL") == 1
        assert done.engine.incidents.count("halt_lifted", "AAPL") == 0

    def test_a_halt_without_one_is_lifted(self):
        """A kill switch's halt, flat and settled: lifted at the rollover as before."""
        done = self._first_day_then(lambda at: HaltRequested(at=at, reason="kill_switch"))
        assert not done.engine.desk.machine("AAPL").snapshot().is_halted
        assert done.engine.incidents.count("halt_lifted", "AAPL") == 1


def _aapl(engine):
    return [t for t in engine.recorder.trades if t.symbol == "AAPL"]


def _late() -> time:
    return time(15, 15)


class TestFillsFromTheBooks:
    def test_a_fill_learnt_twice_counts_once_whichever_way_came_first(self):
        """The stream's fill (exact price) and the same fill from a reconciliation (cumulative)
        make one trade leg; a later part learnt by cumulative only adds the difference."""
        at = replace_day(DAY)
        recorder = TradeRecorder()
        common = {"symbol": "AAPL", "at": at, "client_order_id": "t-AAPL-20130304-1-buy"}
        recorder.on_cumulative(buy=True, filled_qty=D(40), avg_price=D("101.00"), **common)
        recorder.on_fill(
            buy=True, qty=D(40), price=D("101.00"), cumulative=D(40), avg_price=D(101), **common
        )
        recorder.on_cumulative(buy=True, filled_qty=D(100), avg_price=D("101.60"), **common)
        sell = {**common, "client_order_id": "t-AAPL-20130304-1-stop"}
        recorder.on_cumulative(buy=False, filled_qty=D(100), avg_price=D("100.00"), **sell)
        (trade,) = recorder.trades
        assert trade.qty == 100
        assert trade.entry_price == D("101.60")  # 40 at 101.00 and 60 at 102.00
        assert trade.pnl == D("-160.00")


def replace_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def test_the_plan_keeps_the_defaults():
    """Session-long halts and GTC protective stops unless a strategy file says otherwise."""
    from brokers import TimeInForce
    from strategies.engine import SessionPlan
    from tests.strategies.replaying import US

    plan = SessionPlan(
        session=US,
        entry_cutoff=_late(),
        square_off=_late(),
        bar_interval=STEP,
        qty=D(1),
        tick_of=lambda symbol: None,  # type: ignore[arg-type,return-value]
    )
    assert plan.halt_scope is HaltScope.SESSION
    assert plan.stop_time_in_force is TimeInForce.GTC
    assert replace(plan, halt_scope=HaltScope.UNTIL_RESUMED).halt_scope == "until_resumed"


class TestCarriedOver:
    def test_a_position_that_outlived_its_session_is_closed_at_the_next_open(self):
        """Day one's bars stop before the square-off (the runner was down at the close): the
        position is still held at day two's first bar, so the runner closes it at once
        (``carried_over``) — an intraday strategy never means to hold overnight."""
        morning = [FLAT_ROW, UP_ROW, UP_ROW]
        bars = [
            *session_bars(DAY, morning, symbol="IBM"),
            *session_bars(NEXT, until(UP_ROW, [UP_ROW], time(15, 20)), symbol="IBM"),
        ]
        done = replay(Fragile(broken="nobody"), bars, square_off=_late())
        engine = done.engine
        assert engine.incidents.count("carried_over", "IBM") == 1
        first, *_ = engine.recorder.trades
        assert first.exit_reason == "carried_over"
        assert first.exit_time.astimezone(done.market.timezone).date() == NEXT
