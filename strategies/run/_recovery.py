"""Recovery after a crash: what was journaled but never confirmed is settled, never guessed.

A command is journaled before it is sent; a crash between the two leaves it without a result.
On restart the broker is asked (by client order id) whether it has the order: it is adopted if
so, and sent again with the same client order id if not (a broker refuses a second order with
it, so a resend can never place the order twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from brokers import Broker, BrokerError
from machines import CancelOrder
from strategies.engine import Engine, execute
from strategies.journal import Journal, PendingCommand

__all__ = ["settle_pending"]

_log = structlog.get_logger("tickstate.recovery")


def settle_pending(
    pending: Sequence[PendingCommand], engine: Engine, broker: Broker, journal: Journal | None
) -> None:
    """Commands journaled before a crash but never confirmed: adopt what the broker has, resend
    the rest with the same client order id (the broker refuses a second order with it)."""
    for item in pending:
        command = item.command
        placed = getattr(command, "new_client_order_id", None) or command.client_order_id
        found = None if isinstance(command, CancelOrder) else broker.find_order_by_client_id(placed)
        if found is not None:
            engine.ids.learn(found.client_order_id, found.id)
            if journal is not None:
                journal.record_result(item.transition_seq, command, "reconciled", "adopted")
            _log.info("adopted", symbol=item.symbol, client_order_id=placed)
            continue
        try:
            results = execute(command, broker, engine.ids, engine.clock.now())
        except BrokerError as exc:
            outcome, detail = "failed", exc.message
        else:
            outcome, detail = ("rejected" if results else "sent"), "resent after restart"
            for event in results:
                engine.fire(item.symbol, event)
        if journal is not None:
            journal.record_result(item.transition_seq, command, outcome, detail)
        _log.info("resent", symbol=item.symbol, client_order_id=placed, result=outcome)
