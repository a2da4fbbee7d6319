"""Many threads firing at the same symbols never break a machine, lose an outcome or deadlock.

Strategy threads fire signals at random symbols and move the market; executor threads run each
machine's commands on a thread-safe fake broker, in order per symbol, outside every machine's
lock; stream threads fire the broker's reports back, repeating some and delaying others behind
newer ones; a checker thread reads snapshots all the while. Nothing sleeps: threads start on a
barrier and hand each other work through queues.
"""

from __future__ import annotations

import faulthandler
import queue
import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

import machines
from machines import (
    BrokerSnapshotTaken,
    CancelOrder,
    ClosePosition,
    Command,
    DayRolledOver,
    Desk,
    EntryLeg,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    HaltRequested,
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
    TrailProposed,
)

ZERO = Decimal(0)
DAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
RULES = Rules(tick=machines.FixedTick(Decimal("0.05")), max_attempts=3)
SYMBOLS = tuple(f"S{n:03d}" for n in range(120))
STRATEGY_THREADS = 4
EXECUTOR_THREADS = 2
STREAM_THREADS = 3
EVENTS_PER_STRATEGY_THREAD = 14_000
MIN_EVENTS = 50_000
CHECK_EVERY = 1_000  # fires between two passes of the snapshot checker
DEADLINE = 60.0  # seconds; a healthy run takes a few
CARRIES_FILL = (OrderFilled, OrderCancelled, OrderExpired)
PROTECTED_STATES = (State.IN_POSITION, State.STOP_REPLACING)


# --- shared bookkeeping -----------------------------------------------------------------------


class Work:
    """Counts work not yet finished, so the test can wait for quiescence instead of sleeping."""

    def __init__(self) -> None:
        self._pending = 0
        self._aborted = False
        self._idle = threading.Condition()

    def abort(self) -> None:
        """A thread failed: stop waiting for work it will never finish."""
        with self._idle:
            self._aborted = True
            self._idle.notify_all()

    def add(self) -> None:
        with self._idle:
            self._pending += 1

    def done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0 or self._aborted, timeout)


class Ledger:
    """What every firing thread saw: outcomes by kind, fills taken and ignored, order sides."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fires = 0
        self.kinds: Counter[OutcomeKind] = Counter()
        self.sides: dict[str, Side] = {}
        self.symbol_of: dict[str, str] = {}
        self.taken: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.ignored: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.errors: list[str] = []


def _attempt(client_order_id: str) -> int:
    cid = machines.ClientOrderId.parse(client_order_id)
    assert cid is not None, client_order_id
    return cid.attempt


def check_snapshot(snap: Snapshot) -> None:
    """Invariants that hold on any snapshot, whenever it is read."""
    assert 0 <= snap.entries_today <= snap.max_attempts  # 2
    attempts = {
        _attempt(t.client_order_id) for t in snap.working_orders if t.role is OrderRole.ENTRY
    }
    assert len(attempts) <= 1, f"{snap.symbol}: entries of several attempts work: {attempts}"  # 1
    for price in (snap.stop_price, snap.desired_stop):
        assert price is None or machines.is_on_tick(price, RULES.tick)  # 3
    if snap.state in PROTECTED_STATES:  # 4
        assert any(t.role is OrderRole.STOP for t in snap.working_orders), (
            f"{snap.symbol}: {snap.state} with position {snap.position} and no stop working"
        )


# --- the fake broker --------------------------------------------------------------------------


@dataclass
class BrokerOrder:
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    role: OrderRole
    status: str = "new"
    filled: Decimal = ZERO

    @property
    def open(self) -> bool:
        return self.status == "new"


class FakeBroker:
    """Thread-safe: one lock over the orders; reports go to the stream queue in broker order."""

    def __init__(self, stream: queue.Queue, work: Work) -> None:
        self._lock = threading.Lock()
        self._orders: dict[str, BrokerOrder] = {}
        self._by_symbol: dict[str, list[BrokerOrder]] = defaultdict(list)
        self._stream = stream
        self._work = work

    def _emit(self, symbol: str, event: OrderEvent) -> None:
        self._work.add()
        self._stream.put((symbol, event, 0))

    def position(self, symbol: str) -> Decimal:
        with self._lock:
            return sum((o.side.sign * o.filled for o in self._by_symbol[symbol]), ZERO)

    def execute(self, command: Command, rng: random.Random) -> None:
        with self._lock:
            if isinstance(command, PlaceEntry | PlaceStop | ClosePosition):
                self._place(command, rng)
            elif isinstance(command, CancelOrder):
                order = self._orders.get(command.client_order_id)
                if order is not None and order.open:  # else 404 / 422: no stream event
                    if rng.random() < 0.2 and order.qty - order.filled > 1:
                        self._fill(order, Decimal(1))  # the cancel lost a race with a fill
                    order.status = "canceled"
                    self._emit(
                        order.symbol,
                        OrderCancelled(
                            client_order_id=order.client_order_id,
                            at=AT,
                            filled_qty=order.filled,
                            avg_fill_price=order.price if order.filled else None,
                        ),
                    )
            else:
                assert isinstance(command, ReplaceStop)
                self._replace(command)

    def _place(self, command: PlaceEntry | PlaceStop | ClosePosition, rng: random.Random) -> None:
        cid = command.client_order_id
        assert cid not in self._orders, f"client order id reused: {cid}"
        role = (
            OrderRole.ENTRY
            if isinstance(command, PlaceEntry)
            else OrderRole.STOP
            if isinstance(command, PlaceStop)
            else OrderRole.EXIT
        )
        price = command.stop_price if not isinstance(command, ClosePosition) else Decimal(100)
        order = BrokerOrder(
            client_order_id=cid,
            symbol=command.symbol,
            side=command.side,
            qty=command.qty,
            price=price,
            role=role,
        )
        self._orders[cid] = order
        self._by_symbol[command.symbol].append(order)
        if role is OrderRole.ENTRY and rng.random() < 0.03:
            order.status = "rejected"
            self._emit(order.symbol, OrderRejected(client_order_id=cid, at=AT))
            return
        self._emit(order.symbol, OrderAccepted(client_order_id=cid, at=AT))
        if role is OrderRole.EXIT:
            self._fill(order, order.qty)  # a market order fills at once

    def _replace(self, command: ReplaceStop) -> None:
        old = self._orders.get(command.client_order_id)
        assert old is not None, f"replace of an order never placed: {command.client_order_id}"
        new_id = command.new_client_order_id
        assert new_id not in self._orders, f"client order id reused: {new_id}"
        if not old.open:  # the replace lost the race: fill (A), then B rejected
            self._emit(old.symbol, OrderRejected(client_order_id=new_id, at=AT))
            return
        old.status = "replaced"
        new = BrokerOrder(
            client_order_id=new_id,
            symbol=old.symbol,
            side=old.side,
            qty=command.qty,
            price=command.stop_price,
            role=OrderRole.STOP,
        )
        self._orders[new_id] = new
        self._by_symbol[old.symbol].append(new)
        self._emit(
            old.symbol,
            OrderReplaced(client_order_id=old.client_order_id, new_client_order_id=new_id, at=AT),
        )
        self._emit(old.symbol, OrderAccepted(client_order_id=new_id, at=AT))

    def _fill(self, order: BrokerOrder, qty: Decimal) -> None:
        order.filled += qty
        if order.filled == order.qty:
            order.status = "filled"
        self._emit(
            order.symbol,
            OrderFilled(
                client_order_id=order.client_order_id,
                at=AT,
                filled_qty=order.filled,
                avg_fill_price=order.price,
            ),
        )

    def trade(self, symbol: str, rng: random.Random) -> None:
        """The market moves: one working order of ``symbol`` fills, in part or in full."""
        with self._lock:
            working = [o for o in self._by_symbol[symbol] if o.open]
            if not working:
                return
            # Entries fill more often than stops, so that positions live long enough to trail.
            weights = [1 if o.role is OrderRole.STOP else 4 for o in working]
            order = rng.choices(working, weights)[0]
            remaining = order.qty - order.filled
            part = remaining if rng.random() < 0.6 else Decimal(rng.randint(1, int(remaining)))
            self._fill(order, part)


# --- the harness ------------------------------------------------------------------------------


class Harness:
    def __init__(self) -> None:
        self.desk = Desk(strategy="st", trading_date=DAY, rules=RULES)
        self.work = Work()
        self.ledger = Ledger()
        self.stream: queue.Queue = queue.Queue()
        self.executors = [queue.Queue() for _ in range(EXECUTOR_THREADS)]
        self.broker = FakeBroker(self.stream, self.work)
        self.start = threading.Barrier(STRATEGY_THREADS + EXECUTOR_THREADS + STREAM_THREADS + 2)
        self.stop_checking = threading.Event()
        self.check_now = threading.Event()  # set every CHECK_EVERY fires, and at the end
        self.snapshots_checked = 0
        self.reconciled: list[Outcome] = []

    def guarded(self, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except BaseException:
                with self.ledger.lock:
                    self.ledger.errors.append(traceback.format_exc())
                self.stop_checking.set()
                self.check_now.set()
                self.work.abort()

        return run

    # Firing, with the checks each outcome allows on its own.

    def fire(self, symbol: str, event: Event) -> Outcome:
        outcome = self.desk.fire(symbol, event)
        snap = outcome.snapshot
        assert outcome.reason != "unreachable", (outcome.state_from, outcome.trigger)
        if outcome.kind in (OutcomeKind.IGNORED, OutcomeKind.DECLINED):
            assert outcome.commands == ()
            assert outcome.state_to == outcome.state_from
        if outcome.kind is OutcomeKind.ANOMALY:
            assert outcome.state_to == State.HALTED
        check_snapshot(snap)
        ledger = self.ledger
        with ledger.lock:
            ledger.fires += 1
            if ledger.fires % CHECK_EVERY == 0:
                self.check_now.set()
            ledger.kinds[outcome.kind] += 1
            for command in outcome.commands:
                new_id = (
                    command.new_client_order_id
                    if isinstance(command, ReplaceStop)
                    else None
                    if isinstance(command, CancelOrder)
                    else command.client_order_id
                )
                if new_id is None:
                    continue
                assert new_id not in ledger.sides, f"client order id reused: {new_id}"
                assert len(new_id) <= machines.MAX_CLIENT_ORDER_ID
                if isinstance(command, ReplaceStop):
                    side = ledger.sides[command.client_order_id]
                else:
                    side = command.side
                if not isinstance(command, ClosePosition):
                    assert machines.is_on_tick(command.stop_price, RULES.tick)
                ledger.sides[new_id] = side
                ledger.symbol_of[new_id] = symbol
            if isinstance(event, CARRIES_FILL) and event.client_order_id in ledger.sides:
                book = (
                    ledger.taken
                    if outcome.kind in (OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY)
                    else ledger.ignored
                )
                cid = event.client_order_id
                book[cid] = max(book[cid], event.filled_qty)
        if outcome.kind in (OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY):
            # Hand every decided outcome to the symbol's executor, numbered, so that its
            # commands run in the order the machine decided them, whichever thread fired.
            self.work.add()
            seq = snap.transitions + snap.anomalies
            self.executors[SYMBOLS.index(symbol) % EXECUTOR_THREADS].put(
                (symbol, seq, outcome.commands)
            )
        return outcome

    # The threads.

    def strategy(self, seed: int) -> None:
        rng = random.Random(seed)
        self.start.wait()
        try:
            for _ in range(EVENTS_PER_STRATEGY_THREAD):
                symbol = rng.choice(SYMBOLS)
                event = self.strategy_event(symbol, rng)
                if event is None:
                    continue
                self.fire(symbol, event)
                if rng.random() < 0.03:
                    self.fire(symbol, event)  # a strategy event repeated
        finally:
            self.work.done()

    def strategy_event(self, symbol: str, rng: random.Random) -> Event | None:
        snap = self.desk.machine(symbol).snapshot()
        roll = rng.random()
        if roll < 0.25:
            self.broker.trade(symbol, rng)
            return None
        if roll < 0.50:
            qty = Decimal(rng.randint(1, 10))
            lift = Decimal(rng.randint(0, 300)) / 1000
            risk = Decimal(rng.randint(1, 2000)) / 1000
            buy = EntryLeg(side=Side.BUY, entry_price=100 + lift, initial_stop=100 + lift - risk)
            sell = EntryLeg(side=Side.SELL, entry_price=100 - lift, initial_stop=100 - lift + risk)
            legs = rng.choice([(buy,), (sell,), (buy,), (sell,), (buy, sell)])
            return EntrySignalled(at=AT, qty=qty, legs=legs)
        if roll < 0.72:
            reference = snap.desired_stop or Decimal(100)
            toward = -1 if snap.side is Side.SELL else 1
            offset = Decimal(rng.randint(-500, 1500)) / 1000
            return TrailProposed(at=AT, stop_price=reference + toward * offset)
        if roll < 0.77:
            return ExitSignalled(at=AT, reason="target")
        if roll < 0.83:
            return EntryTimedOut(at=AT, attempt=max(1, snap.attempt - rng.randint(0, 1)))
        if roll < 0.87:
            return BrokerSnapshotTaken(at=AT, position_qty=snap.position)
        if roll < 0.91:
            return DayRolledOver(trading_date=snap.trading_date + timedelta(rng.randint(0, 1)))
        if roll < 0.92:
            return SquareOffReached(at=AT)
        if roll < 0.94:
            return HaltRequested(at=AT, reason="kill_switch", flatten=rng.random() < 0.5)
        return ResumeRequested(at=AT)

    def executor(self, index: int) -> None:
        rng = random.Random(1000 + index)
        inbox = self.executors[index]
        expected: dict[str, int] = defaultdict(lambda: 1)
        parked: dict[tuple[str, int], tuple[Command, ...]] = {}
        self.start.wait()
        while (item := inbox.get()) is not None:
            symbol, seq, commands = item
            parked[(symbol, seq)] = commands
            while (symbol, expected[symbol]) in parked:
                for command in parked.pop((symbol, expected[symbol])):
                    self.broker.execute(command, rng)
                expected[symbol] += 1
                self.work.done()
        assert not parked, f"outcomes never completed their sequence: {sorted(parked)[:5]}"

    def stream_reader(self, index: int) -> None:
        rng = random.Random(2000 + index)
        self.start.wait()
        while (item := self.stream.get()) is not None:
            symbol, event, delays = item
            if delays == 0 and rng.random() < 0.08:
                # Delivered late, behind newer events: the older one arrives after them.
                self.stream.put((symbol, event, 1))
                continue
            self.fire(symbol, event)
            if rng.random() < 0.05:
                self.fire(symbol, event)  # the same report again, at once
            elif rng.random() < 0.05:
                self.work.add()
                self.stream.put((symbol, event, 1))  # and again, later
            if rng.random() < 0.01:
                self.fire(
                    symbol,
                    OrderFilled(
                        client_order_id=f"manual-{symbol}",
                        at=AT,
                        filled_qty=Decimal(1),
                        avg_fill_price=Decimal(1),
                    )
                    if rng.random() < 0.2
                    else OrderAccepted(client_order_id=f"manual-{symbol}", at=AT),
                )
            self.work.done()

    def checker(self) -> None:
        self.start.wait()
        while not self.stop_checking.is_set():
            self.check_now.wait()
            self.check_now.clear()
            for snap in self.desk.snapshots():
                check_snapshot(snap)
                self.snapshots_checked += 1


def run_desk() -> tuple[Harness, float]:
    harness = Harness()
    threads = [
        threading.Thread(
            target=harness.guarded(lambda s=s: harness.strategy(s)), name=f"strategy-{s}"
        )
        for s in range(STRATEGY_THREADS)
    ]
    for _ in threads:
        harness.work.add()
    threads += [
        threading.Thread(
            target=harness.guarded(lambda i=i: harness.executor(i)), name=f"executor-{i}"
        )
        for i in range(EXECUTOR_THREADS)
    ]
    threads += [
        threading.Thread(
            target=harness.guarded(lambda i=i: harness.stream_reader(i)), name=f"stream-{i}"
        )
        for i in range(STREAM_THREADS)
    ]
    checker = threading.Thread(target=harness.guarded(harness.checker), name="checker")
    threads.append(checker)
    faulthandler.dump_traceback_later(DEADLINE * 2, exit=True)  # the last resort: a hung run
    try:
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        harness.start.wait(timeout=DEADLINE)
        idle = harness.work.wait_idle(timeout=DEADLINE)
        elapsed = time.perf_counter() - began
        if idle and not harness.ledger.errors:
            # Reconcile the quiet desk with the broker, through the same counted path.
            for symbol in harness.desk.symbols():
                truth = harness.broker.position(symbol)
                harness.reconciled.append(
                    harness.fire(symbol, BrokerSnapshotTaken(at=AT, position_qty=truth))
                )
            idle = harness.work.wait_idle(timeout=DEADLINE)
        harness.stop_checking.set()
        harness.check_now.set()
        for _ in range(STREAM_THREADS):
            harness.stream.put(None)
        for inbox in harness.executors:
            inbox.put(None)
        for thread in threads:
            thread.join(timeout=DEADLINE)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert not harness.ledger.errors, harness.ledger.errors[0]
    assert idle, "the desk never became quiet: work was lost or a thread is stuck"
    alive = [thread.name for thread in threads if thread.is_alive()]
    assert not alive, f"threads still running (deadlock?): {alive}"
    return harness, elapsed


@pytest.fixture(scope="module")
def stressed() -> tuple[Harness, float]:
    """One stressed desk, shared by the tests below (running it takes seconds)."""
    return run_desk()


class TestDeskUnderThreads:
    def test_many_threads_at_the_same_symbols_finish_without_deadlock(self, stressed) -> None:
        """Every thread ends, no thread raised, and the run stays within its time bound."""
        harness, elapsed = stressed
        assert elapsed < DEADLINE
        assert harness.ledger.fires >= MIN_EVENTS
        assert len(harness.desk.symbols()) >= 100
        assert harness.snapshots_checked > 0

    def test_every_fire_returns_exactly_one_outcome_and_is_counted_once(self, stressed) -> None:
        """The outcomes seen by the threads, and the desk's counters, add up to the fire calls."""
        harness, _ = stressed
        ledger, totals = harness.ledger, harness.desk.counters()
        assert sum(ledger.kinds.values()) == ledger.fires
        assert totals.transitions == ledger.kinds[OutcomeKind.ACCEPTED]
        assert totals.declined == ledger.kinds[OutcomeKind.DECLINED]
        assert totals.races == ledger.kinds[OutcomeKind.IGNORED]
        assert totals.anomalies == ledger.kinds[OutcomeKind.ANOMALY]
        assert (
            totals.transitions + totals.declined + totals.races + totals.anomalies == ledger.fires
        )
        assert sum(totals.by_reason.values()) == ledger.fires - totals.transitions
        assert "unreachable" not in totals.by_reason

    def test_per_symbol_counters_add_up_to_the_desk_totals(self, stressed) -> None:
        """Summing each machine's counters and snapshot counts gives the desk's totals."""
        harness, _ = stressed
        desk = harness.desk
        per_symbol = [desk.machine(symbol).counters() for symbol in desk.symbols()]
        totals = desk.counters()
        assert sum(c.transitions for c in per_symbol) == totals.transitions
        assert sum(c.declined for c in per_symbol) == totals.declined
        assert sum(c.races for c in per_symbol) == totals.races
        assert sum(c.anomalies for c in per_symbol) == totals.anomalies
        # Decisions overtaken by another thread's publish (and made again): at most once per
        # unlocked try of each fire (the last try holds the lock, where nobody overtakes it).
        assert sum(c.overtaken for c in per_symbol) == totals.overtaken
        assert 0 <= totals.overtaken <= machines._machine._UNLOCKED_TRIES * harness.ledger.fires
        reasons: Counter[str] = Counter()
        for counters in per_symbol:
            reasons.update(counters.by_reason)
        assert dict(reasons) == dict(totals.by_reason)
        for snap, counters in zip(desk.snapshots(), per_symbol, strict=True):
            assert (snap.transitions, snap.races, snap.anomalies) == (
                counters.transitions,
                counters.races,
                counters.anomalies,
            )

    def test_races_happened_and_were_ignored_not_applied(self, stressed) -> None:
        """Duplicates and stale reports really occurred, and none carried a fill left uncounted."""
        harness, _ = stressed
        ledger = harness.ledger
        assert ledger.kinds[OutcomeKind.IGNORED] > 0
        dropped = {cid: qty for cid, qty in ledger.ignored.items() if qty > ledger.taken[cid]}
        assert not dropped, f"fills ignored as races but never taken: {dropped}"

    def test_each_position_is_the_sum_of_its_fills_and_the_brokers(self, stressed) -> None:
        """Once quiet, each machine's position is its accepted fills and agrees with the broker."""
        harness, _ = stressed
        ledger, desk = harness.ledger, harness.desk
        expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for cid, qty in ledger.taken.items():
            expected[ledger.symbol_of[cid]] += ledger.sides[cid].sign * qty
        for snap in desk.snapshots():
            check_snapshot(snap)
            assert snap.position == expected[snap.symbol], snap.symbol
            assert snap.position == harness.broker.position(snap.symbol), snap.symbol

    def test_reconciling_the_quiet_desk_finds_no_mismatch(self, stressed) -> None:
        """A broker snapshot of each quiet symbol matches its books: no anomaly, no command."""
        harness, _ = stressed
        assert len(harness.reconciled) == len(harness.desk.symbols())
        for outcome in harness.reconciled:
            assert outcome.kind is OutcomeKind.ACCEPTED, (outcome.snapshot.symbol, outcome.reason)
            assert outcome.commands == ()


class TestDecidedBetweenPrepareAndLock:
    """``fire`` classifies, drafts and decides before taking the lock; a decision another thread
    published in between must be seen, or the same fill would count twice."""

    def test_a_fill_decided_meanwhile_makes_the_same_fill_stale(self, monkeypatch) -> None:
        from tests.machines.scenarios import BUY2, QTY, filled, to_pending_live

        machine = to_pending_live().machine
        fill = filled(BUY2, QTY, "101.00")
        real = machines._machine._prepare
        other: list[machines.Outcome] = []
        raced = threading.Event()

        def prepare_then_let_another_thread_decide(books, event):  # type: ignore[no-untyped-def]
            prepared = real(books, event)
            if not raced.is_set():
                raced.set()
                rival = threading.Thread(target=lambda: other.append(machine.fire(event)))
                rival.start()
                rival.join()
            return prepared

        monkeypatch.setattr(machines._machine, "_prepare", prepare_then_let_another_thread_decide)
        late = machine.fire(fill)
        assert (other[0].kind, other[0].trigger) == (machines.OutcomeKind.ACCEPTED, "entry_filled")
        assert (late.kind, late.trigger) == (machines.OutcomeKind.IGNORED, "stale_order_event")
        assert machine.snapshot().position == QTY

    def test_a_fill_published_after_the_unlocked_decision_is_decided_again(self) -> None:
        """The rival publishes after this thread's whole decision (guards and effects ran on
        its draft) and before its lock: the decision is thrown away and taken again."""
        from tests.machines.races import raced
        from tests.machines.scenarios import BUY2, QTY, filled, to_pending_live

        machine = to_pending_live().machine
        before = machine.counters()
        fill = filled(BUY2, QTY, "101.00")
        with raced(machine, fill, threaded=True) as race:
            late = machine.fire(fill)
        (other,) = race.fired
        assert race.decisions == 3  # this thread's, the rival's, this thread's again
        assert (other.kind, other.trigger) == (machines.OutcomeKind.ACCEPTED, "entry_filled")
        assert (late.kind, late.trigger) == (machines.OutcomeKind.IGNORED, "stale_order_event")
        assert late.commands == ()
        assert machine.snapshot().position == QTY
        after = machine.counters()
        assert (after.transitions, after.races) == (before.transitions + 1, before.races + 1)
        assert after.overtaken == before.overtaken + 1
