"""Policies a strategy file chooses and the engine applies: how long a halt lasts.

``HaltScope`` is shared by the strategy file (``halt_scope``) and the engine that applies it,
which sit on different floors, so it lives on the shared one.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["HaltScope"]


class HaltScope(StrEnum):
    """How long a halted symbol stays halted."""

    #: Until the next session: at the rollover a halted symbol that is flat and settled trades
    #: again (``halt_lifted``); one still holding a position or an order stays halted, and so
    #: does one whose halt raised the operator alarm (``Snapshot.alarm``: the operator's).
    SESSION = "session"
    #: Until an operator resumes it (``tickstate resume JOURNAL SYMBOL``).
    UNTIL_RESUMED = "until_resumed"
