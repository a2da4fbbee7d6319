"""Status reads: each symbol of a journal as last recorded, whether its run is alive, and which
journal is the newest.

Readers open their own read-only connection, so they work on the journal of a live run.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from brokers import SystemClock
from machines import Snapshot
from strategies._exceptions import JournalError
from strategies.journal._codec import decode_snapshot
from strategies.journal._identity import check_identity
from strategies.journal._journal import _connect, _decode, _parse_time

__all__ = ["Liveness", "SymbolStatus", "newest_journal", "read_latest", "read_liveness"]

#: A run whose heartbeat is older than this many of its intervals is taken as dead.
_MISSED_BEATS = 3


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
            check_identity(db, path, allow_empty=False)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Liveness:
    """Whether the journal's latest run is alive, from its heartbeat."""

    running: bool
    detail: str  # one line for people: "running (pid 4242, heartbeat 1 s ago)", ...
    pid: int | None = None
    beat_at: datetime | None = None
    ended_at: datetime | None = None
    exit: str | None = None
    run_id: str | None = None  # the latest run's id: its log lines carry it too

    def describe(self) -> str:
        """``running ...`` or ``not running ...``."""
        return self.detail


def read_liveness(path: str | os.PathLike[str], *, now: datetime | None = None) -> Liveness:
    """Whether the latest run of the journal at ``path`` is alive: it has not ended, its
    heartbeat is recent (within three of its intervals) and its process exists.

    ``now`` is the wall clock (default: the system's); ``JournalError`` as ``read_latest``.
    """
    path = Path(path)
    try:
        with closing(_connect(path, create=False)) as db:
            check_identity(db, path, allow_empty=False)
            has_table = db.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'liveness'"
            ).fetchone()
            row = None
            if has_table:
                row = db.execute(
                    "SELECT l.pid, l.beat_at, l.interval, l.ended_at, l.exit, r.run_id FROM runs r"
                    " JOIN liveness l USING (run_id) ORDER BY r.rowid DESC LIMIT 1"
                ).fetchone()
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: not a readable journal: {exc}") from exc
    if row is None:
        return Liveness(running=False, detail="not running (no run has recorded a heartbeat)")
    pid, beat, interval, ended, exit_, run_id = row
    where = f"{path}: liveness"
    beat_at = _parse_time(beat, where)
    ended_at = _parse_time(ended, where) if ended else None
    if ended_at is not None:
        return Liveness(
            running=False,
            detail=f"not running (ended {ended_at:%Y-%m-%d %H:%M:%S} UTC: {exit_})",
            pid=pid,
            beat_at=beat_at,
            ended_at=ended_at,
            exit=exit_,
            run_id=run_id,
        )
    now = now if now is not None else SystemClock().now()
    age = (now - beat_at).total_seconds()
    if age > _MISSED_BEATS * interval:
        detail = f"not running (no heartbeat for {age:.0f} s: the process died)"
        return Liveness(running=False, detail=detail, pid=pid, beat_at=beat_at, run_id=run_id)
    if not _alive(pid):
        detail = f"not running (process {pid} is gone)"
        return Liveness(running=False, detail=detail, pid=pid, beat_at=beat_at, run_id=run_id)
    detail = f"running (pid {pid}, heartbeat {max(age, 0):.0f} s ago)"
    return Liveness(running=True, detail=detail, pid=pid, beat_at=beat_at, run_id=run_id)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists here (a journal read on another host cannot tell:
    the heartbeat decides there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours to signal
        return True
    return True


def newest_journal(runs: Path) -> Path:
    """The most recently written ``*.sqlite`` journal in ``runs``; ``JournalError`` if none."""
    found = sorted(runs.glob("*.sqlite"), key=_written_at) if runs.is_dir() else []
    if not found:
        raise JournalError(f"{runs}: no journal (*.sqlite) found; name one: tickstate status FILE")
    return found[-1]


def _written_at(path: Path) -> float:
    wal = path.with_name(path.name + "-wal")  # a live run writes here first
    return max(p.stat().st_mtime for p in (path, wal) if p.exists())
