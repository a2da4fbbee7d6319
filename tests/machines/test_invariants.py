"""Invariants 1-7 of docs/design.md §2 hold after every event a machine can meet.

One ``SymbolMachine`` is driven by random strategy events and by a fake broker that executes the
machine's commands the way ``docs/alpaca-wire.md`` describes: requests are executed in order
but asynchronously to the trade-updates stream; a cancel is confirmed later and the order may
still fill first; a replace that loses the race with a fill ends "fill (A), then B rejected"; the
stream repeats events, delivers them out of order and names ids we never issued.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import machines
from machines import (
    NSE_TICKS,
    BrokerSnapshotTaken,
    CancelOrder,
    ClosePosition,
    Command,
    DayRolledOver,
    EntryLeg,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    FixedTick,
    HaltRequested,
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
    Snapshot,
    SquareOffReached,
    State,
    SymbolMachine,
    TrailProposed,
)
from machines._lifecycle import DECLARATIONS, Anomaly, Ignore, Moves

ZERO = Decimal(0)
DAY = date(2026, 11, 23)
START = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
TICKS = {
    "0.01": FixedTick(Decimal("0.01")),
    "0.05": FixedTick(Decimal("0.05")),
    "nse": NSE_TICKS,
}
# Prices near NSE band edges (250, 1000, 5000) so rounding crosses from one grid to the next.
BASES = (Decimal("101.00"), Decimal("249.90"), Decimal("999.70"), Decimal("4999.00"))
PLACING = (PlaceEntry, PlaceStop, ClosePosition)
CARRIES_FILL = (OrderFilled, OrderCancelled, OrderExpired)
HALTED = State.HALTED
PROTECTED_STATES = (State.IN_POSITION, State.STOP_REPLACING)


# --- the fake broker --------------------------------------------------------------------------


@dataclass
class BrokerOrder:
    """One order as the broker knows it."""

    client_order_id: str
    role: OrderRole
    side: Side
    qty: Decimal
    price: Decimal
    status: str = "pending_new"  # new, filled, canceled, expired, rejected, replaced
    filled: Decimal = ZERO
    cancel_requested: bool = False

    @property
    def open(self) -> bool:
        return self.status in ("pending_new", "new")


class FakeBroker:
    """Executes requests in order; reports on a stream the machine reads when the test says."""

    def __init__(self, market: Decimal) -> None:
        self.market = market
        self.orders: dict[str, BrokerOrder] = {}
        self.requests: deque[Command] = deque()
        self.outbox: list[OrderEvent] = []  # emitted, not yet delivered
        self.delivered: list[OrderEvent] = []

    @property
    def position(self) -> Decimal:
        return sum((o.side.sign * o.filled for o in self.orders.values()), ZERO)

    def where(self, test) -> list[BrokerOrder]:
        return [o for o in self.orders.values() if test(o)]

    def execute_next(self, at: datetime) -> None:
        command = self.requests.popleft()
        if isinstance(command, PlaceEntry):
            self._create(command.client_order_id, OrderRole.ENTRY, command, command.stop_price)
        elif isinstance(command, PlaceStop):
            self._create(command.client_order_id, OrderRole.STOP, command, command.stop_price)
        elif isinstance(command, ClosePosition):
            self._create(command.client_order_id, OrderRole.EXIT, command, self.market)
        elif isinstance(command, CancelOrder):
            order = self.orders.get(command.client_order_id)
            if order is not None and order.open:  # else 404 / 422 "already filled": no event
                order.cancel_requested = True
        else:
            assert isinstance(command, ReplaceStop)
            self._replace(command, at)

    def _create(
        self, client_order_id: str, role: OrderRole, command: Command, price: Decimal
    ) -> None:
        assert client_order_id not in self.orders, f"client order id reused: {client_order_id}"
        self.orders[client_order_id] = BrokerOrder(
            client_order_id=client_order_id,
            role=role,
            side=command.side,  # type: ignore[union-attr]
            qty=command.qty,  # type: ignore[union-attr]
            price=price,
        )

    def _replace(self, command: ReplaceStop, at: datetime) -> None:
        old = self.orders.get(command.client_order_id)
        assert old is not None, f"replace of an order never placed: {command.client_order_id}"
        new_id = command.new_client_order_id
        assert new_id not in self.orders, f"client order id reused: {new_id}"
        if old.status == "new" and not old.cancel_requested:
            old.status = "replaced"
            self.orders[new_id] = BrokerOrder(
                client_order_id=new_id,
                role=OrderRole.STOP,
                side=old.side,
                qty=command.qty,
                price=command.stop_price,
                status="new",
            )
            self.outbox.append(
                OrderReplaced(
                    client_order_id=old.client_order_id, new_client_order_id=new_id, at=at
                )
            )
            self.outbox.append(OrderAccepted(client_order_id=new_id, at=at))
        else:
            # PATCH refused: the replace lost the race (A filled, cancelled, ...): B rejected.
            self.orders[new_id] = BrokerOrder(
                client_order_id=new_id,
                role=OrderRole.STOP,
                side=old.side,
                qty=command.qty,
                price=command.stop_price,
                status="rejected",
            )
            self.outbox.append(OrderRejected(client_order_id=new_id, at=at, reason="not open"))

    def acknowledge(self, order: BrokerOrder, reject: bool, at: datetime) -> None:
        if reject:
            order.status = "rejected"
            self.outbox.append(OrderRejected(client_order_id=order.client_order_id, at=at))
        else:
            order.status = "new"
            self.outbox.append(OrderAccepted(client_order_id=order.client_order_id, at=at))

    def fill(self, order: BrokerOrder, qty: Decimal, at: datetime) -> None:
        order.filled += qty
        if order.filled == order.qty:
            order.status = "filled"
        self.outbox.append(
            OrderFilled(
                client_order_id=order.client_order_id,
                at=at,
                filled_qty=order.filled,
                avg_fill_price=order.price,
            )
        )

    def end(self, order: BrokerOrder, expired: bool, at: datetime) -> None:
        order.status = "expired" if expired else "canceled"
        kind = OrderExpired if expired else OrderCancelled
        self.outbox.append(
            kind(
                client_order_id=order.client_order_id,
                at=at,
                filled_qty=order.filled,
                avg_fill_price=order.price if order.filled else None,
            )
        )


def _pick(items: list, index: int):
    return items[index % len(items)]


def _core(s: Snapshot) -> tuple:
    """Everything an ignored or declined event must leave alone."""
    return (
        s.state,
        s.position,
        s.side,
        s.working_orders,
        s.stop_price,
        s.desired_stop,
        s.entries_today,
        s.attempt,
        s.trading_date,
        s.halt_reason,
        s.exit_reason,
        s.done_for_day,
    )


# --- the state machine under test --------------------------------------------------------------


class LifecycleUnderRandomEvents(RuleBasedStateMachine):
    """One symbol, random strategy events, a fake broker executing its commands."""

    def __init__(self) -> None:
        super().__init__()
        self.machine: SymbolMachine | None = None

    @initialize(
        max_attempts=st.integers(1, 3),
        oco=st.booleans(),
        tick=st.sampled_from(sorted(TICKS)),
        base=st.sampled_from(BASES),
        window=st.booleans(),
    )
    def build(self, max_attempts: int, oco: bool, tick: str, base: Decimal, window: bool) -> None:
        self.rules = Rules(
            tick=TICKS[tick],
            max_attempts=max_attempts,
            entry_window=(time(14, 0), time(20, 0)) if window else None,
        )
        self.machine = SymbolMachine(
            strategy="inv", symbol="SYM", trading_date=DAY, rules=self.rules
        )
        self.oco = oco
        self.base = base
        self.broker = FakeBroker(base)
        self.clock = START
        self.sides: dict[str, Side] = {}  # every id the machine placed, with its side
        self.applied: dict[str, Decimal] = {}  # cumulative fill per id, as the machine took it
        self.entry_batch: frozenset[str] = frozenset()  # the ids of the latest attempt
        self.entries_since_rollover = 0
        self.epoch: tuple | None = None
        self.best: dict[str, Decimal] = {}
        self.kinds: Counter[OutcomeKind] = Counter()
        assert isinstance(type(self.machine).state, property)
        assert type(self.machine).state.fset is None
        with pytest.raises(AttributeError):
            self.machine.state = State.IN_POSITION  # type: ignore[misc]

    def now(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    # --- firing, with every per-event check ------------------------------------------------

    def fire(self, event: Event) -> Outcome:
        assert self.machine is not None
        before = self.machine.snapshot()
        outcome = self.machine.fire(event)  # never raises: a raise fails the test
        after = self.machine.snapshot()
        self.kinds[outcome.kind] += 1
        assert outcome.snapshot == after
        assert outcome.event is event
        assert outcome.state_from == before.state
        assert outcome.state_to == after.state
        assert outcome.reason != "unreachable", (outcome.state_from, outcome.trigger)
        self._check_declared(outcome)
        if outcome.kind in (OutcomeKind.IGNORED, OutcomeKind.DECLINED):
            # Invariant 5: a stale or duplicate event (and a refused one) changes nothing.
            assert outcome.commands == ()
            assert _core(after) == _core(before)
        if outcome.kind is OutcomeKind.ANOMALY:
            assert after.state == HALTED
        self._account_fill(event, outcome)
        self._check_commands(outcome, before, after)
        self.broker.requests.extend(outcome.commands)
        if isinstance(event, EntrySignalled) and outcome.kind is OutcomeKind.ACCEPTED:
            assert after.entries_today == before.entries_today + 1
        else:
            assert after.entries_today in (before.entries_today, 0)
            if after.entries_today != before.entries_today:
                assert isinstance(event, DayRolledOver)
        return outcome

    def _check_declared(self, outcome: Outcome) -> None:
        """Invariant 7: every change of state is one the table declares."""
        declaration = DECLARATIONS[(outcome.state_from, outcome.trigger)]
        otherwise = declaration.otherwise if isinstance(declaration, Moves) else declaration
        if outcome.kind is OutcomeKind.ACCEPTED:
            assert isinstance(declaration, Moves)
            targets = {go.dest or outcome.state_from for go in declaration.goes}
            assert outcome.state_to in targets
        elif outcome.kind is OutcomeKind.ANOMALY:
            assert isinstance(otherwise, Anomaly)
        elif outcome.kind is OutcomeKind.IGNORED:
            assert isinstance(otherwise, Ignore)

    def _account_fill(self, event: Event, outcome: Outcome) -> None:
        """Invariant 6: track the fills the machine took, once per growth of the cumulative qty."""
        if not isinstance(event, CARRIES_FILL) or event.client_order_id not in self.sides:
            return
        taken = self.applied.get(event.client_order_id, ZERO)
        if outcome.kind in (OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY):
            self.applied[event.client_order_id] = max(taken, event.filled_qty)
        else:
            # An ignored event may repeat a fill; it must never carry a fill not yet counted.
            assert event.filled_qty <= taken, f"a fill was dropped as {outcome.reason}"

    def _check_commands(self, outcome: Outcome, before: Snapshot, after: Snapshot) -> None:
        entries = [c for c in outcome.commands if isinstance(c, PlaceEntry)]
        if entries:
            # Invariant 1: a new attempt only once every earlier entry order has ended.
            assert outcome.trigger == "entry_signal"
            assert before.state == State.FLAT
            assert after.state == State.ENTRY_PENDING
            assert not self.broker.where(lambda o: o.role is OrderRole.ENTRY and o.open)
            assert not [c for c in self.broker.requests if isinstance(c, PlaceEntry)]
            assert len(entries) <= (2 if self.oco else 1)
            self.entry_batch = frozenset(c.client_order_id for c in entries)
            self.entries_since_rollover += 1
        for command in outcome.commands:
            if isinstance(command, PLACING):
                new_id = command.client_order_id
                side = command.side
            elif isinstance(command, ReplaceStop):
                new_id = command.new_client_order_id
                assert self.sides.get(command.client_order_id) is not None
                side = self.sides[command.client_order_id]
            else:
                assert isinstance(command, CancelOrder)
                assert command.client_order_id in self.sides
                continue
            assert new_id not in self.sides, f"client order id reused: {new_id}"
            assert len(new_id) <= machines.MAX_CLIENT_ORDER_ID
            assert command.qty > 0
            self.sides[new_id] = side
            if isinstance(command, PlaceEntry):
                assert after.state != HALTED
                assert not after.done_for_day
                assert machines.is_on_tick(command.stop_price, self.rules.tick)
            elif isinstance(command, PlaceStop | ReplaceStop):
                # Invariant 3: stops on the tick, moving only toward safety.
                assert machines.is_on_tick(command.stop_price, self.rules.tick)
                self._check_tightening("commanded", side.opposite, command.stop_price)

    def _check_tightening(self, series: str, position_side: Side, price: Decimal) -> None:
        best = self.best.get(series)
        if best is not None:
            if position_side is Side.BUY:
                assert price >= best, f"a long's {series} stop fell from {best} to {price}"
            else:
                assert price <= best, f"a short's {series} stop rose from {best} to {price}"
        self.best[series] = price

    # --- strategy events -------------------------------------------------------------------

    @rule(
        qty=st.integers(1, 12),
        lift=st.integers(0, 400),
        risk=st.integers(1, 3000),
        pair=st.booleans(),
        short=st.booleans(),
        late=st.sampled_from([False, False, False, True]),
    )
    def entry_signal(
        self, qty: int, lift: int, risk: int, pair: bool, short: bool, late: bool
    ) -> None:
        up, down = Decimal(lift) / 1000, Decimal(risk) / 1000
        buy = EntryLeg(
            side=Side.BUY, entry_price=self.base + up, initial_stop=self.base + up - down
        )
        sell = EntryLeg(
            side=Side.SELL, entry_price=self.base - up, initial_stop=self.base - up + down
        )
        legs = (buy, sell) if self.oco and pair else (sell,) if short else (buy,)
        at = self.now()
        self.fire(
            EntrySignalled(at=at.replace(hour=21) if late else at, qty=Decimal(qty), legs=legs)
        )

    @rule(offset=st.integers(-1000, 3000))
    def trail(self, offset: int) -> None:
        snap = self.machine.snapshot()
        reference = snap.desired_stop or self.base
        toward = -1 if snap.side is Side.SELL else 1  # tighter for a short is lower
        price = reference + toward * Decimal(offset) / 1000
        self.fire(TrailProposed(at=self.now(), stop_price=price))

    @rule(buy=st.booleans(), offset=st.integers(-500, 3000))
    def revise_initial_stop(self, buy: bool, offset: int) -> None:
        side = Side.BUY if buy else Side.SELL
        legs = [
            t
            for t in self.machine.snapshot().working_orders
            if t.role is OrderRole.ENTRY and t.side is side
        ]
        reference = legs[0].stop_price if legs and legs[0].stop_price else self.base
        protective = -1 if side is Side.BUY else 1  # a long's stop lies below its entry
        price = reference + protective * Decimal(offset) / 1000
        if not price > 0:
            return
        outcome = self.fire(InitialStopRevised(at=self.now(), side=side, stop_price=price))
        if outcome.kind is OutcomeKind.ACCEPTED:
            # Only the pending leg's protective stop changes; no order moves.
            assert outcome.state_from == outcome.state_to == State.ENTRY_PENDING
            assert outcome.commands == ()
            (leg,) = [
                t
                for t in outcome.snapshot.working_orders
                if t.role is OrderRole.ENTRY and t.side is side
            ]
            assert leg.protect_at == price

    @rule(
        what=st.sampled_from(["exit", "timeout", "old_timeout", "snapshot", "reconcile"]),
        back=st.integers(1, 3),
    )
    def strategy_event(self, what: str, back: int) -> None:
        at = self.now()
        snap = self.machine.snapshot()
        if what == "exit":
            self.fire(ExitSignalled(at=at, reason="target"))
        elif what in ("timeout", "old_timeout"):
            attempt = max(1, snap.attempt - back) if what == "old_timeout" else snap.attempt
            outcome = self.fire(EntryTimedOut(at=at, attempt=max(1, attempt)))
            if attempt != snap.attempt:
                assert outcome.kind is OutcomeKind.IGNORED
        elif what == "snapshot":
            outcome = self.fire(BrokerSnapshotTaken(at=at, position_qty=snap.position))
            assert outcome.kind is OutcomeKind.ACCEPTED
            assert outcome.state_to == outcome.state_from
            assert outcome.commands == ()
        else:
            truth = self.broker.position
            outcome = self.fire(BrokerSnapshotTaken(at=at, position_qty=truth))
            # Invariant 6: after a reconciliation the books agree with the broker, or we halted.
            assert outcome.snapshot.position == truth or outcome.snapshot.state == HALTED

    @rule(days=st.sampled_from([1, 1, 2, 0, -1]))
    def day_rolls_over(self, days: int) -> None:
        day = self.machine.snapshot().trading_date + timedelta(days)
        outcome = self.fire(DayRolledOver(trading_date=day))
        if outcome.kind is OutcomeKind.ACCEPTED:
            self.entries_since_rollover = 0
        else:
            assert days <= 0

    # Rarer events share one rule, so that they do not crowd out the trading.
    @rule(
        what=st.sampled_from(
            [
                "square_off",
                "halt",
                "halt_flatten",
                "resume",
                "resume",
                "mismatch",
                "expire",
                "foreign_fill",
            ]
        ),
        delta=st.integers(-5, 5).filter(bool),
        pick=st.integers(0, 99),
    )
    def something_unusual(self, what: str, delta: int, pick: int) -> None:
        at = self.now()
        snap = self.machine.snapshot()
        if what == "square_off":
            self.fire(SquareOffReached(at=at))
        elif what.startswith("halt"):
            flatten = what == "halt_flatten"
            outcome = self.fire(HaltRequested(at=at, reason="kill_switch", flatten=flatten))
            assert outcome.snapshot.state == HALTED
        elif what == "resume":
            self.fire(ResumeRequested(at=at))
        elif what == "expire":
            # A day order ends at the close, whatever the machine expected of it.
            if self.broker.where(lambda o: o.open):
                order = _pick(self.broker.where(lambda o: o.open), pick)
                self.broker.end(order, expired=True, at=at)
        elif what == "foreign_fill":
            self.stream_names_an_order_never_issued("filled", bool(pick % 2))
        else:
            position = snap.position + delta
            outcome = self.fire(BrokerSnapshotTaken(at=at, position_qty=position))
            assert outcome.kind is OutcomeKind.ANOMALY
            assert outcome.reason == "position_mismatch"

    # --- the broker at work ----------------------------------------------------------------

    @precondition(lambda self: self.broker.requests)
    @rule()
    def broker_executes_next_request(self) -> None:
        self.broker.execute_next(self.now())

    @precondition(lambda self: self.broker.requests or self.broker.outbox)
    @rule()
    def broker_runs_smoothly(self) -> None:
        while self.broker.requests or self.broker.outbox:
            while self.broker.requests:
                self.broker.execute_next(self.now())
            for order in self.broker.where(lambda o: o.status == "pending_new"):
                self.broker.acknowledge(order, False, self.now())
            while self.broker.outbox:
                self._deliver(0)

    @precondition(lambda self: self.broker.requests or self.broker.where(lambda o: o.open))
    @rule(
        pick=st.integers(0, 99),
        part=st.integers(0, 99),
        full=st.booleans(),
        stops_too=st.sampled_from([False, False, True]),
    )
    def market_trades_through_an_order(
        self, pick: int, part: int, full: bool, stops_too: bool
    ) -> None:
        self.broker_runs_smoothly()
        if self.broker.where(lambda o: o.status == "new"):
            self.broker_fills(pick, part, full, stops_too)
        self.broker_runs_smoothly()

    @precondition(lambda self: self.broker.where(lambda o: o.status == "pending_new"))
    @rule(pick=st.integers(0, 99), reject=st.sampled_from([False, False, False, True]))
    def broker_acknowledges(self, pick: int, reject: bool) -> None:
        order = _pick(self.broker.where(lambda o: o.status == "pending_new"), pick)
        self.broker.acknowledge(order, reject, self.now())

    @precondition(lambda self: self.broker.where(lambda o: o.status == "new"))
    @rule(
        pick=st.integers(0, 99),
        part=st.integers(0, 99),
        full=st.booleans(),
        stops_too=st.sampled_from([False, False, True]),
    )
    def broker_fills(self, pick: int, part: int, full: bool, stops_too: bool) -> None:
        # Stops fill less often than the rest, so that positions live long enough to trail.
        fillable = self.broker.where(lambda o: o.status == "new")
        if not stops_too:
            fillable = [o for o in fillable if o.role is not OrderRole.STOP] or fillable
        order = _pick(fillable, pick)
        remaining = order.qty - order.filled
        qty = remaining if full or remaining == 1 else Decimal(1 + part % int(remaining - 1))
        self.broker.fill(order, qty, self.now())

    @precondition(lambda self: self.broker.where(lambda o: o.open and o.cancel_requested))
    @rule(pick=st.integers(0, 99), fill_first=st.booleans())
    def broker_confirms_cancel(self, pick: int, fill_first: bool) -> None:
        order = _pick(self.broker.where(lambda o: o.open and o.cancel_requested), pick)
        if fill_first and order.status == "new" and order.qty - order.filled > 1:
            self.broker.fill(order, Decimal(1), self.now())
        self.broker.end(order, expired=False, at=self.now())

    # --- the stream ------------------------------------------------------------------------

    def _deliver(self, index: int) -> None:
        event = self.broker.outbox.pop(index)
        self.broker.delivered.append(event)
        self.fire(event)

    @precondition(lambda self: self.broker.outbox)
    @rule()
    def stream_delivers_next(self) -> None:
        self._deliver(0)

    @precondition(lambda self: len(self.broker.outbox) > 1)
    @rule(pick=st.integers(1, 99))
    def stream_delivers_out_of_order(self, pick: int) -> None:
        self._deliver(1 + pick % (len(self.broker.outbox) - 1))

    @precondition(lambda self: self.broker.delivered)
    @rule(pick=st.integers(0, 99))
    def stream_repeats_an_event(self, pick: int) -> None:
        outcome = self.fire(_pick(self.broker.delivered, pick))
        assert outcome.kind is OutcomeKind.IGNORED, (outcome.trigger, outcome.reason)

    @rule(
        kind=st.sampled_from(["accepted", "cancelled", "rejected", "replaced"]),
        plausible=st.booleans(),
    )
    def stream_names_an_order_never_issued(self, kind: str, plausible: bool) -> None:
        day = self.machine.snapshot().trading_date
        client_order_id = f"inv-SYM-{day:%Y%m%d}-9-stop" if plausible else "manual-7f3a"
        at = self.now()
        event: OrderEvent
        if kind == "accepted":
            event = OrderAccepted(client_order_id=client_order_id, at=at)
        elif kind == "filled":
            event = OrderFilled(
                client_order_id=client_order_id,
                at=at,
                filled_qty=Decimal(3),
                avg_fill_price=self.base,
            )
        elif kind == "cancelled":
            event = OrderCancelled(client_order_id=client_order_id, at=at)
        elif kind == "rejected":
            event = OrderRejected(client_order_id=client_order_id, at=at)
        else:
            event = OrderReplaced(
                client_order_id=client_order_id, new_client_order_id=client_order_id + "-r1", at=at
            )
        before = self.machine.snapshot()
        outcome = self.fire(event)
        assert outcome.snapshot.position == before.position
        if kind == "filled":
            assert outcome.kind is OutcomeKind.ANOMALY
            assert outcome.reason == "foreign_fill"
        else:
            assert outcome.kind is OutcomeKind.IGNORED

    # --- invariants at rest ----------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        """Invariants 1-4 and 6 on the latest snapshot, plus the counters."""
        if self.machine is None:
            return
        snap = self.machine.snapshot()
        working = snap.working_orders
        # 1. At most one live entry attempt: every working entry leg is of the latest attempt.
        entry_ids = {t.client_order_id for t in working if t.role is OrderRole.ENTRY}
        assert entry_ids <= self.entry_batch
        # 2. Never more entries in a day than allowed; the counter counts accepted entries.
        assert 0 <= snap.entries_today <= snap.max_attempts
        assert snap.entries_today == self.entries_since_rollover
        # 3. Stops on the tick, tightening only, within one position.
        epoch = (self.entry_batch, snap.side)
        if epoch != self.epoch:
            self.epoch, self.best = epoch, {}
        for series, price in (("held", snap.stop_price), ("desired", snap.desired_stop)):
            if price is not None:
                assert machines.is_on_tick(price, self.rules.tick)
                if snap.side is not None:
                    self._check_tightening(series, snap.side, price)
        for track in working:
            if track.stop_price is not None:
                assert machines.is_on_tick(track.stop_price, self.rules.tick)
        # 4. In a position, a protective stop is working (live or in flight).
        if snap.state in PROTECTED_STATES:
            assert snap.position != 0
            assert any(t.role is OrderRole.STOP for t in working), (
                f"{snap.state} with position {snap.position} and no stop working"
            )
        # 6. The position is the signed sum of the fills the machine took.
        expected = sum((self.sides[i].sign * q for i, q in self.applied.items()), ZERO)
        assert snap.position == expected
        # Counters move with outcomes, one count per fire().
        counters = self.machine.counters()
        assert counters.transitions == snap.transitions == self.kinds[OutcomeKind.ACCEPTED]
        assert counters.races == snap.races == self.kinds[OutcomeKind.IGNORED]
        assert counters.anomalies == snap.anomalies == self.kinds[OutcomeKind.ANOMALY]
        assert counters.declined == self.kinds[OutcomeKind.DECLINED]
        assert "unreachable" not in counters.by_reason


LifecycleUnderRandomEvents.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLifecycleUnderRandomEvents = LifecycleUnderRandomEvents.TestCase


class TestNoBackDoor:
    def test_state_has_no_public_setter(self) -> None:
        """Invariant 7: a machine's state cannot be assigned, only changed by fire()."""
        machine = SymbolMachine(strategy="inv", symbol="SYM", trading_date=DAY)
        with pytest.raises(AttributeError):
            machine.state = State.IN_POSITION  # type: ignore[misc]
        assert machine.state == State.FLAT
        assert not [name for name in dir(machine) if name.startswith("to_")]
        assert not [name for name in dir(SymbolMachine) if name.startswith("set")]
