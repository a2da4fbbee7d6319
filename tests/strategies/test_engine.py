"""The engine and replay driver: signal events → machine → paper broker → fills → trades."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from brokers import Bar, ManualClock, PaperBroker
from machines import (
    US_EQUITY_TICK,
    Desk,
    EntryLeg,
    EntrySignalled,
    Outcome,
    Rules,
    Side,
    Snapshot,
    State,
    StrategyEvent,
    TrailProposed,
)
from strategies.engine import Engine, SessionPlan
from strategies.run import replay_bars
from strategies.signals import SessionContext
from tests.strategies.replaying import US, Market, Row, session_bars

D = Decimal
NY = ZoneInfo("America/New_York")
DAY = date(2013, 3, 4)
STEP = timedelta(minutes=5)


def bars(*rows: Row) -> list[Bar]:
    return session_bars(DAY, rows)


@dataclass
class ScriptedSignal:
    """Enters long on the first bar, trails to each completed bar's low after the fill."""

    entry: str = "101.00"
    stop: str = "99.00"
    trail: bool = True
    contexts: list[SessionContext] = field(default_factory=list)
    seen: int = 0

    def start_session(self, context: SessionContext) -> None:
        self.contexts.append(context)

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> tuple[StrategyEvent, ...]:
        self.seen += 1
        end = bar.start + STEP
        if self.seen == 1:
            leg = EntryLeg(side=Side.BUY, entry_price=D(self.entry), initial_stop=D(self.stop))
            return (EntrySignalled(at=end, qty=D(100), legs=(leg,)),)
        if self.trail and snapshot.state == State.IN_POSITION:
            return (TrailProposed(at=end, stop_price=bar.low),)
        return ()

    def on_outcome(self, outcome: Outcome) -> None:
        """A scripted signal decides nothing from the machine's answers."""


def run(signal: ScriptedSignal, data: list[Bar]):
    clock = ManualClock(data[0].start)
    paper = PaperBroker(clock=clock)
    desk = Desk(
        strategy="t", trading_date=DAY, rules=Rules(max_attempts=1, timezone="America/New_York")
    )
    plan = SessionPlan(
        session=US,
        entry_cutoff=time(14, 30),
        square_off=time(15, 15),
        bar_interval=STEP,
        qty=D(100),
        tick_of=lambda symbol: US_EQUITY_TICK,
    )
    engine = Engine(desk=desk, signals={"AAPL": signal}, broker=paper, clock=clock, plan=plan)
    paper.subscribe(engine.on_trade_update)
    replay_bars(data, engine=engine, paper=paper, clock=clock)
    return engine, paper


class TestEngineRoundTrip:
    def test_entry_fills_next_bar_then_trailing_stop_takes_it_out(self):
        """Signal on bar 0, fill on bar 1 at the stop price, trail to bar lows, stopped on bar 3."""
        data = bars(
            ("100.00", "100.50", "99.80", "100.20"),  # signal: buy stop 101
            ("100.50", "101.60", "100.40", "101.50"),  # fills at 101.00
            ("101.50", "102.50", "101.20", "102.40"),  # trail to 101.20
            ("102.40", "102.60", "101.00", "101.10"),  # low 101.00 <= 101.20: stopped at 101.20
        )
        engine, paper = run(ScriptedSignal(), data)
        (trade,) = engine.recorder.trades
        assert (trade.side, trade.qty, trade.entry_price, trade.exit_price) == (
            "long",
            D(100),
            D("101.00"),
            D("101.20"),
        )
        assert trade.pnl == D("20.00")
        assert trade.exit_reason == "stop"
        assert engine.desk.machine("AAPL").state == State.FLAT
        assert paper.list_positions() == []

    def test_stop_placed_on_the_fill_bar_is_hit_there_in_the_worst_case(self):
        """A fill bar that also reaches the initial stop: the stop is taken on that same bar."""
        data = bars(
            ("100.00", "100.50", "99.80", "100.20"),
            ("100.50", "101.60", "98.50", "99.00"),  # fills at 101 and trades down to 98.50
            ("99.00", "99.50", "98.80", "99.20"),
        )
        engine, _ = run(ScriptedSignal(), data)
        (trade,) = engine.recorder.trades
        assert trade.exit_price == D("99.00")
        assert trade.exit_time == data[1].start  # on the fill bar, not the next one

    def test_square_off_flattens_at_the_next_open(self):
        """A position still open at square-off is closed by a market order at the next bar's open."""
        rows = [("100.00", "100.50", "99.80", "100.20"), ("100.50", "101.60", "100.40", "101.50")]
        rows += [("101.50", "101.80", "101.40", "101.60")] * 70  # drifts until 15:20
        engine, paper = run(ScriptedSignal(stop="95.00", trail=False), bars(*rows))
        (trade,) = engine.recorder.trades
        assert trade.exit_reason == "square_off"
        assert trade.exit_price == D("101.50")
        assert engine.desk.machine("AAPL").snapshot().done_for_day
        assert paper.list_positions() == []

    def test_session_context_names_the_day_and_its_times(self):
        """start_session gets the session date, its cutoff and square-off as aware datetimes."""
        signal = ScriptedSignal()
        run(signal, bars(("100", "100", "100", "100")))
        (context,) = signal.contexts
        assert context.session == DAY
        assert context.square_off_at == datetime(2013, 3, 4, 15, 15, tzinfo=NY)
        assert context.previous is None


def _engine_in(zone: ZoneInfo) -> Engine:
    clock = ManualClock(datetime(2012, 1, 1, tzinfo=UTC))
    plan = SessionPlan(
        session=Market(zone, US.opens, US.closes),
        entry_cutoff=time(14, 30),
        square_off=time(15, 15),
        bar_interval=STEP,
        qty=D(100),
        tick_of=lambda symbol: US_EQUITY_TICK,
    )
    desk = Desk(strategy="t", trading_date=DAY)
    return Engine(desk=desk, signals={}, broker=PaperBroker(clock=clock), clock=clock, plan=plan)


class TestSessionOf:
    def test_local_date_matches_the_timezone_across_midnights_and_dst_changes_at_midnight(self):
        """session_of's cached local-day bounds agree with a conversion where DST starts or ends
        at midnight (São Paulo, 2012-10-21 and 2013-02-17) and on ordinary days (New York)."""
        for zone, first in (
            (ZoneInfo("America/Sao_Paulo"), datetime(2012, 10, 19, tzinfo=UTC)),
            (ZoneInfo("America/Sao_Paulo"), datetime(2013, 2, 15, tzinfo=UTC)),
            (ZoneInfo("America/New_York"), datetime(2013, 3, 8, tzinfo=UTC)),
        ):
            engine = _engine_in(zone)
            for i in range(4 * 24 * 12):  # four days of 5-minute bars
                start = first + i * STEP
                bar = Bar(symbol="X", start=start, open=D(1), high=D(1), low=D(1), close=D(1))
                assert engine.session_of(bar) == start.astimezone(zone).date(), start
