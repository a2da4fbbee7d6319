"""Latency: lock hold time under two firing threads, and trade update → command at the broker.

- ``lock_hold``: two threads fire the dispatch cycle on their own symbols at once; a
  benchmark-only ``SymbolMachine`` subclass swaps in a measuring ``RLock`` that times each
  outermost hold (``fire``'s locked section: the re-check and the publish; the decision
  runs before it, and inside it only when another thread overtook every unlocked try) in wall
  time and in the holding thread's CPU time (``time.thread_time``; wall less CPU is time the
  thread was off the CPU or waiting for the GIL). Production code paths are unchanged.
- ``in_process``: ``Engine`` + ``PaperBroker``: a bar fills the entry, the paper broker publishes
  the fill; from the moment the engine's subscription receives it until ``submit_order`` is
  called with the protective stop (``drain`` → ``fire`` → ``PlaceStop`` → ``execute``), in wall
  and CPU time (one thread does it all, so its ``thread_time`` is the CPU the path took).

Both run under the live runner's collector settings (``tuned_for_a_run``) unless told
``live_gc=False``: that is the same-run baseline the figures compare against.
- ``loopback``: the same over real sockets: ``SimExchange`` + ``AlpacaBroker`` +
  ``AlpacaTradeStream``; from the stream thread's callback receiving the fill until the engine
  (woken in the main thread, as a live runner would be) hands the stop to ``submit_order``.
"""

from __future__ import annotations

import queue
import threading
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter, process_time, thread_time
from types import TracebackType
from typing import Any

import machines as m
from benchmarks import dispatch
from benchmarks._common import percentiles
from brokers import (
    ALPACA_PAPER,
    AlpacaBroker,
    AlpacaTradeStream,
    Bar,
    ManualClock,
    Order,
    OrderRequest,
    PaperBroker,
    ReconnectPolicy,
    SimExchange,
    TradeUpdate,
    UpdateKind,
)
from strategies._memory import tuned_for_a_run
from strategies.engine import Engine, SessionPlan

__all__ = ["in_process", "lock_hold", "loopback", "trigger_share"]

_WAIT = 10.0
_ZONE = dispatch._ZONE


# --- lock hold -----------------------------------------------------------------------------------


class _Holds:
    """Hold times of every measured lock: wall and the holding thread's CPU (seconds)."""

    __slots__ = ("cpu", "wall")

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []


class _MeasuringRLock:
    """An ``RLock`` that records how long each outermost acquisition was held."""

    __slots__ = ("_cpu_since", "_depth", "_lock", "_since", "holds")

    def __init__(self, holds: _Holds) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # touched only by the thread holding the lock
        self._since = self._cpu_since = 0.0
        self.holds = holds

    def __enter__(self) -> bool:
        self._lock.acquire()
        if self._depth == 0:
            self._since = perf_counter()
            self._cpu_since = thread_time()
        self._depth += 1
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            cpu = thread_time() - self._cpu_since
            self.holds.wall.append(perf_counter() - self._since)
            self.holds.cpu.append(cpu)
        self._lock.release()


class _MeasuredMachine(m.SymbolMachine):
    """A symbol machine whose lock records its hold times (benchmark only)."""

    __slots__ = ()

    def __init__(self, holds: _Holds, symbol: str) -> None:
        super().__init__(
            strategy=dispatch.STRATEGY,
            symbol=symbol,
            trading_date=dispatch._FIRST_DAY - timedelta(days=1),
        )
        self._lock = _MeasuringRLock(holds)  # type: ignore[assignment]


def lock_hold(
    cycles: int = 300,
    symbols_per_thread: int = 10,
    threads: int = 2,
    *,
    live_gc: bool = True,
    same_symbols: bool = False,
) -> dict[str, Any]:
    """Hold-time percentiles (µs, wall and CPU) of ``fire``'s lock while ``threads`` threads
    fire at once; under the live runner's collector settings unless ``live_gc=False``.

    With ``same_symbols`` every thread fires the same streams at the same machines (each event
    arrives once per thread: the later copies are duplicates, stale or declined), so decisions
    race: the result also says how many were overtaken and made again (``redecided``: the
    machines' own ``overtaken`` counters)."""
    holds = _Holds()
    work: list[tuple[list[_MeasuredMachine], list[list[m.Event]]]] = []
    for t in range(threads):
        if same_symbols and work:
            work.append(work[0])
            continue
        names = [f"T{t}S{i}" for i in range(symbols_per_thread)]
        machines = [_MeasuredMachine(holds, name) for name in names]
        work.append((machines, [dispatch.events(cycles, name) for name in names]))
    start = threading.Barrier(threads)

    def run(machines: list[_MeasuredMachine], streams: list[list[m.Event]]) -> None:
        start.wait()
        for i in range(len(streams[0])):  # round robin over this thread's symbols
            for machine, stream in zip(machines, streams, strict=True):
                machine.fire(stream[i])

    workers = [
        threading.Thread(target=run, args=w, name=f"bench-fire-{i}") for i, w in enumerate(work)
    ]
    with tuned_for_a_run() if live_gc else nullcontext():  # as the runner, after start-up
        began = perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = perf_counter() - began
    # Each fire holds the lock once, and once more for every decision another thread overtook.
    fired = sum(len(streams) * len(streams[0]) for _, streams in work)
    found: dict[str, Any] = {
        "threads": threads,
        "live_gc": live_gc,
        "same_symbols": same_symbols,
        "events": fired,
        "holds": len(holds.wall),
        "events_per_s": round(fired / elapsed),
        "hold_us": percentiles(holds.wall),
        "hold_cpu_us": percentiles(holds.cpu),
    }
    if same_symbols:
        overtaken = sum(machine.counters().overtaken for machine in work[0][0])
        found["redecided"] = overtaken
        found["redecided_share"] = round(overtaken / fired, 4)
    return found


class _SameRows:
    """A stand-in for one of transitions' events (experiment only, never in production): the
    same rows in the same order, each row's guards then its effects, the state set directly."""

    __slots__ = ("rows",)

    def __init__(self, event: Any) -> None:
        self.rows = {
            source: [(t.dest, [c.func for c in t.conditions], list(t.after)) for t in rows]
            for source, rows in event.transitions.items()
        }

    def trigger(self, model: Any, decision: Any) -> bool:
        for dest, guards, effects in self.rows[model._state]:
            if all(guard(decision) for guard in guards):
                if dest is not None:
                    model._state = dest
                for effect in effects:
                    effect(decision)
                return True
        return False


def _one_thread(cycles: int, symbols: int) -> tuple[float, list[float]]:
    """CPU per event (µs) over every ``fire``, and the CPU of each lock hold (s), one thread."""
    holds = _Holds()
    machines = [_MeasuredMachine(holds, f"S{i}") for i in range(symbols)]
    streams = [dispatch.events(cycles, f"S{i}") for i in range(symbols)]
    began = thread_time()
    for i in range(len(streams[0])):
        for machine, stream in zip(machines, streams, strict=True):
            machine.fire(stream[i])
    return (thread_time() - began) / len(holds.cpu) * 1e6, holds.cpu


def trigger_share(cycles: int = 100, symbols: int = 10, repeats: int = 3) -> dict[str, Any]:
    """What transitions' trigger path costs inside ``fire``: the same events fired with it and
    with ``_SameRows`` in its place (one thread, CPU; the best of ``repeats``): per event, and
    the lock hold's percentiles."""
    from machines import _machine  # the shared definition's events, swapped for the experiment

    events: dict[str, Any] = _machine._EVENTS
    real = dict(events)
    found: dict[str, Any] = {}
    for name in ("transitions", "same_rows"):
        if name == "same_rows":
            events.update({trigger: _SameRows(event) for trigger, event in real.items()})
        try:
            per_event, holds = min(_one_thread(cycles, symbols) for _ in range(repeats))
        finally:
            events.update(real)
        found[name] = {
            "fire_cpu_us_per_event": round(per_event, 2),
            "hold_cpu_us": percentiles(holds),
        }
    return found


# --- trade update → command handed to the broker --------------------------------------------------


class _Stamps:
    """When the fill arrived and when the stop reached ``submit_order``."""

    def __init__(self) -> None:
        self.received = self.received_cpu = self.received_process = 0.0
        self.handed = self.handed_cpu = self.handed_process = 0.0
        self.stop_id = ""

    def receive(self) -> None:
        self.received, self.received_cpu = perf_counter(), thread_time()
        self.received_process = process_time()

    def hand(self) -> None:
        self.handed_process = process_time()
        self.handed_cpu, self.handed = thread_time(), perf_counter()


class _Hours:
    """Round-the-clock sessions in New York (``SessionTimes``): no timer fires in the way."""

    timezone = _ZONE

    def open_at(self, day: date) -> datetime:
        return datetime.combine(day, time(0, 0), tzinfo=_ZONE)

    def close_at(self, day: date) -> datetime:
        return datetime.combine(day, time(23, 59), tzinfo=_ZONE)


def _plan() -> SessionPlan:
    return SessionPlan(
        session=_Hours(),
        entry_cutoff=time(23, 58),
        square_off=time(23, 59),
        bar_interval=timedelta(minutes=5),
        qty=Decimal(100),
        tick_of=lambda symbol: m.US_EQUITY_TICK,
    )


class _TimedPaper(PaperBroker):
    """A paper broker that stamps the moment a stop order is handed to it."""

    stamps: _Stamps

    def submit_order(self, request: OrderRequest) -> Order:
        if request.client_order_id == self.stamps.stop_id:
            self.stamps.hand()
        return super().submit_order(request)


class _TimedAlpaca(AlpacaBroker):
    """An Alpaca adapter that stamps the moment a stop order is handed to it."""

    stamps: _Stamps

    def submit_order(self, request: OrderRequest) -> Order:
        if request.client_order_id == self.stamps.stop_id:
            self.stamps.hand()
        return super().submit_order(request)


def _bar(symbol: str, start: datetime, low: str, high: str) -> Bar:
    return Bar(
        symbol=symbol,
        start=start,
        open=Decimal("100.00"),
        high=Decimal(high),
        low=Decimal(low),
        close=Decimal("100.00"),
    )


def _entry(day: date, when: datetime) -> m.EntrySignalled:
    leg = m.EntryLeg(side=m.Side.BUY, entry_price=Decimal("101.00"), initial_stop=Decimal("98.99"))
    return m.EntrySignalled(at=when, qty=Decimal(100), legs=(leg,))


def in_process(
    samples: int = 1000, warmup: int = 50, symbol: str = "AAPL", *, live_gc: bool = True
) -> dict[str, Any]:
    """Fill received → ``PlaceStop`` handed to the paper broker: percentiles (µs, wall and CPU),
    under the live runner's collector settings unless ``live_gc=False``."""
    with tuned_for_a_run() if live_gc else nullcontext():
        return {"live_gc": live_gc, **_in_process(samples, warmup, symbol)}


def _in_process(samples: int, warmup: int, symbol: str) -> dict[str, Any]:
    stamps = _Stamps()
    first = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
    clock = ManualClock(first)
    paper = _TimedPaper(clock=clock, cash=Decimal(10) ** 12)
    paper.stamps = stamps
    desk = m.Desk(strategy=dispatch.STRATEGY, trading_date=first.date() - timedelta(days=1))
    engine = Engine(desk=desk, signals={}, broker=paper, clock=clock, plan=_plan())

    def received(update: TradeUpdate) -> None:
        if update.kind is UpdateKind.FILL and update.order.client_order_id.endswith("-buy"):
            stamps.receive()
        engine.on_trade_update(update)

    paper.subscribe(received)
    taken: list[float] = []
    taken_cpu: list[float] = []
    for i in range(warmup + samples):
        day = first.date() + timedelta(days=i)
        at = datetime.combine(day, first.timetz())
        clock.set(at)
        engine.fire(symbol, m.DayRolledOver(trading_date=day))
        engine.fire(symbol, _entry(day, at))
        stamps.stop_id = m.client_order_id(dispatch.STRATEGY, symbol, day, 1, m.OrderRole.STOP)
        stamps.received = stamps.handed = 0.0
        paper.feed_bar(_bar(symbol, at, "99.50", "101.50"))  # fills the entry
        engine.drain()
        if not stamps.handed > stamps.received > 0:
            raise AssertionError("the fill did not lead to a protective stop")
        if i >= warmup:
            taken.append(stamps.handed - stamps.received)
            taken_cpu.append(stamps.handed_cpu - stamps.received_cpu)
        # Back to flat: exit (cancels the stop, closes at market), the next bar fills the close.
        engine.fire(symbol, m.ExitSignalled(at=at, reason="bench"))
        clock.set(at + timedelta(minutes=5))
        paper.feed_bar(_bar(symbol, at + timedelta(minutes=5), "99.90", "100.10"))
        engine.drain()
        if not desk.machine(symbol).snapshot().is_flat:
            raise AssertionError(f"not flat after the exit: {desk.machine(symbol).state}")
    return {
        "samples": len(taken),
        "update_to_command_us": percentiles(taken),
        "update_to_command_cpu_us": percentiles(taken_cpu),
    }


def loopback(samples: int = 300, warmup: int = 20, symbol: str = "AAPL") -> dict[str, Any]:
    """The same as ``in_process`` over loopback sockets against the simulated exchange (µs)."""
    stamps = _Stamps()
    first = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
    total = warmup + samples
    taken: list[float] = []
    taken_cpu: list[float] = []
    with SimExchange(
        rate_limit=100 * total + 1000,
        cash=Decimal(10) ** 12,
        start=first,
        bar_interval=timedelta(minutes=5),
        # Alpaca's rules but whole fills: a split entry fill is a different path (the stop
        # waits for the remainder's cancel, tests/live cover it), and a split exit would need
        # bars this loop does not feed. The latency of fill -> stop is what is measured here.
        rules=replace(ALPACA_PAPER, partial_fill_rate=0.0),
    ) as sim:
        settings = sim.client_settings(ReconnectPolicy(stop_timeout=5.0))
        broker = _TimedAlpaca(settings)
        broker.stamps = stamps
        desk = m.Desk(strategy=dispatch.STRATEGY, trading_date=first.date() - timedelta(days=1))
        engine = Engine(desk=desk, signals={}, broker=broker, clock=sim.clock, plan=_plan())
        wake: queue.SimpleQueue[str] = queue.SimpleQueue()

        def on_update(update: TradeUpdate) -> None:
            if update.kind is UpdateKind.FILL and update.order.client_order_id.endswith("-buy"):
                stamps.receive()
            engine.on_trade_update(update)
            wake.put(f"{update.order.client_order_id}:{update.kind.value}")

        connected: queue.SimpleQueue[None] = queue.SimpleQueue()
        stream = AlpacaTradeStream(settings)
        stream.start(on_update, lambda: connected.put(None))

        def settle(until: str) -> None:
            """Apply updates as they come (as a live runner would) until ``until`` arrives."""
            while True:
                seen = wake.get(timeout=_WAIT)
                engine.drain()
                if seen == until:
                    return

        try:
            connected.get(timeout=_WAIT)
            for i in range(total):
                at = first + timedelta(minutes=15 * i)
                day = first.date() + timedelta(days=i)
                engine.fire(symbol, m.DayRolledOver(trading_date=day))
                buy = m.client_order_id(dispatch.STRATEGY, symbol, day, 1, m.Side.BUY)
                stop = m.client_order_id(dispatch.STRATEGY, symbol, day, 1, m.OrderRole.STOP)
                stamps.stop_id = stop
                stamps.received = stamps.handed = 0.0
                engine.fire(symbol, _entry(day, at))
                settle(f"{buy}:new")
                sim.feed_bar(_bar(symbol, at, "99.50", "101.50"))  # fills the entry
                settle(f"{stop}:new")
                if not stamps.handed > stamps.received > 0:
                    raise AssertionError("the fill did not lead to a protective stop")
                if i >= warmup:
                    taken.append(stamps.handed - stamps.received)
                    # The fill arrives on the stream's thread and the stop leaves from this
                    # one: the CPU of the path is every thread's (the exchange's too, which
                    # serves this process) between the two stamps.
                    taken_cpu.append(stamps.handed_process - stamps.received_process)
                engine.fire(symbol, m.ExitSignalled(at=at, reason="bench"))
                # The stop's cancel takes exchange time, as at Alpaca; this exchange's clock
                # only moves when told, so land it (``fire`` returned after its 204); the exit
                # follows the cancel.
                sim.land_requests()
                exit_id = m.client_order_id(dispatch.STRATEGY, symbol, day, 1, m.OrderRole.EXIT)
                settle(f"{exit_id}:new")
                # The exit went in after the next bar began (the cancel took exchange time): the
                # bar after that fills it.
                sim.feed_bar(_bar(symbol, at + timedelta(minutes=10), "99.90", "100.10"))
                settle(f"{exit_id}:fill")
                if not desk.machine(symbol).snapshot().is_flat:
                    raise AssertionError(f"not flat after the exit: {desk.machine(symbol).state}")
        finally:
            stream.stop()
            broker.close()
    return {
        "samples": len(taken),
        "update_to_command_us": percentiles(taken),
        "update_to_command_cpu_us": percentiles(taken_cpu),
        "cpu_clock": "process_time (every thread of this process, the exchange's included)",
    }
