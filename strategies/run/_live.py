"""``tickstate run``: a strategy live, on the venue its ``[broker]`` table names.

``run_live`` assembles one run: the venue (``open_venue``: the simulated exchange by default,
or Alpaca), the journal (a restart rebuilds the machines from it and settles what was journaled
but never confirmed), the engine and the ``LiveRunner``'s threads; SIGINT/SIGTERM ask the runner
to stop cleanly. It builds nothing broker-specific itself.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import structlog

from brokers import Bar, SimExchange
from strategies._memory import tuned_for_a_run
from strategies.engine import (
    Engine,
    Observer,
    RunFacts,
    SymbolSummary,
    summary_json,
    total_of,
    trades_csv,
)
from strategies.engine._executor import SymbolExecutor, pace_by_rate_limit
from strategies.journal import Journal, PendingCommand
from strategies.run._collar import CollarWatch
from strategies.run._facts import run_facts
from strategies.run._history import bars_so_far, fetch_history
from strategies.run._lockstep import LateOrders, LockStepGate
from strategies.run._pdt import PdtGate
from strategies.run._recovery import settle_pending
from strategies.run._runner import LiveRunner
from strategies.run._settings import RunSettings
from strategies.run._shutdown import left_at_broker
from strategies.run._twin import TWIN_CASH
from strategies.run._venues import Venue, open_venue
from strategies.run._wiring import build_engine_for
from strategies.signals import DailyBar
from strategies.spec import StrategySpec

if TYPE_CHECKING:
    from strategies.observe._logging import MarketTime
    from strategies.observe._metrics import RunMetrics
    from strategies.observe._notify import Notifier

__all__ = ["LiveResult", "run_live"]

_log = structlog.get_logger("tickstate.live")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveResult:
    """What a live run did."""

    engine: Engine
    summaries: tuple[SymbolSummary, ...]
    bars: int
    reconciliations: int
    reconnects: int
    exchange_orders: int | None  # orders at the simulated exchange (None against Alpaca)
    late_orders: int = 0  # free-running: orders that reached the exchange after their bar
    lockstep_timeouts: int = 0  # lock-step: moments that went on without all they sent
    facts: RunFacts | None = None  # what produced it (sessions, hashes) and the ratios' base
    total: SymbolSummary | None = None

    def write(self, strategy: str, out_dir: Path) -> tuple[Path, Path]:
        """Write ``trades.csv`` and ``summary.json`` into ``out_dir``, as a replay does."""
        out_dir.mkdir(parents=True, exist_ok=True)
        trades_path, summary_path = out_dir / "trades.csv", out_dir / "summary.json"
        recorder = self.engine.recorder
        trades_path.write_text(
            trades_csv(recorder.trades, costs=not recorder.costs.free), encoding="utf-8"
        )
        summary_path.write_text(
            summary_json(strategy, self.summaries, self.bars, total=self.total, facts=self.facts),
            "utf-8",
        )
        return trades_path, summary_path

    def warnings(self) -> list[str]:
        """What the operator should know about how the run met its venue."""
        found = []
        if self.late_orders:
            found.append(
                f"{self.late_orders} orders reached the simulated exchange after the bar they "
                "were meant for (its clock ran free: --realtime; in lock-step none do)"
            )
        if self.lockstep_timeouts:
            found.append(
                f"{self.lockstep_timeouts} lock-step moments went on without all they sent "
                "(lockstep_timeout in the log)"
            )
        found.extend(left_at_broker(self.engine.desk.snapshots()))
        return found


def _warm_up(spec: StrategySpec, venue: Venue, engine: Engine, runner: LiveRunner) -> None:
    """A run started after the open: today's complete bars teach the signals (what they ask
    for is past and dropped), the open bucket's minutes go to the feed."""
    now = venue.clock.now()
    warm, pending = bars_so_far(
        venue.market_data, spec, venue.trading_date, now, feed=venue.bar_size
    )
    dropped = sum(engine.warm_up(bar) for bar in warm)
    for minute in pending:
        runner.feed.receive(minute)
    if warm or pending:
        _log.info("warmed_up", bars=len(warm), dropped_events=dropped, minutes=len(pending))


def _notifier(spec: StrategySpec, venue: Venue, run_id: str | None) -> Notifier | None:
    """The ``[notify]`` webhook's notifier, started (None without one)."""
    if spec.notify is None:
        return None
    from strategies.observe._notify import Notifier

    return Notifier(
        spec.notify.webhook_url,
        strategy=spec.name,
        run_id=run_id,
        timeout=spec.notify.timeout,
        clock=venue.clock,
        zone=spec.session.hours().timezone,
    ).start()


@contextmanager
def _stop_on_signals(runner: LiveRunner) -> Iterator[None]:
    """SIGINT and SIGTERM ask the runner to stop cleanly (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        runner.request_stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def run_live(
    spec: StrategySpec,
    *,
    bars: Sequence[Bar] = (),
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
    history_bars: Sequence[Bar] = (),
    settings: RunSettings,
    speed: float | None = None,
    observers: Sequence[Observer] = (),
    on_bar: Callable[[Bar], None] | None = None,
    on_runner: Callable[[LiveRunner], None] | None = None,
    exchange: SimExchange | None = None,
    journal_path: Path | None = None,
    config_path: Path | None = None,
    metrics: RunMetrics | None = None,
    realtime: bool = False,
    seed: int | None = None,
    run_id: str | None = None,
    market_time: MarketTime | None = None,
) -> LiveResult:
    """Run ``spec`` live until the data ends, ``settings.until``, or a stop signal.

    A simulated run starts its own exchange over ``bars`` and stops it at the end, unless an
    already started ``exchange`` is given (tests read its order book afterwards) or the file's
    ``[broker]`` names the exchange's URLs (one started by ``tickstate sim``); its historical
    API serves ``history_bars``, the bars before them.

    The sessions before the first live day that the signal reads are fetched from the venue's
    historical bars at start-up (``fetch_history``; ``HistoryError`` when it refuses), unless
    ``history`` gives them.

    With ``journal_path``, every outcome is journaled before its commands run. A journal that
    already holds this strategy is a restart: the machines are rebuilt from it (their fills
    counted into the trades), commands that were journaled but never confirmed are settled
    against the broker (adopted if it has them; judged, then sent again with the same client
    order id or skipped if their moment has passed), and the run goes on.

    ``EngineFaultError`` if the engine raised (not a signal: that halts its symbol only); the
    runner's shutdown ran first.

    On the simulated exchange it starts, the run is in lock-step with it (the exchange's clock
    moves to its next moment once the run applied the last one and its commands' REST calls
    returned: the same trades at any speed); ``realtime`` lets the exchange's clock run free,
    and every order that reaches it after the bar it was meant for is noted (``order_late``,
    counted in ``LiveResult.late_orders``).

    ``run_id`` names the run in the journal (the id its log lines carry) and in its
    notifications: with a ``[notify]`` table, fills, halts, the kill switch and ``data_stale``
    are posted to its webhook off the engine thread (``Notifier``). ``market_time`` (the log
    lines' ``market_ts``) is told the venue's clock as soon as the venue is open.

    With ``metrics``, the run counts outcomes and times lock holds and event-to-command
    latencies into it (serving them is the caller's: ``metrics.serve(port)``).
    """
    most = settings.workers_for(len(spec.symbols), lockstep=False)
    with ExitStack() as held:  # whatever fails, what was opened is closed, last first
        venue = open_venue(
            spec,
            bars=bars,
            speed=speed,
            exchange=exchange,
            history_bars=history_bars,
            realtime=realtime,
            seed=seed,
            # the command workers, the engine's thread and the poller's may send at once
            connections=max(10, most + 2),
        )
        if market_time is not None:  # log lines carry the venue's market time from here on
            market_time.follow(venue.clock, spec.session.hours().timezone)
        late = LateOrders(venue.broker) if venue.simulated and venue.lockstep is None else None
        broker = venue.broker if late is None else late
        held.callback(venue.close)
        journal = None
        if journal_path is not None:
            journal = held.enter_context(Journal(journal_path, clock=venue.clock))
        first = journal.first_trading_date(spec.name) if journal is not None else None
        from_broker = history is None
        if history is None:
            history = fetch_history(
                venue.market_data, spec, venue.trading_date, feed=venue.bar_size
            )
        notifier = _notifier(spec, venue, run_id)
        if notifier is not None:
            held.callback(notifier.close)  # after the run: what is queued gets one timeout
        engine = build_engine_for(
            spec,
            broker=broker,
            clock=venue.clock,
            trading_date=first or venue.trading_date,
            history=history,
            journal=journal,
            observers=(
                *observers,
                *(() if metrics is None else (metrics,)),
                *(() if notifier is None else (notifier,)),
            ),
        )
        if notifier is not None:
            engine.incidents.watch(notifier.incident)
        pending: tuple[PendingCommand, ...] = ()
        if journal is not None:
            if first is not None:
                # Replayed fills are counted too: trades and the loss limit survive a restart.
                pending = journal.rebuild(engine.desk, observe=engine.book_fill)
                _log.info("rebuilt", journal=str(journal.path), pending=len(pending))
            journal.begin_run(
                strategy=spec.name,
                config_path=config_path,
                trading_date=venue.trading_date,
                run_id=run_id,
            )
        runner = LiveRunner(
            engine=engine,
            broker=broker,
            trade_stream=venue.trade_stream,
            bar_stream=venue.bar_stream,
            settings=settings,
            data_finished=venue.data_finished,
            on_bar=on_bar,
            metrics=metrics,
            feed_interval=venue.bar_size,
            last_close={s: days[-1].close for s, days in (history or {}).items() if days},
            journal=journal,
            gate=LockStepGate.of(venue.lockstep, settings.lockstep_timeout, engine.incidents),
            minute_watch=(
                CollarWatch(engine, bar_size=venue.bar_size).on_minute
                if spec.broker.venue.buy_stop_collar
                else None
            ),
        )
        if late is not None:
            late.incidents, runner.late_orders = engine.incidents, late
        venue.updated_bars.handler = runner.on_updated_bar
        if spec.broker.venue.pattern_day_trader:  # read the account now, and before each entry
            gate = PdtGate(venue.broker)
            gate.at_start()
            engine.entry_gate = gate
        if from_broker and first is None:  # a fresh run after the open: today so far
            _warm_up(spec, venue, engine, runner)
        if on_runner is not None:
            on_runner(runner)
        settle_pending(pending, engine, broker, journal)
        workers = settings.workers_for(len(spec.symbols), lockstep=venue.lockstep is not None)
        if workers > 0:  # commands off the engine thread, in order per symbol
            engine.executor = SymbolExecutor(
                workers,
                pace=pace_by_rate_limit(venue.broker, reserve=workers),
                on_fault=runner.fault,
            )
        try:
            # Start-up is done: its heap is frozen out of collections from here (_memory).
            with _stop_on_signals(runner), tuned_for_a_run():
                runner.run()
        finally:
            if engine.executor is not None:
                engine.executor.close()
        exchange_orders = venue.orders() if venue.orders is not None else None
    # The bars the exchange played (none from Alpaca), as a twin replay fingerprints them.
    wanted = set(spec.symbols)
    played = [b for b in bars if b.symbol in wanted]
    facts = run_facts(spec, engine, played, equity=spec.costs.cash or TWIN_CASH)
    summaries = engine.summaries(spec.symbols, facts)
    return LiveResult(
        engine=engine,
        summaries=tuple(summaries),
        facts=facts,
        total=total_of(engine.recorder.trades, summaries, facts),
        bars=runner.bars,
        reconciliations=runner.reconciliations,
        reconnects=runner.reconnects,
        exchange_orders=exchange_orders,
        late_orders=late.late if late is not None else 0,
        lockstep_timeouts=runner.gate.timeouts if runner.gate is not None else 0,
    )
