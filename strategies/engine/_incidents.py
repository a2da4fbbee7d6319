"""Incidents: what the runner met that is not a machine outcome — logged and counted by name.

A machine's outcomes are logged and counted by their kind (``transition``, ``race_detected``,
``anomaly_detected``); the runner's own events around them — a command re-driven after a failed
send, a journaled command judged too late to send, a signal that raised — get the same
treatment here: one stable snake_case name each (the constants below), a structlog line with
``symbol`` and whatever the caller adds, a count per (name, symbol), and any listeners (the
Prometheus metrics).

| name                 | what happened                                                          |
|----------------------|------------------------------------------------------------------------|
| ``command_failed``   | a command could not be delivered after the adapter's retries            |
| ``command_redriven`` | a failed stop, exit or cancel was sent again (same client order id)    |
| ``command_adopted``  | a failed or unconfirmed command's order was found at the broker        |
| ``command_skipped``  | recovery judged a journaled command's moment gone; the machine was told|
| ``order_lost``       | an order never reached the broker (absent past the not-found grace)    |
| ``protection_lost``  | a position sat without stop or exit past the bound: flatten and halt   |
| ``signal_error``     | a signal raised: its symbol is halted and flattened                    |
| ``engine_fault``     | anything else raised in the engine: the run shuts down                 |
| ``halt_lifted``      | a halted symbol trades again (next session, or an operator's resume)   |
| ``halt_kept``        | a halted symbol stays halted over a rollover (not settled/scope/alarm) |
| ``resume_requested`` | an operator's ``tickstate resume`` was picked up                       |
| ``carried_over``     | a position outlived its session (the runner was down): closed at once  |
| ``lockstep_timeout`` | lock-step: a moment's bars or trade updates did not all come in time   |
| ``order_late``       | free-running: an order reached the venue after the bar it was meant for|
| ``kill_switch``      | the daily loss limit was reached: every symbol halted and flattened    |
| ``data_stale``       | in the session, a symbol had no bar for ``stale_after``                |
| ``buying_power_blocked`` | an entry's notional exceeded the account's buying power: not sent  |

Watchers (``watch``) see each incident with its fields too (the notification hook).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import structlog

__all__ = [
    "BUYING_POWER_BLOCKED",
    "CARRIED_OVER",
    "COMMAND_ADOPTED",
    "COMMAND_FAILED",
    "COMMAND_REDRIVEN",
    "COMMAND_SKIPPED",
    "DATA_STALE",
    "ENGINE_FAULT",
    "HALT_KEPT",
    "HALT_LIFTED",
    "KILL_SWITCH",
    "LOCKSTEP_TIMEOUT",
    "ORDER_LATE",
    "ORDER_LOST",
    "PROTECTION_LOST",
    "RESUME_REQUESTED",
    "SIGNAL_ERROR",
    "Incidents",
]

COMMAND_FAILED = "command_failed"
BUYING_POWER_BLOCKED = "buying_power_blocked"
COMMAND_REDRIVEN = "command_redriven"
COMMAND_ADOPTED = "command_adopted"
COMMAND_SKIPPED = "command_skipped"
ORDER_LOST = "order_lost"
PROTECTION_LOST = "protection_lost"
SIGNAL_ERROR = "signal_error"
ENGINE_FAULT = "engine_fault"
HALT_LIFTED = "halt_lifted"
HALT_KEPT = "halt_kept"
RESUME_REQUESTED = "resume_requested"
CARRIED_OVER = "carried_over"
LOCKSTEP_TIMEOUT = "lockstep_timeout"
ORDER_LATE = "order_late"
KILL_SWITCH = "kill_switch"
DATA_STALE = "data_stale"

#: Sees every incident: (name, symbol or None).
Listener = Callable[[str, str | None], None]
#: Sees every incident with its fields: (name, symbol or None, fields).
Watcher = Callable[[str, str | None, Mapping[str, Any]], None]

_log = structlog.get_logger("tickstate.runner")


class Incidents:
    """Counts and logs the runner's incidents; safe to share between threads (counts only grow
    under the GIL's atomic ``Counter`` update of one key)."""

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy
        self._counts: Counter[tuple[str, str | None]] = Counter()
        self._listeners: list[Listener] = []
        self._watchers: list[Watcher] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` for every incident from now on."""
        self._listeners.append(listener)

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher`` with every incident and its fields from now on (it must not block:
        it runs on the thread that noted the incident, usually the engine's)."""
        self._watchers.append(watcher)

    def note(
        self, name: str, *, symbol: str | None = None, level: str = "warning", **fields: Any
    ) -> None:
        """Log one incident under ``name`` at ``level`` and count it."""
        getattr(_log, level)(name, strategy=self.strategy, symbol=symbol, **fields)
        self._counts[(name, symbol)] += 1
        for listener in self._listeners:
            listener(name, symbol)
        for watcher in self._watchers:
            watcher(name, symbol, fields)

    def count(self, name: str, symbol: str | None = None) -> int:
        """How often ``name`` was noted (for ``symbol``; every symbol when None)."""
        if symbol is not None:
            return self._counts[(name, symbol)]
        return sum(n for (each, _s), n in self._counts.items() if each == name)

    def counts(self) -> Mapping[str, int]:
        """Every incident name noted so far, with its count over all symbols, sorted."""
        totals: Counter[str] = Counter()
        for (name, _symbol), n in self._counts.items():
            totals[name] += n
        return MappingProxyType(dict(sorted(totals.items())))
