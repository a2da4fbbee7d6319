"""Recovery after a crash: what was journaled but never confirmed is judged, then settled.

A command is journaled before it is sent; a crash between the two leaves it without a result.
On restart each such command is first looked up at the broker by its client order id and
adopted if the broker has it. If not, it is judged against the rebuilt machine and the clock
before anything is sent (docs/design.md §8, invariant 12: recovery never sends the past):

| command        | skipped when                                                           |
|----------------|------------------------------------------------------------------------|
| any            | the machine no longer waits for it (its order ended, the attempt moved on) |
| ``PlaceEntry`` | its trading date is not today's, it is past the entry cutoff (so past   |
|                | the square-off), or outside the entry window                           |
| ``ReplaceStop``| the stop it replaces is no longer working at the broker                |

A command still due is sent again with the same client order id (a broker refuses a second
order with it, so a resend can never place the order twice). A skipped one is recorded as
``skipped`` with its reason, and the machine told the order never worked (``OrderRejected``),
so its books stay coherent: a skipped entry ends its attempt, a skipped replace leaves the old
stop protecting. Protective stops, exits and cancels are never too late while the machine waits
for them: they protect or close a position that is still there.

An engine fault can leave the same kind of command behind without a crash: the live runner's
shutdown settles those first (``settle_interrupted``) — adopted if the broker has the order, a
cancel sent again, anything else skipped as ``interrupted_by_fault`` — so that it flattens
without waiting on an answer to an order the broker never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from brokers import Broker, BrokerError
from machines import (
    CancelOrder,
    ClientOrderId,
    OrderRejected,
    PlaceEntry,
    ReplaceStop,
    Snapshot,
    TrackStatus,
)
from strategies.engine import Engine, execute, placed_id
from strategies.engine import _incidents as incident
from strategies.journal import Journal, PendingCommand

__all__ = ["judge_pending", "settle_interrupted", "settle_pending"]

_log = structlog.get_logger("tickstate.recovery")


def judge_pending(
    item: PendingCommand, snapshot: Snapshot, now: datetime, engine: Engine
) -> str | None:
    """Why ``item``'s moment has passed (its reason), or None when it is still due."""
    command = item.command
    wanted = placed_id(command)
    status = TrackStatus.CANCEL_SENT if isinstance(command, CancelOrder) else TrackStatus.SENT
    if not any(t.client_order_id == wanted and t.status is status for t in snapshot.working_orders):
        return "no_longer_awaited"
    if not isinstance(command, PlaceEntry):
        return None
    plan = engine.plan
    today = now.astimezone(plan.session.timezone).date()
    cid = ClientOrderId.parse(command.client_order_id)
    if cid is not None and cid.trading_date != today:
        return "other_trading_date"
    if now >= plan.at(today, plan.square_off):
        return "past_square_off"
    if now >= plan.at(today, plan.entry_cutoff):
        return "past_entry_cutoff"
    if not engine.desk.machine(item.symbol).rules.in_entry_window(now):
        return "outside_entry_window"
    return None


def settle_pending(
    pending: Sequence[PendingCommand], engine: Engine, broker: Broker, journal: Journal | None
) -> None:
    """Commands journaled before a crash but never confirmed: adopt what the broker has; judge
    the rest against the machine and the clock; resend what is still due (same client order id),
    record the rest as skipped and tell the machine."""
    for item in pending:
        command = item.command
        if _adopted(item, engine, broker, journal):
            continue
        placed = placed_id(command)
        now = engine.clock.now()
        snapshot = engine.desk.machine(item.symbol).snapshot()
        why = judge_pending(item, snapshot, now, engine)
        if why is None and isinstance(command, ReplaceStop):
            old = broker.find_order_by_client_id(command.client_order_id)
            if old is None or not old.is_open:
                why = "stop_not_working"
        if why is not None:
            _skip(item, why, engine, journal, now)
            continue
        try:
            results = execute(
                command, broker, engine.ids, now, stop_tif=engine.plan.stop_time_in_force
            )
        except BrokerError as exc:
            outcome, detail = "failed", exc.message
        else:
            outcome, detail = ("rejected" if results else "sent"), "resent after restart"
            for event in results:
                engine.fire(item.symbol, event)
        if journal is not None:
            journal.record_result(item.transition_seq, command, outcome, detail)
        _log.info("resent", symbol=item.symbol, client_order_id=placed, result=outcome)


def settle_interrupted(engine: Engine, journal: Journal, *, timeout: float) -> None:
    """The engine faulted, perhaps between journaling a transition and carrying out its commands:
    settle those before the shutdown, or it would wait on the answer to a stop (or cancel) the
    broker never saw. Adopt what the broker has; cancel again what was to be cancelled; to the
    machine the rest never worked (``interrupted_by_fault``), so it flattens without them. Only
    once the command workers are idle (else a late send could land after its skip)."""
    executor = engine.executor
    if executor is not None and not executor.wait_idle(timeout):
        _log.warning("interrupted_not_settled", reason="command workers still busy")
        return
    for item in journal.unanswered(engine.desk.strategy):
        command = item.command
        if isinstance(command, CancelOrder):  # its result is journaled as it is carried out
            engine.send(item.symbol, command, item.transition_seq, again=True)
        elif not _adopted(item, engine, engine.broker, journal):
            snapshot = engine.desk.machine(item.symbol).snapshot()
            why = judge_pending(item, snapshot, engine.clock.now(), engine)
            why = "no_longer_awaited" if why == "no_longer_awaited" else "interrupted_by_fault"
            _skip(item, why, engine, journal, engine.clock.now())
    engine.drain()


def _adopted(item: PendingCommand, engine: Engine, broker: Broker, journal: Journal | None) -> bool:
    """Whether the broker has the order ``item`` places: then it is adopted and journaled so."""
    command = item.command
    placed = placed_id(command)
    found = None if isinstance(command, CancelOrder) else broker.find_order_by_client_id(placed)
    if found is None:
        return False
    engine.ids.learn(found.client_order_id, found.id)
    if journal is not None:
        journal.record_result(item.transition_seq, command, "reconciled", "adopted")
    engine.incidents.note(
        incident.COMMAND_ADOPTED, symbol=item.symbol, level="info", client_order_id=placed
    )
    return True


def _skip(
    item: PendingCommand, why: str, engine: Engine, journal: Journal | None, now: datetime
) -> None:
    command = item.command
    placed = placed_id(command)
    if journal is not None:
        journal.record_result(item.transition_seq, command, "skipped", why)
    engine.incidents.note(
        incident.COMMAND_SKIPPED,
        symbol=item.symbol,
        client_order_id=placed,
        command=type(command).__name__,
        reason=why,
    )
    if why != "no_longer_awaited" and not isinstance(command, CancelOrder):
        # The order never reached the broker and never will: to the machine it never worked.
        engine.fire(
            item.symbol, OrderRejected(client_order_id=placed, at=now, reason=f"skipped: {why}")
        )
