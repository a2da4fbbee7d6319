"""``tickstate status``: each symbol of a journal as last recorded, as a table for people.

It only reads (its own read-only connection), so it works on the journal of a live run.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

from strategies._exceptions import JournalError
from strategies._journal import SymbolStatus

__all__ = ["newest_journal", "print_status"]


def newest_journal(runs: Path) -> Path:
    """The most recently written ``*.sqlite`` journal in ``runs``; ``JournalError`` if none."""
    found = sorted(runs.glob("*.sqlite"), key=_written_at) if runs.is_dir() else []
    if not found:
        raise JournalError(f"{runs}: no journal (*.sqlite) found; name one: tickstate status FILE")
    return found[-1]


def _written_at(path: Path) -> float:
    wal = path.with_name(path.name + "-wal")  # a live run writes here first
    return max(p.stat().st_mtime for p in (path, wal) if p.exists())


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def print_status(
    statuses: Sequence[SymbolStatus], *, title: str, stream: TextIO | None = None
) -> None:
    """One row per (strategy, symbol): state, position, stop, attempts, last event and time."""
    table = Table(title=title, title_justify="left")
    many = len({s.strategy for s in statuses}) > 1
    columns = ["strategy"] if many else []
    columns += ["symbol", "state", "position", "stop", "attempts", "last event", "at"]
    for column in columns:
        right = column in ("position", "stop", "attempts")
        table.add_column(column, justify="right" if right else "left")
    for s in statuses:
        snap = s.snapshot
        last = s.last_trigger if s.last_kind == "accepted" else f"{s.last_trigger} ({s.last_kind})"
        row = [s.strategy] if many else []
        row += [
            s.symbol,
            snap.state if snap.halt_reason is None else f"{snap.state}: {snap.halt_reason}",
            _number(snap.position),
            _number(snap.stop_price),
            f"{snap.entries_today}/{snap.max_attempts}",
            last,
            s.last_at.isoformat(sep=" ", timespec="seconds"),
        ]
        table.add_row(*row)
    Console(file=stream, width=120).print(table)
