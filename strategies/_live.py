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

from brokers import (
    AlpacaBarStream,
    AlpacaBroker,
    AlpacaSettings,
    AlpacaTradeStream,
    Bar,
    Clock,
    ManualClock,
    ReconnectPolicy,
    SimExchange,
    SystemClock,
)
from machines import Outcome
from strategies._bars import daily_from_intraday
from strategies._engine import Engine
from strategies._runner import LiveRunner, RunSettings
from strategies._signal import DailyBar
from strategies._spec import StrategySpec
from strategies._spec_broker import AlpacaBroker as AlpacaBrokerSpec
from strategies._trades import SymbolSummary, summarise
from strategies._wiring import build_engine_for

__all__ = ["LiveResult", "first_sessions", "run_live"]


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
) -> LiveResult:
    """Run ``spec`` live until the data ends, ``settings.until``, or a stop signal.

    A simulated run starts its own exchange over ``bars`` and stops it at the end, unless an
    already started ``exchange`` is given (tests read its order book afterwards).
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
        if sim is None:
            sim = SimExchange(
                bars,
                speed=chosen_speed,
                rate_limit=100_000,
                session_tz=str(spec.session.hours().timezone),
            ).start()
        alpaca = AlpacaSettings(
            rest_url=sim.rest_url,
            trading_stream_url=sim.trading_stream_url,
            data_stream_url=sim.data_stream_url,
            key_id="K",
            secret_key="S",
            reconnect=ReconnectPolicy(initial_backoff=0.05, max_backoff=1.0),
        )
        clock = ManualClock(bars[0].start)
        trading_date = _session_date(bars[0], spec)
    broker = AlpacaBroker(alpaca, clock=clock)
    engine = build_engine_for(
        spec,
        broker=broker,
        clock=clock,
        trading_date=trading_date,
        on_outcome=on_outcome,
        listener=listener,
        history=history,
    )
    runner = LiveRunner(
        engine=engine,
        broker=broker,
        trade_stream=AlpacaTradeStream(alpaca),
        bar_stream=AlpacaBarStream(alpaca),
        settings=settings,
        data_finished=sim.finished if sim is not None else None,
        on_bar=on_bar,
    )
    if on_runner is not None:
        on_runner(runner)
    try:
        with _stop_on_signals(runner):
            runner.run()
        exchange_orders = len(sim.orders()) if sim is not None else None
    finally:
        broker.close()
        if sim is not None and own_sim:
            sim.stop()
    per_symbol = {s: engine.desk.machine(s).counters() for s in spec.symbols}
    summaries = summarise(
        engine.recorder.trades,
        spec.symbols,
        races={s: c.races for s, c in per_symbol.items()},
        anomalies={s: c.anomalies for s, c in per_symbol.items()},
    )
    return LiveResult(
        engine=engine,
        summaries=tuple(summaries),
        bars=runner.bars,
        reconciliations=runner.reconciliations,
        reconnects=runner.reconnects,
        exchange_orders=exchange_orders,
    )


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
