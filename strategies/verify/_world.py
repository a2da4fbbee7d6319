"""The world a model check explores: one real ``SymbolMachine`` and a model of the venue's side.

The venue model holds what a broker knows of the symbol — its orders (quantity, cumulative fill,
status), hence its position — plus what is in flight between the two: the machine's commands not
yet executed (in order, as the runner sends them) and, per order, the venue's events not yet
delivered (in order per order, in any interleaving across orders: per-order delivery delays).

A ``Step`` (``_steps`` lists and takes them) is one thing that can happen next: a strategy
event, the venue executing the next command (accepted or refused), filling or cancelling an
order, the session's close expiring day orders, the stream delivering an event, a
reconciliation snapshot. ``hostile`` venues also duplicate, re-deliver stale events,
reorder an order's own events, lose them, and name an order nobody placed. Worlds are immutable
once built: a step returns a new world that shares everything it did not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from machines import (
    ClientOrderId,
    Command,
    EntryLeg,
    Event,
    OrderEvent,
    OrderRole,
    Outcome,
    OutcomeKind,
    ReplaceStop,
    Rules,
    Side,
    SymbolMachine,
)

if TYPE_CHECKING:
    from strategies.spec import StrategySpec

__all__ = [
    "FOREIGN_ID",
    "MARKET_PRICE",
    "Applied",
    "BrokerMode",
    "Step",
    "VenueOrder",
    "VenueStatus",
    "VerifySetup",
    "World",
    "short_id",
]

BrokerMode = Literal["faithful", "hostile"]
_ZERO = Decimal(0)
#: An order id no machine ever issued (someone else's order, or a manual one).
FOREIGN_ID = "someone-else-1"
#: Where a market order (the exit) fills.
MARKET_PRICE = Decimal("100.00")
_RECORDS_FACTS = frozenset({OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY})


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifySetup:
    """What a check starts from: the machine's identity and rules, the day, the entry's size.

    The price domain is small on purpose: a long enters above ``base`` (``entry_gap`` away) with
    its initial stop ``risk`` below the entry, a short mirrors it; trails move one tick.
    """

    strategy: str = "verify"
    symbol: str = "SYM"
    # The plan of a venue that refuses an order opposite a working one (Alpaca's), as every
    # strategy file declares it for its broker: one resting leg of a pair, the stop after the
    # entry remainder's cancel.
    rules: Rules = field(
        default_factory=lambda: Rules(one_resting_leg=True, stop_waits_for_entry=True)
    )
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
    def of(cls, spec: StrategySpec) -> VerifySetup:
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

    ``kind`` says what (``strategy``, ``execute``, ``fill``, ``cancel``, ``close`` — the session
    ends, every day order expires —, ``deliver``, ``snapshot``; hostile also ``reorder``,
    ``lose``, ``duplicate``, ``foreign``); ``what`` and ``cid`` say which; ``arg`` carries a
    fill's cumulative quantity, an index or a branch (``accepted``/``rejected``); ``now`` is
    True when the venue's events are delivered at once, False when they are queued.
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
class Applied:
    """What a step did: the world it led to, and the events the machine was fired on the way
    with their outcomes (``raised``: ``fire()`` raised, which no event may make it do)."""

    world: World
    outcomes: tuple[Outcome, ...]
    events: tuple[Event, ...]
    raised: BaseException | None = None


class World:
    """The machine, the venue's orders and what is in flight; never changed once built."""

    __slots__ = (
        "_events",
        "_outcomes",
        "asked",
        "closed",
        "delivered",
        "double_fill",
        "entry_side",
        "in_flight",
        "lost",
        "machine",
        "mode",
        "orders",
        "overfilled",
        "queues",
        "raced",
        "requests",
        "setup",
        "taken",
    )

    def __init__(self, setup: VerifySetup, mode: BrokerMode, in_flight: int = 2) -> None:
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
        # Replacements the venue sized past its position when they landed: the machine asked
        # for no more than its books held (a check), so by fills it had not heard of yet.
        self.raced: frozenset[str] = frozenset()
        # Such a replacement filled past the position (the venue's position went through zero).
        self.overfilled = False
        # Per replacement still to be executed: what the order it replaces had filled at the
        # venue when the machine decided the replace (the runner sends it at once).
        self.asked: dict[str, Decimal] = {}
        self.lost = False  # a message was lost since the last snapshot
        self.closed = False  # the session closed (its day orders expired); the next not begun
        self._events: list[Event] = []
        self._outcomes: list[Outcome] = []

    def clone(self) -> World:
        """A copy to take one step on (sharing every unchanged part)."""
        twin = World.__new__(World)
        twin._events = []
        twin._outcomes = []
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
        twin.overfilled = self.overfilled
        twin.raced = self.raced
        twin.asked = self.asked
        twin.lost = self.lost
        twin.closed = self.closed
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
            self.overfilled,
            self.raced,
            frozenset(self.asked.items()),
            self.lost,
            self.closed,
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

    # --- changing a clone, while one step is taken ----------------------------------------

    def applied(self, raised: BaseException | None = None) -> Applied:
        """This clone as the result of the step taken on it."""
        return Applied(self, tuple(self._outcomes), tuple(self._events), raised)

    def fire(self, event: Event) -> Outcome:
        """Fire ``event`` at the machine; its commands join the requests in flight."""
        outcome = self.machine.fire(event)
        self._outcomes.append(outcome)
        self._events.append(event)
        if outcome.commands:
            self.requests = (*self.requests, *outcome.commands)
            for command in outcome.commands:
                if isinstance(command, ReplaceStop):
                    old = self.orders.get(command.client_order_id)
                    then = old.filled if old is not None else _ZERO
                    self.asked = {**self.asked, command.new_client_order_id: then}
        filled = getattr(event, "filled_qty", None)
        cid = getattr(event, "client_order_id", None)
        if (
            filled is not None
            and cid in self.orders
            and outcome.kind in _RECORDS_FACTS
            and filled > self.taken.get(cid, _ZERO)
        ):
            self.taken = {**self.taken, cid: filled}
        return outcome

    def emit(self, event: OrderEvent, now: bool) -> None:
        """The venue sends ``event``: delivered at once (unless its order still has events
        queued: they go first), or queued for a later delivery step."""
        cid = event.client_order_id
        queued = self.queues.get(cid, ())
        if now and not queued:
            self.deliver(event)
            return
        self.queues = {**self.queues, cid: (*queued, event)}

    def deliver(self, event: OrderEvent) -> None:
        """The stream hands ``event`` to the machine (a hostile one remembers it, to repeat)."""
        if self.mode == "hostile":
            cid = event.client_order_id
            seen = self.delivered.get(cid, frozenset())
            self.delivered = {**self.delivered, cid: seen | {event}}
        self.fire(event)

    def put(self, order: VenueOrder) -> None:
        """The venue's order, as it stands now."""
        self.orders = {**self.orders, order.client_order_id: order}
