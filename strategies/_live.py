"""``tickstate run``: a strategy live — against the local simulated exchange by default.

With ``[broker] kind = "sim"`` the simulated exchange is started in-process on an ephemeral
loopback port and replays recorded bars at ``speed``; the adapter talks to it over real sockets,
exactly as it would to Alpaca. With ``kind = "alpaca"`` the same runner talks to the configured
endpoints with keys from the environment.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import structlog

from brokers import (
    AlpacaBarStream,
    AlpacaBroker,
    AlpacaSettings,
    AlpacaTradeStream,
    Bar,
    BrokerError,
    Clock,
    ManualClock,
    ReconnectPolicy,
    SimExchange,
    SystemClock,
)
from machines import CancelOrder, Outcome
from strategies._bars import daily_from_intraday
from strategies._engine import Engine
from strategies._execute import execute
from strategies._journal import Journal, PendingCommand
from strategies._runner import LiveRunner, RunSettings
from strategies._signal import DailyBar
from strategies._spec import StrategySpec
from strategies._spec_broker import AlpacaBroker as AlpacaBrokerSpec
from strategies._trades import SymbolSummary
from strategies._wiring import build_engine_for

if TYPE_CHECKING:
    from strategies._metrics import RunMetrics

__all__ = ["LiveResult", "first_sessions", "run_live", "settle_pending"]

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


def first_sessions(
    bars: Sequence[Bar], spec: StrategySpec, days: int, start: date | None = None
) -> tuple[list[Bar], dict[str, tuple[DailyBar, ...]]]:
    """The bars of ``days`` sessions from ``start`` (default: the second session in the data),
    and each symbol's earlier sessions summarised, so the first live day has its D-1."""
    session = spec.session.hours()
    tz = session.timezone
    wanted = set(spec.symbols)
    mine = [b for b in bars if b.symbol in wanted]
    sessions = sorted({b.start.astimezone(tz).date() for b in mine})
    if start is None:
        start = sessions[1] if len(sessions) > 1 else (sessions[0] if sessions else None)
    keep = {d for d in sessions if start is not None and d >= start}
    keep = set(sorted(keep)[:days])
    live = [b for b in mine if b.start.astimezone(tz).date() in keep]
    history: dict[str, tuple[DailyBar, ...]] = {}
    for symbol in spec.symbols:
        earlier = [
            b
            for b in mine
            if b.symbol == symbol and start is not None and b.start.astimezone(tz).date() < start
        ]
        history[symbol] = tuple(daily_from_intraday(earlier, tz))
    return live, history


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
    settings: RunSettings,
    speed: float | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    listener: Callable[[Outcome], None] | None = None,
    on_bar: Callable[[Bar], None] | None = None,
    on_runner: Callable[[LiveRunner], None] | None = None,
    exchange: SimExchange | None = None,
    journal_path: Path | None = None,
    config_path: Path | None = None,
    metrics: RunMetrics | None = None,
) -> LiveResult:
    """Run ``spec`` live until the data ends, ``settings.until``, or a stop signal.

    A simulated run starts its own exchange over ``bars`` and stops it at the end, unless an
    already started ``exchange`` is given (tests read its order book afterwards) or the file's
    ``[broker]`` names the exchange's URLs (one started by ``tickstate sim``).

    With ``journal_path``, every outcome is journaled before its commands run. A journal that
    already holds this strategy is a restart: the machines are rebuilt from it, commands that
    were journaled but never confirmed are settled against the broker (adopted if it has them,
    sent again with the same client order id if not), and the run goes on.

    With ``metrics``, the run counts outcomes and times lock holds and event-to-command
    latencies into it (serving them is the caller's: ``metrics.serve(port)``).
    """
    broker_spec = spec.broker
    sim: SimExchange | None = exchange
    own_sim = exchange is None
    clock: Clock
    if isinstance(broker_spec, AlpacaBrokerSpec):
        alpaca = AlpacaSettings.from_env(
            rest_url=broker_spec.rest_url,
            trading_stream_url=broker_spec.trading_stream_url,
            data_stream_url=broker_spec.data_stream_url,
        )
        clock = SystemClock()
        trading_date = clock.now().astimezone(spec.session.hours().timezone).date()
    else:
        if not bars:
            raise ValueError("a simulated run needs recorded bars")
        chosen_speed = speed if speed is not None else float(getattr(broker_spec, "speed", 60.0))
        external = getattr(broker_spec, "rest_url", None)
        if sim is None and external is None:
            sim = SimExchange(
                bars,
                speed=chosen_speed,
                rate_limit=100_000,
                session_tz=str(spec.session.hours().timezone),
                hold_until_subscribed=True,
            ).start()
        if sim is not None:
            urls = (sim.rest_url, sim.trading_stream_url, sim.data_stream_url)
        else:
            urls = (
                str(external),
                str(getattr(broker_spec, "trading_stream_url", "")),
                str(getattr(broker_spec, "data_stream_url", "")),
            )
        alpaca = AlpacaSettings(
            rest_url=urls[0],
            trading_stream_url=urls[1],
            data_stream_url=urls[2],
            key_id="K",
            secret_key="S",
            reconnect=ReconnectPolicy(initial_backoff=0.05, max_backoff=1.0),
        )
        clock = ManualClock(bars[0].start)
        trading_date = _session_date(bars[0], spec)
    broker = AlpacaBroker(alpaca, clock=clock)
    journal = Journal(journal_path, clock=clock) if journal_path is not None else None
    first = journal.first_trading_date(spec.name) if journal is not None else None
    engine = build_engine_for(
        spec,
        broker=broker,
        clock=clock,
        trading_date=first or trading_date,
        on_outcome=on_outcome,
        listener=metrics.listener(listener) if metrics is not None else listener,
        history=history,
        journal=journal,
    )
    engine.probe = metrics
    pending: tuple[PendingCommand, ...] = ()
    if journal is not None:
        if first is not None:
            pending = journal.rebuild(engine.desk)
            _log.info("rebuilt", journal=str(journal.path), pending=len(pending))
        journal.begin_run(strategy=spec.name, config_path=config_path, trading_date=trading_date)
    runner = LiveRunner(
        engine=engine,
        broker=broker,
        trade_stream=AlpacaTradeStream(alpaca),
        bar_stream=AlpacaBarStream(alpaca),
        settings=settings,
        data_finished=sim.finished if sim is not None else None,
        on_bar=on_bar,
        metrics=metrics,
    )
    if on_runner is not None:
        on_runner(runner)
    try:
        settle_pending(pending, engine, broker, journal)
        with _stop_on_signals(runner):
            runner.run()
        exchange_orders = len(sim.orders()) if sim is not None else None
    finally:
        broker.close()
        if journal is not None:
            journal.close()
        if sim is not None and own_sim:
            sim.stop()
    summaries = engine.summaries(spec.symbols)
    return LiveResult(
        engine=engine,
        summaries=tuple(summaries),
        bars=runner.bars,
        reconciliations=runner.reconciliations,
        reconnects=runner.reconnects,
        exchange_orders=exchange_orders,
    )


def settle_pending(
    pending: Sequence[PendingCommand], engine: Engine, broker: AlpacaBroker, journal: Journal | None
) -> None:
    """Commands journaled before a crash but never confirmed: adopt what the broker has, resend
    the rest with the same client order id (the broker refuses a second order with it)."""
    for item in pending:
        command = item.command
        placed = getattr(command, "new_client_order_id", None) or command.client_order_id
        found = None if isinstance(command, CancelOrder) else broker.find_order_by_client_id(placed)
        if found is not None:
            engine.ids.learn(found.client_order_id, found.id)
            if journal is not None:
                journal.record_result(item.transition_seq, command, "reconciled", "adopted")
            _log.info("adopted", symbol=item.symbol, client_order_id=placed)
            continue
        try:
            results = execute(command, broker, engine.ids, engine.clock.now())
        except BrokerError as exc:
            outcome, detail = "failed", exc.message
        else:
            outcome, detail = ("rejected" if results else "sent"), "resent after restart"
            for event in results:
                engine.fire(item.symbol, event)
        if journal is not None:
            journal.record_result(item.transition_seq, command, outcome, detail)
        _log.info("resent", symbol=item.symbol, client_order_id=placed, result=outcome)


def _session_date(bar: Bar, spec: StrategySpec) -> date:
    return bar.start.astimezone(spec.session.hours().timezone).date()


def default_data(spec: StrategySpec, config: Path) -> Path | None:
    """The recorded bars a simulated run replays: ``[broker] data``, else the demo data."""
    data = getattr(spec.broker, "data", None)
    if data is not None:
        return Path(data)
    for base in (Path.cwd(), config.resolve().parent.parent):
        candidate = base / "data" / "intraday_5min"
        if candidate.is_dir():
            return candidate
    return None
