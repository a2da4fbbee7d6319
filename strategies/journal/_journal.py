"""The journal: an append-only SQLite record of every outcome, durable before its commands run.

One file per run (or per day), stdlib ``sqlite3`` in WAL mode with ``synchronous=FULL``: when
``record`` returns, the outcome is committed and fsynced, so a runner that records an outcome
before executing its commands keeps invariant 8 (an accepted transition is durable before its
commands are executed) even if it is killed the next instant. Readers (``latest``, ``rebuild``,
``tickstate status``, in ``_status``) open their own connections and read while a writer is live.

Tables (rows are only ever inserted; triggers refuse UPDATE and DELETE)::

    runs(run_id, started_at, strategy, config_path, pid, trading_date)
    transitions(seq, at, run_id, strategy, symbol, kind, trigger, reason, state_from, state_to,
                ordinal, event_at, event, commands, snapshot)
    command_results(seq, transition_seq, command_index, client_order_id, command, result,
                    detail, at)
    requests(seq, at, strategy, symbol, action)          an operator's ``tickstate resume``
    request_results(request_seq, at, run_id, outcome)    what the runner made of one

and one table whose rows change, because it says whether a run is alive, not what happened::

    liveness(run_id, pid, beat_at, interval, ended_at, exit)

The running runner rewrites its row's ``beat_at`` every ``interval`` seconds (wall clock) and
``ended_at``/``exit`` when it stops; a row neither ended nor beating is a run that died.

Every outcome is recorded, whatever its kind: ``accepted`` and ``anomaly`` rows changed the
machine and are what ``rebuild`` replays; ``ignored`` (races) and ``declined`` rows changed
nothing and are kept for the audit of a day. ``ordinal`` is the machine's own count of applied
outcomes (transitions + anomalies) after the outcome, so a symbol's history replays in the order
its machine applied it even if two threads recorded in the other order. Times are ISO 8601.

The write lock is the journal's one lock (style: locks live only in machines and here); it is
never held while a machine's lock is: the engine records an outcome after ``fire`` returned.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from brokers import Clock, SystemClock
from machines import Command, Desk, Outcome, OutcomeKind, Snapshot
from strategies._exceptions import CodecError, JournalError
from strategies.journal._codec import (
    decode_command,
    decode_event,
    encode_command,
    encode_event,
    encode_snapshot,
)
from strategies.journal._identity import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    check_identity,
    check_intact,
    damaged,
    is_sqlite,
)

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "CommandResult",
    "Journal",
    "OperatorRequest",
    "PendingCommand",
]


_REPLAYED = (OutcomeKind.ACCEPTED.value, OutcomeKind.ANOMALY.value)
# Snapshot fields a rebuild cannot or need not reproduce: races are not replayed (ignored events
# change nothing), and max_attempts is today's configuration, not history.
_NOT_REBUILT = frozenset({"races", "max_attempts"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    strategy TEXT NOT NULL,
    config_path TEXT,
    pid INTEGER NOT NULL,
    trading_date TEXT
);
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    run_id TEXT,
    strategy TEXT NOT NULL,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('accepted', 'anomaly', 'ignored', 'declined')),
    trigger TEXT NOT NULL,
    reason TEXT,
    state_from TEXT NOT NULL,
    state_to TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    event_at TEXT,
    event TEXT NOT NULL,
    commands TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_by_symbol ON transitions (strategy, symbol, ordinal);
CREATE TABLE IF NOT EXISTS command_results (
    seq INTEGER PRIMARY KEY,
    transition_seq INTEGER NOT NULL REFERENCES transitions (seq),
    command_index INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    command TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS command_results_by_transition ON command_results (transition_seq);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    strategy TEXT NOT NULL,
    symbol TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('resume'))
);
CREATE TABLE IF NOT EXISTS request_results (
    request_seq INTEGER PRIMARY KEY REFERENCES requests (seq),
    at TEXT NOT NULL,
    run_id TEXT,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS liveness (
    run_id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    beat_at TEXT NOT NULL,
    interval REAL NOT NULL,
    ended_at TEXT,
    exit TEXT
);
"""
_APPEND_ONLY = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;"
    for table in ("runs", "transitions", "command_results", "requests", "request_results")
    for verb in ("UPDATE", "DELETE")
]


class CommandResult(StrEnum):
    """What became of one journaled command."""

    SENT = "sent"  # the broker took the request
    REJECTED = "rejected"  # the broker refused it (do not resend)
    FAILED = "failed"  # it could not be delivered; retries gave up
    SKIPPED = "skipped"  # the runner chose not to send it (e.g. shutting down)
    RECONCILED = "reconciled"  # settled against the broker's books at start-up


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorRequest:
    """An operator's request the runner has not answered yet (``tickstate resume``)."""

    seq: int
    at: datetime  # wall clock, when it was made
    strategy: str
    symbol: str
    action: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingCommand:
    """A journaled command with no recorded result: sent or not, the broker must be asked."""

    transition_seq: int
    index: int  # its position in the transition's commands
    strategy: str
    symbol: str
    command: Command


class Journal:
    """The writer of one journal file (created if missing); safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self._clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self.run_id: str | None = None
        # Only a missing or zero-byte file is a new journal: SQLite reads a file cut to a few
        # bytes as an empty database, and starting one over it would lose what it held.
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._db = _connect(self.path, create=True)
        try:
            check_identity(self._db, self.path, allow_empty=new)
            if not new:
                check_intact(self._db, self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            if new:  # an existing journal's header already says so: opening writes nothing
                self._db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.executescript(_SCHEMA + "\n".join(_APPEND_ONLY))
        except sqlite3.Error as exc:
            self._db.close()
            if isinstance(exc, sqlite3.DatabaseError) and not new and is_sqlite(self.path):
                raise damaged(self.path, str(exc)) from exc
            raise JournalError(f"{self.path}: cannot open the journal: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        """Close the writer connection (checkpointing the WAL)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------

    def begin_run(
        self,
        *,
        strategy: str,
        config_path: str | os.PathLike[str] | None = None,
        trading_date: date | None = None,
        run_id: str | None = None,
    ) -> str:
        """Record that a run starts; later records carry its id (``run_id``, the one its log
        lines carry, or a fresh one), which is returned."""
        run_id = run_id or uuid.uuid4().hex
        with self._write() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    self._now(),
                    strategy,
                    None if config_path is None else str(config_path),
                    os.getpid(),
                    None if trading_date is None else trading_date.isoformat(),
                ),
            )
        self.run_id = run_id
        self.beat()
        return run_id

    def beat(self, *, interval: float = 5.0) -> None:
        """Say the run is alive now (wall clock); ``interval``: the seconds until the next beat."""
        if self.run_id is None:
            return
        with self._write() as db:
            db.execute(
                "INSERT INTO liveness (run_id, pid, beat_at, interval) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (run_id) DO UPDATE SET beat_at = excluded.beat_at,"
                " interval = excluded.interval",
                (self.run_id, os.getpid(), _wall_now(), interval),
            )

    def end_run(self, exit: str) -> None:
        """Say the run ended (``exit``: how — ``stopped``, ``engine_fault``, ...)."""
        if self.run_id is None:
            return
        with self._write() as db:
            db.execute(
                "UPDATE liveness SET ended_at = ?, exit = ? WHERE run_id = ?",
                (_wall_now(), exit, self.run_id),
            )

    def request(self, *, strategy: str, symbol: str, action: str = "resume") -> int:
        """Record an operator's request for the runner (any process may write it); its seq."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO requests (at, strategy, symbol, action) VALUES (?, ?, ?, ?)",
                (_wall_now(), strategy, symbol, action),
            )
        seq = cursor.lastrowid
        assert seq is not None
        return seq

    def unanswered(self, strategy: str) -> tuple[PendingCommand, ...]:
        """``strategy``'s journaled commands with no result row, in seq order: what ``rebuild``
        would return, read without replaying (a fault's shutdown settles them first)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, symbol, commands FROM transitions WHERE strategy = ? AND kind IN"
                " (?, ?) AND commands != '[]' ORDER BY seq",
                (strategy, *_REPLAYED),
            ).fetchall()
            results = self._db.execute("SELECT transition_seq, command_index FROM command_results")
            answered = set(results)
        return tuple(
            PendingCommand(
                transition_seq=seq, index=i, strategy=strategy, symbol=symbol, command=command
            )
            for seq, symbol, text in rows
            for i, command in enumerate(_decode(_commands, text, f"{self.path}: seq {seq}"))
            if (seq, i) not in answered
        )

    def pending_requests(self, strategy: str) -> tuple[OperatorRequest, ...]:
        """The operator's requests for ``strategy`` no run has answered yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, at, strategy, symbol, action FROM requests WHERE strategy = ? AND"
                " seq NOT IN (SELECT request_seq FROM request_results) ORDER BY seq",
                (strategy,),
            ).fetchall()
        return tuple(
            OperatorRequest(
                seq=seq,
                at=_parse_time(at, f"{self.path}: request {seq}"),
                strategy=name,
                symbol=symbol,
                action=action,
            )
            for seq, at, name, symbol, action in rows
        )

    def answer(self, request: OperatorRequest, outcome: str) -> None:
        """Record what the runner made of ``request`` (it is not pending any more)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO request_results (request_seq, at, run_id, outcome)"
                " VALUES (?, ?, ?, ?)",
                (request.seq, self._now(), self.run_id, outcome),
            )

    def record(self, outcome: Outcome) -> int:
        """Commit ``outcome`` durably and return its ``seq``; call it before running commands."""
        snapshot = outcome.snapshot
        event = encode_event(outcome.event)
        row = (
            self._now(),
            self.run_id,
            snapshot.strategy,
            snapshot.symbol,
            outcome.kind.value,
            outcome.trigger,
            outcome.reason,
            outcome.state_from,
            outcome.state_to,
            snapshot.transitions + snapshot.anomalies,
            event.get("at"),
            _dumps(event),
            _dumps([encode_command(c) for c in outcome.commands]),
            _dumps(encode_snapshot(snapshot)),
        )
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO transitions (at, run_id, strategy, symbol, kind, trigger, reason,"
                " state_from, state_to, ordinal, event_at, event, commands, snapshot)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        seq = cursor.lastrowid
        assert seq is not None
        return seq

    def first_trading_date(self, strategy: str) -> date | None:
        """The trading date the first journaled run of ``strategy`` started on (None: never ran)."""
        with closing(_connect(self.path, create=False)) as db:
            row = db.execute(
                "SELECT trading_date FROM runs WHERE strategy = ? AND trading_date IS NOT NULL"
                " ORDER BY started_at LIMIT 1",
                (strategy,),
            ).fetchone()
        return None if row is None else date.fromisoformat(row[0])

    def record_result(
        self, transition_seq: int, command: Command, result: CommandResult | str, detail: str = ""
    ) -> int:
        """Record what became of ``command`` of transition ``transition_seq``; return its seq.

        The command is matched against the transition's journaled commands (the first equal one
        without a result yet, else the first equal one); a command the transition never decided
        is refused with ``JournalError``.
        """
        result = CommandResult(result)
        encoded = encode_command(command)
        with self._write() as db:
            found = db.execute(
                "SELECT commands FROM transitions WHERE seq = ?", (transition_seq,)
            ).fetchone()
            if found is None:
                raise JournalError(f"{self.path}: no transition with seq {transition_seq}")
            matches = [i for i, c in enumerate(json.loads(found[0])) if c == encoded]
            if not matches:
                raise JournalError(
                    f"{self.path}: seq {transition_seq} did not decide {encoded['type']}"
                    f" {command.client_order_id}"
                )
            done = {
                i
                for (i,) in db.execute(
                    "SELECT command_index FROM command_results WHERE transition_seq = ?",
                    (transition_seq,),
                )
            }
            index = next((i for i in matches if i not in done), matches[0])
            cursor = db.execute(
                "INSERT INTO command_results (transition_seq, command_index, client_order_id,"
                " command, result, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    transition_seq,
                    index,
                    command.client_order_id,
                    _dumps(encoded),
                    result.value,
                    detail,
                    self._now(),
                ),
            )
        seq = cursor.lastrowid
        assert seq is not None
        return seq

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise JournalError(f"{self.path}: cannot write the journal: {exc}") from exc

    def _now(self) -> str:
        return self._clock.now().isoformat()

    # --- reading --------------------------------------------------------------------------

    def rebuild(
        self, desk: Desk, observe: Callable[[Snapshot, Outcome], None] | None = None
    ) -> tuple[PendingCommand, ...]:
        """Replay the journal into ``desk`` (fresh) and return the commands still unconfirmed.

        Every ``accepted`` and ``anomaly`` event of ``desk.strategy`` is fired again, per symbol
        in the order its machine applied them; each must reproduce its journaled kind, state,
        commands and snapshot (all but races and max_attempts), else ``JournalError`` names the
        seq: the journal or the code changed. No command is executed. The desk must be built as
        the journaled run built its own (same strategy, rules and starting trading date).

        Returned: journaled commands with no result row, in seq order — they may or may not have
        reached the broker, so the runner reconciles them rather than resends them blindly.

        ``observe`` sees each replayed outcome with the machine's snapshot before it (the engine
        counts the fills it holds: trades and limits survive a restart).
        """
        if desk.symbols():
            held = ", ".join(desk.symbols())
            raise JournalError(f"{self.path}: rebuild needs a fresh desk; it already has {held}")
        with closing(_connect(self.path, create=False)) as db:
            rows = db.execute(
                "SELECT seq, symbol, kind, state_to, ordinal, event, commands, snapshot"
                " FROM transitions WHERE strategy = ? AND kind IN (?, ?)"
                " ORDER BY symbol, ordinal, seq",
                (desk.strategy, *_REPLAYED),
            ).fetchall()
        expected: dict[str, int] = {}
        for seq, symbol, kind, state_to, ordinal, event, commands, snapshot in rows:
            where = f"{self.path}: seq {seq} ({symbol})"
            want = expected.get(symbol, 0) + 1
            if ordinal != want:
                raise JournalError(
                    f"{where}: journaled as the machine's outcome #{ordinal}, expected #{want};"
                    " an outcome is missing from the journal"
                )
            expected[symbol] = ordinal
            before = desk.machine(symbol).snapshot()
            outcome = desk.fire(symbol, _decode(decode_event, event, where))
            _check_replay(where, outcome, kind, state_to, json.loads(commands), snapshot)
            if observe is not None:
                observe(before, outcome)
        # Each replayed outcome decided exactly its journaled commands (checked above).
        return self.unanswered(desk.strategy)


# --- helpers -----------------------------------------------------------------------------------


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """A connection in autocommit mode; readers never create the file."""
    if not create and not path.is_file():
        raise JournalError(f"{path}: no such journal")
    mode = "rwc" if create else "ro"
    try:
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,
            check_same_thread=not create,  # the one writer is shared under the journal's lock
            timeout=30.0,
        )
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: cannot open the journal: {exc}") from exc


def _wall_now() -> str:
    """Now on the wall clock: liveness is about the process, whatever clock the run keeps."""
    return SystemClock().now().isoformat()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _commands(obj: Any) -> list[Command]:
    return [decode_command(c) for c in obj]


def _decode(decode: Any, text: str, where: str) -> Any:
    try:
        return decode(json.loads(text))
    except (CodecError, json.JSONDecodeError) as exc:
        raise JournalError(f"{where}: {exc}") from exc


def _parse_time(text: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(text.split("[", 1)[0])
    except ValueError as exc:
        raise JournalError(f"{where}: bad time {text!r}") from exc


def _check_replay(
    where: str,
    outcome: Outcome,
    kind: str,
    state_to: str,
    commands: list[Any],
    snapshot: str,
) -> None:
    if outcome.kind.value != kind or outcome.state_to != state_to:
        if outcome.kind is OutcomeKind.DECLINED:  # the rules changed: the file was edited
            raise JournalError(
                f"{where}: its {outcome.trigger} was {kind}, the file's rules "
                f"now decline it ({outcome.reason}): run the file this journal was written with "
                "(max_attempts?)"
            )
        raise JournalError(
            f"{where}: replayed as {outcome.kind.value} to {outcome.state_to.value!r},"
            f" journaled as {kind} to {state_to!r}"
        )
    replayed = [encode_command(c) for c in outcome.commands]
    if replayed != commands:
        raise JournalError(f"{where}: replay decided {replayed}, the journal has {commands}")
    journaled = json.loads(snapshot)
    now = encode_snapshot(outcome.snapshot)
    # A field the journaled snapshot lacks was added to Snapshot after the journal was written
    # (``alarm``): there is nothing to compare it with.
    differs = sorted(
        f.name
        for f in fields(Snapshot)
        if f.name not in _NOT_REBUILT
        and f.name in journaled
        and now.get(f.name) != journaled.get(f.name)
    )
    if differs:
        name = differs[0]
        raise JournalError(
            f"{where}: replayed {name} {now.get(name)!r}, journaled {journaled.get(name)!r}"
        )
