"""Start-up: a whole ``tickstate replay`` process against its own replay loop, and ``--help``.

Each run is a fresh interpreter (``python -m strategies.cli ...``), so imports, the strategy
file, the calendar and the bar files all count. Its CPU time is the operating system's
accounting of the finished child (``resource.getrusage(RUSAGE_CHILDREN)``, user + system); the
loop's is what the process itself measured around the replay (``ReplayResult.cpu_seconds``),
so the ratio compares two figures of the same run. Best (min) and median of ``repeats`` runs.
Run: ``python -m benchmarks.startup`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["help_process", "replay_process"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"

# Runs the CLI as ``tickstate`` does, and reports the loop the replay timed (its own figures)
# and where the rest of the process went: each phase's CPU and wall seconds, from the
# functions ``tickstate replay`` calls, wrapped here (the product is not instrumented). The
# modules the command imports are imported first, as one phase; the interpreter's own start
# is what the parent's accounting of the child leaves over.
_PROBE = """
import json, sys, time
clocks = time.process_time, time.perf_counter
began = [clock() for clock in clocks]
import rich.progress, brokers, strategies.observe, strategies.run, strategies.spec
import strategies.cli._data_lines, strategies.cli._output, strategies.cli._run
import strategies.cli._tables
import strategies.run._facts as facts, strategies.run._replay as replay
phases = {"imports": [c() - b for c, b in zip(clocks, began)]}
def timed(module, name, phase):
    real = getattr(module, name)
    def wrapped(*args, **kwargs):
        start = [clock() for clock in clocks]
        try:
            return real(*args, **kwargs)
        finally:
            spent = [c() - b for c, b in zip(clocks, start)]
            phases[phase] = [a + b for a, b in zip(phases.get(phase, [0.0, 0.0]), spent)]
    setattr(module, name, wrapped)
timed(strategies.spec, "load_strategy", "strategy file")
timed(strategies.run, "load_bars", "reading the bar files")
timed(replay, "strategy_bars", "building the strategy's bars")
timed(replay, "run_replay", "run_replay")
timed(facts, "data_fingerprint", "data fingerprint")
timed(replay, "run_facts", "run facts")
found = {}
real = replay.run_replay
def recorded(*args, **kwargs):
    result = real(*args, **kwargs)
    found.update(loop_cpu_s=result.cpu_seconds, loop_wall_s=result.seconds, bars=result.bars)
    return result
replay.run_replay = recorded
from strategies.cli import main
code = main(sys.argv[1:])
found["phases"] = phases
found["probe"] = [c() - b for c, b in zip(clocks, began)]
print("STARTUP " + json.dumps(found), file=sys.stderr)
raise SystemExit(code)
"""


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``args`` to the end: its CPU seconds (user + system), wall seconds and stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        args, capture_output=True, text=True, cwd=ROOT, check=True, timeout=600, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stderr


def _warm_up(args: list[str]) -> None:
    """Run ``args`` once, as a user's first run: it fills the calendar cache and the page cache,
    and writes the bytecode cache even where the environment says not to
    (``PYTHONDONTWRITEBYTECODE``, as on the hosts these figures were measured on). An
    installed package has its bytecode compiled by pip, and the peers' have theirs; without
    this every measured run of an editable checkout compiled tickstate's modules again
    (~0.1 s)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    _child(args, env)


def _summary(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def replay_process(
    model: str, data: str, repeats: int = 3, days: int | None = None
) -> dict[str, Any]:
    """Whole-process CPU and wall of ``tickstate replay`` (80-20 example) against its loop's."""
    runs: list[dict[str, float]] = []
    phase_runs: list[dict[str, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-c", _PROBE, "replay", str(EXAMPLE), "--data", data]
        args += ["--model", model, "--out", out]
        if days is not None:
            args += ["--start", "2012-11-01", "--days", str(days)]
        env_cache = os.environ.get("TICKSTATE_CACHE_DIR")
        _warm_up(args)
        for _ in range(repeats):
            cpu, wall, stderr = _child(args)
            line = next(x for x in stderr.splitlines() if x.startswith("STARTUP "))
            loop = json.loads(line.removeprefix("STARTUP "))
            phase_runs.append(_phases(loop, cpu, wall))
            runs.append(
                {
                    "process_cpu_s": cpu,
                    "process_wall_s": wall,
                    "loop_cpu_s": loop["loop_cpu_s"],
                    "loop_wall_s": loop["loop_wall_s"],
                    "bars": loop["bars"],
                    "cpu_ratio": cpu / loop["loop_cpu_s"],
                    "wall_ratio": wall / loop["loop_wall_s"],
                }
            )
    return {
        "model": model,
        "data": data,
        "bars": runs[0]["bars"],
        "cache_dir_override": env_cache,
        **{key: _summary([r[key] for r in runs]) for key in runs[0] if key != "bars"},
        "phases": {
            phase: {
                "cpu_s": round(statistics.median(r[phase][0] for r in phase_runs), 3),
                "wall_s": round(statistics.median(r[phase][1] for r in phase_runs), 3),
            }
            for phase in phase_runs[0]
            if all(phase in r for r in phase_runs)
        },
        "runs": runs,
    }


def _phases(probe: dict[str, Any], cpu: float, wall: float) -> dict[str, tuple[float, float]]:
    """Where one process's CPU and wall seconds went, in the order they are spent: the
    interpreter's start (and its exit, which frees every bar), the imports, then ``tickstate
    replay``'s steps (``_PROBE``); each remainder is what its phase spent outside the steps
    named inside it."""
    found = {name: (spent[0], spent[1]) for name, spent in probe["phases"].items()}
    loop = (probe["loop_cpu_s"], probe["loop_wall_s"])

    def less(whole: tuple[float, float], *parts: tuple[float, float]) -> tuple[float, float]:
        return (whole[0] - sum(p[0] for p in parts), whole[1] - sum(p[1] for p in parts))

    total = (cpu, wall)
    probed = (probe["probe"][0], probe["probe"][1])
    run = found.pop("run_replay")
    # The twin builds the strategy's bars in its loop, as a live run does: no phase of its own.
    built = found.get("building the strategy's bars", (0.0, 0.0))
    facts = found.pop("run facts")
    fingerprint = found.pop("data fingerprint")
    named = [found["imports"], found["strategy file"], found["reading the bar files"]]
    return {
        "interpreter start and exit": less(total, probed),
        "imports": found["imports"],
        "strategy file": found["strategy file"],
        "reading the bar files": found["reading the bar files"],
        **({"building the strategy's bars": built} if built != (0.0, 0.0) else {}),
        "replay loop": loop,
        "data fingerprint": fingerprint,
        "the rest of the run's facts": less(facts, fingerprint),
        "engine, summaries, trades.csv, summary.json": less(run, built, loop, facts),
        "the command's rest (logging, table, output)": less(probed, run, *named),
    }


# What a replay imports of the libraries it is built on, alone: the floor under its imports.
_LIBRARIES = "import pydantic, rich.progress, rich.table, structlog, transitions"


def help_process(repeats: int = 5) -> dict[str, Any]:
    """``tickstate --help`` as a whole process, against a bare ``python -c pass``; and a process
    that imports only the libraries a replay is built on (``_LIBRARIES``)."""
    _warm_up([sys.executable, "-m", "strategies.cli", "--help"])
    helps = [_child([sys.executable, "-m", "strategies.cli", "--help"]) for _ in range(repeats)]
    bare = [_child([sys.executable, "-c", "pass"]) for _ in range(repeats)]
    libraries = [_child([sys.executable, "-c", _LIBRARIES]) for _ in range(repeats)]
    return {
        "libraries": _LIBRARIES.removeprefix("import "),
        "libraries_cpu_s": _summary([cpu for cpu, _, _ in libraries]),
        "libraries_wall_s": _summary([wall for _, wall, _ in libraries]),
        "help_cpu_s": _summary([cpu for cpu, _, _ in helps]),
        "help_wall_s": _summary([wall for _, wall, _ in helps]),
        "python_cpu_s": _summary([cpu for cpu, _, _ in bare]),
        "python_wall_s": _summary([wall for _, wall, _ in bare]),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the start-up figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    found = {
        "twin": replay_process("twin", "data/intraday_1min", args.repeats),
        "plain": replay_process("plain", "data/intraday_5min", args.repeats),
        "help": help_process(),
    }
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
