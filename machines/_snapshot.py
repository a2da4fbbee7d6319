"""What a machine shows the world: immutable snapshots, with the questions callers ask of them.

Code above ``machines`` reads a symbol only through a ``Snapshot``, and asks it questions in the
domain's words (``is_flat``, ``holds_position``, ``has_working_entry``, ...) rather than comparing
states itself: the answer to "may a trail be proposed now?" belongs to the machine's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from machines._orders import OrderRole, OrderTrack, Side, TrackStatus
from machines._state import State
from machines._values import value

__all__ = ["Counters", "Snapshot"]

# States in which the machine manages an open position and takes trails and exits.
_MANAGING = frozenset({State.IN_POSITION, State.STOP_REPLACING})


@value
class Snapshot:
    """An immutable view of one symbol, safe to read from any thread."""

    strategy: str
    symbol: str
    state: State
    trading_date: date
    entries_today: int
    max_attempts: int
    position: Decimal  # signed: negative for a short
    side: Side | None  # the side of the entry that opened the position
    stop_price: Decimal | None  # the stop the broker holds (or is placing)
    desired_stop: Decimal | None  # the stop the machine wants (tighter while a replace flies)
    working_orders: tuple[OrderTrack, ...]
    halt_reason: str | None
    exit_reason: str | None
    done_for_day: bool
    last_trigger: str | None
    transitions: int
    races: int
    anomalies: int
    # Set by an anomaly the machine will not resolve by itself: the operator must look (the
    # policy rows of the table say which). Cleared by ``resume``. Last, with a default, so
    # snapshots journaled before it existed still read.
    alarm: str | None = None
    # The leg of a pair held back while the other rests (``Rules.one_resting_leg``): decided,
    # its id fixed, never sent. Defaulted, so earlier journals' snapshots still read.
    held_entry: OrderTrack | None = None

    @property
    def attempt(self) -> int:
        """The number of today's latest attempt (0 before the first): its orders' ids carry it."""
        return self.entries_today

    @property
    def is_flat(self) -> bool:
        """No position, no working order: a new entry may be decided (rules permitting)."""
        return self.state is State.FLAT

    @property
    def is_halted(self) -> bool:
        """An anomaly or a kill switch stopped the symbol."""
        return self.state is State.HALTED

    @property
    def needs_operator(self) -> bool:
        """An anomaly raised an operator alarm: the machine will not resolve it by itself."""
        return self.alarm is not None

    @property
    def is_exiting(self) -> bool:
        """An exit is in progress: working orders are being cancelled, then the rest closed."""
        return self.state is State.EXITING

    @property
    def entry_pending(self) -> bool:
        """An entry is decided and nothing of it has filled yet (its cancel is not asked for)."""
        return self.state is State.ENTRY_PENDING

    @property
    def holds_position(self) -> bool:
        """The machine's books hold shares (long or short), whatever the state."""
        return self.position != 0

    @property
    def manages_position(self) -> bool:
        """A position is open under its protective stop: trails and exits are taken."""
        return self.state in _MANAGING

    @property
    def entries_left(self) -> int:
        """How many more entries today's rules allow."""
        return max(0, self.max_attempts - self.entries_today)

    @property
    def working_entries(self) -> tuple[OrderTrack, ...]:
        """The entry legs that can still fill."""
        return tuple(o for o in self.working_orders if o.role is OrderRole.ENTRY)

    def held_leg_nearer(self, price: Decimal) -> bool:
        """A pair rests one leg (``Rules.one_resting_leg``), nothing has filled, no swap is under
        way, and ``price`` is strictly nearer the held leg's entry: ``PriceMoved`` would swap."""
        held = self.held_entry
        if held is None or held.stop_price is None or self.position != 0:
            return False
        resting = [o for o in self.working_entries if o.status is not TrackStatus.CANCEL_SENT]
        if len(resting) != 1 or resting[0].stop_price is None:
            return False
        return abs(held.stop_price - price) < abs(resting[0].stop_price - price)

    @property
    def has_working_entry(self) -> bool:
        """An entry leg can still fill and nobody asked to cancel it yet."""
        # Asked of every bar after the entry cutoff, mostly with nothing working: no generator.
        return bool(self.working_orders) and any(
            o.role is OrderRole.ENTRY and o.status is not TrackStatus.CANCEL_SENT
            for o in self.working_orders
        )

    @property
    def is_settled(self) -> bool:
        """Flat on the books and nothing working: nothing of this symbol can fill any more."""
        return self.position == 0 and not self.working_orders

    @property
    def awaits_broker(self) -> bool:
        """An order was sent, or its cancel asked for, and the broker has not answered yet."""
        return any(
            o.status is TrackStatus.SENT or o.status is TrackStatus.CANCEL_SENT
            for o in self.working_orders
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    """How many events a machine (or a desk of machines) accepted, declined, ignored, flagged;
    and how many of its decisions another thread overtook (each was made again on what that
    thread published, so it changed nothing but the time taken)."""

    transitions: int = 0
    declined: int = 0
    races: int = 0
    anomalies: int = 0
    by_reason: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    overtaken: int = 0

    def __add__(self, other: Counters) -> Counters:
        reasons = dict(self.by_reason)
        for reason, count in other.by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + count
        return Counters(
            transitions=self.transitions + other.transitions,
            declined=self.declined + other.declined,
            races=self.races + other.races,
            anomalies=self.anomalies + other.anomalies,
            by_reason=MappingProxyType(dict(sorted(reasons.items()))),
            overtaken=self.overtaken + other.overtaken,
        )
