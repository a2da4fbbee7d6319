"""Verify: states explored per second by ``tickstate verify``, with and without deduplication.

The same exploration (faithful venue, default setup) twice: once keeping a visited set (each
distinct state explored once), once without (every path explored: a state per transition).
Times are CPU seconds (``time.process_time``), as the explorer reports them, with the same
run's wall seconds (``time.perf_counter`` around the exploration) beside them. Run:
``python -m benchmarks.verify [--depth N]`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from strategies.verify import VerifySetup, explore

__all__ = ["measure"]


def _run(depth: int, dedup: bool) -> dict[str, Any]:
    started = time.perf_counter()
    result = explore(VerifySetup(), "faithful", depth, dedup=dedup)
    wall = time.perf_counter() - started
    return {
        "states": result.states,
        "transitions": result.transitions,
        "cpu_s": round(result.seconds, 3),
        "wall_s": round(wall, 3),
        "states_per_s": round(result.states / result.seconds),
        "wall_states_per_s": round(result.states / wall),
        "transitions_per_s": round(result.transitions / result.seconds),
        "violations": len(result.violations),
    }


def measure(depth: int = 6) -> dict[str, Any]:
    """Both explorations of ``depth`` steps, and what deduplication saves."""
    dedup, every_path = _run(depth, True), _run(depth, False)
    return {
        "depth": depth,
        "mode": "faithful",
        "dedup": dedup,
        "without_dedup": every_path,
        "states_saved": round(every_path["states"] / dedup["states"], 2),
        "speedup": round(every_path["cpu_s"] / dedup["cpu_s"], 2),
        "wall_speedup": round(every_path["wall_s"] / dedup["wall_s"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the verify figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.verify", description=__doc__)
    parser.add_argument("--depth", type=int, default=6)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.depth), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
