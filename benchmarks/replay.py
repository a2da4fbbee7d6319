"""Replay: bars/s of the 80-20 strategy over the demo data, 10 symbols, paper broker.

The demo has five real symbols in ``data/intraday_5min``; five more are built in memory as
renamed copies (``AAPL2``, ...). Only ``replay_bars`` is timed (as ``tickstate replay`` reports),
not loading or wiring, in CPU time (``time.process_time``) and wall time, best of the repeats.
Run: ``python -m benchmarks.replay [--profile]`` (prints JSON).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import time
import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from brokers import Bar
from strategies.run import build_engine, load_bars, replay_bars
from strategies.spec import StrategySpec, validate_strategy

__all__ = ["bars_and_spec", "measure"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"
DATA = ROOT / "data" / "intraday_5min"


def bars_and_spec(symbols: int = 10, days: int | None = None) -> tuple[list[Bar], StrategySpec]:
    """The demo bars (plus renamed copies up to ``symbols``) and the example spec over them."""
    real = load_bars(DATA)
    if days is not None:  # the first ``days`` sessions' worth of bars per symbol (smoke tests)
        starts = sorted({b.start.date() for b in real})[:days]
        real = [b for b in real if b.start.date() in set(starts)]
    names = sorted({b.symbol for b in real})
    bars = list(real)
    copy = 2
    while len(names) < symbols:
        for name in sorted({b.symbol for b in real}):
            if len(names) >= symbols:
                break
            renamed = f"{name}{copy}"
            names.append(renamed)
            bars += [replace(b, symbol=renamed) for b in real if b.symbol == name]
        copy += 1
    names = names[:symbols]
    wanted = set(names)
    bars = sorted((b for b in bars if b.symbol in wanted), key=lambda b: (b.start, b.symbol))
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    data["instruments"] = [{"symbol": s, "tick": "0.01"} for s in names]
    spec = validate_strategy(data, file=str(EXAMPLE), base_dir=EXAMPLE.parent)
    return bars, spec


def _run(
    bars: list[Bar], spec: StrategySpec, profiler: cProfile.Profile | None = None
) -> tuple[float, float]:
    """One replay of ``bars``: its (CPU, wall) seconds."""
    engine, paper, clock = build_engine(spec, bars)
    start, began = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    replay_bars(bars, engine=engine, paper=paper, clock=clock)
    if profiler is not None:
        profiler.disable()
    return time.process_time() - began, time.perf_counter() - start


def measure(
    symbols: int = 10, repeats: int = 2, days: int | None = None, profile: bool = False
) -> dict[str, Any]:
    """Bars/s (best of ``repeats``) and, with ``profile``, the top frames of one profiled run."""
    bars, spec = bars_and_spec(symbols, days)
    runs = [_run(bars, spec) for _ in range(repeats)]
    cpu, wall = min(r[0] for r in runs), min(r[1] for r in runs)
    result: dict[str, Any] = {
        "symbols": len(spec.symbols),
        "bars": len(bars),
        "cpu_seconds": round(cpu, 3),
        "seconds": round(wall, 3),
        "cpu_bars_per_s": round(len(bars) / cpu),
        "bars_per_s": round(len(bars) / wall),
    }
    if profile:
        from benchmarks.dispatch import top_frames

        profiler = cProfile.Profile()
        _run(bars, spec, profiler)
        result["profile"] = top_frames(profiler, 15)
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the replay figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replay", description=__doc__)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.symbols, profile=args.profile), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
