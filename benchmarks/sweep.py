"""A parameter sweep on Ray against the same replays one after another, in the same run.

Twelve combinations of 80-20 (``signal.trigger_ticks`` by ``signal.stop_offset_ticks`` by
``max_attempts``) over the demo data's 5-minute bars of its four symbols (January to March
2012 at full size), the bar-level model (``plain``). The baseline calls ``replay_combination``
— the body of every Ray task — twelve times in this process; the sweep runs ``run_tasks`` on a
local Ray cluster of ``cpus`` CPUs, which includes packing the bars into the object store and
each worker rebuilding them once. Rounds alternate which of the two runs first, and the figure
is the median round's (the host is shared and its load drifts; each round's 1-minute load
average is kept). The cluster's start-up and one warm-up task per worker (each worker imports
tickstate once) are timed apart and not counted: the baseline's process has tickstate
imported too. Every combination's files are checked identical between the two. CPU time: this
process's for the baseline; the tasks' own (measured where they ran) and the driver's for the
sweep.
"""

from __future__ import annotations

import itertools
import os
import time
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["measure"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"
DATA = ROOT / "data" / "intraday_5min"
GRID = {
    "signal.trigger_ticks": (5, 10, 15),
    "signal.stop_offset_ticks": (1, 3),
    "max_attempts": (1, 2),
}


def _tasks(count: int) -> list[Any]:
    from strategies.run._sweep import SweepTask, combinations, parse_grid

    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"), parse_float=Decimal)
    axes = parse_grid([f"{k}={','.join(map(str, v))}" for k, v in GRID.items()])
    combos = list(itertools.islice(
        combinations(data, axes, file=str(EXAMPLE), base_dir=EXAMPLE.parent), count))  # fmt: skip
    return [
        SweepTask(key=c.name, data=c.data, file=str(EXAMPLE), base_dir=EXAMPLE.parent,
                  model="plain")
        for c in combos
    ]  # fmt: skip


def measure(
    combos: int = 12, *, cpus: int = 2, days: int | None = None, rounds: int = 1
) -> dict[str, Any]:
    """Wall and CPU time of ``combos`` replays, sequential and on Ray, in ``rounds`` rounds
    that alternate which goes first (the shared host's load drifts); the median round's ratio."""
    import statistics
    from datetime import timedelta

    import ray

    from strategies.run import load_bars
    from strategies.run._sweep import ray_session, replay_combination, run_tasks

    tasks = _tasks(combos)
    first = date(2012, 1, 1)
    dates = None if days is None else (first, first + timedelta(days=days))
    bars = load_bars(DATA, symbols=("AAPL", "IBM", "MSFT", "GOOG"), dates=dates)

    def sequential() -> tuple[float, float, list[Any]]:
        wall, cpu = time.perf_counter(), time.process_time()
        found = [replay_combination(task, bars) for task in tasks]
        return time.perf_counter() - wall, time.process_time() - cpu, found

    def swept() -> tuple[float, float, list[Any]]:
        wall, cpu = time.perf_counter(), time.process_time()
        found = run_tasks([(tasks, bars, None)])
        return time.perf_counter() - wall, time.process_time() - cpu, found

    started = time.perf_counter()
    found: list[dict[str, Any]] = []
    with ray_session(num_cpus=cpus):
        startup_s = time.perf_counter() - started
        warm = time.perf_counter()
        run_tasks([(tasks[:1] * cpus, bars[: 78 * 4], None)])  # each worker imports tickstate
        warmup_s = time.perf_counter() - warm
        workers = int(ray.cluster_resources().get("CPU", 0))
        for number in range(rounds):
            load = os.getloadavg()[0]
            if number % 2 == 0:
                alone, parallel = sequential(), swept()
            else:
                parallel, alone = swept(), sequential()
            identical = all(
                (a.trades_csv, a.summary_json) == (b.trades_csv, b.summary_json)
                for a, b in zip(alone[2], parallel[2], strict=True)
            )
            found.append({
                "sequential_s": round(alone[0], 3),
                "sequential_cpu_s": round(alone[1], 3),
                "sweep_s": round(parallel[0], 3),
                "sweep_tasks_cpu_s": round(sum(o.cpu_seconds for o in parallel[2]), 3),
                "sweep_driver_cpu_s": round(parallel[1], 3),
                "speedup": round(alone[0] / parallel[0], 3),
                # cores this session got in each phase: the host schedules by session
                # (autogroup), so a busy host gives a session its share however many it runs
                "sequential_cores": round(alone[1] / alone[0], 3),
                "sweep_cores": round(
                    (sum(o.cpu_seconds for o in parallel[2]) + parallel[1]) / parallel[0], 3
                ),
                "identical": identical,
                "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
            })  # fmt: skip
    median = sorted(found, key=lambda r: r["speedup"])[len(found) // 2]
    return {
        "combinations": len(tasks),
        "bars": len(bars),
        "sessions": len({b.start.date() for b in bars}),
        "model": "plain",
        "ray_cpus": workers,
        **{k: v for k, v in median.items() if k != "load_average_1min"},
        "median_of_rounds": len(found),
        "speedups": [r["speedup"] for r in found],
        "mean_speedup": round(statistics.mean(r["speedup"] for r in found), 3),
        "identical": all(r["identical"] for r in found),
        "distinct_results": len({o.trades_csv for o in alone[2]}),
        "ray_startup_s": round(startup_s, 3),
        "ray_warmup_s": round(warmup_s, 3),
        "rounds": found,
    }
