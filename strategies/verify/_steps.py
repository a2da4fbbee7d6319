"""What can happen next in a world, and taking one of those steps.

``next_steps`` lists every step, strategy events first (those the table declares a plain
decline or race are left out: the declaration alone decides them), then the venue at work
and the stream; ``apply_step`` takes one on a clone of the world (the venue's handlers are in
``_venue``; strategy events and snapshots are built here). Small domains keep the
exploration finite: one entry size, three entry shapes, trails a tick tighter, looser or
equal, fills of one share or the rest; square-off, then one session close, then one rollover.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from machines import (
    LIFECYCLE_TABLE,
    BrokerSnapshotTaken,
    CancelOrder,
    DayRolledOver,
    Decline,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    HaltRequested,
    Ignore,
    InitialStopRevised,
    OrderRole,
    PriceMoved,
    ResumeRequested,
    Side,
    SquareOffReached,
    TrailProposed,
    round_stop,
)
from strategies.verify import _venue as v
from strategies.verify._world import FOREIGN_ID, Applied, Step, World

__all__ = ["apply_step", "next_steps", "strategy_event"]

_ZERO = Decimal(0)


def apply_step(world: World, step: Step) -> Applied | None:
    """The world after ``step``, or None when ``step`` cannot happen in ``world``."""
    handler = _HANDLERS.get(step.kind)
    if handler is None:
        return None
    nxt = world.clone()
    try:
        done = handler(nxt, step)
    except Exception as exc:  # fire() must never raise: the check reports it
        return nxt.applied(raised=exc)
    return nxt.applied() if done else None


# --- steps: what can happen next -------------------------------------------------------------


def next_steps(world: World) -> list[Step]:
    """Every step that can happen in ``world``, strategy events first."""
    steps = [Step("strategy", what) for what in _strategy_events(world)]
    # A reconciliation is read as ``BrokerSnapshotTaken`` asks: once every command decided so
    # far was executed and every event sent so far was fired (or lost, for a hostile venue).
    # The runner only ever fires one when a difference persists over two passes, which a
    # difference that is only the stream's lag never does.
    if not world.requests and not world.queues:
        steps.append(Step("snapshot"))
    # Per-order delivery delays, bounded: at most ``in_flight`` venue events wait at once.
    delays = (True, False) if sum(map(len, world.queues.values())) < world.in_flight else (True,)
    if world.requests:
        head = world.requests[0]
        for branch in ("accepted", "rejected"):
            if branch == "rejected":
                # A refusal is the REST answer to the request: the runner fires it at once.
                steps.append(Step("execute", type(head).__name__, v.target(head), branch))
            elif isinstance(head, CancelOrder):
                steps.append(Step("execute", type(head).__name__, head.client_order_id, ""))
                break
            else:
                for now in delays:
                    steps.append(Step("execute", type(head).__name__, v.target(head), branch, now))
    day_orders = False
    for order in sorted(world.orders.values(), key=lambda o: o.client_order_id):
        if not order.open:
            continue
        cid = order.client_order_id
        # A market order (the exit) fills at once; the others in part or in full.
        fills = [order.qty] if order.role is OrderRole.EXIT else _fills(order.filled, order.qty)
        for cumulative in fills:
            for now in delays:
                steps.append(Step("fill", "", cid, str(cumulative), now))
        if order.cancel_requested:
            for now in delays:
                steps.append(Step("cancel", "", cid, "", now))
        day_orders = day_orders or order.role is not OrderRole.EXIT
    # The session closes (every working day order expires at once) after the square-off, as
    # the rules order them: square-off, then the close, then the next session's rollover.
    if not world.closed and world.machine.snapshot().done_for_day:
        for now in delays if day_orders else (True,):
            steps.append(Step("close", now=now))
    for cid in sorted(world.queues):
        steps.append(Step("deliver", "", cid))
    if world.mode == "hostile":
        steps += _hostile_steps(world)
    return steps


def _fills(filled: Decimal, qty: Decimal) -> list[Decimal]:
    """Cumulative quantities a fill may reach: one more share, or the whole order."""
    found = []
    if filled + 1 < qty:
        found.append(filled + 1)
    found.append(qty)
    return found


def _hostile_steps(world: World) -> list[Step]:
    steps: list[Step] = []
    for cid in sorted(world.queues):
        queued = world.queues[cid]
        for index in range(len(queued)):
            if index:
                steps.append(Step("reorder", "", cid, str(index)))
            steps.append(Step("lose", "", cid, str(index)))
    for cid in sorted(world.delivered):
        for index in range(len(world.delivered[cid])):
            steps.append(Step("duplicate", "", cid, str(index)))
    for what in ("accepted", "cancelled", "filled"):
        steps.append(Step("foreign", what, FOREIGN_ID))
    return steps


def _strategy_events(world: World) -> list[str]:
    """The strategy events worth firing now.

    One whose (state, trigger) the table declares a plain ``Decline`` or ``Ignore`` is left
    out: that declaration alone decides it (nothing changes; the totality tests prove each
    such pair), so firing it could only repeat the state it started from.
    """
    snap = world.machine.snapshot()
    state = snap.state
    found = []
    for what, trigger in _TRIGGER_OF.items():
        if isinstance(LIFECYCLE_TABLE[(state, trigger)], Decline | Ignore):
            continue
        if trigger == "trail" and (snap.side is None or snap.desired_stop is None):
            continue
        if trigger == "revise_initial_stop" and not snap.working_entries:
            continue
        if trigger == "price_moved" and snap.held_entry is None:
            continue
        if trigger == "day_rollover" and not (
            world.closed and snap.trading_date == world.setup.trading_date
        ):
            continue  # once, to the next session, after the day's close
        found.append(what)
    return found


#: Each strategy step, by the lifecycle trigger its event stands for.
_TRIGGER_OF = {
    "entry_long": "entry_signal",
    "entry_short": "entry_signal",
    "entry_oco": "entry_signal",
    "trail_tighter": "trail",
    "trail_equal": "trail",
    "trail_looser": "trail",
    "revise_initial_stop": "revise_initial_stop",
    "price_to_held_leg": "price_moved",
    "exit": "exit_signal",
    "halt": "halt",
    "halt_flatten": "halt",
    "resume": "resume",
    "entry_timeout": "entry_timeout",
    "square_off": "square_off",
    "rollover": "day_rollover",
}


def strategy_event(world: World, what: str) -> Event | None:
    """The strategy event ``what`` names, built from the machine as it stands (None: not here)."""
    setup = world.setup
    snap = world.machine.snapshot()
    at = v.event_time(setup, snap.trading_date)
    if what in _ENTRIES:
        long_leg, short_leg = v.entry_legs(setup)
        legs = {"entry_long": (long_leg,), "entry_short": (short_leg,)}.get(
            what, (long_leg, short_leg)
        )
        # A pair on a venue that refuses opposite orders rests one leg: the long, nearer the
        # mark (``price_to_held_leg`` swaps them).
        mark = setup.base + setup.entry_gap / 2 if setup.rules.one_resting_leg else None
        return EntrySignalled(at=at, qty=setup.qty, legs=legs, mark=mark)
    if what == "price_to_held_leg":
        held = snap.held_entry
        if held is None or held.stop_price is None:
            return None
        return PriceMoved(at=at, price=held.stop_price)
    if what.startswith("trail_"):
        side, current = snap.side, snap.desired_stop
        if side is None or current is None:
            return None
        tick = setup.rules.tick.size_at(current)
        toward = tick if side is Side.BUY else -tick  # tighter: up for a long, down for a short
        step = {"trail_tighter": toward, "trail_equal": _ZERO, "trail_looser": -toward}[what]
        price = round_stop(side, current + step, setup.rules.tick)
        return TrailProposed(at=at, stop_price=price) if price > 0 else None
    if what == "revise_initial_stop":
        # One alternative initial stop per leg, a tick looser than the signal's (a revision may
        # loosen: no stop order exists yet); revising again to it changes nothing.
        for leg in snap.working_entries:
            original = v.entry_legs(setup)[0 if leg.side is Side.BUY else 1].initial_stop
            tick = setup.rules.tick.size_at(original)
            looser = original - tick if leg.side is Side.BUY else original + tick
            return InitialStopRevised(at=at, side=leg.side, stop_price=looser)
        return None
    if what == "exit":
        return ExitSignalled(at=at, reason="target")
    if what in ("halt", "halt_flatten"):
        return HaltRequested(at=at, reason="kill_switch", flatten=what == "halt_flatten")
    if what == "resume":
        return ResumeRequested(at=at)
    if what == "entry_timeout":
        return EntryTimedOut(at=at, attempt=max(1, snap.entries_today))
    if what == "square_off":
        return SquareOffReached(at=at)
    if what == "rollover":
        return DayRolledOver(trading_date=snap.trading_date + timedelta(days=1))
    return None


_ENTRIES = frozenset({"entry_long", "entry_short", "entry_oco"})


# --- handlers: (the clone to change, the step) -> whether the step could happen here -----


def _on_strategy(w: World, step: Step) -> bool:
    event = strategy_event(w, step.what)
    if event is None:
        return False
    w.fire(event)
    if isinstance(event, DayRolledOver):
        w.closed = False  # the next session is open
    return True


def _on_snapshot(w: World, step: Step) -> bool:
    snap = BrokerSnapshotTaken(
        at=v.event_time(w.setup, w.machine.snapshot().trading_date),
        position_qty=w.position,
        open_orders=tuple(sorted(o.client_order_id for o in w.orders.values() if o.open)),
    )
    w.lost = False
    w.fire(snap)
    return True


_HANDLERS = {
    "strategy": _on_strategy,
    "snapshot": _on_snapshot,
    "execute": v.on_execute,
    "fill": v.on_fill,
    "cancel": v.on_cancel,
    "close": v.on_close,
    "deliver": v.on_deliver,
    "reorder": v.on_deliver,
    "lose": v.on_deliver,
    "duplicate": v.on_duplicate,
    "foreign": v.on_foreign,
}


