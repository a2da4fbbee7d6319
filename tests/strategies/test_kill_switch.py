"""The daily loss limit: the runner halts every symbol and flattens once the session's realised
loss reaches the limit — once — and does nothing while the loss stays short of it.

The runner runs in this thread against the paper broker. Fake streams hand it the paper broker's
trade updates and the bars; the runner's ``on_bar`` hook feeds the next bars to the paper broker
(which publishes their fills) and then emits them, so fills are applied before the bar they
happened in, as a live market shows them — all in the engine thread, deterministic.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from itertools import groupby
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from brokers import Bar, ManualClock, PaperBroker, TradeUpdate
from machines import (
    US_EQUITY_TICK,
    Desk,
    EntryLeg,
    EntrySignalled,
    HaltRequested,
    Outcome,
    OutcomeKind,
    Rules,
    Side,
    Snapshot,
    State,
    StrategyEvent,
)
from strategies.cli import build_parser
from strategies.engine import Engine, SessionPlan
from strategies.run import LiveRunner, RunSettings
from strategies.signals import SessionContext
from tests.strategies.replaying import US, session_bars

D = Decimal
NY = ZoneInfo("America/New_York")
DAY = date(2013, 3, 4)
STEP = timedelta(minutes=5)


@dataclass
class BuyOnce:
    """Buys 100 on a stop at ``entry`` on the first bar, protected at ``stop``."""

    entry: str
    stop: str
    seen: int = 0

    def start_session(self, context: SessionContext) -> None:
        pass

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> tuple[StrategyEvent, ...]:
        self.seen += 1
        if self.seen > 1:
            return ()
        leg = EntryLeg(side=Side.BUY, entry_price=D(self.entry), initial_stop=D(self.stop))
        return (EntrySignalled(at=bar.start + STEP, qty=D(100), legs=(leg,)),)

    def on_outcome(self, outcome: Outcome) -> None:
        """Buys once whatever the machine says."""


# AAPL: fills at 101 on bar 1, stopped at 99 on bar 2: -200.
AAPL = session_bars(
    DAY,
    [
        ("100.00", "100.50", "99.80", "100.20"),
        ("100.50", "101.60", "100.40", "101.50"),
        ("101.00", "101.20", "98.50", "98.80"),
        ("98.80", "99.00", "98.00", "98.50"),
        ("98.50", "99.00", "98.00", "98.50"),
        ("98.50", "99.00", "98.00", "98.50"),
    ],
)
# IBM: fills at 51 on bar 1, then drifts down to 50 without reaching its stop at 45.
IBM = session_bars(
    DAY,
    [
        ("50.00", "50.50", "49.80", "50.20"),
        ("50.50", "51.60", "50.40", "51.50"),
        ("51.00", "51.20", "50.50", "50.80"),
        ("50.00", "50.20", "49.80", "50.00"),
        ("50.00", "50.20", "49.80", "50.00"),
        ("50.00", "50.20", "49.80", "50.00"),
    ],
    symbol="IBM",
)


class FakeTradeStream:
    """Hands the paper broker's trade updates to the runner, as they are published."""

    def __init__(self, paper: PaperBroker) -> None:
        self.paper = paper

    def start(
        self, on_update: Callable[[TradeUpdate], None], on_connect: Callable[[], None]
    ) -> None:
        self.paper.subscribe(on_update)

    def stop(self) -> None:
        pass


class FakeBarStream:
    """Emits one batch of bars (same start) at a time: the paper broker matches them first."""

    def __init__(self, paper: PaperBroker, bars: Sequence[Bar]) -> None:
        self.paper = paper
        self.batches = [
            list(g) for _, g in groupby(sorted(bars, key=lambda b: b.start), key=lambda b: b.start)
        ]
        self.next = 0
        self.applied = 0
        self.on_bar: Callable[[Bar], None] | None = None

    def start(
        self, symbols: Sequence[str], on_bar: Callable[[Bar], None], on_connect: Callable[[], None]
    ) -> None:
        self.on_bar = on_bar
        self.emit()

    def emit(self) -> bool:
        if self.next >= len(self.batches) or self.on_bar is None:
            return False
        batch = self.batches[self.next]
        self.next += 1
        for bar in batch:
            self.paper.feed_bar(bar)  # fills (published to the runner's inbox) before the bar
        for bar in batch:
            self.on_bar(bar)
        return True

    def stop(self) -> None:
        pass


def run(limit: str | None):
    """One session of AAPL and IBM through the runner; what happened, seen from outside."""
    bars = sorted(AAPL + IBM, key=lambda b: (b.start, b.symbol))
    clock = ManualClock(bars[0].start)
    paper = PaperBroker(clock=clock)
    outcomes: list[Outcome] = []
    desk = Desk(
        strategy="t",
        trading_date=DAY,
        rules=Rules(max_attempts=1, timezone="America/New_York"),
    )
    plan = SessionPlan(
        session=US,
        entry_cutoff=time(14, 30),
        square_off=time(15, 15),
        bar_interval=STEP,
        qty=D(100),
        tick_of=lambda symbol: US_EQUITY_TICK,
    )
    signals = {"AAPL": BuyOnce("101.00", "99.00"), "IBM": BuyOnce("51.00", "45.00")}
    engine = Engine(
        desk=desk,
        signals=signals,
        broker=paper,
        clock=clock,
        plan=plan,
        observers=(lambda fired: outcomes.append(fired.outcome),),
    )
    bar_stream = FakeBarStream(paper, bars)
    at_end: dict[str, Snapshot] = {}
    runner: LiveRunner

    def on_bar(bar: Bar) -> None:
        bar_stream.applied += 1
        if bar_stream.applied % 2:  # the batch's other bar is still to come
            return
        if not bar_stream.emit():  # the data ended: look, then stop (without flattening)
            at_end.update({s.symbol: s for s in engine.desk.snapshots()})
            runner.request_stop()

    settings = RunSettings(
        poll_interval=3600,
        flatten_on_exit=False,
        shutdown_timeout=0.2,
        daily_loss_limit=D(limit) if limit is not None else None,
    )
    runner = LiveRunner(
        engine=engine,
        broker=paper,
        trade_stream=FakeTradeStream(paper),
        bar_stream=bar_stream,
        settings=settings,
        on_bar=on_bar,
    )
    with capture_logs() as logs:
        runner.run()
    kills = [line for line in logs if line["event"] == "kill_switch"]
    halts = [o for o in outcomes if isinstance(o.event, HaltRequested)]
    return engine, paper, at_end, kills, halts


class TestDailyLossLimit:
    def test_a_loss_past_the_limit_halts_every_symbol_and_flattens_once(self):
        """-200 realised on AAPL against a 150 limit: both symbols halted, IBM flattened; IBM's
        own loss afterwards (still past the limit) does not fire the switch again."""
        engine, paper, at_end, kills, halts = run("150.00")
        (kill,) = kills
        assert kill["reason"] == "daily_loss_limit"
        assert kill["pnl"] == "-200.00"
        assert kill["limit"] == "150.00"
        assert kill["symbols"] == ["AAPL", "IBM"]
        assert kill["log_level"] == "error"
        assert sorted(o.snapshot.symbol for o in halts) == ["AAPL", "IBM"]
        assert all(o.kind is OutcomeKind.ACCEPTED and o.state_to == State.HALTED for o in halts)
        assert all(o.event.flatten and o.event.reason == "daily_loss_limit" for o in halts)
        for symbol in ("AAPL", "IBM"):
            snapshot = at_end[symbol]
            assert (snapshot.state, snapshot.halt_reason) == (State.HALTED, "daily_loss_limit")
            assert snapshot.position == 0
            assert snapshot.working_orders == ()
        assert paper.list_positions() == []
        pnl = {t.symbol: t.pnl for t in engine.recorder.trades}
        assert pnl == {"AAPL": D("-200.00"), "IBM": D("-100.00")}  # flattened at bar 3's open

    def test_a_loss_short_of_the_limit_changes_nothing(self):
        """-200 against a 500 limit: no kill switch, no halt, IBM keeps its position and stop."""
        engine, _paper, at_end, kills, halts = run("500.00")
        assert kills == []
        assert halts == []
        assert at_end["AAPL"].state == State.FLAT
        assert at_end["IBM"].state == State.IN_POSITION
        assert at_end["IBM"].position == D(100)
        assert at_end["IBM"].halt_reason is None
        assert [t.symbol for t in engine.recorder.trades] == ["AAPL"]

    def test_the_limit_is_inclusive(self):
        """A loss exactly at the limit halts (falls to or below -limit)."""
        _engine, _paper, at_end, kills, _halts = run("200.00")
        assert len(kills) == 1
        assert at_end["IBM"].state == State.HALTED

    def test_no_limit_no_kill_switch(self):
        """Without a limit the runner never adds up PnL to halt anything."""
        _engine, _paper, at_end, kills, halts = run(None)
        assert (kills, halts) == ([], [])
        assert at_end["IBM"].state == State.IN_POSITION


class TestCommandLine:
    def test_daily_loss_limit_and_metrics_port_are_parsed_exactly(self):
        """--daily-loss-limit is an exact Decimal (it overrides the file's); --metrics-port a port."""
        args = build_parser().parse_args(
            ["run", "x.toml", "--daily-loss-limit", "250.10", "--metrics-port", "0"]
        )
        assert args.daily_loss_limit == D("250.10")
        assert str(args.daily_loss_limit) == "250.10"
        assert args.metrics_port == 0
        defaults = build_parser().parse_args(["run", "x.toml"])
        assert (defaults.daily_loss_limit, defaults.metrics_port) == (None, None)

    @pytest.mark.parametrize(
        ("option", "value", "problem"),
        [
            ("--daily-loss-limit", "0", "must be a positive amount such as 500.00, got '0'"),
            ("--daily-loss-limit", "lots", "must be a positive amount such as 500.00, got 'lots'"),
            ("--metrics-port", "70000", "must be a port number 0-65535, got '70000'"),
        ],
    )
    def test_a_bad_value_is_one_usage_line(self, capsys, option, value, problem):
        """A bad value: argparse's usage error naming the option, exit code 2."""
        with pytest.raises(SystemExit) as caught:
            build_parser().parse_args(["run", "x.toml", option, value])
        assert caught.value.code == 2
        assert f"argument {option}: {problem}" in capsys.readouterr().err
