"""The world a model check explores: one real ``SymbolMachine`` and a model of the venue's side.

The venue model holds what a broker knows of the symbol — its orders (quantity, cumulative fill,
status), hence its position — plus what is in flight between the two: the machine's commands not
yet executed (in order, as the runner sends them) and, per order, the venue's events not yet
delivered (in order per order, in any interleaving across orders: per-order delivery delays).

A ``Step`` is one thing that can happen next: a strategy event, the venue executing the next
command (accepted or refused), filling, cancelling or expiring an order, the stream delivering
an event, a reconciliation snapshot. ``hostile`` venues also duplicate, re-deliver stale events,
reorder an order's own events, lose them, and name an order nobody placed. Worlds are immutable
once built: a step returns a new world that shares everything it did not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

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
    Outcome,
    OutcomeKind,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
    ResumeRequested,
    Rules,
    Side,
    SquareOffReached,
    SymbolMachine,
    TrailProposed,
    round_stop,
)

if TYPE_CHECKING:
    from strategies.spec import StrategySpec

__all__ = [
    "FOREIGN_ID",
    "BrokerMode",
    "Setup",
    "Step",
    "VenueOrder",
    "VenueStatus",
    "World",
    "next_steps",
    "short_id",
]

BrokerMode = Literal["faithful", "hostile"]
_ZERO = Decimal(0)
#: An order id no machine ever issued (someone else's order, or a manual one).
FOREIGN_ID = "someone-else-1"
_MARKET = Decimal("100.00")  # where a market order (the exit) fills
_RECORDS_FACTS = frozenset({OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY})


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """What a check starts from: the machine's identity and rules, the day, the entry's size.

    The price domain is small on purpose: a long enters above ``base`` (``entry_gap`` away) with
    its initial stop ``risk`` below the entry, a short mirrors it; trails move one tick.
    """

    strategy: str = "verify"
    symbol: str = "SYM"
    rules: Rules = field(default_factory=Rules)
    trading_date: date = date(2026, 11, 23)
    qty: Decimal = Decimal(2)
    base: Decimal = Decimal("100.00")
    entry_gap: Decimal = Decimal("1.00")
    risk: Decimal = Decimal("2.00")

    def at(self, day: date) -> datetime:
        """The time every event of ``day`` carries: one minute into the entry window."""
        window = self.rules.entry_window
        start = window[0] if window is not None else time(10, 0)
        local = datetime.combine(day, start, tzinfo=ZoneInfo(self.rules.timezone))
        return local + timedelta(minutes=1)

    @classmethod
    def of(cls, spec: StrategySpec) -> Setup:
        """The setup of a strategy file: its name, its first symbol and that symbol's rules."""
        symbol = spec.symbols[0]
        return cls(strategy=spec.name, symbol=symbol, rules=spec.rules()[symbol])

    def machine(self) -> SymbolMachine:
        """A fresh machine of this setup."""
        return SymbolMachine(
            strategy=self.strategy,
            symbol=self.symbol,
            trading_date=self.trading_date,
            rules=self.rules,
        )

    def legs(self) -> tuple[EntryLeg, EntryLeg]:
        """The long leg and the short leg (an OCO pair is both)."""
        up, down = self.base + self.entry_gap, self.base - self.entry_gap
        return (
            EntryLeg(side=Side.BUY, entry_price=up, initial_stop=up - self.risk),
            EntryLeg(side=Side.SELL, entry_price=down, initial_stop=down + self.risk),
        )


class VenueStatus(StrEnum):
    """An order's status at the venue (the model's own, much smaller than a real venue's)."""

    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """One order as the venue knows it."""

    client_order_id: str
    role: OrderRole
    side: Side
    qty: Decimal
    price: Decimal
    status: VenueStatus = VenueStatus.OPEN
    filled: Decimal = _ZERO
    cancel_requested: bool = False

    @property
    def open(self) -> bool:
        return self.status is VenueStatus.OPEN

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that can happen next, named so that it can be replayed by name.

    ``kind`` says what (``strategy``, ``execute``, ``fill``, ``cancel``, ``expire``, ``deliver``,
    ``snapshot``; hostile also ``reorder``, ``lose``, ``duplicate``, ``foreign``); ``what`` and
    ``cid`` say which; ``arg`` carries a fill's cumulative quantity, an index or a branch;
    ``now`` is True when the venue's events are delivered at once, False when they are queued.
    """

    kind: str
    what: str = ""
    cid: str = ""
    arg: str = ""
    now: bool = True

    @property
    def label(self) -> str:
        """A short line for people."""
        parts = [self.kind, self.what, short_id(self.cid), self.arg]
        text = " ".join(p for p in parts if p)
        if self.kind in _VENUE_ACTIONS:
            text += "" if self.now else " (queued)"
        return text


_VENUE_ACTIONS = frozenset({"execute", "fill", "cancel", "close"})


def short_id(cid: str) -> str:
    """A client order id without its strategy, symbol and day (``1-buy``, ``1-stop-r1``)."""
    parsed = ClientOrderId.parse(cid)
    if parsed is None:
        return cid
    seq = f"-r{parsed.seq}" if parsed.seq else ""
    return f"{parsed.attempt}-{parsed.tag.value}{seq}"


@dataclass(frozen=True, slots=True)
class _Applied:
    """What a step did: the world it led to and the machine's outcomes on the way."""

    world: World
    outcomes: tuple[Outcome, ...]
    events: tuple[Event, ...]
    raised: BaseException | None = None


class World:
    """The machine, the venue's orders and what is in flight; never changed once built."""

    __slots__ = (
        "delivered",
        "double_fill",
        "entry_side",
        "in_flight",
        "lost",
        "machine",
        "mode",
        "orders",
        "queues",
        "requests",
        "setup",
        "taken",
    )

    def __init__(self, setup: Setup, mode: BrokerMode, in_flight: int = 2) -> None:
        self.setup = setup
        self.mode = mode
        self.in_flight = in_flight
        self.machine = setup.machine()
        self.orders: dict[str, VenueOrder] = {}
        self.requests: tuple[Command, ...] = ()
        self.queues: dict[str, tuple[OrderEvent, ...]] = {}
        self.delivered: dict[str, frozenset[OrderEvent]] = {}
        self.taken: dict[str, Decimal] = {}  # cumulative fill the machine took, per order
        self.entry_side: Side | None = None  # the side of the latest entry fill at the venue
        self.double_fill = False  # both legs of a one-cancels-other pair filled at the venue
        self.lost = False  # a message was lost since the last snapshot

    def _clone(self) -> World:
        twin = World.__new__(World)
        twin.setup = self.setup
        twin.mode = self.mode
        twin.in_flight = self.in_flight
        twin.machine = self.machine.fork()
        twin.orders = self.orders
        twin.requests = self.requests
        twin.queues = self.queues
        twin.delivered = self.delivered
        twin.taken = self.taken
        twin.entry_side = self.entry_side
        twin.double_fill = self.double_fill
        twin.lost = self.lost
        return twin

    # --- reading ---------------------------------------------------------------------------

    def key(self) -> tuple[object, ...]:
        """The canonical state: the machine's fingerprint and the venue's side."""
        return (
            self.machine.fingerprint(),
            frozenset(self.orders.values()),
            self.requests,
            frozenset(self.queues.items()),
            frozenset(self.delivered.items()),
            frozenset(self.taken.items()),
            self.entry_side,
            self.double_fill,
            self.lost,
        )

    @property
    def position(self) -> Decimal:
        """The venue's signed position: the sum of every fill."""
        return sum((o.side.sign * o.filled for o in self.orders.values()), _ZERO)

    def open_orders(self) -> tuple[VenueOrder, ...]:
        return tuple(o for o in self.orders.values() if o.open)

    @property
    def at_rest(self) -> bool:
        """Nothing in flight: every command executed, every event delivered, no cancel the venue
        still owes a confirmation for, no market order (an exit) still to fill."""
        if self.requests or self.queues:
            return False
        return not any(
            o.open and (o.cancel_requested or o.role is OrderRole.EXIT)
            for o in self.orders.values()
        )

    def in_sync(self) -> bool:
        """The machine's books agree with the venue: position and the set of working orders."""
        snap = self.machine.snapshot()
        working = {t.client_order_id for t in snap.working_orders}
        venue = {o.client_order_id for o in self.orders.values() if o.open}
        return snap.position == self.position and working == venue

    # --- stepping --------------------------------------------------------------------------

    def apply(self, step: Step) -> _Applied | None:
        """The world after ``step``, or None when ``step`` cannot happen here."""
        handler = _HANDLERS.get(step.kind)
        if handler is None:
            return None
        nxt = self._clone()
        fired: list[Outcome] = []
        events: list[Event] = []
        try:
            done = handler(nxt, step, fired, events)
        except Exception as exc:  # fire() must never raise: the check reports it
            return _Applied(nxt, tuple(fired), tuple(events), raised=exc)
        if not done:
            return None
        return _Applied(nxt, tuple(fired), tuple(events))

    def _fire(self, event: Event, fired: list[Outcome], events: list[Event]) -> Outcome:
        outcome = self.machine.fire(event)
        fired.append(outcome)
        events.append(event)
        if outcome.commands:
            self.requests = (*self.requests, *outcome.commands)
        filled = getattr(event, "filled_qty", None)
        cid = getattr(event, "client_order_id", None)
        if filled is not None and cid in self.orders and outcome.kind in _RECORDS_FACTS:
            if filled > self.taken.get(cid, _ZERO):
                self.taken = {**self.taken, cid: filled}
        return outcome

    def _emit(self, event: OrderEvent, now: bool, fired: list[Outcome], events: list[Event]) -> None:
        """The venue sends ``event``: delivered at once (behind what its order still has
        queued), or queued for a later delivery step."""
        cid = event.client_order_id
        queued = self.queues.get(cid, ())
        if now and not queued:
            self._deliver(event, fired, events)
            return
        self.queues = {**self.queues, cid: (*queued, event)}

    def _deliver(self, event: OrderEvent, fired: list[Outcome], events: list[Event]) -> None:
        if self.mode == "hostile":
            cid = event.client_order_id
            self.delivered = {**self.delivered, cid: self.delivered.get(cid, frozenset()) | {event}}
        self._fire(event, fired, events)

    def _put(self, order: VenueOrder) -> None:
        self.orders = {**self.orders, order.client_order_id: order}


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
    if day_orders and world.machine.snapshot().done_for_day:
        for now in delays:
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
    return command.new_client_order_id if isinstance(command, ReplaceStop) else command.client_order_id


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
            snap.done_for_day and snap.trading_date == world.setup.trading_date
        ):
            continue  # once, to the next session, after the day's square-off
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
def _at(setup: Setup, day: date) -> datetime:
    return setup.at(day)


@lru_cache(maxsize=16)
def _legs(setup: Setup) -> tuple[EntryLeg, EntryLeg]:
    return setup.legs()


# --- handlers: (world to change, step, outcomes, events) -> whether the step could happen -----


def _on_strategy(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    event = strategy_event(w, step.what)
    if event is None:
        return False
    w._fire(event, fired, events)
    return True


def _on_snapshot(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    snap = BrokerSnapshotTaken(
        at=_at(w.setup, w.machine.snapshot().trading_date),
        position_qty=w.position,
        open_orders=tuple(sorted(o.client_order_id for o in w.orders.values() if o.open)),
    )
    w.lost = False
    w._fire(snap, fired, events)
    return True


def _on_execute(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    if not w.requests:
        return False
    command, *rest = w.requests
    if type(command).__name__ != step.what or _target(command) != step.cid:
        return False
    w.requests = tuple(rest)
    at = _at(w.setup, w.machine.snapshot().trading_date)
    cid = _target(command)
    if isinstance(command, CancelOrder):
        order = w.orders.get(command.client_order_id)
        if order is not None and order.open:  # else: already terminal or never placed (422/404)
            w._put(_with(order, cancel_requested=True))
        return True
    if cid in w.orders:  # a reused client order id: the venue refuses it (the check reports it)
        w._emit(OrderRejected(client_order_id=cid, at=at, reason="reused id"), True, fired, events)
        return True
    if step.arg == "rejected":
        role = _role_of(command)
        side = _side_of(w, command)
        w._put(VenueOrder(client_order_id=cid, role=role, side=side, qty=_qty_of(w, command),
                          price=_price_of(command), status=VenueStatus.REJECTED))
        w._emit(OrderRejected(client_order_id=cid, at=at, reason="refused"), True, fired, events)
        return True
    if isinstance(command, ReplaceStop):
        old = w.orders.get(command.client_order_id)
        if old is None or not old.open or old.cancel_requested:
            # Not replaceable (filled, cancelled, being cancelled): the new order is rejected.
            w._put(VenueOrder(client_order_id=cid, role=OrderRole.STOP, side=_side_of(w, command),
                              qty=_qty_of(w, command), price=command.stop_price,
                              status=VenueStatus.REJECTED))
            w._emit(OrderRejected(client_order_id=cid, at=at, reason="not open"), True, fired, events)
            return True
        w._put(_with(old, status=VenueStatus.REPLACED))
        w._put(VenueOrder(client_order_id=cid, role=OrderRole.STOP, side=old.side,
                          qty=_qty_of(w, command), price=command.stop_price))
        replaced = OrderReplaced(
            client_order_id=old.client_order_id, new_client_order_id=cid, at=at
        )
        w._emit(replaced, step.now, fired, events)
        w._emit(OrderAccepted(client_order_id=cid, at=at), step.now, fired, events)
        return True
    w._put(VenueOrder(client_order_id=cid, role=_role_of(command), side=_side_of(w, command),
                      qty=_qty_of(w, command), price=_price_of(command)))
    w._emit(OrderAccepted(client_order_id=cid, at=at), step.now, fired, events)
    return True


def _on_fill(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    order = w.orders.get(step.cid)
    cumulative = Decimal(step.arg)
    if order is None or not order.open or not order.filled < cumulative <= order.qty:
        return False
    status = VenueStatus.FILLED if cumulative == order.qty else VenueStatus.OPEN
    if order.role is OrderRole.ENTRY:
        w.double_fill = w.double_fill or _other_leg_filled(w, order)
        w.entry_side = order.side
    w._put(_with(order, filled=cumulative, status=status))
    at = _at(w.setup, w.machine.snapshot().trading_date)
    event = OrderFilled(
        client_order_id=order.client_order_id,
        at=at,
        filled_qty=cumulative,
        avg_fill_price=order.price,
    )
    w._emit(event, step.now, fired, events)
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


def _on_cancel(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    order = w.orders.get(step.cid)
    if order is None or not order.open:
        return False
    if not order.cancel_requested:
        return False
    w._put(_with(order, status=VenueStatus.CANCELLED))
    at = _at(w.setup, w.machine.snapshot().trading_date)
    event = OrderCancelled(
        client_order_id=order.client_order_id,
        at=at,
        filled_qty=order.filled,
        avg_fill_price=order.price if order.filled else None,
    )
    w._emit(event, step.now, fired, events)
    return True


def _on_close(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    ending = [o for o in w.orders.values() if o.open and o.role is not OrderRole.EXIT]
    if not ending:
        return False
    at = _at(w.setup, w.machine.snapshot().trading_date)
    for order in sorted(ending, key=lambda o: o.client_order_id):
        w._put(_with(order, status=VenueStatus.EXPIRED))
        event = OrderExpired(
            client_order_id=order.client_order_id,
            at=at,
            filled_qty=order.filled,
            avg_fill_price=order.price if order.filled else None,
        )
        w._emit(event, step.now, fired, events)
    return True


def _on_deliver(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
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
    w._deliver(event, fired, events)
    return True


def _on_duplicate(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    seen = sorted(w.delivered.get(step.cid, frozenset()), key=repr)
    index = int(step.arg)
    if index >= len(seen):
        return False
    w._fire(seen[index], fired, events)
    return True


def _on_foreign(w: World, step: Step, fired: list[Outcome], events: list[Event]) -> bool:
    at = _at(w.setup, w.machine.snapshot().trading_date)
    event: OrderEvent
    if step.what == "accepted":
        event = OrderAccepted(client_order_id=FOREIGN_ID, at=at)
    elif step.what == "cancelled":
        event = OrderCancelled(client_order_id=FOREIGN_ID, at=at)
    elif step.what == "filled":
        event = OrderFilled(
            client_order_id=FOREIGN_ID, at=at, filled_qty=Decimal(1), avg_fill_price=_MARKET
        )
    else:
        return False
    w._fire(event, fired, events)
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
    return _MARKET
