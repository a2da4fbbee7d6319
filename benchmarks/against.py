"""``fire()`` against another revision of ``machines``, in this same process.

Separate processes on a shared host differ by more than most changes to ``fire()`` do, so this
loads ``machines`` as it was at a git revision beside the working tree's (``git archive`` into
a temporary directory, the package renamed and its own imports with it) and fires the dispatch
cycle (``benchmarks.dispatch``) on a fresh machine of each, in alternating rounds, in this
thread's CPU time. The other revision's events are the same events, rebuilt from its own
classes. Both must decide alike: the (kind, trigger, state) of every outcome is compared, so
the figure is also a check that the change left the decisions alone.

Run: ``python -m benchmarks.against REV [--cycles 1500] [--rounds 16]`` (prints JSON: each
side's CPU µs per event, per round, median and minimum; the ratios of the working tree's to
REV's). A reported figure, not a row of the table: the table's rows measure one revision.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import gc
import importlib
import io
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import dispatch

__all__ = ["load_revision", "measure", "rebuilt"]

ROOT = Path(__file__).resolve().parent.parent
_IMPORTS = re.compile(r"^(\s*)(from|import) machines\b", re.M)


def load_revision(revision: str, into: Path) -> ModuleType:
    """``machines`` as it was at ``revision``, imported as ``machines_at_<hash>`` from ``into``."""
    git = ["git", "-C", str(ROOT)]
    try:
        found = subprocess.run(
            [*git, "rev-parse", "--short=10", "--verify", f"{revision}^{{commit}}"],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise SystemExit("benchmarks.against: needs git on the PATH") from None
    if found.returncode != 0:
        raise SystemExit(f"benchmarks.against: {revision!r} is not a commit of {ROOT}")
    name = f"machines_at_{found.stdout.strip()}"
    archive = subprocess.run(
        [*git, "archive", "--format=tar", revision, "machines"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / name
    (into / "machines").rename(package)
    for source in package.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        source.write_text(_IMPORTS.sub(rf"\1\2 {name}", text), encoding="utf-8")
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(into))


def rebuilt(value: Any, vocabulary: ModuleType) -> Any:
    """``value`` (an event, or anything inside one) made of ``vocabulary``'s classes of the
    same names, field by field."""
    if isinstance(value, enum.Enum):
        return _named(vocabulary, type(value).__name__)(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = _named(vocabulary, type(value).__name__)
        fields = {
            f.name: rebuilt(getattr(value, f.name), vocabulary) for f in dataclasses.fields(value)
        }
        return kind(**fields)
    if isinstance(value, tuple):
        return tuple(rebuilt(v, vocabulary) for v in value)
    return value


def _named(vocabulary: ModuleType, name: str) -> Any:
    found = getattr(vocabulary, name, None)
    if found is None:
        raise SystemExit(f"benchmarks.against: the other revision's machines has no {name}")
    return found


# One contender: how to build a flat machine, and the events it takes.
_Contender = tuple[Callable[[], Any], list[Any]]


def _decisions(contender: _Contender) -> list[tuple[str, str, str]]:
    new, stream = contender
    fire = new().fire
    return [(o.kind.value, o.trigger, o.state_to.value) for o in map(fire, stream)]


def _cpu_per_event(contender: _Contender) -> float:
    new, stream = contender
    fire = new().fire
    gc.collect()
    began = time.thread_time()
    for event in stream:
        fire(event)
    return (time.thread_time() - began) / len(stream) * 1e6


def measure(revision: str, cycles: int = 1500, rounds: int = 16) -> dict[str, Any]:
    """Both sides' CPU µs per event over ``rounds`` alternating rounds (see the module)."""
    stream = dispatch.events(cycles)
    with tempfile.TemporaryDirectory() as into:
        old = load_revision(revision, Path(into))

        def old_machine() -> Any:  # as ``dispatch.new_machine``, of the other revision
            flat = dispatch.new_machine()
            return old.SymbolMachine(
                strategy=flat.strategy,
                symbol=flat.symbol,
                trading_date=flat.snapshot().trading_date,
            )

        sides: dict[str, _Contender] = {
            "revision": (old_machine, [rebuilt(e, old) for e in stream]),
            "working_tree": (dispatch.new_machine, stream),
        }
        if _decisions(sides["revision"]) != _decisions(sides["working_tree"]):
            raise SystemExit(f"benchmarks.against: {revision} decides the cycle differently")
        taken: dict[str, list[float]] = {name: [] for name in sides}
        for i in range(rounds):
            for name in sorted(sides, reverse=bool(i % 2)):  # each goes first every other round
                taken[name].append(_cpu_per_event(sides[name]))
    median = {name: statistics.median(v) for name, v in taken.items()}
    least = {name: min(v) for name, v in taken.items()}
    return {
        "revision": revision,
        "events": len(stream),
        "rounds": rounds,
        "decisions_identical": True,
        "cpu_us_per_event": {
            name: {"median": round(median[name], 3), "min": round(least[name], 3)} for name in sides
        },
        "cpu_us_rounds": {name: [round(x, 3) for x in v] for name, v in taken.items()},
        "ratio_of_medians": round(median["working_tree"] / median["revision"], 3),
        "ratio_of_minimums": round(least["working_tree"] / least["revision"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the comparison as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.against", description=__doc__)
    parser.add_argument("revision", help="a git revision of this repository, e.g. HEAD~3")
    parser.add_argument("--cycles", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=16)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.revision, args.cycles, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
