"""Outcomes of the lifecycle machines become log lines with stable names.

``log_outcome`` logs one outcome; ``log_fired`` is the same as an engine observer. Both run in
the thread that fired, after the symbol's lock was released, so ``tid`` names that thread.

| outcome  | event name          | level   |
|----------|---------------------|---------|
| accepted | ``transition``      | info    |
| declined | ``signal_declined`` | info    |
| ignored  | ``race_detected``   | warning |
| anomaly  | ``anomaly_detected``| error   |

A square-off that finds its symbol flat (every flat symbol, every session) changes nothing and
sends nothing: it is logged at debug, so the info log shows only what moved.
"""

from __future__ import annotations

import structlog

from machines import Outcome, OutcomeKind, SquareOffReached, State
from strategies.engine._engine import Fired

__all__ = ["log_fired", "log_outcome"]

_log = structlog.get_logger("tickstate.lifecycle")

_NAMES = {
    OutcomeKind.ACCEPTED: ("transition", "info"),
    OutcomeKind.DECLINED: ("signal_declined", "info"),
    OutcomeKind.IGNORED: ("race_detected", "warning"),
    OutcomeKind.ANOMALY: ("anomaly_detected", "error"),
}


def log_outcome(outcome: Outcome) -> None:
    """Log one machine outcome under its stable event name."""
    name, level = _NAMES[outcome.kind]
    if _idle_square_off(outcome):
        level = "debug"
    snapshot = outcome.snapshot
    fields: dict[str, object] = {
        "strategy": snapshot.strategy,
        "symbol": snapshot.symbol,
        "state": outcome.state_to,
        "state_from": outcome.state_from,
        "state_to": outcome.state_to,
        "trigger": outcome.trigger,
    }
    if outcome.client_order_id is not None:
        fields["client_order_id"] = outcome.client_order_id
    if outcome.reason is not None:
        fields["reason"] = outcome.reason
    if outcome.commands:
        fields["commands"] = [f"{type(c).__name__}:{c.client_order_id}" for c in outcome.commands]
    getattr(_log, level)(name, **fields)


def _idle_square_off(outcome: Outcome) -> bool:
    """A square-off that found its symbol flat and left it so, with nothing to send."""
    return (
        isinstance(outcome.event, SquareOffReached)
        and outcome.state_from is State.FLAT
        and outcome.state_to is State.FLAT
        and not outcome.commands
    )


def log_fired(fired: Fired) -> None:
    """``log_outcome`` as an engine observer."""
    log_outcome(fired.outcome)
