"""A symbol's books: its orders by role, its position, its day — and how order events move them.

Books are the machine's private working data. ``fire()`` copies them into a draft, applies the
bookkeeping of an order event (fills, acknowledgements, terminal statuses) and lets the lifecycle
table decide on that draft; the draft replaces the books only if the decision is accepted or an
anomaly (broker facts are always recorded), never when an event is ignored or declined.

``classify()`` names the lifecycle trigger of an order event from the role of the order it
names: an event that changes nothing is a duplicate, one naming a finished order is stale, one
naming an order this machine never placed is foreign.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from machines._events import OrderEvent, OrderFilled, OrderReplaced
from machines._orders import OrderRole, OrderTrack, Side, TrackStatus

__all__ = ["ORDERS_DIFFER", "Books", "classify_order_event"]

_ZERO = Decimal(0)

# Triggers for order events that no role owns.
DUPLICATE = "duplicate_order_event"
STALE = "stale_order_event"
FOREIGN = "foreign_order_event"
FOREIGN_FILL = "foreign_fill"
LATE_FILL = "late_fill"
OVERFILL = "overfill"
OPPOSITE_LEG_FILLED = "opposite_leg_filled"
UNEXPECTED_REPLACE = "unexpected_replace"
# A snapshot whose position agrees but whose open orders differ from the working ones.
ORDERS_DIFFER = "orders_differ"

_ENTRY, _STOP, _REPLACEMENT, _EXIT = "entry", "stop", "replacement", "exit"

# Earlier days' finished orders: (one day's, the days before it) — a chain, never copied.
_Days = tuple[dict[str, OrderTrack], "_Days"] | None


class Books:
    """Working data of one symbol: a draft is mutated only by the one decision it was made for;
    once the machine publishes it (under its lock) it is never mutated again."""

    __slots__ = (
        "alarm",
        "desired_stop",
        "disputed",
        "done_for_day",
        "entries",
        "entries_today",
        "entry_seq",
        "entry_side",
        "exit",
        "exit_seq",
        "halt_reason",
        "held",
        "initial_stop",
        "leftover",
        "position",
        "renewals",
        "replacement",
        "resized",
        "retired",
        "retired_earlier",
        "stop",
        "stop_seq",
        "swapping",
        "trading_date",
        "winding_down",
    )

    def __init__(self, trading_date: date) -> None:
        self.trading_date = trading_date
        self.entries_today = 0  # also the number of today's latest attempt, in its order ids
        self.entries: tuple[OrderTrack, ...] = ()
        self.entry_side: Side | None = None  # side of the first filled leg of this attempt
        # A pair resting one leg at a time (``Rules.one_resting_leg``): the leg held back (its
        # id fixed, never sent), the resting leg being cancelled to swap it in, and the number
        # of swaps so far (the ``-r{n}`` of a leg sent again).
        self.held: OrderTrack | None = None
        self.swapping: OrderTrack | None = None
        self.entry_seq = 0
        self.initial_stop: Decimal | None = None  # that leg's protective stop, not yet rounded
        self.stop: OrderTrack | None = None
        self.replacement: OrderTrack | None = None  # a stop replacement in flight
        # The replacement the books shrank by a part fill of the stop seen while it flew: the
        # venue took that fill off only if it came after the request arrived, so it may hold
        # more than the books say. Once it fills to the books' size it is ``leftover``: the
        # machine cancels it, in case the venue still works the rest (see the effects).
        self.resized: str | None = None
        self.leftover: str | None = None
        self.exit: OrderTrack | None = None
        # Finished orders, kept forever so a late event is still recognised: today's in a small
        # copy-on-write dict (shared between drafts), earlier days' in a chain of frozen ones,
        # newest first — so neither retiring an order nor a new day copies the whole history.
        self.retired: dict[str, OrderTrack] = {}
        self.retired_earlier: _Days = None
        self.desired_stop: Decimal | None = None
        self.position = _ZERO  # signed: sum of fills, buys positive
        self.stop_seq = 0
        self.exit_seq = 0
        self.renewals = 0  # fresh stops or exits this attempt placed after a refusal
        self.winding_down: str | None = None
        self.halt_reason: str | None = None
        self.alarm: str | None = None  # an anomaly the operator must resolve (see the policy)
        # The position the broker last reported when it disagreed with the books; None once a
        # report agrees. A symbol resumes only when the books agree with it again.
        self.disputed: Decimal | None = None
        self.done_for_day = False

    def draft(self) -> Books:
        """A copy to decide on; tracks are immutable so a shallow copy is enough."""
        # Spelled out: a loop over ``__slots__`` with getattr/setattr costs four times as much,
        # and this runs on every event.
        copy = Books.__new__(Books)
        copy.alarm = self.alarm
        copy.desired_stop = self.desired_stop
        copy.disputed = self.disputed
        copy.done_for_day = self.done_for_day
        copy.entries = self.entries
        copy.entries_today = self.entries_today
        copy.entry_seq = self.entry_seq
        copy.entry_side = self.entry_side
        copy.held = self.held
        copy.swapping = self.swapping
        copy.exit = self.exit
        copy.exit_seq = self.exit_seq
        copy.halt_reason = self.halt_reason
        copy.initial_stop = self.initial_stop
        copy.leftover = self.leftover
        copy.position = self.position
        copy.renewals = self.renewals
        copy.replacement = self.replacement
        copy.resized = self.resized
        copy.retired = self.retired
        copy.retired_earlier = self.retired_earlier
        copy.stop = self.stop
        copy.stop_seq = self.stop_seq
        copy.trading_date = self.trading_date
        copy.winding_down = self.winding_down
        return copy

    # --- reading ---------------------------------------------------------------------------

    def fingerprint(self) -> tuple[object, ...]:
        """Everything in the books that decides what future events do, as one hashable value.

        Finished orders are kept as sets (the order they finished in decides nothing); every
        other slot as it is: the orders and their fills, the stop the machine wants, the initial
        stop, the next ids (``stop_seq``, ``exit_seq``, ``entries_today``), the renewals left,
        the day.
        """
        earlier: list[frozenset[tuple[str, OrderTrack]]] = []
        days = self.retired_earlier
        while days is not None:
            day, days = days
            earlier.append(frozenset(day.items()))
        return (
            self.trading_date,
            self.entries_today,
            self.entries,
            self.entry_side,
            self.held,
            self.swapping,
            self.entry_seq,
            self.initial_stop,
            self.stop,
            self.replacement,
            self.resized,
            self.leftover,
            self.exit,
            frozenset(self.retired.items()),
            tuple(earlier),
            self.desired_stop,
            self.position,
            self.stop_seq,
            self.exit_seq,
            self.renewals,
            self.winding_down,
            self.halt_reason,
            self.alarm,
            self.disputed,
            self.done_for_day,
        )

    def working_orders(self) -> tuple[OrderTrack, ...]:
        """Every order that can still fill, entries first."""
        found = [t for t in self.entries if t.working]
        found += [
            t for t in (self.stop, self.replacement, self.exit) if t is not None and t.working
        ]
        return tuple(found)

    def find(self, client_order_id: str) -> tuple[str, OrderTrack] | None:
        """The working order with this id and the slot that holds it."""
        for leg in self.entries:
            if leg.client_order_id == client_order_id:
                return _ENTRY, leg
        for slot, track in (
            (_STOP, self.stop),
            (_REPLACEMENT, self.replacement),
            (_EXIT, self.exit),
        ):
            if track is not None and track.client_order_id == client_order_id:
                return slot, track
        return None

    def finished(self, client_order_id: str) -> OrderTrack | None:
        """The finished order with this id, from any day."""
        track = self.retired.get(client_order_id)
        days = self.retired_earlier
        while track is None and days is not None:
            day, days = days
            track = day.get(client_order_id)
        return track

    # --- writing ---------------------------------------------------------------------------

    def new_day(self, trading_date: date) -> None:
        """Start ``trading_date``: yesterday's finished orders join the earlier days'."""
        self.trading_date = trading_date
        if self.retired:
            self.retired_earlier = (self.retired, self.retired_earlier)
            self.retired = {}

    def retire(self, track: OrderTrack) -> None:
        """Move a finished order out of its slot into the record of finished orders."""
        self.retired = {**self.retired, track.client_order_id: track.with_status(TrackStatus.DONE)}

    def put(self, slot: str, track: OrderTrack | None) -> None:
        """Store ``track`` in ``slot``, retiring it instead when it is done."""
        if slot == _ENTRY:
            assert track is not None
            legs = tuple(
                track if t.client_order_id == track.client_order_id else t for t in self.entries
            )
            if not track.working:
                self.retire(track)
                legs = tuple(t for t in legs if t.working)
            self.entries = legs
            return
        if track is not None and not track.working:
            self.retire(track)
            track = None
        setattr(self, slot, track)

    def record_fill(
        self, track: OrderTrack, filled_qty: Decimal, avg: Decimal | None
    ) -> OrderTrack:
        """Grow an order's cumulative fill and the position by the difference."""
        delta = filled_qty - track.filled_qty
        self.position += track.side.sign * delta
        if track.role is OrderRole.ENTRY and self.entry_side is None:
            self.entry_side = track.side
            self.initial_stop = track.protect_at
        return track.with_fill(filled_qty, avg)

    def apply(self, event: OrderEvent) -> None:
        """Record what an order event says about a working order (see ``classify_order_event``)."""
        found = self.find(event.client_order_id)
        if found is None:
            retired = self.finished(event.client_order_id)
            if retired is not None and _cumulative(event) > retired.filled_qty:
                self.retire(self.record_fill(retired, _cumulative(event), _avg(event, retired)))
            return
        slot, track = found
        before = track.filled_qty
        if _cumulative(event) > track.filled_qty:
            track = self.record_fill(track, _cumulative(event), _avg(event, track))
            if track.client_order_id == self.resized and track.filled_qty >= track.qty:
                self.resized, self.leftover = None, track.client_order_id
        kind = event.kind
        if kind == "accepted":
            if track.status is TrackStatus.SENT:
                track = track.with_status(TrackStatus.LIVE)
            if slot == _REPLACEMENT:
                self._promote_replacement(track)
                return
        elif kind in ("rejected", "cancelled"):
            track = track.with_status(TrackStatus.DONE)
            if slot == _REPLACEMENT and kind == "cancelled":
                # Only an order that lived can be cancelled or expire: the replace landed, so
                # the stop it replaced is gone too, whether or not its ``replaced`` came.
                self._promote_replacement(track)
                return
        elif kind == "replaced":
            assert isinstance(event, OrderReplaced)
            self.put(slot, track.with_status(TrackStatus.DONE))
            replacement = self.replacement
            if replacement is not None and (
                replacement.client_order_id == event.new_client_order_id
            ):
                # The replacement now protects the position; it is live once its own ``new``
                # arrives (Alpaca sends ``replaced`` for the old order first), so that
                # acknowledgement is news, not a duplicate.
                self.stop, self.replacement = replacement, None
            return
        elif kind == "filled" and _ends(event) and track.working:
            track = track.with_status(TrackStatus.DONE)  # the venue's size, not the one asked
        if kind == "filled" and slot == _REPLACEMENT:
            self._promote_replacement(track)
            return
        self.put(slot, track)
        replacement = self.replacement
        if slot != _STOP or replacement is None:
            return
        if not track.working and track.filled_qty:
            # The stop filled while its replacement was in flight: the broker rejects the
            # replacement ("fill (A), then B rejected"), so it will never work.
            self.retire(replacement)
            self.replacement = None
        elif track.working and (grew := track.filled_qty - before):
            # Part of the stop filled while its replacement was in flight: the replace applies
            # to what the stop has left, so the replacement is that much smaller — never larger
            # than what remains to protect (a venue that sizes it otherwise overfills it, which
            # ``classify_order_event`` names).
            self.replacement = replacement.with_qty(max(replacement.qty - grew, _ZERO))
            self.resized = replacement.client_order_id

    def _promote_replacement(self, replacement: OrderTrack) -> None:
        """The replacement works at the broker: the stop it replaces is finished."""
        if self.stop is not None:
            self.retire(self.stop)
        self.stop, self.replacement = None, None
        self.put(_STOP, replacement)

    def reconcile(self, open_orders: tuple[str, ...]) -> bool:
        """Apply what a snapshot says the broker holds open; True if the books changed.

        A working order the broker no longer holds has ended with the fills the books know
        (the caller checked that the position agrees); one it holds is acknowledged. A
        replacement the broker holds means the replace landed: it is the stop now.
        """
        held = frozenset(open_orders)
        changed = False
        for leg in self.entries:
            if leg.client_order_id not in held:
                self.put(_ENTRY, leg.with_status(TrackStatus.DONE))
                changed = True
            elif leg.status is TrackStatus.SENT:
                self.put(_ENTRY, leg.with_status(TrackStatus.LIVE))
                changed = True
        replacement = self.replacement
        if replacement is not None:
            changed = True
            if replacement.client_order_id in held:
                self._promote_replacement(_acknowledged(replacement))
            else:  # the replace never landed: the venue refused it
                self.retire(replacement)
                self.replacement = None
        for slot in (_STOP, _EXIT):
            track = getattr(self, slot)
            if track is None:
                continue
            if track.client_order_id not in held:
                self.put(slot, track.with_status(TrackStatus.DONE))
                changed = True
            elif track.status is TrackStatus.SENT:
                self.put(slot, track.with_status(TrackStatus.LIVE))
                changed = True
        return changed


def _acknowledged(track: OrderTrack) -> OrderTrack:
    return track.with_status(TrackStatus.LIVE) if track.status is TrackStatus.SENT else track


def _ends(event: OrderEvent) -> bool:
    """Whether the venue says this fill ends the order (``OrderFilled.done``)."""
    return isinstance(event, OrderFilled) and event.done


def _cumulative(event: OrderEvent) -> Decimal:
    return getattr(event, "filled_qty", _ZERO)


def _avg(event: OrderEvent, track: OrderTrack) -> Decimal | None:
    avg: Decimal | None = getattr(event, "avg_fill_price", None)
    return avg if avg is not None else track.avg_fill_price


def _reverses(position: Decimal, track: OrderTrack, cumulative: Decimal) -> bool:
    """Whether a fill of a closing order would take a position through zero to the other side."""
    closing = track.side.sign * position < 0
    return closing and cumulative - track.filled_qty > abs(position)


def classify_order_event(books: Books, event: OrderEvent) -> str:
    """The lifecycle trigger an order event stands for, given the books before it."""
    found = books.find(event.client_order_id)
    cumulative = _cumulative(event)
    if found is None:
        retired = books.finished(event.client_order_id)
        if retired is None:
            return FOREIGN_FILL if event.kind == "filled" else FOREIGN
        return LATE_FILL if cumulative > retired.filled_qty else STALE
    slot, track = found
    grows = cumulative > track.filled_qty
    if grows and cumulative > track.qty:
        return OVERFILL
    if grows and slot != _ENTRY and _reverses(books.position, track, cumulative):
        return OVERFILL  # a closing order the venue sized past the position (a replace race)
    kind = event.kind
    if kind == "replaced" and slot != _STOP:
        return UNEXPECTED_REPLACE
    if kind == "accepted" and track.status is not TrackStatus.SENT:
        return DUPLICATE
    if kind == "filled" and not grows and not (_ends(event) and track.working):
        return DUPLICATE
    if (
        slot == _ENTRY
        and grows
        and books.entry_side is not None
        and track.side is not books.entry_side
    ):
        return OPPOSITE_LEG_FILLED
    return f"{slot}_{kind}"
