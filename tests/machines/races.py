"""A race forced at ``fire``'s worst point: its decision made, its lock not yet taken.

``raced(machine, rival)`` stands in for the machine's decision step while active: right after
the first decision is made (unlocked), ``rival`` is fired and published, on a thread of its own
if ``threaded`` (which would wait forever if deciding held the lock), before the first ``fire``
takes its lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import machines
from machines import Event, Outcome

__all__ = ["DECIDE", "RivalAfterTheDecision", "raced"]

DECIDE = machines._machine._decide


class RivalAfterTheDecision:
    """Stands in for ``_decide``: the first decision made is followed, before its ``fire`` takes
    the lock, by ``rival`` fired and published (on a thread of its own if ``threaded``)."""

    def __init__(self, machine: machines.SymbolMachine, rival: Event, *, threaded: bool) -> None:
        self.machine, self.rival, self.threaded = machine, rival, threaded
        self.decisions = 0
        self.fired: list[Outcome] = []

    def __call__(self, state: str, decision: Any) -> Any:
        verdict = DECIDE(state, decision)
        self.decisions += 1
        if self.decisions == 1:
            if self.threaded:
                thread = threading.Thread(target=self._fire_rival)
                thread.start()
                thread.join()
            else:
                self._fire_rival()
        return verdict

    def _fire_rival(self) -> None:
        self.fired.append(self.machine.fire(self.rival))


@contextmanager
def raced(
    machine: machines.SymbolMachine, rival: Event, *, threaded: bool
) -> Iterator[RivalAfterTheDecision]:
    race = RivalAfterTheDecision(machine, rival, threaded=threaded)
    machines._machine._decide = race
    try:
        yield race
    finally:
        machines._machine._decide = DECIDE
