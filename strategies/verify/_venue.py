"""The venue at work: what executing a command, a fill, a cancel, the close or the stream does.

Each handler takes the clone of a world and a ``Step``, changes the clone as the venue (and the
stream) would, fires what reaches the machine, and says whether the step could happen at all.
A command executes in the order the machine decided it. A replace names its size (at Alpaca
one without a size keeps the order's original quantity); as the twin's matching core reads
Alpaca's row 6, what the old order filled while the replace was in flight comes off the new
one, and a replace left with nothing is refused. The model's flight runs from the machine's
decision (the runner sends at once) to the execute step; a fill the venue made before the
decision but the machine had not yet heard of is not in it, so the venue sizes that
replacement past the position — the race the machine's ``overfill`` anomaly answers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from machines import (
    CancelOrder,
    ClientOrderId,
    ClosePosition,
    Command,
    EntryLeg,
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
    Side,
)
from strategies.verify._world import (
    FOREIGN_ID,
    MARKET_PRICE,
    Step,
    VenueOrder,
    VenueStatus,
    VerifySetup,
    World,
)

__all__ = [
    "entry_legs",
    "event_time",
    "on_cancel",
    "on_close",
    "on_deliver",
    "on_duplicate",
    "on_execute",
    "on_fill",
    "on_foreign",
    "target",
]

_ZERO = Decimal(0)


@lru_cache(maxsize=64)
def event_time(setup: VerifySetup, day: date) -> datetime:
    """The time the events of ``day`` carry (cached: one per day)."""
    return setup.at(day)


@lru_cache(maxsize=16)
def entry_legs(setup: VerifySetup) -> tuple[EntryLeg, EntryLeg]:
    """The setup's long and short entry legs (cached)."""
    return setup.legs()


def target(command: Command) -> str:
    """The order a command creates (or, for a cancel, names)."""
    if isinstance(command, ReplaceStop):
        return command.new_client_order_id
    return command.client_order_id


def on_execute(w: World, step: Step) -> bool:
    """The venue executes the oldest command in flight (the runner sends them in order)."""
    if not w.requests:
        return False
    command, *rest = w.requests
    cid = target(command)
    if type(command).__name__ != step.what or cid != step.cid:
        return False
    w.requests = tuple(rest)
    at = event_time(w.setup, w.machine.snapshot().trading_date)
    if isinstance(command, CancelOrder):
        order = w.orders.get(cid)
        if order is not None and order.open:  # else: already terminal (422): nothing to send
            w.put(_with(order, cancel_requested=True))
        return True
    qty = _qty_of(w, command)
    if cid in w.asked:
        w.asked = {k: v for k, v in w.asked.items() if k != cid}
    if cid in w.orders:  # a reused client order id: the venue refuses it (the check reports it)
        w.emit(OrderRejected(client_order_id=cid, at=at, reason="reused id"), True)
        return True
    old = w.orders.get(command.client_order_id) if isinstance(command, ReplaceStop) else None
    replaceable = old is not None and old.open and not old.cancel_requested and qty > 0
    if step.arg == "rejected" or (isinstance(command, ReplaceStop) and not replaceable):
        # Refused (or, for a replace, the old order is no longer open: filled, cancelled or
        # being cancelled, or it filled all the replace asked for meanwhile). The REST answer
        # says so; the runner fires it at once.
        w.put(_order(w, command, VenueStatus.REJECTED, qty))
        w.emit(OrderRejected(client_order_id=cid, at=at, reason="refused"), True)
        return True
    w.put(_order(w, command, VenueStatus.OPEN, qty))
    if old is not None and qty > abs(w.position):  # the machine had not heard of a fill
        w.raced = w.raced | {cid}
    if old is not None:  # Alpaca's order: ``replaced`` for the old order, then ``new``
        w.put(_with(old, status=VenueStatus.REPLACED))
        old_id = old.client_order_id
        w.emit(OrderReplaced(client_order_id=old_id, new_client_order_id=cid, at=at), step.now)
    w.emit(OrderAccepted(client_order_id=cid, at=at), step.now)
    return True


def _order(w: World, command: Command, status: VenueStatus, qty: Decimal) -> VenueOrder:
    return VenueOrder(
        client_order_id=target(command),
        role=_role_of(command),
        side=_side_of(w, command),
        qty=qty,
        price=_price_of(command),
        status=status,
    )


def on_fill(w: World, step: Step) -> bool:
    order = w.orders.get(step.cid)
    cumulative = Decimal(step.arg)
    if order is None or not order.open or not order.filled < cumulative <= order.qty:
        return False
    status = VenueStatus.FILLED if cumulative == order.qty else VenueStatus.OPEN
    if order.role is OrderRole.ENTRY:
        w.double_fill = w.double_fill or _other_leg_filled(w, order)
        w.entry_side = order.side
    elif order.client_order_id in w.raced:
        after = w.position + order.side.sign * (cumulative - order.filled)
        w.overfilled = w.overfilled or order.side.sign * after > 0  # through zero: reversed
    w.put(_with(order, filled=cumulative, status=status))
    at = event_time(w.setup, w.machine.snapshot().trading_date)
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


def on_cancel(w: World, step: Step) -> bool:
    order = w.orders.get(step.cid)
    if order is None or not order.open:
        return False
    if not order.cancel_requested:
        return False
    w.put(_with(order, status=VenueStatus.CANCELLED))
    at = event_time(w.setup, w.machine.snapshot().trading_date)
    event = OrderCancelled(
        client_order_id=order.client_order_id,
        at=at,
        filled_qty=order.filled,
        avg_fill_price=order.price if order.filled else None,
    )
    w.emit(event, step.now)
    return True


def on_close(w: World, step: Step) -> bool:
    if w.closed or not w.machine.snapshot().done_for_day:
        return False
    w.closed = True
    ending = [o for o in w.orders.values() if o.open and o.role is not OrderRole.EXIT]
    at = event_time(w.setup, w.machine.snapshot().trading_date)
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


def on_deliver(w: World, step: Step) -> bool:
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


def on_duplicate(w: World, step: Step) -> bool:
    seen = sorted(w.delivered.get(step.cid, frozenset()), key=repr)
    index = int(step.arg)
    if index >= len(seen):
        return False
    w.fire(seen[index])
    return True


def on_foreign(w: World, step: Step) -> bool:
    at = event_time(w.setup, w.machine.snapshot().trading_date)
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
    """The new order's quantity: what the command names, less — for a replace — what the old
    order filled at the venue since the machine decided it (the twin's reading of row 6)."""
    assert not isinstance(command, CancelOrder)
    if isinstance(command, ReplaceStop):
        old = w.orders.get(command.client_order_id)
        if old is not None:
            since = old.filled - w.asked.get(command.new_client_order_id, old.filled)
            return command.qty - since
    return command.qty


def _price_of(command: Command) -> Decimal:
    if isinstance(command, PlaceEntry | PlaceStop | ReplaceStop):
        return command.stop_price
    return MARKET_PRICE
