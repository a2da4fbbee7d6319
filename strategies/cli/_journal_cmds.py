"""``tickstate status`` and ``tickstate resume``: read a journal (while its run is live, too),
or ask its run to resume a halted symbol; a journal that cannot be used is one line, exit 2."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from strategies.cli._codes import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from datetime import datetime

    from strategies.journal import Liveness, SymbolStatus

__all__ = ["resume_command", "status_command"]


def status_command(args: argparse.Namespace) -> int:
    """``tickstate status``: the exit code."""
    from strategies._exceptions import JournalError
    from strategies.cli._tables import print_status
    from strategies.journal import newest_journal, read_latest, read_liveness

    if args.json and args.diagram:
        print("tickstate status: --json and --diagram: choose one", file=sys.stderr)
        return EXIT_USAGE
    try:
        path = args.journal or newest_journal(Path("runs"))
        statuses = read_latest(path)
        alive = read_liveness(path)
    except JournalError as exc:
        print(f"tickstate status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.diagram:
        return _status_diagram(statuses, args.format)
    if args.json:
        print(json.dumps(_status_document(path, statuses, alive), indent=2))
        return EXIT_OK
    noun = "symbol" if len(statuses) == 1 else "symbols"
    print_status(statuses, title=f"{path}: {len(statuses)} {noun}")
    print(f"run: {alive.describe()}")
    return EXIT_OK


def _status_document(
    path: Path, statuses: Sequence[SymbolStatus], alive: Liveness
) -> dict[str, object]:
    """``tickstate status --json``: the journal, its run's liveness and each symbol's snapshot
    as the journal encodes it (Decimals as strings, times ISO 8601), with its last event."""
    from strategies.journal import encode_snapshot

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    symbols = []
    for status in statuses:
        snapshot = {k: v for k, v in encode_snapshot(status.snapshot).items() if k != "type"}
        last = {
            "trigger": status.last_trigger,
            "kind": status.last_kind,
            "seq": status.last_seq,
            "at": when(status.last_at),
        }
        symbols.append({**snapshot, "last_event": last})
    run = {
        "run_id": alive.run_id,
        "running": alive.running,
        "detail": alive.describe(),
        "pid": alive.pid,
        "beat_at": when(alive.beat_at),
        "ended_at": when(alive.ended_at),
        "exit": alive.exit,
    }
    return {"journal": str(path), "run": run, "symbols": symbols}


def resume_command(args: argparse.Namespace) -> int:
    """``tickstate resume``: the exit code."""
    from strategies._exceptions import JournalError
    from strategies.journal import Journal, read_latest, read_liveness

    path: Path = args.journal
    try:
        statuses = [s for s in read_latest(path) if s.symbol == args.symbol]
        alive = read_liveness(path)
    except JournalError as exc:
        print(f"tickstate resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.strategy is not None:
        statuses = [s for s in statuses if s.strategy == args.strategy]
    strategies = sorted({s.strategy for s in statuses})
    if not statuses:
        print(f"tickstate resume: {path}: no symbol {args.symbol} in this journal", file=sys.stderr)
        return EXIT_USAGE
    if len(strategies) > 1:
        print(
            f"tickstate resume: {path}: {args.symbol} is traded by {', '.join(strategies)};"
            " name one with --strategy",
            file=sys.stderr,
        )
        return EXIT_USAGE
    (status,) = statuses
    if not status.snapshot.is_halted:
        print(
            f"tickstate resume: {path}: {args.symbol} is not halted ({status.snapshot.state})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        with Journal(path) as journal:
            seq = journal.request(strategy=status.strategy, symbol=args.symbol)
    except JournalError as exc:
        print(f"tickstate resume: {exc}", file=sys.stderr)
        return EXIT_USAGE
    when = "within its heartbeat" if alive.running else "when it next starts (it is not running)"
    print(f"resume of {args.symbol} requested (request {seq}); the run applies it {when}")
    return EXIT_OK


def _status_diagram(statuses: Sequence[SymbolStatus], fmt: str) -> int:
    """The overview with each symbol in its current state, on stdout, as ``fmt``."""
    from machines import State, overview_diagram

    many = len({s.strategy for s in statuses}) > 1
    marks: dict[State, list[str]] = {}
    for s in statuses:
        name = f"{s.strategy}/{s.symbol}" if many else s.symbol
        marks.setdefault(s.snapshot.state, []).append(name)
    diagram = overview_diagram(marks)
    if fmt == "mermaid":
        sys.stdout.write(diagram.mermaid())
        return EXIT_OK
    if fmt == "dot":
        sys.stdout.write(diagram.dot())
        return EXIT_OK
    dot = shutil.which("dot")
    if dot is None:
        print("tickstate status: --format svg needs the Graphviz 'dot' binary", file=sys.stderr)
        return EXIT_USAGE
    svg = subprocess.run(
        [dot, "-Tsvg"], input=diagram.dot(), capture_output=True, text=True, check=True
    )
    sys.stdout.write(svg.stdout)
    return EXIT_OK
