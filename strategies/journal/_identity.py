"""Whether a file is a tickstate journal, and whole: its header (``application_id``, the
schema version) and SQLite's own page check, each failure one line naming the file. A file that
starts as SQLite but cannot be read is damaged, never "not a journal" and never a new one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from strategies._exceptions import JournalError

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "check_identity",
    "check_intact",
    "damaged",
    "is_sqlite",
]

#: ``PRAGMA application_id`` of a tickstate journal ("tsj1"), and its schema version.
APPLICATION_ID = 0x74736A31
SCHEMA_VERSION = 1


def check_intact(db: sqlite3.Connection, path: Path) -> None:
    """A journal a run will append to must read back whole: SQLite's own page and index check
    (a flipped bit in a page it would only meet later is found here, before any order)."""
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
    except sqlite3.DatabaseError as exc:  # damage quick_check itself trips over
        problems = [str(exc)]
    if problems != ["ok"]:  # its report spans lines ("*** in database main ***\nPage 9: ...")
        lines = [line.strip() for problem in problems for line in problem.splitlines()]
        raise damaged(path, next((x for x in lines if x and not x.startswith("***")), "?"))


def check_identity(db: sqlite3.Connection, path: Path, *, allow_empty: bool) -> None:
    try:
        (app,) = db.execute("PRAGMA application_id").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
        (tables,) = db.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        if is_sqlite(path):  # a journal's header, its pages cut short or garbled
            raise damaged(path, str(exc)) from exc
        raise JournalError(f"{path}: not a tickstate journal: {exc}") from exc
    if allow_empty and app == 0 and tables == 0:
        return  # a new file
    if app != APPLICATION_ID:
        raise JournalError(f"{path}: not a tickstate journal")
    if version != SCHEMA_VERSION:
        raise JournalError(
            f"{path}: journal schema version {version}, this tickstate reads {SCHEMA_VERSION}"
        )


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is a file that starts as an SQLite database does."""
    if not path.is_file():
        return False
    with path.open("rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


def damaged(path: Path, problem: str) -> JournalError:
    return JournalError(f"{path}: the journal is damaged ({problem}); keep it and start a new one")
