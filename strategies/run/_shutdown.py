"""What a live run's shutdown waits for, the line an engine fault ends the run with, and what
the run says it left at the broker.

The shutdown (``LiveRunner._shut_down``) cancels working entries and flattens (unless told not
to); it then waits, within ``shutdown_timeout``, only while an answer is outstanding: a symbol
it keeps (``--no-flatten``, or halted) holds its position under its stop without holding the
process up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from machines import OrderRole, Snapshot

__all__ = ["at_rest", "fault_line", "left_at_broker"]


def at_rest(snapshots: Iterable[Snapshot], *, flatten: bool) -> bool:
    """A shutdown has nothing left to wait for: each symbol settled, or keeping what it holds
    (not ``flatten``, or halted: never flattened on the way out) with no answer outstanding."""
    return all(
        s.is_settled
        or ((s.is_halted or not flatten) and not s.awaits_broker and not s.has_working_entry)
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


def left_at_broker(snapshots: Iterable[Snapshot]) -> list[str]:
    """Each symbol the run ended with a position or an order at the broker (``--no-flatten``, a
    halt, a shutdown out of time): what is there, so nobody forgets it."""
    found = []
    for snapshot in snapshots:
        if snapshot.is_settled:
            continue
        why = f"halted: {snapshot.halt_reason}" if snapshot.is_halted else "not flattened"
        side = "long" if snapshot.position > 0 else "short"
        held = (
            f"holds {abs(snapshot.position)} {side} at the broker"
            if snapshot.position
            else f"has {len(snapshot.working_orders)} orders working at the broker"
        )
        stops = [o for o in snapshot.working_orders if o.role is OrderRole.STOP]
        if snapshot.position and stops and stops[-1].stop_price is not None:
            held += f" under its stop at {stops[-1].stop_price}"
        found.append(f"{snapshot.symbol} {held} ({why}): it is yours to manage now")
    return found
