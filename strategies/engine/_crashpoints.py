"""Crash points: named places where a test can have the process killed outright (SIGKILL).

A no-op unless the environment variable ``TICKSTATE_CRASH_AT`` names a point when this module
is first imported: ``NAME`` kills the process the first time ``NAME`` is reached, ``NAME@N`` the
N-th time. Nothing is flushed or cleaned up: the process dies as if the machine lost power,
which is what ``tests/live/test_crash.py`` restarts from. ``raise:NAME[@N]`` raises
``InjectedFaultError`` there instead — a bug in the engine, for the shutdown it must run. The
points (``Engine``)::

    before_journal:TRIGGER    the machine took the event; its outcome is not journaled yet
    before_send:COMMAND       the outcome is journaled; the command (e.g. PlaceEntry) is not sent
    after_send:COMMAND        the broker answered the command; its result is not journaled yet
    bar:SYMBOL                a bar of SYMBOL completed; nothing of it is applied yet

e.g. ``TICKSTATE_CRASH_AT=before_send:PlaceStop``, ``after_send:ReplaceStop@2`` or
``raise:bar:GOOG@5``.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["ENV", "InjectedFaultError", "crash_point", "crash_points_armed"]

ENV = "TICKSTATE_CRASH_AT"
_RAISE = "raise:"


class InjectedFaultError(RuntimeError):
    """The fault a ``raise:`` crash point injects (tests only)."""


def _target(value: str | None) -> tuple[str, int, bool] | None:
    if not value:
        return None
    raises = value.startswith(_RAISE)
    name, _, count = value.removeprefix(_RAISE).partition("@")
    return name, int(count) if count else 1, raises


_TARGET = _target(os.environ.get(ENV))
_seen = 0
_counting = threading.Lock()  # commands reach their points on the executor's workers


def crash_points_armed() -> bool:
    """Whether a crash point is armed at all (a hot path skips building its name if not)."""
    return _TARGET is not None


def crash_point(where: str, what: str = "") -> None:
    """Kill this process with SIGKILL if ``where:what`` is the armed point (else nothing)."""
    global _seen
    if _TARGET is None:
        return
    name = f"{where}:{what}" if what else where
    if name != _TARGET[0]:
        return
    with _counting:
        _seen += 1
        reached = _seen
    if reached != _TARGET[1]:
        return
    if _TARGET[2]:
        raise InjectedFaultError(f"injected fault at {name}")
    os.kill(os.getpid(), signal.SIGKILL)
