"""What a live run's shutdown waits for, and the line an engine fault ends the run with.

The shutdown (``LiveRunner._shut_down``) cancels working entries and flattens (unless told not
to); it then waits, within ``shutdown_timeout``, only while an answer is outstanding: a symbol
it keeps (``--no-flatten``, or halted) holds its position under its stop without holding the
process up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from machines import Snapshot

__all__ = ["at_rest", "fault_line"]


def at_rest(snapshots: Iterable[Snapshot], *, flatten: bool) -> bool:
    """A shutdown has nothing left to wait for: each symbol settled, or keeping what it holds
    (not ``flatten``, or halted: never flattened on the way out) with no answer outstanding."""
    return all(
        s.is_settled
        or (not (flatten and not s.is_halted) and not s.awaits_broker and not s.has_working_entry)
        for s in snapshots
    )


def fault_line(exc: Exception, unsettled: Sequence[str]) -> str:
    """The one line an engine fault ends the run with, once its shutdown ran: honest about the
    symbols it left ``unsettled`` (a position or an order at the broker)."""
    done = f"NOT settled at the broker: {', '.join(unsettled[:5])}: check it"
    return (
        f"engine fault: {type(exc).__name__}: {exc} ({done if unsettled else 'positions flattened'}"
        ", journal consistent; the traceback is in the log)"
    )
