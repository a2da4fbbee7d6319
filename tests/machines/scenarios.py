"""Scenario builders: drive a ``SymbolMachine`` to each state through public events only.

A ``Scenario`` wraps one machine, fires events at it, and remembers every client order id the
machine ever decided (from its commands), so tests can name working orders (from the snapshot)
and finished ones (known but no longer working). ``PATHS`` holds the canonical paths: for each
state, a few named ways to reach it from a fresh machine. ``FACTORIES`` builds, per lifecycle
trigger, candidate events whose classification should yield that trigger on a given scenario;
``every_order_event`` is the brute-force universe of order events used to prove a pair
unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import machines as m
from machines import OrderRole, OrderTrack, Side, State, TrackStatus

D = Decimal
BUY, SELL = Side.BUY, Side.SELL

STRATEGY = "orb"
SYMBOL = "AAPL"
DAY = date(2026, 11, 23)  # a Monday
NEXT_DAY = date(2026, 11, 24)
ZONE = ZoneInfo("America/New_York")
QTY = D(10)
FOREIGN_ID = "someone-else-1"

#: An opening-range breakout: buy above 101, sell below 99; each leg's stop is the other side.
BUY_LEG = m.EntryLeg(side=BUY, entry_price=D("101.00"), initial_stop=D("98.99"))
SELL_LEG = m.EntryLeg(side=SELL, entry_price=D("99.00"), initial_stop=D("101.01"))


def at(hour: int = 10, minute: int = 0, day: date = DAY) -> datetime:
    """A timezone-aware instant on the session grid."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def rules(**overrides: object) -> m.Rules:
    """The rules most scenarios use: three attempts a day, a 09:45-15:00 window, US ticks."""
    params: dict[str, object] = {
        "max_attempts": 3,
        "entry_window": (time(9, 45), time(15, 0)),
        "timezone": "America/New_York",
    }
    params.update(overrides)
    return m.Rules(**params)  # type: ignore[arg-type]


def oid(tag: Side | OrderRole, attempt: int = 1, seq: int = 0, day: date = DAY) -> str:
    """The client order id the machine gives an order of ``STRATEGY``/``SYMBOL``: an entry leg
    is tagged by its side, any other order by its role."""
    return m.client_order_id(STRATEGY, SYMBOL, day, attempt, tag, seq)


# --- events ------------------------------------------------------------------------------------


def signal(
    *legs: m.EntryLeg,
    qty: Decimal = QTY,
    when: datetime | None = None,
    mark: Decimal | None = None,
) -> m.EntrySignalled:
    """An entry signal; an OCO pair when no leg is given."""
    return m.EntrySignalled(at=when or at(), qty=qty, legs=legs or (BUY_LEG, SELL_LEG), mark=mark)


def price_moved(price: str) -> m.PriceMoved:
    """A bar closed at ``price``."""
    return m.PriceMoved(at=at(), price=D(price))


def accepted(cid: str) -> m.OrderAccepted:
    return m.OrderAccepted(client_order_id=cid, at=at())


def rejected(cid: str) -> m.OrderRejected:
    return m.OrderRejected(client_order_id=cid, at=at(), reason="test")


def filled(cid: str, qty: Decimal | int, price: Decimal | str = "100.00") -> m.OrderFilled:
    return m.OrderFilled(client_order_id=cid, at=at(), filled_qty=D(qty), avg_fill_price=D(price))


def cancelled(
    cid: str, filled_qty: Decimal | int = 0, price: Decimal | str = "100.00"
) -> m.OrderCancelled:
    qty = D(filled_qty)
    return m.OrderCancelled(
        client_order_id=cid, at=at(), filled_qty=qty, avg_fill_price=D(price) if qty else None
    )


def expired(cid: str) -> m.OrderExpired:
    return m.OrderExpired(client_order_id=cid, at=at())


def replaced(cid: str, new_cid: str) -> m.OrderReplaced:
    return m.OrderReplaced(client_order_id=cid, new_client_order_id=new_cid, at=at())


def trail(price: Decimal | str) -> m.TrailProposed:
    return m.TrailProposed(at=at(), stop_price=D(price))


def revise(side: Side, price: Decimal | str) -> m.InitialStopRevised:
    return m.InitialStopRevised(at=at(), side=side, stop_price=D(price))


def timeout(attempt: int) -> m.EntryTimedOut:
    return m.EntryTimedOut(at=at(), attempt=attempt)


def exit_signal(reason: str = "target") -> m.ExitSignalled:
    return m.ExitSignalled(at=at(), reason=reason)


def halt(reason: str = "kill_switch", *, flatten: bool = False) -> m.HaltRequested:
    return m.HaltRequested(at=at(), reason=reason, flatten=flatten)


def resume() -> m.ResumeRequested:
    return m.ResumeRequested(at=at())


def square_off() -> m.SquareOffReached:
    return m.SquareOffReached(at=at(15, 15))


def broker_snapshot(position: Decimal | int) -> m.BrokerSnapshotTaken:
    return m.BrokerSnapshotTaken(at=at(), position_qty=D(position))


# --- the scenario ------------------------------------------------------------------------------


class Scenario:
    """One machine plus the record of every order id it decided."""

    def __init__(self, rules_: m.Rules | None = None, *, trading_date: date = DAY) -> None:
        self.machine = m.SymbolMachine(
            strategy=STRATEGY,
            symbol=SYMBOL,
            trading_date=trading_date,
            rules=rules_ if rules_ is not None else rules(),
        )
        self.known: list[str] = []
        self.outcomes: list[m.Outcome] = []

    def fire(self, event: m.Event) -> m.Outcome:
        """Fire one event and remember the ids of any order it decided."""
        outcome = self.machine.fire(event)
        self.outcomes.append(outcome)
        for command in outcome.commands:
            cid = getattr(command, "new_client_order_id", command.client_order_id)
            if cid not in self.known:
                self.known.append(cid)
        return outcome

    def run(self, *events: m.Event) -> Scenario:
        for event in events:
            self.fire(event)
        return self

    @property
    def snapshot(self) -> m.Snapshot:
        return self.machine.snapshot()

    @property
    def state(self) -> str:
        return self.machine.state

    def working(self, role: OrderRole | None = None) -> list[OrderTrack]:
        return [t for t in self.snapshot.working_orders if role is None or t.role is role]

    def retired_ids(self) -> list[str]:
        live = {t.client_order_id for t in self.snapshot.working_orders}
        return [cid for cid in self.known if cid not in live]

    def leg(self, side: Side) -> OrderTrack:
        """The working entry leg on ``side``."""
        (track,) = [t for t in self.working(OrderRole.ENTRY) if t.side is side]
        return track


# --- canonical paths ---------------------------------------------------------------------------
# Attempt 1 is always a full round trip (OCO, the buy leg fills, the stop is hit), so that every
# state also knows finished orders; the state itself is reached during attempt 2.

A2 = 2
BUY2, SELL2, STOP2 = oid(BUY, A2), oid(SELL, A2), oid(OrderRole.STOP, A2)
STOP2_R1, EXIT2 = oid(OrderRole.STOP, A2, 1), oid(OrderRole.EXIT, A2)


def round_trip(s: Scenario) -> Scenario:
    """Attempt 1: OCO entry, buy leg fills in full, the sell leg is cancelled, the stop is hit."""
    return s.run(
        signal(),
        accepted(oid(BUY)),
        accepted(oid(SELL)),
        filled(oid(BUY), QTY, "101.00"),
        cancelled(oid(SELL)),
        accepted(oid(OrderRole.STOP)),
        filled(oid(OrderRole.STOP), QTY, "98.99"),
    )


def to_flat() -> Scenario:
    return round_trip(Scenario())


def to_pending_sent() -> Scenario:
    return to_flat().run(signal())


def to_pending_live() -> Scenario:
    return to_pending_sent().run(accepted(BUY2), accepted(SELL2))


def to_pending_one_leg() -> Scenario:
    """A pair resting one leg at a time (``Rules.one_resting_leg``): the buy leg, nearer the
    mark, is live; the sell leg is held back."""
    s = round_trip(Scenario(rules(one_resting_leg=True, stop_waits_for_entry=True)))
    return s.run(signal(mark=D("100.60")), accepted(BUY2))


def to_pending_swapping() -> Scenario:
    """The price came nearer the held sell leg: the buy leg's cancel is in flight."""
    return to_pending_one_leg().run(price_moved("99.20"))


def to_cancelling() -> Scenario:
    return to_pending_sent().run(accepted(BUY2), timeout(A2))


def to_in_partial() -> Scenario:
    """In position after a partial fill that arrived before the entry's acknowledgement."""
    return to_pending_sent().run(filled(BUY2, 4, "101.00"))


def to_in_protected() -> Scenario:
    """In position, entry filled in full, other leg cancelled, stop live: nothing in flight."""
    return to_pending_live().run(filled(BUY2, QTY, "101.00"), cancelled(SELL2), accepted(STOP2))


def to_replacing_partial() -> Scenario:
    """A trail replace in flight while the entry remainder still works."""
    return to_in_partial().run(accepted(STOP2), trail("99.50"))


def to_replacing_protected() -> Scenario:
    return to_in_protected().run(trail("99.50"))


def to_exiting_cancelling() -> Scenario:
    """Exit decided while entry, stop and replacement all still work: cancels in flight."""
    return to_replacing_partial().run(exit_signal())


def to_exiting_closing() -> Scenario:
    """Exit decided, the stop's cancel acknowledged: the closing order is in flight."""
    return to_in_protected().run(exit_signal(), cancelled(STOP2))


def to_halted_flat() -> Scenario:
    return to_flat().run(halt())


def to_halted_protecting() -> Scenario:
    return to_in_partial().run(halt())


def to_halted_protected() -> Scenario:
    return to_in_protected().run(halt())


def to_halted_replacing() -> Scenario:
    return to_replacing_partial().run(halt())


def to_halted_flattening() -> Scenario:
    return to_in_protected().run(halt(flatten=True), cancelled(STOP2))


PATHS: dict[str, dict[str, Callable[[], Scenario]]] = {
    State.FLAT: {"after_round_trip": to_flat},
    State.ENTRY_PENDING: {
        "legs_sent": to_pending_sent,
        "legs_live": to_pending_live,
        "one_leg_resting": to_pending_one_leg,
        "swapping": to_pending_swapping,
    },
    State.ENTRY_CANCELLING: {"after_timeout": to_cancelling},
    State.IN_POSITION: {"partial_before_ack": to_in_partial, "protected": to_in_protected},
    State.STOP_REPLACING: {"partial": to_replacing_partial, "protected": to_replacing_protected},
    State.EXITING: {"cancelling": to_exiting_cancelling, "closing": to_exiting_closing},
    State.HALTED: {
        State.FLAT: to_halted_flat,
        "protecting": to_halted_protecting,
        "protected": to_halted_protected,
        "replacing": to_halted_replacing,
        "flattening": to_halted_flattening,
    },
}


# --- event factories per trigger ---------------------------------------------------------------
# A factory proposes candidate events; the machine's own classification (``Outcome.trigger``)
# decides which candidates really stand for the trigger. The stop and its replacement share a
# role, so their factories propose every stop-role order and let the classification pick.

Factory = Callable[[Scenario], list[m.Event]]

_KIND: dict[str, Callable[[OrderTrack], m.Event]] = {
    "accepted": lambda t: accepted(t.client_order_id),
    "rejected": lambda t: rejected(t.client_order_id),
    "filled": lambda t: filled(t.client_order_id, t.qty),
    "cancelled": lambda t: cancelled(t.client_order_id, t.filled_qty),
}
_SLOT_ROLE = {
    "entry": OrderRole.ENTRY,
    "stop": OrderRole.STOP,
    "replacement": OrderRole.STOP,
    "exit": OrderRole.EXIT,
}


def _role_factory(slot: str, kind: str) -> Factory:
    def make(s: Scenario) -> list[m.Event]:
        tracks = s.working(_SLOT_ROLE[slot])
        if kind == "replaced":
            return [
                replaced(t.client_order_id, new)
                for t in tracks
                for new in [u.client_order_id for u in tracks if u is not t] + ["fresh-r9"]
            ]
        return [_KIND[kind](t) for t in tracks]

    return make


def _trail(s: Scenario) -> list[m.Event]:
    snap = s.snapshot
    current = snap.desired_stop if snap.desired_stop is not None else D("100.00")
    step = D("0.50") if snap.side is not Side.SELL else D("-0.50")
    return [trail(current + step), trail(current - step)]


def _timeout(s: Scenario) -> list[m.Event]:
    return [timeout(max(s.snapshot.attempt, 1)), timeout(1)]


def _snapshot(s: Scenario) -> list[m.Event]:
    return [broker_snapshot(s.snapshot.position), broker_snapshot(s.snapshot.position + 1)]


def _orders_differ(s: Scenario) -> list[m.Event]:
    """Snapshots that agree on the position but not on the orders: every working order gone,
    each one gone alone, or all of them held (which acknowledges those still unacknowledged)."""
    snap = s.snapshot
    working = [t.client_order_id for t in snap.working_orders]
    held = [tuple(working), ()] + [tuple(c for c in working if c != gone) for gone in working]
    return [
        m.BrokerSnapshotTaken(at=at(), position_qty=snap.position, open_orders=ids) for ids in held
    ]


def _duplicate(s: Scenario) -> list[m.Event]:
    working = s.working()
    return [accepted(t.client_order_id) for t in working if t.status is not TrackStatus.SENT] + [
        filled(t.client_order_id, t.filled_qty) for t in working if t.filled_qty
    ]


FACTORIES: dict[str, Factory] = {
    "entry_signal": lambda s: [signal(), signal(BUY_LEG), signal(when=at(9, 30))],
    "revise_initial_stop": lambda s: [
        revise(BUY, "98.50"),  # protective for the buy leg at 101.00
        revise(BUY, "101.50"),  # above the buy leg's entry: the wrong side
        revise(SELL, "101.50"),  # protective for the sell leg at 99.00
        revise(SELL, "98.50"),  # below the sell leg's entry: the wrong side
    ],
    "trail": _trail,
    "price_moved": lambda s: [price_moved("99.20"), price_moved("100.60")],
    "exit_signal": lambda s: [exit_signal()],
    "square_off": lambda s: [square_off()],
    "day_rollover": lambda s: [
        m.DayRolledOver(trading_date=NEXT_DAY),
        m.DayRolledOver(trading_date=DAY),
    ],
    "halt": lambda s: [halt(), halt(flatten=True)],
    "resume": lambda s: [resume()],
    "entry_timeout": _timeout,
    "broker_snapshot": _snapshot,
    "orders_differ": _orders_differ,
    **{
        f"{slot}_{kind}": _role_factory(slot, kind)
        for slot in ("entry", "stop", "replacement", "exit")
        for kind in ("accepted", "rejected", "filled", "cancelled")
    },
    "opposite_leg_filled": _role_factory("entry", "filled"),
    "stop_replaced": _role_factory("stop", "replaced"),
    "duplicate_order_event": _duplicate,
    "stale_order_event": lambda s: (
        [accepted(c) for c in s.retired_ids()] + [cancelled(c) for c in s.retired_ids()]
    ),
    "foreign_order_event": lambda s: [accepted(FOREIGN_ID), cancelled(FOREIGN_ID)],
    "foreign_fill": lambda s: [filled(FOREIGN_ID, 1)],
    "late_fill": lambda s: [filled(c, 1000) for c in s.retired_ids()],
    "overfill": lambda s: [filled(t.client_order_id, t.qty + 1) for t in s.working()],
    "unexpected_replace": lambda s: [replaced(t.client_order_id, "fresh-r9") for t in s.working()],
}


def every_order_event(s: Scenario) -> list[m.Event]:
    """Every order event worth trying on ``s``: each known id (and a foreign one), every kind."""
    ids = [*s.known, FOREIGN_ID]
    events: list[m.Event] = []
    for cid in ids:
        events += [accepted(cid), rejected(cid), expired(cid)]
        events += [cancelled(cid, q) for q in (0, 1, 4, 6, 10)]
        events += [filled(cid, q) for q in (1, 4, 6, 10, 11, 1000)]
        events += [replaced(cid, new) for new in [*ids, "fresh-r9"] if new != cid]
    return events


def later(when: datetime, minutes: int) -> datetime:
    return when + timedelta(minutes=minutes)
