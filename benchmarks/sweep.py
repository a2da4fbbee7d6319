"""A parameter sweep on Ray against the same replays one after another, in the same run.

Twelve combinations of 80-20 (``signal.trigger_ticks`` by ``signal.stop_offset_ticks`` by
``max_attempts``) over the demo year's 5-minute bars of its four symbols, the bar-level model
(``plain``). The baseline calls ``replay_combination`` — the body of every Ray task — twelve
times in this process; the sweep runs ``run_tasks`` on a local Ray cluster of ``cpus`` CPUs,
which includes packing the bars into the object store and each worker rebuilding them once.
The cluster's start-up and one warm-up task per worker (each worker imports tickstate once)
are timed apart and not counted: the baseline's process has tickstate imported too. Every
combination's files are checked identical between the two. CPU time: this process's for the
baseline; the tasks' own (measured where they ran) and the driver's for the sweep. The host's
load average is recorded beside the figures: the machine is shared.
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


def measure(combos: int = 12, *, cpus: int = 2, days: int | None = None) -> dict[str, Any]:
    """Wall and CPU time of ``combos`` replays, sequential and on Ray; their ratio."""
    import ray

    from strategies.run import load_bars
    from strategies.run._sweep import ray_session, replay_combination, run_tasks

    tasks = _tasks(combos)
    dates = None if days is None else (date(2012, 1, 1), date(2012, 1, 1 + days))
    bars = load_bars(DATA, symbols=("AAPL", "IBM", "MSFT", "GOOG"), dates=dates)
    load_before = os.getloadavg()

    wall, cpu = time.perf_counter(), time.process_time()
    alone = [replay_combination(task, bars) for task in tasks]
    sequential_s, sequential_cpu_s = time.perf_counter() - wall, time.process_time() - cpu

    started = time.perf_counter()
    with ray_session(num_cpus=cpus):
        startup_s = time.perf_counter() - started
        warm = time.perf_counter()
        run_tasks([(tasks[:1] * cpus, bars[: 78 * 4], None)])  # each worker imports tickstate
        warmup_s = time.perf_counter() - warm
        workers = int(ray.cluster_resources().get("CPU", 0))
        wall, cpu = time.perf_counter(), time.process_time()
        swept = run_tasks([(tasks, bars, None)])
        sweep_s, driver_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    identical = all(
        (a.trades_csv, a.summary_json) == (b.trades_csv, b.summary_json)
        for a, b in zip(alone, swept, strict=True)
    )
    return {
        "combinations": len(tasks),
        "bars": len(bars),
        "model": "plain",
        "ray_cpus": workers,
        "sequential_s": round(sequential_s, 3),
        "sequential_cpu_s": round(sequential_cpu_s, 3),
        "sweep_s": round(sweep_s, 3),
        "sweep_tasks_cpu_s": round(sum(o.cpu_seconds for o in swept), 3),
        "sweep_driver_cpu_s": round(driver_cpu_s, 3),
        "speedup": round(sequential_s / sweep_s, 3),
        "ray_startup_s": round(startup_s, 3),
        "ray_warmup_s": round(warmup_s, 3),
        "identical": identical,
        "distinct_results": len({o.trades_csv for o in alone}),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
