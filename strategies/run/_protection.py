"""Protection that heals: the runner's two bounds on a position left without a stop or exit.

``Protection.apply`` runs when a reconciliation pass is applied, on the engine thread:

1. **Re-drive** (the first bound): each stop or exit whose delivery failed after the adapter's
   retries, and that its machine still waits for, is sent again with the same client order id —
   the broker refuses a second order with it, so a resend cannot place it twice — or adopted
   when the broker has it after all; at most ``RunSettings.redrive_limit`` sends in all.
2. **Watch** (the second bound): a position the broker holds, as the machine does, with no stop
   or exit working or in flight for ``RunSettings.protection_timeout`` seconds of the run's clock
   is flattened and its symbol halted (``protection_lost``); a halted one is flattened.

In between, the not-found grace makes an order the broker never had a rejected one for its
machine, which places a fresh stop or exit under its role's next id (``reconcile``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from machines import ExitSignalled, HaltRequested
from strategies.engine import _incidents as incident
from strategies.engine._engine import Engine
from strategies.run._reconcile import Reconciliation, redrive, unprotected

if TYPE_CHECKING:
    from strategies.run._settings import RunSettings

__all__ = ["Protection"]


class Protection:
    """The re-drive and the watch of one run (engine thread only)."""

    def __init__(self, engine: Engine, settings: RunSettings) -> None:
        self.engine = engine
        self.settings = settings
        self._unprotected_since: dict[str, datetime] = {}

    def apply(self, found: Reconciliation) -> int:
        """Re-drive, then watch; how many failed commands were sent again."""
        sent = self._redrive(found)
        self._watch(found)
        return sent

    def _redrive(self, found: Reconciliation) -> int:
        """Send again (same client order id) the failed stops and exits the machines still wait
        for, adopt those the broker has after all, drop the rest; how many were sent."""
        engine = self.engine
        snapshots = {s.symbol: s for s in engine.desk.snapshots()}
        sent = 0
        for decision in redrive(
            list(engine.failed.values()), snapshots, found.orders, engine.redriven
        ):
            item = decision.failed
            if decision.action == "adopt" and decision.order is not None:
                engine.failed.pop(item.placed_id, None)
                engine.ids.learn(decision.order.client_order_id, decision.order.id)
                engine.incidents.note(
                    incident.COMMAND_ADOPTED,
                    symbol=item.symbol,
                    level="info",
                    client_order_id=item.placed_id,
                )
            elif decision.action == "resend" and item.attempts < self.settings.redrive_limit:
                engine.incidents.note(
                    incident.COMMAND_REDRIVEN,
                    symbol=item.symbol,
                    client_order_id=item.placed_id,
                    command=type(item.command).__name__,
                    attempt=item.attempts + 1,
                )
                engine.send(item.symbol, item.command, item.transition_seq, again=True)
                engine.drain()
                sent += 1
            else:  # not awaited any more, or resent enough: the grace and the watch decide
                engine.failed.pop(item.placed_id, None)
        return sent

    def _watch(self, found: Reconciliation) -> None:
        """The second bound: a held position left with nothing protecting it is closed."""
        engine = self.engine
        now = engine.clock.now()
        bare = unprotected(
            engine.desk.snapshots(), found.positions, found.orders, failed=list(engine.failed)
        )
        for symbol in [s for s in self._unprotected_since if s not in bare]:
            del self._unprotected_since[symbol]
        for symbol in sorted(bare):
            since = self._unprotected_since.setdefault(symbol, now)
            waited = (now - since).total_seconds()
            if waited < self.settings.protection_timeout:
                continue
            del self._unprotected_since[symbol]
            snapshot = engine.desk.machine(symbol).snapshot()
            engine.incidents.note(
                incident.PROTECTION_LOST,
                symbol=symbol,
                level="error",
                state=snapshot.state,
                position=str(snapshot.position),
                seconds=round(waited, 3),
            )
            reason = incident.PROTECTION_LOST
            if snapshot.is_halted:
                engine.fire(symbol, ExitSignalled(at=now, reason=reason))
            else:
                engine.fire(symbol, HaltRequested(at=now, reason=reason, flatten=True))
