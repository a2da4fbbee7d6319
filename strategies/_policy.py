"""Policies a strategy file chooses and the engine applies: how long a halt lasts, how fast a
simulated venue may replay.

``HaltScope`` is shared by the strategy file (``halt_scope``) and the engine that applies it,
which sit on different floors, so it lives on the shared one.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

__all__ = [
    "MAX_COMMAND_WORKERS",
    "MAX_QTY",
    "MAX_RISK",
    "MAX_SPEED",
    "MIN_RISK",
    "MIN_SPEED",
    "HaltScope",
]

# Replay speeds: in lock-step (the default) the exchange waits for the run, so any finite speed
# up to a billion is "as fast as the run goes"; slower than 1/1000 of real time never ends; inf
# and nan are no speed at all. A free-running replay (--realtime) warns when it outruns the
# run (order_late). The strategy file's ``[broker] speed`` and the ``--speed`` flags share them.
MIN_SPEED, MAX_SPEED = 0.001, 1_000_000_000.0


# Sizes an entry can be: a fixed quantity past a million shares, or a risk past a million (or
# under a cent, which sizes every entry at 0 shares), is a typo, never an order (issue 18).
MAX_QTY = 1_000_000
MIN_RISK, MAX_RISK = Decimal("0.01"), Decimal("1000000")

# Command workers of a live run: a request in flight each. Alpaca allows 200 requests a minute
# (the pool paces itself by its rate-limit headers); more than 64 at once buys only threads.
MAX_COMMAND_WORKERS = 64


class HaltScope(StrEnum):
    """How long a halted symbol stays halted."""

    #: Until the next session: at the rollover a halted symbol that is flat and settled trades
    #: again (``halt_lifted``); one still holding a position or an order stays halted, and so
    #: does one whose halt raised the operator alarm (``Snapshot.alarm``: the operator's).
    SESSION = "session"
    #: Until an operator resumes it (``tickstate resume JOURNAL SYMBOL``).
    UNTIL_RESUMED = "until_resumed"
