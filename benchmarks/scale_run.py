"""Scale in use: one bar close deciding every symbol of a desk, its memory, and a whole session
replayed over tens of thousands of symbols — each at several sizes, to show how it grows.

Both run the engine shared by replay and live (``replay_bars`` over ``build_engine``: the
opening-range breakout against the paper broker) over synthetic bars (``_synthetic``).

- **Bar close**: a desk of ``n`` symbols sees the session's first two bars (not timed), then
  the third bar's close, when every symbol's opening range is complete: each symbol's bar is
  matched, its signal asks for an entry, the buying-power gate reads the account, the machine
  fires and its order goes to the broker, whose acceptance comes back and fires again. Timed
  is that whole moment of the replay loop (``progress`` marks each moment's end), in CPU time
  (``time.process_time``) and wall time (``time.perf_counter``); the median of ``repeats``
  fresh desks. A desk is a live run's, so the bar close runs under the live runner's
  collector settings (``tuned_for_a_run``: start-up's heap frozen, a young collection every
  50,000 allocations), entered where a live run enters them; each repeat also runs a desk
  under the interpreter's defaults, for the same run's comparison (``default_collector``).
  Every symbol must have decided (one entry each).
- **Memory**: tracemalloc's growth from before the engine is built to the end of that bar
  close, per symbol (the bars themselves are built before and not counted), beside the growth
  at the end of the first bar (the desk wired, nothing decided yet).
- **Replay**: a whole session (78 five-minute bars a symbol) through ``build_engine`` and
  ``replay_bars``: bars/s over the replay loop, CPU and wall, the total with the build, and
  tracemalloc's peak in a second, traced run.

Growth is the cost per symbol (per bar for the replay) at the largest size over that at the
smallest, in the same run. Run: ``python -m benchmarks.scale_run [--quick]`` (prints JSON).

Targets, as a demanding user would set them: the bar close deciding 10,000 symbols within 1 s
(``scale_close_target_s``: every order out well inside a 5-minute bar, and before the next
1-minute bar), its cost per symbol at most 1.5x that at 100 symbols (linear: no scan of the
desk per symbol); at most 8 KB a symbol after it (a 10,000-symbol desk in 80 MB); a session of
50,000 symbols at 50,000 bars/s or more (its 3.9 million bars in under 80 s) with its cost per
bar at most 1.5x that at 5,000 symbols, and a peak of at most 16 KB a symbol (800 MB beside
the bars) growing no more than 1.5x.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import inspect
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from benchmarks import scale
from benchmarks._common import Figure
from benchmarks._synthetic import opening_range_spec, session_bars, symbol_names
from brokers import Bar
from strategies._memory import tuned_for_a_run
from strategies.engine import trades_csv
from strategies.run import build_engine, replay_bars
from strategies.spec import StrategySpec

__all__ = ["bar_close", "build_figures", "desk_memory", "figures", "growth", "replay_session"]

_DECIDING = 2  # the third bar (09:40-09:45) completes the 15-minute opening range


def _clocks() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def _marking(marks: list[tuple[float, float]]) -> Callable[[int], None]:
    """A moment's end: note both clocks."""
    return lambda _: marks.append(_clocks())


def _replay(
    spec: StrategySpec,
    bars: Sequence[Bar],
    at_moment: Callable[[int], None] | None = None,
    *,
    live_collector: bool = False,
) -> tuple[Any, int]:
    """Build the engine and replay ``bars``; ``at_moment(k)`` is called as moment ``k`` ends.
    ``live_collector``: the replay runs under the live runner's collector settings, entered
    where a live run enters them (the engine built, before the first bar)."""
    engine, paper, clock = build_engine(spec, bars)
    moments = 0

    def progress(_: int) -> None:
        nonlocal moments
        if at_moment is not None:
            at_moment(moments)
        moments += 1

    # ``replay_bars`` runs under a run's collector tuning itself: the comparison under the
    # interpreter's defaults runs the loop without it.
    loop = replay_bars if live_collector else inspect.unwrap(replay_bars)
    with tuned_for_a_run() if live_collector else nullcontext():
        replayed = loop(bars, engine=engine, paper=paper, clock=clock, progress=progress)
    return engine, replayed


def _median_close(samples: list[tuple[float, float]], n: int) -> dict[str, Any]:
    cpu_s = statistics.median(c for c, _ in samples)
    wall_s = statistics.median(w for _, w in samples)
    return {
        "cpu_s": round(cpu_s, 6),
        "wall_s": round(wall_s, 6),
        "cpu_us_per_symbol": round(cpu_s / n * 1e6, 2),
        "wall_us_per_symbol": round(wall_s / n * 1e6, 2),
        "cpu_s_runs": [round(c, 6) for c, _ in samples],
        "wall_s_runs": [round(w, 6) for _, w in samples],
    }


def bar_close(n: int, repeats: int = 3) -> dict[str, Any]:
    """CPU and wall seconds of the bar close that decides all ``n`` symbols (median of
    ``repeats`` fresh desks), whole and per symbol, under the live runner's collector settings
    (a desk's bar close is a live run's: ``tuned_for_a_run``), and under the interpreter's default
    ones in alternating rounds of the same run (``default_collector``)."""
    names = symbol_names(n)
    spec = opening_range_spec(names)
    bars = session_bars(names, moments=_DECIDING + 1)
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    decided = set()
    for _ in range(repeats):
        for live in (True, False):
            gc.collect()
            marks: list[tuple[float, float]] = []
            engine, _ = _replay(spec, bars, _marking(marks), live_collector=live)
            runs[live].append(
                (
                    marks[_DECIDING][0] - marks[_DECIDING - 1][0],
                    marks[_DECIDING][1] - marks[_DECIDING - 1][1],
                )
            )
            decided.add(sum(s.entries_today for s in engine.desk.snapshots()))
            del engine
    if decided != {n}:
        raise AssertionError(f"{n} symbols, entries decided per run: {sorted(decided)}")
    return {
        "symbols": n,
        "repeats": repeats,
        "entries": n,
        "collector": "live (tuned_for_a_run)",
        **_median_close(runs[True], n),
        "default_collector": _median_close(runs[False], n),
    }


def desk_memory(n: int) -> dict[str, Any]:
    """Bytes per symbol (tracemalloc) of the engine and desk after the first bar and after the
    bar close that decides every symbol."""
    names = symbol_names(n)
    spec = opening_range_spec(names)
    bars = session_bars(names, moments=_DECIDING + 1)
    seen: dict[int, int] = {}
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]

        def at_moment(k: int) -> None:
            seen[k] = tracemalloc.get_traced_memory()[0] - base

        engine, _ = _replay(spec, bars, at_moment)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del engine
    first, decided = seen[0], seen[_DECIDING]
    return {
        "symbols": n,
        "after_first_bar_bytes": first,
        "after_bar_close_bytes": decided,
        "peak_bytes": peak,
        "after_first_bar_bytes_per_symbol": round(first / n),
        "after_bar_close_bytes_per_symbol": round(decided / n),
    }


def replay_session(n: int, *, memory: bool = True) -> dict[str, Any]:
    """One session of ``n`` symbols replayed: bars/s (CPU and wall), the totals with the
    build, the trades' digest and, with ``memory``, tracemalloc's peak of a traced run."""
    names = symbol_names(n)
    spec = opening_range_spec(names)
    started = time.perf_counter()
    bars = session_bars(names)
    generated = time.perf_counter() - started
    gc.collect()
    cpu0, wall0 = _clocks()
    engine, paper, clock = build_engine(spec, bars)
    cpu1, wall1 = _clocks()
    replayed = replay_bars(bars, engine=engine, paper=paper, clock=clock)
    cpu2, wall2 = _clocks()
    trades = engine.recorder.trades
    digest = hashlib.sha256(trades_csv(trades).encode()).hexdigest()[:16]
    result: dict[str, Any] = {
        "symbols": n,
        "bars": replayed,
        "trades": len(trades),
        "trades_sha256_16": digest,
        "generate_s": round(generated, 3),
        "build_cpu_s": round(cpu1 - cpu0, 4),
        "build_wall_s": round(wall1 - wall0, 4),
        "replay_cpu_s": round(cpu2 - cpu1, 4),
        "replay_wall_s": round(wall2 - wall1, 4),
        "total_cpu_s": round(cpu2 - cpu0, 4),
        "total_wall_s": round(wall2 - wall0, 4),
        "bars_per_s_cpu": round(replayed / (cpu2 - cpu1)),
        "bars_per_s_wall": round(replayed / (wall2 - wall1)),
        "cpu_us_per_bar": round((cpu2 - cpu1) / replayed * 1e6, 3),
        "wall_us_per_bar": round((wall2 - wall1) / replayed * 1e6, 3),
    }
    del engine, paper, clock, trades
    if memory:
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            engine, _ = _replay(spec, bars)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        del engine
        result["peak_bytes"] = peak
        result["peak_bytes_per_symbol"] = round(peak / n)
    return result


def growth(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """``rows`` (by size, smallest first), each with ``<key>_vs_smallest`` for each of ``keys``
    (costs per symbol or per bar): how each grows."""
    first = rows[0]
    return [
        {**row, **{f"{key}_vs_smallest": round(row[key] / first[key], 3) for key in keys}}
        for row in rows
    ]


def build_figures(sizes: dict[str, Any]) -> list[Figure]:
    """Build time (both clocks) and bytes per symbol of ``scale_symbols`` machines against a
    ``transitions.Machine`` per symbol, with the desk's build at each size (``scale``)."""
    ours = scale.measure(scale._build_ours, sizes["scale_symbols"])
    base = scale.measure(scale._build_baseline, sizes["scale_baseline_symbols"])
    grows = growth(
        [scale.measure(scale._build_desk, n) for n in sizes["scale_desk_sizes"]],
        ("build_us_per_symbol", "build_cpu_us_per_symbol"),
    )
    n = int(ours["symbols"])
    per_base = {  # the baseline scaled to the same count
        key: base[key] / base["symbols"] * ours["symbols"] for key in ("build_cpu_s", "build_s")
    }
    figures = [
        Figure(
            name=f"build {n:,} symbol machines",
            value=ours["build_cpu_s"],
            unit="s",
            baseline=per_base["build_cpu_s"],
            baseline_name=f"Machine per symbol, scaled from {int(base['symbols'])}",
            ratio=per_base["build_cpu_s"] / ours["build_cpu_s"],
            target="<= 0.25 s (CPU; ratio = speed-up)",
            passed=ours["build_cpu_s"] <= 0.25,
            details={"ours": ours, "baseline": base, "desk_sizes": grows},
            wall_value=ours["build_s"],
            wall_baseline=per_base["build_s"],
            wall_ratio=per_base["build_s"] / ours["build_s"],
        )
    ]
    figures.append(
        Figure(
            name="bytes per symbol",
            value=ours["bytes_per_symbol"],
            unit="B",
            baseline=base["bytes_per_symbol"],
            baseline_name="Machine per symbol",
            ratio=base["bytes_per_symbol"] / ours["bytes_per_symbol"],
            target="<= 2 KB (ratio = saving)",
            passed=ours["bytes_per_symbol"] <= 2048,
        )
    )
    return figures


def figures(sizes: dict[str, Any]) -> list[Figure]:
    """The rows of the scale benchmark's bar close, memory and session replay."""
    desk_sizes: list[int] = sizes["scale_desk_sizes"]
    closes = growth(
        [bar_close(n, repeats=max(3, sizes["scale_close_symbols"] // n)) for n in desk_sizes],
        ("cpu_us_per_symbol", "wall_us_per_symbol"),
    )
    memories = growth([desk_memory(n) for n in desk_sizes], ("after_bar_close_bytes_per_symbol",))
    replays = growth(
        [replay_session(n) for n in sizes["scale_replay_sizes"]],
        ("cpu_us_per_bar", "wall_us_per_bar", "peak_bytes_per_symbol"),
    )
    small, big = closes[0], closes[-1]
    n = big["symbols"]
    limit = sizes["scale_close_target_s"]
    found = _pair(
        f"bar close deciding {n:,} symbols",
        big,
        "s",
        lambda r, clock: r[f"{clock}_s"],
        baseline=lambda r, clock: r[f"{clock}_us_per_symbol"] * n / 1e6,
        baseline_row=small,
        baseline_name=f"{small['symbols']:,} symbols' cost per symbol x {n:,}",
        target=f"<= {limit} s; <= 1.5x (ratio = growth per symbol)",
        passes=lambda value, ratio: value <= limit and ratio <= 1.5,
        details={"sizes": closes},
    )
    after, before = memories[-1], memories[0]
    grows = after["after_bar_close_bytes_per_symbol_vs_smallest"]
    found.append(
        Figure(
            name=f"memory per symbol after a bar close, {n:,} symbols",
            value=after["after_bar_close_bytes_per_symbol"],
            unit="B",
            baseline=before["after_bar_close_bytes_per_symbol"],
            baseline_name=f"at {before['symbols']:,} symbols",
            ratio=grows,
            target="<= 8 KB; <= 1.5x (ratio = growth)",
            passed=after["after_bar_close_bytes_per_symbol"] <= 8 * 1024 and grows <= 1.5,
            details={"sizes": memories},
        )
    )
    first, last = replays[0], replays[-1]
    m = last["symbols"]
    bars_floor = sizes["scale_replay_target_bars_per_s"]
    found += _pair(
        f"replay one session, {m:,} symbols, ORB",
        last,
        "bars/s",
        lambda r, clock: r[f"bars_per_s_{clock}"],
        baseline=lambda r, clock: r[f"bars_per_s_{clock}"],
        baseline_row=first,
        baseline_name=f"at {first['symbols']:,} symbols",
        target=f">= {bars_floor:,} bars/s; >= 0.67x (cost per bar <= 1.5x)",
        passes=lambda value, ratio: value >= bars_floor and ratio >= 1 / 1.5,
        details={"sizes": replays},
    )
    peak_growth = last["peak_bytes_per_symbol_vs_smallest"]
    found.append(
        Figure(
            name=f"replay peak memory per symbol, {m:,} symbols",
            value=last["peak_bytes_per_symbol"],
            unit="B",
            baseline=first["peak_bytes_per_symbol"],
            baseline_name=f"at {first['symbols']:,} symbols",
            ratio=peak_growth,
            target="<= 16 KB; <= 1.5x (ratio = growth)",
            passed=last["peak_bytes_per_symbol"] <= 16 * 1024 and peak_growth <= 1.5,
            details={"peak_mb": round(last["peak_bytes"] / 2**20, 1)},
        )
    )
    return found


def _pair(
    name: str,
    row: dict[str, Any],
    unit: str,
    value_of: Callable[[dict[str, Any], str], float],
    *,
    baseline: Callable[[dict[str, Any], str], float],
    baseline_row: dict[str, Any],
    baseline_name: str,
    target: str,
    passes: Callable[[float, float], bool],
    details: dict[str, Any] | None = None,
) -> list[Figure]:
    """The figure in both clocks, as every timed row carries them (``Figure``): value, baseline
    and ratio in CPU time, which the verdict judges (a shared host's load does not move it),
    the same run's wall time beside them."""
    value, base = value_of(row, "cpu"), baseline(baseline_row, "cpu")
    wall, wall_base = value_of(row, "wall"), baseline(baseline_row, "wall")
    return [
        Figure(
            name=name,
            value=value,
            unit=unit,
            baseline=base,
            baseline_name=baseline_name,
            ratio=value / base,
            target=f"{target} (CPU)",
            passed=passes(value, value / base),
            details=details or {},
            wall_value=wall,
            wall_baseline=wall_base,
            wall_ratio=wall / wall_base,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the figures' measurements as JSON."""
    from benchmarks.__main__ import FULL, QUICK

    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_run", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    found = figures(QUICK if args.quick else FULL)
    print(json.dumps([f.as_json() for f in found], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
