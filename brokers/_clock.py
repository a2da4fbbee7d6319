"""Clocks: the only place that reads the time. Everything else is handed a clock.

``SystemClock`` reads the wall clock; ``ManualClock`` is moved by its owner (tests, replay);
``VirtualClock`` runs a recorded session at ``speed`` times real time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    """Something that can tell the time (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; thread-safe."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time last set."""
        # Reading one reference is atomic: the lock serialises the writers' read-modify-write
        # only, and a replay reads the clock once per bar.
        return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when`` (never backwards)."""
        if when <= self._now:
            return  # nothing to do: one atomic read tells, and the lock is the costly part
        with self._lock:
            if when > self._now:
                self._now = when

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; returns the new time."""
        with self._lock:
            self._now += delta
            return self._now


class VirtualClock:
    """Session time that starts at ``start`` and runs ``speed`` times faster than real time.

    A ``held`` clock shows ``start`` and stands still until ``reset()`` lets it run: an exchange
    that waits for its first client must not let session time pass while nobody watches.
    """

    def __init__(self, start: datetime, speed: float = 1.0, *, held: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock needs a timezone-aware start")
        if not speed > 0:
            raise ValueError("speed must be positive")
        self._start = start
        self._speed = speed
        self._origin = time.monotonic()
        self._held = held

    @property
    def held(self) -> bool:
        """Whether the clock stands still at its start (until ``reset()``)."""
        return self._held

    def now(self) -> datetime:
        """The virtual time now."""
        if self._held:
            return self._start
        elapsed = (time.monotonic() - self._origin) * self._speed
        return self._start + timedelta(seconds=elapsed)

    def reset(self) -> None:
        """Show the start time again and run from now: for a clock that waited for its audience
        before anything happened at the times it showed (a held clock starts running)."""
        self._origin = time.monotonic()
        self._held = False

    def jump_to(self, when: datetime) -> None:
        """Skip ahead to ``when`` at once (a night or a weekend without bars); never back."""
        if when > self.now():
            self._start = when
            self._origin = time.monotonic()

    def real_seconds_until(self, when: datetime) -> float:
        """Real seconds left until the virtual clock shows ``when`` (0 if past)."""
        return max(0.0, (when - self.now()).total_seconds() / self._speed)
