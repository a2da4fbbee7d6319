"""Scale: build time and memory per symbol machine, against one ``transitions.Machine`` per symbol.

Run: ``python -m benchmarks.scale [--symbols 10000] [--baseline-symbols 200]``. Memory is the
tracemalloc growth while the machines are built, divided by their number; time is the best of
three builds, in wall time (``time.perf_counter``) and in CPU time (``time.process_time``). The
baseline builds fewer machines (each takes milliseconds) and is reported per symbol.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from typing import Any

from transitions import Machine

from machines import Desk, State, SymbolMachine
from machines._machine import LIFECYCLE

__all__ = ["main", "measure"]


def _build_ours(n: int) -> list[Any]:
    return [
        SymbolMachine(strategy="s8020", symbol=f"S{i:05d}", trading_date=date(2026, 11, 23))
        for i in range(n)
    ]


def _build_desk(n: int) -> list[Any]:
    desk = Desk(strategy="s8020", trading_date=date(2026, 11, 23))
    return [desk.machine(f"S{i:05d}") for i in range(n)]


def _build_baseline(n: int) -> list[Any]:
    # The same states and transitions, one full transitions.Machine per symbol.
    definition = [
        {"trigger": t.name, "source": src, "dest": tr.dest}
        for t in LIFECYCLE.events.values()
        for src, transitions in t.transitions.items()
        for tr in transitions
    ]
    machines = []
    for _ in range(n):
        machines.append(
            Machine(
                states=list(LIFECYCLE.states),
                transitions=[dict(d) for d in definition],
                initial=State.FLAT.value,
                auto_transitions=False,
                send_event=True,
            )
        )
    return machines


def measure(build: Callable[[int], list[Any]], n: int) -> dict[str, float]:
    """Seconds to build ``n`` machines, wall and CPU (each the best of three builds), and bytes
    per machine."""
    best = best_cpu = float("inf")
    for _ in range(3):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        built = build(n)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        del built
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = build(n)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del built
    return {
        "symbols": n,
        "build_s": best,
        "build_cpu_s": best_cpu,
        "build_us_per_symbol": round(best / n * 1e6, 3),
        "build_cpu_us_per_symbol": round(best_cpu / n * 1e6, 3),
        "bytes_per_symbol": (after - before) / n,
    }


def main() -> None:
    """Print the scale figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=10_000)
    parser.add_argument("--baseline-symbols", type=int, default=200)
    args = parser.parse_args()
    ours = measure(_build_ours, args.symbols)
    desk = measure(_build_desk, args.symbols)
    baseline = measure(_build_baseline, args.baseline_symbols)
    per_symbol_ours = ours["build_s"] / ours["symbols"]
    per_symbol_base = baseline["build_s"] / baseline["symbols"]
    print(
        json.dumps(
            {
                "symbol_machines": ours,
                "desk": desk,
                "baseline_machine_per_symbol": baseline,
                "build_speedup_vs_baseline": round(per_symbol_base / per_symbol_ours, 1),
                "memory_ratio_vs_baseline": round(
                    ours["bytes_per_symbol"] / baseline["bytes_per_symbol"], 4
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
