"""Errors raised by ``strategies``: one line each, naming what is wrong.

::

    StrategyError
     ├── SpecError         a strategy file cannot be used: "{file}: {key.path}: {problem}"
     ├── CalendarError     a trading calendar is unknown, or a date lies outside its range
     ├── DataError         a bar file cannot be used: "{file}: line {n}, column {name}: {problem}"
     ├── JournalError      a journal cannot be opened, read, or rebuilt (names the file or seq)
     │    └── CodecError   a journaled message cannot be encoded or decoded (names the type)
     └── EngineFaultError  not the user's doing: the engine raised during a live run, which shut
                           down (no new entries, cancel, flatten, journal) before this was raised

All but ``EngineFaultError`` are a user's mistake, to fix and run again.
"""

from __future__ import annotations

__all__ = [
    "CalendarError",
    "CodecError",
    "DataError",
    "EngineFaultError",
    "JournalError",
    "SpecError",
    "StrategyError",
]


class StrategyError(Exception):
    """Base of every error ``strategies`` raises."""


class SpecError(StrategyError, ValueError):
    """A strategy file is unreadable, not TOML, or not a valid strategy.

    ``str()`` is one line: ``{file}: {path}: {problem}``; ``path`` is a dotted key path
    (``signal.zone``, ``instruments[1].tick``) or, for a TOML syntax error, ``line L, column C``.
    """

    def __init__(self, file: str, path: str | None, problem: str) -> None:
        self.file = file
        self.path = path
        self.problem = problem
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {problem}")


class CalendarError(StrategyError, ValueError):
    """A trading calendar name is unknown, or a date is outside the years it covers."""


class DataError(StrategyError, ValueError):
    """A bar file (CSV) is unreadable, or one of its rows is not a valid bar.

    ``str()`` is one line: ``{file}: line {line}, column {column}: {problem}``; ``line`` counts
    from 1 (the header), ``column`` is the column's name from the header. Either is left out when
    the problem is not about one line (an empty directory) or not about one column.
    """

    def __init__(
        self, file: str, problem: str, *, line: int | None = None, column: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        where = [f"line {line}"] if line is not None else []
        if column is not None:
            where.append(f"column {column}")
        place = f"{file}: {', '.join(where)}" if where else file
        super().__init__(f"{place}: {problem}")


class JournalError(StrategyError):
    """A journal is missing, corrupt, not a tickstate journal, or disagrees with the code.

    ``str()`` is one line naming the file, or the ``seq`` of the record that failed to rebuild.
    """


class CodecError(JournalError, ValueError):
    """A message cannot be encoded or decoded: an unknown ``type``, field, or malformed value."""


class EngineFaultError(StrategyError):
    """The engine raised during a live run (a bug, not a signal's: those halt their symbol only).

    The runner ran its shutdown first; ``str()`` is one line naming the error and the log file's
    traceback.
    """
