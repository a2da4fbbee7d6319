"""What can happen next in a world, and what each of those steps does to it.

``next_steps`` lists every step, strategy events first (those the table declares a plain
decline or race are left out: the declaration alone decides them), then the venue at work
and the stream; ``apply_step`` takes one on a clone of the world. Small domains keep the
exploration finite: one entry size, three entry shapes, trails a tick tighter, looser or
equal, fills of one share or the rest; square-off, then one session close, then one rollover.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from machines import (
    LIFECYCLE_TABLE,
    BrokerSnapshotTaken,
    CancelOrder,
    ClientOrderId,
    ClosePosition,
    Command,
    DayRolledOver,
    Decline,
    EntryLeg,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    HaltRequested,
    Ignore,
    InitialStopRevised,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRole,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
    ResumeRequested,
    Side,
    SquareOffReached,
    TrailProposed,
    round_stop,
)
from strategies.verify._world import (
    FOREIGN_ID,
    MARKET_PRICE,
    Applied,
    Step,
    VenueOrder,
    VenueStatus,
    VerifySetup,
    World,
)

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
                steps.append(Step("execute", type(head).__name__, _target(head), branch))
            elif isinstance(head, CancelOrder):
                steps.append(Step("execute", type(head).__name__, head.client_order_id, ""))
                break
            else:
                for now in delays:
                    steps.append(Step("execute", type(head).__name__, _target(head), branch, now))
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


def _target(command: Command) -> str:
    """The order a command creates (or, for a cancel, names)."""
    if isinstance(command, ReplaceStop):
        return command.new_client_order_id
    return command.client_order_id


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
    at = _at(setup, snap.trading_date)
    if what in _ENTRIES:
        long_leg, short_leg = _legs(setup)
        legs = {"entry_long": (long_leg,), "entry_short": (short_leg,)}.get(
            what, (long_leg, short_leg)
        )
        return EntrySignalled(at=at, qty=setup.qty, legs=legs)
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
            original = _legs(setup)[0 if leg.side is Side.BUY else 1].initial_stop
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


@lru_cache(maxsize=64)
def _at(setup: VerifySetup, day: date) -> datetime:
    return setup.at(day)


@lru_cache(maxsize=16)
def _legs(setup: VerifySetup) -> tuple[EntryLeg, EntryLeg]:
    return setup.legs()


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
        at=_at(w.setup, w.machine.snapshot().trading_date),
        position_qty=w.position,
        open_orders=tuple(sorted(o.client_order_id for o in w.orders.values() if o.open)),
    )
    w.lost = False
    w.fire(snap)
    return True


def _on_execute(w: World, step: Step) -> bool:
    """The venue executes the oldest command in flight (the runner sends them in order)."""
    if not w.requests:
        return False
    command, *rest = w.requests
    cid = _target(command)
    if type(command).__name__ != step.what or cid != step.cid:
        return False
    w.requests = tuple(rest)
    at = _at(w.setup, w.machine.snapshot().trading_date)
    if isinstance(command, CancelOrder):
        order = w.orders.get(cid)
        if order is not None and order.open:  # else: already terminal (422): nothing to send
            w.put(_with(order, cancel_requested=True))
        return True
    if cid in w.orders:  # a reused client order id: the venue refuses it (the check reports it)
        w.emit(OrderRejected(client_order_id=cid, at=at, reason="reused id"), True)
        return True
    old = w.orders.get(command.client_order_id) if isinstance(command, ReplaceStop) else None
    replaceable = old is not None and old.open and not old.cancel_requested
    if step.arg == "rejected" or (isinstance(command, ReplaceStop) and not replaceable):
        # Refused (or, for a replace, the old order is no longer open: filled, cancelled or
        # being cancelled). The REST answer says so; the runner fires it at once.
        w.put(_order(w, command, VenueStatus.REJECTED))
        w.emit(OrderRejected(client_order_id=cid, at=at, reason="refused"), True)
        return True
    w.put(_order(w, command, VenueStatus.OPEN))
    if old is not None:  # Alpaca's order: ``replaced`` for the old order, then ``new``
        w.put(_with(old, status=VenueStatus.REPLACED))
        old_id = old.client_order_id
        w.emit(OrderReplaced(client_order_id=old_id, new_client_order_id=cid, at=at), step.now)
    w.emit(OrderAccepted(client_order_id=cid, at=at), step.now)
    return True


def _order(w: World, command: Command, status: VenueStatus) -> VenueOrder:
    return VenueOrder(
        client_order_id=_target(command),
        role=_role_of(command),
        side=_side_of(w, command),
        qty=_qty_of(w, command),
        price=_price_of(command),
        status=status,
    )


def _on_fill(w: World, step: Step) -> bool:
    order = w.orders.get(step.cid)
    cumulative = Decimal(step.arg)
    if order is None or not order.open or not order.filled < cumulative <= order.qty:
        return False
    status = VenueStatus.FILLED if cumulative == order.qty else VenueStatus.OPEN
    if order.role is OrderRole.ENTRY:
        w.double_fill = w.double_fill or _other_leg_filled(w, order)
        w.entry_side = order.side
    w.put(_with(order, filled=cumulative, status=status))
    at = _at(w.setup, w.machine.snapshot().trading_date)
    event = OrderFilled(
        client_order_id=order.client_order_id,
        at=at,
        filled_qty=cumulative,
        avg_fill_price=order.price,
    )
    w.emit(event, step.now)
    return True


def _other_leg_filled(w: World, order: VenueOrder) -> bool:
    """The other leg of ``order``'s attempt has filled at the venue: an OCO pair filled twice."""
    mine = ClientOrderId.parse(order.client_order_id)
    for other in w.orders.values():
        if other.role is not OrderRole.ENTRY or other.side is order.side or not other.filled:
            continue
        theirs = ClientOrderId.parse(other.client_order_id)
        if mine is not None and theirs is not None and (
            (mine.trading_date, mine.attempt) == (theirs.trading_date, theirs.attempt)
        ):
            return True
    return False


def _on_cancel(w: World, step: Step) -> bool:
    order = w.orders.get(step.cid)
    if order is None or not order.open:
        return False
    if not order.cancel_requested:
        return False
    w.put(_with(order, status=VenueStatus.CANCELLED))
    at = _at(w.setup, w.machine.snapshot().trading_date)
    event = OrderCancelled(
        client_order_id=order.client_order_id,
        at=at,
        filled_qty=order.filled,
        avg_fill_price=order.price if order.filled else None,
    )
    w.emit(event, step.now)
    return True


def _on_close(w: World, step: Step) -> bool:
    if w.closed or not w.machine.snapshot().done_for_day:
        return False
    w.closed = True
    ending = [o for o in w.orders.values() if o.open and o.role is not OrderRole.EXIT]
    at = _at(w.setup, w.machine.snapshot().trading_date)
    for order in sorted(ending, key=lambda o: o.client_order_id):
        w.put(_with(order, status=VenueStatus.EXPIRED))
        event = OrderExpired(
            client_order_id=order.client_order_id,
            at=at,
            filled_qty=order.filled,
            avg_fill_price=order.price if order.filled else None,
        )
        w.emit(event, step.now)
    return True


def _on_deliver(w: World, step: Step) -> bool:
    queued = w.queues.get(step.cid)
    if not queued:
        return False
    index = int(step.arg) if step.arg else 0
    if index >= len(queued):
        return False
    event = queued[index]
    rest = queued[:index] + queued[index + 1 :]
    w.queues = {k: v for k, v in w.queues.items() if k != step.cid}
    if rest:
        w.queues[step.cid] = rest
    if step.kind == "lose":
        w.lost = True
        return True
    w.deliver(event)
    return True


def _on_duplicate(w: World, step: Step) -> bool:
    seen = sorted(w.delivered.get(step.cid, frozenset()), key=repr)
    index = int(step.arg)
    if index >= len(seen):
        return False
    w.fire(seen[index])
    return True


def _on_foreign(w: World, step: Step) -> bool:
    at = _at(w.setup, w.machine.snapshot().trading_date)
    event: OrderEvent
    if step.what == "accepted":
        event = OrderAccepted(client_order_id=FOREIGN_ID, at=at)
    elif step.what == "cancelled":
        event = OrderCancelled(client_order_id=FOREIGN_ID, at=at)
    elif step.what == "filled":
        event = OrderFilled(
            client_order_id=FOREIGN_ID, at=at, filled_qty=Decimal(1), avg_fill_price=MARKET_PRICE
        )
    else:
        return False
    w.fire(event)
    return True


_HANDLERS = {
    "strategy": _on_strategy,
    "snapshot": _on_snapshot,
    "execute": _on_execute,
    "fill": _on_fill,
    "cancel": _on_cancel,
    "close": _on_close,
    "deliver": _on_deliver,
    "reorder": _on_deliver,
    "lose": _on_deliver,
    "duplicate": _on_duplicate,
    "foreign": _on_foreign,
}


# --- commands as the venue reads them --------------------------------------------------------


def _with(order: VenueOrder, **changes: object) -> VenueOrder:
    fields = {
        "client_order_id": order.client_order_id,
        "role": order.role,
        "side": order.side,
        "qty": order.qty,
        "price": order.price,
        "status": order.status,
        "filled": order.filled,
        "cancel_requested": order.cancel_requested,
    }
    fields.update(changes)
    return VenueOrder(**fields)  # type: ignore[arg-type]


def _role_of(command: Command) -> OrderRole:
    if isinstance(command, PlaceEntry):
        return OrderRole.ENTRY
    if isinstance(command, ClosePosition):
        return OrderRole.EXIT
    return OrderRole.STOP


def _side_of(w: World, command: Command) -> Side:
    if isinstance(command, ReplaceStop):
        old = w.orders.get(command.client_order_id)
        if old is not None:
            return old.side
        return Side.SELL if w.position > 0 else Side.BUY
    assert not isinstance(command, CancelOrder)
    return command.side


def _qty_of(w: World, command: Command) -> Decimal:
    """The new order's quantity. A replace that names none keeps what the old order still has
    to fill, as the venue sees it when the replace lands."""
    if isinstance(command, ReplaceStop) and command.qty is None:
        old = w.orders.get(command.client_order_id)
        return old.remaining if old is not None else _ZERO
    assert not isinstance(command, CancelOrder)
    assert command.qty is not None
    return command.qty


def _price_of(command: Command) -> Decimal:
    if isinstance(command, PlaceEntry | PlaceStop | ReplaceStop):
        return command.stop_price
    return MARKET_PRICE
