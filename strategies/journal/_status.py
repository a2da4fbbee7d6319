"""Status reads: each symbol of a journal as last recorded, and which journal is the newest.

Readers open their own read-only connection, so they work on the journal of a live run.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from machines import Snapshot
from strategies._exceptions import JournalError
from strategies.journal._codec import decode_snapshot
from strategies.journal._journal import _check_identity, _connect, _decode, _parse_time

__all__ = ["SymbolStatus", "newest_journal", "read_latest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolStatus:
    """One symbol as its journal last saw it."""

    strategy: str
    symbol: str
    snapshot: Snapshot  # after the last outcome the machine applied
    last_seq: int
    last_trigger: str  # of the last recorded outcome, whatever its kind
    last_kind: str
    last_at: datetime  # the last event's own time (when recorded, if it has none)


def read_latest(path: str | os.PathLike[str]) -> tuple[SymbolStatus, ...]:
    """Each (strategy, symbol) of the journal at ``path`` as last recorded, sorted.

    Opens its own read-only connection, so it works while a run is writing. ``JournalError`` (one
    line naming the file) if the file is missing, corrupt or not a tickstate journal.
    """
    path = Path(path)
    try:
        with closing(_connect(path, create=False)) as db:
            _check_identity(db, path, allow_empty=False)
            # the snapshot after the last applied outcome, and the last recorded outcome
            rows = db.execute(
                """
                WITH ranked AS (
                    SELECT strategy, symbol, snapshot, ROW_NUMBER() OVER (
                        PARTITION BY strategy, symbol ORDER BY ordinal DESC, seq DESC) AS n
                    FROM transitions),
                last AS (
                    SELECT strategy, symbol, MAX(seq) AS seq, trigger, kind, event_at, at
                    FROM transitions GROUP BY strategy, symbol)
                SELECT last.strategy, last.symbol, ranked.snapshot, last.seq, last.trigger,
                       last.kind, COALESCE(last.event_at, last.at)
                FROM last JOIN ranked USING (strategy, symbol)
                WHERE ranked.n = 1 ORDER BY last.strategy, last.symbol
                """
            ).fetchall()
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: not a readable journal: {exc}") from exc
    statuses = []
    for strategy, symbol, snapshot, seq, trigger, kind, at in rows:
        where = f"{path}: seq {seq} ({symbol})"
        statuses.append(
            SymbolStatus(
                strategy=strategy,
                symbol=symbol,
                snapshot=_decode(decode_snapshot, snapshot, where),
                last_seq=seq,
                last_trigger=trigger,
                last_kind=kind,
                last_at=_parse_time(at, where),
            )
        )
    return tuple(statuses)


def newest_journal(runs: Path) -> Path:
    """The most recently written ``*.sqlite`` journal in ``runs``; ``JournalError`` if none."""
    found = sorted(runs.glob("*.sqlite"), key=_written_at) if runs.is_dir() else []
    if not found:
        raise JournalError(f"{runs}: no journal (*.sqlite) found; name one: tickstate status FILE")
    return found[-1]


def _written_at(path: Path) -> float:
    wal = path.with_name(path.name + "-wal")  # a live run writes here first
    return max(p.stat().st_mtime for p in (path, wal) if p.exists())
