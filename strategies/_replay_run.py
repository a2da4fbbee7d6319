"""``tickstate replay``: wire a strategy file to the paper broker, replay bars, write the results.

Outputs, in ``out_dir``: ``trades.csv`` (byte-identical for the same inputs) and
``summary.json`` (per symbol: trades, wins, win rate, PnL, max drawdown, races, anomalies; and
the total). The caller prints the human table and the speed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from brokers import Bar, ManualClock, PaperBroker
from strategies._engine import Engine, Fired, JournalSink, Observer
from strategies._plot import StopStep
from strategies._spec import StrategySpec
from strategies._trades import SymbolSummary, Trade, trades_csv
from strategies._wiring import build_engine_for

__all__ = ["ReplayResult", "run_replay", "summary_json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    """What a replay produced."""

    trades: tuple[Trade, ...]
    summaries: tuple[SymbolSummary, ...]
    bars: int
    seconds: float
    trades_path: Path
    summary_path: Path

    @property
    def bars_per_second(self) -> float:
        """Replay speed over the whole run."""
        return self.bars / self.seconds if self.seconds > 0 else float("inf")


class _StopTrail:
    """Remembers each symbol's protective stop every time it changes (for the plots)."""

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


def build_engine(
    spec: StrategySpec,
    bars: Sequence[Bar],
    observers: Sequence[Observer] = (),
    journal: JournalSink | None = None,
) -> tuple[Engine, PaperBroker, ManualClock]:
    """The engine, paper broker and clock a replay of ``spec`` over ``bars`` runs on."""
    first = bars[0]
    clock = ManualClock(first.start)
    paper = PaperBroker(clock=clock)
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


def run_replay(
    spec: StrategySpec,
    bars: Sequence[Bar],
    *,
    out_dir: Path,
    progress: Callable[[int], None] | None = None,
    plot_dir: Path | None = None,
) -> ReplayResult:
    """Replay ``bars`` of the spec's symbols and write ``trades.csv`` and ``summary.json``.

    With ``plot_dir``, also a PNG per symbol-day with trades (needs the ``plot`` extra).
    """
    from strategies._replay import replay_bars

    wanted = set(spec.symbols)
    mine = [bar for bar in bars if bar.symbol in wanted]
    if not mine:
        raise ValueError(f"no bars for {', '.join(spec.symbols)} in the data")
    trail = _StopTrail() if plot_dir is not None else None
    engine, paper, clock = build_engine(spec, mine, observers=() if trail is None else (trail,))
    started = time.perf_counter()
    count = replay_bars(mine, engine=engine, paper=paper, clock=clock, progress=progress)
    seconds = time.perf_counter() - started
    summaries = engine.summaries(spec.symbols)
    out_dir.mkdir(parents=True, exist_ok=True)
    trades_path, summary_path = out_dir / "trades.csv", out_dir / "summary.json"
    trades_path.write_text(trades_csv(engine.recorder.trades), encoding="utf-8")
    summary_path.write_text(summary_json(spec.name, summaries, count), encoding="utf-8")
    if plot_dir is not None and trail is not None:
        from strategies._plot import plot_days

        plot_days(
            mine,
            engine.recorder.trades,
            trail.steps,
            out_dir=plot_dir,
            timezone=spec.session.hours().timezone,
            bar_interval=engine.plan.bar_interval,
        )
    return ReplayResult(
        trades=tuple(engine.recorder.trades),
        summaries=tuple(summaries),
        bars=count,
        seconds=seconds,
        trades_path=trades_path,
        summary_path=summary_path,
    )


def _figures(s: SymbolSummary) -> dict[str, Any]:
    return {
        "trades": s.trades,
        "wins": s.wins,
        "win_rate": str(s.win_rate),
        "pnl": str(s.pnl.quantize(Decimal("0.01"))),
        "max_drawdown": str(s.max_drawdown.quantize(Decimal("0.01"))),
        "races": s.races,
        "anomalies": s.anomalies,
    }


def summary_json(strategy: str, summaries: Sequence[SymbolSummary], bars: int) -> str:
    """The JSON summary (no timings, so it is deterministic too)."""
    trades = sum(s.trades for s in summaries)
    wins = sum(s.wins for s in summaries)
    total = {
        "trades": trades,
        "wins": wins,
        "win_rate": str((Decimal(wins) / trades).quantize(Decimal("0.0001")) if trades else 0),
        "pnl": str(sum((s.pnl for s in summaries), Decimal(0)).quantize(Decimal("0.01"))),
        "races": sum(s.races for s in summaries),
        "anomalies": sum(s.anomalies for s in summaries),
    }
    document = {
        "strategy": strategy,
        "bars": bars,
        "symbols": {s.symbol: _figures(s) for s in summaries},
        "total": total,
    }
    return json.dumps(document, indent=2) + "\n"
