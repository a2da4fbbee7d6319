"""``tickstate replay``: the engine over recorded bars, against the paper broker, on a manual clock.

Outputs, in ``out_dir``: ``trades.csv`` (byte-identical for the same inputs; with costs, each
trade's commission, slippage and net PnL too) and ``summary.json`` (per symbol and in total:
trades, win rate, gross and net PnL, costs, drawdown, the daily ratios, exposure, entries
declined for buying power, races, anomalies; and the run's sessions, parameters and hashes:
``strategies.engine._summary``). The caller prints the human table and the speed.

Two fill models. ``twin`` (the default) is ``replay_twin`` (``_twin``): the simulated exchange's
rules and seeded fills, moment by moment as a lock-step live run meets them, so the two take
the same trades. ``plain`` is the bar-level model below (``replay_bars``, also what the unit
tests and the replay benchmark drive), kept for the earlier releases' pinned results.

Deadlines run on the clock: before each moment's bars, every entry cutoff or square-off passed
since fires at its own time, so a symbol without a bar at its deadline is still closed then.

Bars that start together are handled together, in two phases, as a live market would show them:
first every symbol's orders are matched against its bar (at the bar's start), then every bar is
complete (at its end) and the signals decide. A protective stop placed because an entry filled
inside a bar is matched against that same bar once more: bar data cannot tell whether the low
came before or after the fill, and the conservative reading is that the stop was hit — at its
own price, never at the bar's open, which came before the stop existed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from brokers import Bar, ManualClock, PaperBroker
from strategies._exceptions import CalendarError, DataError
from strategies._memory import tuned_for_a_run
from strategies.engine._aggregate import aggregate_bars, interval_of
from strategies.engine._engine import Engine, Fired, JournalSink, Observer
from strategies.engine._summary import RunFacts, SymbolSummary, summary_json, total_of
from strategies.engine._timers import SessionPlan
from strategies.engine._trades import Trade, trades_csv
from strategies.run._facts import PLAIN_CASH, run_facts
from strategies.run._plot import StopStep
from strategies.run._twin import TWIN_CASH, TWIN_MARGIN, replay_twin
from strategies.run._wiring import build_engine_for, plan_for
from strategies.signals import DailyBar
from strategies.spec._strategy import StrategySpec

if TYPE_CHECKING:
    from strategies.observe._logging import MarketTime

__all__ = [
    "Drawing",
    "ReplayResult",
    "StopTrail",
    "build_engine",
    "draw_report",
    "replay_bars",
    "run_replay",
    "strategy_bars",
]

Drawing = Callable[[str, int], Callable[[], None]]
"""Told what is being drawn and in how many pieces; returns what to call after each piece."""

_log = structlog.get_logger("tickstate.replay")

_START = attrgetter("start")
_SYMBOL = attrgetter("symbol")


# A replay is a run: its bars live until it ends and each bar's objects die young, so the
# loops and the whole replay run with the bars frozen out of the collector's walks (blocks
# nest; without the first full collection, which those bars would make as dear as the
# collections it saves).
@tuned_for_a_run(tidy=False)
def replay_bars(
    bars: Iterable[Bar],
    *,
    engine: Engine,
    paper: PaperBroker,
    clock: ManualClock,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Run ``bars`` (sorted by start) through the engine; returns how many bars were replayed."""
    interval = engine.plan.bar_interval
    # Bound once: this loop runs a few calls per bar and little else, so lookups show.
    start_bar, on_bar, drain, on_clock = (
        engine.start_bar,
        engine.on_bar,
        engine.drain,
        engine.on_clock,
    )
    take_new_stops, feed_bar = engine.take_new_stops, paper.feed_bar
    count = 0
    session: date | None = None
    started: set[str] = set()  # symbols whose session has started: start_bar is a no-op for them
    for start, group in groupby(bars, key=_START):
        batch = sorted(group, key=_SYMBOL)
        day = engine.session_of(batch[0])
        if day != session:
            if session is not None:
                _close_session(engine, paper, clock, session)
            session = day
            started = set()
        end = start + interval
        clock.set(start)
        on_clock(start)  # a deadline passed while a symbol had no bar fires at its time
        for bar in batch:
            if bar.symbol not in started:
                started.add(bar.symbol)
                start_bar(bar)
                feed_bar(bar)
            elif not feed_bar(bar):
                # Nothing filled, so nothing was queued and nothing fired: every step of this
                # loop ends drained and with its new stops taken, so there is nothing to do.
                continue
            drain()
            stops = take_new_stops()
            if stops:
                _rematch_new_stops(engine, paper, bar, end, stops)
        clock.set(end)
        for bar in batch:
            on_bar(bar)
        take_new_stops()  # placed after their bar completed: they work from the next bar
        count += len(batch)
        if progress is not None:
            progress(len(batch))
    if session is not None:
        _close_session(engine, paper, clock, session)
    return count


def _rematch_new_stops(
    engine: Engine, paper: PaperBroker, bar: Bar, end: datetime, stops: list[str]
) -> None:
    while stops:
        paper.feed_bar(bar, cutoff=end, only=stops, inside=True)
        engine.drain()
        stops = engine.take_new_stops()


def _close_session(engine: Engine, paper: PaperBroker, clock: ManualClock, day: date) -> None:
    closes = engine.plan.session.close_at(day)
    clock.set(max(closes, clock.now()))
    # No deadline is fired here: with no bar left in the day, a closing order could not fill;
    # a position the data left open is the next session's to close (``carried_over``).
    paper.close_session()
    engine.drain()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    """What a replay produced."""

    trades: tuple[Trade, ...]
    summaries: tuple[SymbolSummary, ...]
    total: SymbolSummary
    facts: RunFacts
    bars: int
    seconds: float
    cpu_seconds: float  # the process's CPU time in the replay loop (wall time is ``seconds``)
    trades_path: Path
    summary_path: Path

    @property
    def bars_per_second(self) -> float:
        """Replay speed over the whole run."""
        return self.bars / self.seconds if self.seconds > 0 else float("inf")


class StopTrail:
    """Remembers each symbol's protective stop every time it changes (for the pictures)."""

    def __init__(self) -> None:
        self.steps: list[StopStep] = []
        self._last: dict[str, Decimal | None] = {}

    def __call__(self, fired: Fired) -> None:
        outcome = fired.outcome
        snapshot = outcome.snapshot
        if self._last.get(snapshot.symbol) != snapshot.stop_price:
            self._last[snapshot.symbol] = snapshot.stop_price
            at = getattr(outcome.event, "at", None)
            if at is not None:
                self.steps.append(StopStep(snapshot.symbol, at, snapshot.stop_price))


def draw_report(
    path: Path,
    spec: StrategySpec,
    *,
    bars: Sequence[Bar],
    trades: Sequence[Trade],
    stops: Sequence[StopStep],
    summary_text: str,
    bar_interval: timedelta,
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
    drawing: Drawing | None = None,
    title: str | None = None,
) -> Path:
    """Write the HTML report of a replay or run of ``spec`` (``_report``); returns its path."""
    import json

    from strategies.run._report import Levels, report_document, write_report

    hours = spec.session.hours()
    tick: Callable[[], None] | None = None

    def days_total(count: int) -> None:
        nonlocal tick
        if drawing is not None:
            tick = drawing(f"drawing the report ({count} symbol-days)", count)

    def ticked() -> None:
        if tick is not None:
            tick()

    document = report_document(
        title=title or f"{spec.name}: {len(trades)} trades",
        summary=json.loads(summary_text),
        bars=bars,
        trades=trades,
        stops=stops,
        timezone=hours.timezone,
        bar_interval=bar_interval,
        levels=Levels.of(spec.signal.kind, spec.signal.params, spec.session.open),
        history=history,
        tick=ticked,
        days_total=days_total,
    )
    return write_report(path, document)


def strategy_bars(spec: StrategySpec, bars: Sequence[Bar]) -> list[Bar]:
    """The bars ``spec`` reads: ``bars`` (any size dividing ``bar_minutes``, in time order) as
    ``bar_minutes`` bars of the regular session, aligned to the open (``aggregate_bars``)."""
    if not bars:
        return []
    plan = _check_size(spec, bars)
    built, outside = aggregate_bars(bars, plan.session, plan.bar_interval)
    if not built:
        raise _none_in_a_session(bars)
    if outside:
        _log.info("bars_outside_sessions", bars=outside, kept=len(built))
    return built


def _check_size(spec: StrategySpec, bars: Sequence[Bar]) -> SessionPlan:
    """The spec's plan, once ``bars``' size is known to build its bars (else ``DataError``)."""
    plan = plan_for(spec)
    size = interval_of(bars) or plan.bar_interval
    if size > plan.bar_interval or plan.bar_interval % size:
        raise DataError(
            "the data",
            f"{_minutes(size)} bars cannot make the strategy's {_minutes(plan.bar_interval)} bars",
        )
    return plan


def _check_feed(spec: StrategySpec, bars: Sequence[Bar]) -> None:
    """What ``strategy_bars`` would refuse in ``bars``, without building the strategy's bars
    (the twin model builds them as a live run does, minute by minute)."""
    session = _check_size(spec, bars).session
    hours: dict[date, tuple[datetime, datetime] | None] = {}
    for bar in bars:  # the first bar in a regular session ends the search
        day = bar.start.astimezone(session.timezone).date()
        if day not in hours:
            try:
                hours[day] = (session.open_at(day), session.close_at(day))
            except CalendarError:
                hours[day] = None
        found = hours[day]
        if found is not None and found[0] <= bar.start < found[1]:
            return
    raise _none_in_a_session(bars)


def _none_in_a_session(bars: Sequence[Bar]) -> DataError:
    first = bars[0]
    symbols = ", ".join(sorted({b.symbol for b in bars}))
    return DataError(
        "the data",
        f"none of its {len(bars)} bars of {symbols} is in a "
        f"regular session of the calendar (the first: {first.symbol} at "
        f"{first.start:%Y-%m-%dT%H:%MZ}; a weekend, a holiday, extended hours, or a year the "
        "calendar does not cover)",
    )


def _minutes(size: timedelta) -> str:
    return f"{size.total_seconds() / 60:g}-minute"


def build_engine(
    spec: StrategySpec,
    bars: Sequence[Bar],
    observers: Sequence[Observer] = (),
    journal: JournalSink | None = None,
) -> tuple[Engine, PaperBroker, ManualClock]:
    """The engine, paper broker and clock a replay of ``spec`` over ``bars`` runs on."""
    first = bars[0]
    clock = ManualClock(first.start)
    costs = spec.costs
    paper = PaperBroker(
        clock=clock, cash=costs.cash or PLAIN_CASH, margin=costs.leverage or TWIN_MARGIN
    )
    engine = build_engine_for(
        spec,
        broker=paper,
        clock=clock,
        trading_date=first.start.astimezone(spec.session.hours().timezone).date(),
        observers=observers,
        journal=journal,
    )
    paper.subscribe(engine.on_trade_update)
    return engine, paper, clock


@tuned_for_a_run(tidy=False)
def run_replay(
    spec: StrategySpec,
    bars: Sequence[Bar],
    *,
    out_dir: Path,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    plot_dir: Path | None = None,
    model: str = "twin",
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
    seed: int = 0,
    cash: Decimal | None = None,
    market_time: MarketTime | None = None,
    report_path: Path | None = None,
    drawing: Drawing | None = None,
) -> ReplayResult:
    """Replay ``bars`` of the spec's symbols and write ``trades.csv`` and ``summary.json``.

    ``model`` ``"twin"`` (the default) trades as the simulated exchange does in lock-step with a
    live run (``replay_twin``: its rules, its seeded partial fills with ``seed``, the bars as
    recorded — minute bars matched minute by minute — built into the strategy's bars as a live
    run builds them), so a lock-step ``tickstate run`` over the same bars takes the same trades;
    ``history`` are the sessions before the first bar (a run's look-back). ``"plain"`` is the
    bar-level model: the bars aggregated to the strategy's first (``strategy_bars``), plain
    stops, whole fills, instant cancels (``PLAIN``). ``on_total`` is told how many bars
    ``progress`` will count: the strategy's (plain) or the feed's (twin). ``cash`` is the twin's
    account, as the simulated exchange's ``cash`` (default: the file's ``[costs] cash``, else the
    twin's $100,000); ``market_time`` follows the replay's clock (the ``market_ts`` of its log
    lines).

    With ``plot_dir``, also a PNG per symbol-day with trades (needs the ``plot`` extra); with
    ``report_path``, one self-contained HTML report (needs the ``report`` extra). ``drawing``
    is told what is drawn and how many pieces, and ticks each (a progress bar).
    """
    wanted = set(spec.symbols)
    feed = [bar for bar in bars if bar.symbol in wanted]
    if not feed:
        raise DataError("the data", f"no bars for {', '.join(spec.symbols)}")
    if model not in ("twin", "plain"):
        raise ValueError(f'unknown replay model "{model}" (twin or plain)')
    # The twin builds the strategy's bars itself, minute by minute: building them here too
    # (for the plot, or the plain model) cost as much as a third of its replay.
    drawn = plot_dir is not None or report_path is not None
    mine = strategy_bars(spec, feed) if model == "plain" or drawn else []
    if model == "twin":
        _check_feed(spec, feed)
    if on_total is not None:
        on_total(len(mine) if model == "plain" else len(feed))
    trail = StopTrail() if plot_dir is not None or report_path is not None else None
    observers = () if trail is None else (trail,)
    started, started_cpu = time.perf_counter(), time.process_time()
    if model == "twin":
        engine, count = replay_twin(
            spec,
            feed,
            history=history,
            seed=seed,
            cash=cash,
            observers=observers,
            progress=progress,
            market_time=market_time,
        )
    else:
        engine, paper, clock = build_engine(spec, mine, observers=observers)
        if market_time is not None:  # log lines carry the replay's market time
            market_time.follow(clock, spec.session.hours().timezone)
        count = replay_bars(mine, engine=engine, paper=paper, clock=clock, progress=progress)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    equity = (
        cash or spec.costs.cash or TWIN_CASH if model == "twin" else spec.costs.cash or PLAIN_CASH
    )
    # The data's fingerprint: of the bars matched — the strategy's (plain), or the recorded
    # ones the twin plays, as a lock-step run's exchange does (``run_live``).
    facts = run_facts(spec, engine, mine if model == "plain" else feed, equity=equity)
    summaries = engine.summaries(spec.symbols, facts)
    total = total_of(engine.recorder.trades, summaries, facts)
    out_dir.mkdir(parents=True, exist_ok=True)
    trades_path, summary_path = out_dir / "trades.csv", out_dir / "summary.json"
    charged = not engine.recorder.costs.free
    trades_path.write_text(trades_csv(engine.recorder.trades, costs=charged), encoding="utf-8")
    summary_path.write_text(
        summary_json(spec.name, summaries, count, total=total, facts=facts), encoding="utf-8"
    )
    if plot_dir is not None and trail is not None:
        from strategies.run._plot import plot_days

        plot_days(
            mine,
            engine.recorder.trades,
            trail.steps,
            out_dir=plot_dir,
            timezone=spec.session.hours().timezone,
            bar_interval=engine.plan.bar_interval,
            drawing=drawing,
        )
    if report_path is not None and trail is not None:
        draw_report(
            report_path,
            spec,
            bars=mine,
            trades=engine.recorder.trades,
            stops=trail.steps,
            summary_text=summary_path.read_text(encoding="utf-8"),
            bar_interval=engine.plan.bar_interval,
            history=history,
            drawing=drawing,
        )
    return ReplayResult(
        trades=tuple(engine.recorder.trades),
        summaries=tuple(summaries),
        total=total,
        facts=facts,
        bars=count,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        trades_path=trades_path,
        summary_path=summary_path,
    )
