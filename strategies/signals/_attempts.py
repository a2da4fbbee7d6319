"""What a signal knows of its own attempts: the bookkeeping every signal needs, written once.

A signal asks the machine for an entry; the engine hands it the outcome of that request (the
machine took it, or a rule declined it) as soon as it is decided, so no signal infers it later
from snapshot counters. From then on the attempt is followed through the machine's snapshots:
the bar on which its position first shows (its fill bar), and its end (the machine flat again).
"""

from __future__ import annotations

from datetime import datetime

from machines import EntrySignalled, ExitSignalled, Outcome, OutcomeKind, Snapshot

__all__ = ["AttemptWatch", "entries_closed"]


def entries_closed(end: datetime, cutoff: datetime, snapshot: Snapshot) -> bool:
    """No new entry may be decided today: the bar ends at or after the entry cutoff, the day was
    squared off, or every attempt the rules allow was made."""
    return end >= cutoff or snapshot.done_for_day or snapshot.entries_left == 0


class AttemptWatch:
    """The attempt a signal's own entry opened, followed until the machine is flat again."""

    __slots__ = ("_exit_asked", "_fill_seen", "attempt")

    def __init__(self) -> None:
        self.attempt = 0  # the machine's number of the attempt our entry opened (0: none yet)
        self._fill_seen = 0  # the attempt whose position a bar has already shown
        self._exit_asked = 0  # the attempt our own exit was taken for

    def reset(self) -> None:
        """A new session: no attempt of ours yet."""
        self.attempt = self._fill_seen = self._exit_asked = 0

    def entry_taken(self, outcome: Outcome) -> bool:
        """Whether the machine took the entry this outcome answers (its attempt is then ours)."""
        assert isinstance(outcome.event, EntrySignalled)
        if outcome.kind is not OutcomeKind.ACCEPTED:
            return False
        self.attempt = outcome.snapshot.attempt
        return True

    def exit_taken(self, outcome: Outcome) -> None:
        """Remember that the machine took our exit for the attempt in progress."""
        assert isinstance(outcome.event, ExitSignalled)
        if outcome.kind is OutcomeKind.ACCEPTED:
            self._exit_asked = outcome.snapshot.attempt

    def exit_asked(self, snapshot: Snapshot) -> bool:
        """Whether an exit of ours was already taken for the attempt the snapshot is in."""
        return self._exit_asked == snapshot.attempt

    def fill_bar(self, snapshot: Snapshot) -> bool:
        """True on the first bar that shows the attempt's position: bar data cannot say whether
        its range came before or after the fill, so nothing is read from it."""
        if self._fill_seen == snapshot.attempt:
            return False
        self._fill_seen = snapshot.attempt
        return True

    @staticmethod
    def over(snapshot: Snapshot) -> bool:
        """The attempt has ended: the machine is flat again (stopped out, exited, or its entry
        cancelled or rejected)."""
        return snapshot.is_flat
