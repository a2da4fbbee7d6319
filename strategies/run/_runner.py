"""The live runner: one engine thread fed by the streams and the poller, through one queue.

Threads (docs/design.md §3), each named, each handing data on through the inbox and nothing else:

- ``tickstate-trade-stream`` (the adapter's): trade updates → inbox; after every (re)connect it
  asks the poller for a reconciliation. It never waits on REST.
- ``tickstate-bar-stream`` (the adapter's): bars → inbox.
- ``poller``: every ``poll_interval`` seconds, at start-up and after every reconnect, reads the
  broker's orders and positions over REST and puts one reconciliation into the inbox.
- ``engine`` (the thread that calls ``run``): takes items off the inbox in order, fires them on
  the machines, journals each outcome, then runs its commands — outside every machine lock, in
  order (so in order per symbol). Between items it looks at the clock: the entry cutoff and the
  square-off fire at their times for every symbol whether or not a bar arrives (it waits on the
  inbox no longer than until the next deadline).

A position mismatch must show in two reconciliations in a row before the machine is told: one
reconciliation may have read the broker just before a fill the stream already delivered.

Kill switches: an anomaly halts its own symbol (the machine does that); the daily loss limit
halts and flattens every symbol, once per session (``KillSwitch``, checked after each item).

Protection heals (docs/design.md §8, invariant 11). A stop or exit whose delivery failed after the
adapter's retries is sent again with the same client order id by the next reconciliation (a
failure asks for one at once) — or adopted, if the broker has it — up to ``redrive_limit``
sends; a cancel still open is asked again. Past the not-found grace an order the broker never
had is, to the machine, rejected: a stop or exit is placed afresh under its role's next id, a
cancel of it is done (the square-off never waits on a stop that never arrived). And whenever the
broker holds a position (as the machine does) with no stop or exit working or in flight for
``protection_timeout`` seconds, the runner flattens and halts that symbol (``protection_lost``).

Faults stay local (invariant 13): a signal that raises halts and flattens its symbol (the
engine); anything else that raises on the engine thread, or in the poller, runs the shutdown and
then raises ``EngineFaultError``. Every ``heartbeat_interval`` seconds the engine thread beats in
the journal (``tickstate status`` reads it), and picks up operators' requests
(``tickstate resume``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from time import perf_counter
from typing import TYPE_CHECKING

import structlog

from brokers import (
    Bar,
    BarStream,
    Broker,
    BrokerError,
    ManualClock,
    NotCancelableError,
    NotFoundError,
    Order,
    TradeUpdate,
    TradeUpdateStream,
    VirtualClock,
)
from machines import (
    BrokerSnapshotTaken,
    EntryTimedOut,
    ExitSignalled,
    OutcomeKind,
)
from strategies._exceptions import EngineFaultError
from strategies.engine import _incidents as incident
from strategies.engine._engine import Engine
from strategies.journal import Journal
from strategies.run._feed import BarFeed, FeedSettings
from strategies.run._kill_switch import KillSwitch
from strategies.run._lockstep import LateOrders, LockStepGate, Posted, Updated
from strategies.run._poller import BrokerReader
from strategies.run._protection import Protection
from strategies.run._reconcile import Reconciliation
from strategies.run._recovery import settle_interrupted
from strategies.run._settings import RunSettings
from strategies.run._shutdown import at_rest, fault_line

if TYPE_CHECKING:
    from strategies.observe._metrics import RunMetrics

__all__ = ["LiveRunner"]

_log = structlog.get_logger("tickstate.runner")
_IDLE_WAIT = 0.05  # seconds: how often the engine thread looks at the clock when nothing comes
_QUIET_END = 2.0  # seconds without news after the data ended: the run ends


class _Stop:
    """Inbox marker: the runner was asked to stop."""


@dataclass(frozen=True, slots=True)
class _Wake:
    """Inbox marker: an executor's worker queued command results for the engine."""


@dataclass(frozen=True, slots=True)
class _Fault:
    """Inbox marker: another thread of the runner raised; the engine thread shuts down."""

    error: BaseException


@dataclass(frozen=True, slots=True)
class _Received:
    """A trade update with the moment (``perf_counter``) the inbox received it."""

    update: TradeUpdate
    at: float


class LiveRunner:
    """Runs one engine live against a broker and its two streams."""

    def __init__(
        self,
        *,
        engine: Engine,
        broker: Broker,
        trade_stream: TradeUpdateStream,
        bar_stream: BarStream,
        settings: RunSettings,
        data_finished: threading.Event | None = None,
        on_bar: Callable[[Bar], None] | None = None,
        metrics: RunMetrics | None = None,
        journal: Journal | None = None,
        feed_interval: timedelta | None = None,
        last_close: dict[str, Decimal] | None = None,
        gate: LockStepGate | None = None,  # lock-step: moments applied whole, then acked
        minute_watch: Callable[[Bar], None] | None = None,
    ) -> None:
        self.engine = engine
        self._minute_watch = minute_watch  # sees each bar the venue streams (the collar watch)
        self.broker = broker
        self.trade_stream = trade_stream
        self.bar_stream = bar_stream
        self.settings = settings
        self.data_finished = data_finished
        self._on_bar = on_bar
        self.metrics = metrics
        self.journal = journal
        self._inbox: queue.SimpleQueue[
            _Received | Bar | Updated | Reconciliation | _Stop | _Fault | Posted | _Wake
        ] = queue.SimpleQueue()
        self._stop = threading.Event()
        self.stop_requested = False  # request_stop was called (a signal): the run winds down
        self._reconcile_now = threading.Event()
        self._missing: dict[str, datetime] = {}
        self._reader = BrokerReader(engine, broker, settings.not_found_grace)
        # A position the broker reports differently: the qty and when (wall) it was first seen.
        self._suspect: dict[str, tuple[Decimal, float]] = {}
        self.bars = 0
        self.reconciliations = 0
        self.reconnects = 0
        self._kill_switch = KillSwitch(engine, settings.daily_loss_limit)
        # The size of the bars the stream sends; by default the strategy's own (nothing to build).
        self.feed_interval = feed_interval or engine.plan.bar_interval
        self.feed = BarFeed(
            engine.plan,
            FeedSettings(
                feed=self.feed_interval,
                grace=_grace(settings.bar_grace, engine.clock),
                stale_after=(
                    None
                    if settings.stale_after is None
                    else timedelta(seconds=settings.stale_after)
                ),
            ),
            list(engine.signals),
            last_close=last_close,
            incidents=engine.incidents,
        )
        self._protection = Protection(engine, settings)
        self.gate = gate
        self.late_orders: LateOrders | None = None  # running free: a watch on late orders
        self._last_beat = float("-inf")
        engine.on_doubt = self._reconcile_now.set  # a failure or refusal: read the broker now
        engine.on_result = lambda: self._inbox.put(_Wake())
        if metrics is not None:
            metrics.watch_stream("trade_updates", trade_stream)
            metrics.watch_stream("bars", bar_stream)
            metrics.watch_engine(engine)
            engine.incidents.listen(metrics.incident)

    # --- called from other threads ---------------------------------------------------------

    def request_stop(self) -> None:
        """Stop soon: no new entries, cancel working entries, flatten if configured, exit."""
        self.stop_requested = True
        self._stop.set()
        self._inbox.put(_Stop())

    def fault(self, error: Exception) -> None:
        """Another thread's bug (a command worker's): the engine thread shuts the run down."""
        self._inbox.put(_Fault(error))

    def _on_update(self, update: TradeUpdate) -> None:
        self._inbox.put(_Received(update, perf_counter()))

    def _on_bar_received(self, bar: Bar) -> None:
        self._inbox.put(bar)

    def on_updated_bar(self, bar: Bar) -> None:
        """A minute sent again with its late trades (``updatedBars``; any thread)."""
        self._inbox.put(Updated(bar))

    def _on_connect(self) -> None:
        self.reconnects += 1
        self._reconcile_now.set()

    # --- the poller ------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self._reconcile_now.wait(self.settings.poll_interval)
            self._reconcile_now.clear()
            if self._stop.is_set():
                return
            try:
                self._inbox.put(self._reader.read(dict(self._missing)))
            except BrokerError as exc:  # one failed pass is logged; the next one tries again
                _log.warning("reconcile_failed", error=type(exc).__name__, detail=exc.message)
            except Exception as exc:  # a bug: the engine thread shuts the run down
                self._inbox.put(_Fault(exc))
                return

    # --- the engine thread -----------------------------------------------------------------

    def _apply(self, item: _Received | Bar | Updated | Reconciliation | _Wake) -> None:
        engine = self.engine
        if isinstance(item, _Received):
            metrics = self.metrics
            if metrics is not None:
                metrics.update_applying(item.at)
            try:
                engine.on_trade_update(item.update)
                engine.drain()
            finally:
                if metrics is not None:
                    metrics.update_applied()
        elif isinstance(item, Bar):
            clock = engine.clock
            if isinstance(clock, ManualClock):
                clock.set(item.start + self.feed_interval)
            if self.late_orders is not None:  # what is sent now is meant for the next bar
                self.late_orders.meant_for = item.start + self.feed_interval
            if self._minute_watch is not None:
                self._minute_watch(item)
            if self.metrics is not None:
                self.metrics.saw_price(item.symbol, item.close)
            for bar in self.feed.receive(item):
                self._strategy_bar(bar)
        elif isinstance(item, Updated):
            self.feed.receive_update(item.bar)
        elif isinstance(item, _Wake):
            engine.drain()
        else:
            self._apply_reconciliation(item)

    def _strategy_bar(self, bar: Bar) -> None:
        """One of the strategy's bars, complete: to the engine."""
        self.engine.blocked_entries = frozenset(self.feed.stale)
        self.engine.on_bar(bar)
        self.bars += 1
        if self._on_bar is not None:
            self._on_bar(bar)

    def _on_clock(self) -> None:
        """What the clock says: buckets complete without their last minutes, deadlines."""
        now = self.engine.clock.now()
        for bar in self.feed.due(now):
            self._strategy_bar(bar)
        self.engine.on_clock(now)

    def _apply_reconciliation(self, found: Reconciliation) -> None:
        engine = self.engine
        self.reconciliations += 1
        # Applied later than read: an order resent meanwhile is not absent (it was declared
        # lost while its resend landed, and a second stop was placed beside it), nor is a
        # cancel sent meanwhile lost.
        delivered = engine.delivered
        found.forget_deliveries_after(lambda cid: delivered.get(cid, 0) > found.read_at_delivery)
        self._missing = found.missing
        # Fills first: they may explain a position difference. The other events (a cancelled
        # stop makes the machine flatten) only after the positions were compared, so a position
        # the broker no longer holds halts the symbol instead of being "closed" again (lesson 1).
        filled = [(s, e) for s, e in found.events if getattr(e, "filled_qty", None)]
        for symbol, event in filled:
            engine.fire(symbol, event)
        self._compare_positions(found)
        for symbol, event in found.events:
            if not getattr(event, "filled_qty", None):
                engine.fire(symbol, event)
        for order in found.cancel_orphans:
            _log.warning(
                "orphan_cancelled", symbol=order.symbol, client_order_id=order.client_order_id
            )
            self._cancel(order)
        for order in found.cancel_again:
            engine.incidents.note(
                incident.COMMAND_REDRIVEN,
                symbol=order.symbol,
                client_order_id=order.client_order_id,
                command="CancelOrder",
            )
            self._cancel(order)
        redriven = self._protection.apply(found)
        if self.gate is not None:
            self.gate.reconciled(found.number)
        # Orphans and lost orders are the broker and the books disagreeing: a warning.
        troubled = bool(found.cancel_orphans or found.lost)
        getattr(_log, "warning" if troubled else "info")(
            "reconciled",
            events=len(found.events),
            orphans=len(found.cancel_orphans),
            redriven=len(found.cancel_again) + redriven,
            lost=len(found.lost),
        )

    def _cancel(self, order: Order) -> None:
        try:
            self.broker.cancel_order(order.id)
        except (NotCancelableError, NotFoundError):
            pass  # terminal already, or already being cancelled: the stream tells
        except BrokerError as exc:  # the next reconciliation asks again
            self.engine.incidents.note(
                incident.COMMAND_FAILED,
                symbol=order.symbol,
                client_order_id=order.client_order_id,
                command="CancelOrder",
                error=type(exc).__name__,
                detail=exc.message,
            )

    def _compare_positions(self, found: Reconciliation) -> None:
        engine = self.engine
        first = self.reconciliations == 1
        now = perf_counter()
        for symbol, qty in found.positions.items():
            position = engine.desk.machine(symbol).snapshot().position
            if position == qty:
                self._suspect.pop(symbol, None)
                continue
            seen = self._suspect.get(symbol)
            since = seen[1] if seen is not None and seen[0] == qty else None
            lasted = since is not None
            # Told at start-up at once; later only when the same difference lasted over two
            # passes and ``position_grace`` of wall time: a fill the stream has not delivered
            # yet is no difference (a loaded host can lag it past two quick passes).
            if first or (since is not None and now - since >= self.settings.position_grace):
                engine.fire(symbol, BrokerSnapshotTaken(at=engine.clock.now(), position_qty=qty))
                self._suspect.pop(symbol, None)
            elif not lasted:
                self._suspect[symbol] = (qty, now)

    def _settled(self) -> bool:
        return all(s.is_settled for s in self.engine.desk.snapshots())

    def _past_until(self) -> bool:
        until = self.settings.until
        return until is not None and self.engine.clock.now() >= until

    def run(self) -> None:
        """Start the streams and the poller, run the engine until asked to stop or the data ends.

        ``EngineFaultError`` if the engine (not a signal) raised: the shutdown ran first.
        """
        poller = threading.Thread(target=self._poll_loop, name="poller", daemon=True)
        ended = "stopped"
        try:
            if self.gate is not None:
                self.gate.listen(self._inbox.put)
            self.trade_stream.start(self._on_update, self._on_connect)
            # The start-up reconciliation, before any bar.
            self._inbox.put(self._reader.read(dict(self._missing)))
            self.bar_stream.start(
                list(self.engine.signals), self._on_bar_received, self._on_connect
            )
            poller.start()
            try:
                self._loop()
            except Exception as exc:
                ended = incident.ENGINE_FAULT
                self._note_fault(exc)
                self._settle_interrupted()
                self._shut_down()
                unsettled = [s.symbol for s in self.engine.desk.snapshots() if not s.is_settled]
                raise EngineFaultError(fault_line(exc, unsettled)) from exc
            self._shut_down()
        finally:
            self._stop.set()
            self._reconcile_now.set()
            if self.gate is not None:
                self.gate.close()  # the exchange waits no more
            self.bar_stream.stop()
            self.trade_stream.stop()
            if poller.is_alive():
                poller.join(timeout=5)
            if self.journal is not None:
                self.journal.end_run(ended)

    def _wait(self) -> float:
        """How long the inbox may be waited on: until the next deadline, at most 50 ms."""
        engine = self.engine
        clock = engine.clock
        moments = [m for m in (engine.next_deadline(clock.now()), self.feed.next_due()) if m]
        if not moments:
            return _IDLE_WAIT
        due = min(moments)
        if isinstance(clock, VirtualClock):
            left = clock.real_seconds_until(due)
        elif isinstance(clock, ManualClock):
            return _IDLE_WAIT  # moved by bars: nothing passes while waiting
        else:
            left = (due - clock.now()).total_seconds()
        return min(_IDLE_WAIT, max(0.0, left))

    def _loop(self) -> None:
        finished = self.data_finished
        active = perf_counter()  # when the last item that was not a reconciliation came
        while not self._stop.is_set():
            self._on_clock()
            try:
                item = self._inbox.get(timeout=self._wait())
            except queue.Empty:
                self._through_gate()
                self._beat()
                # The data ended: stop once every symbol is settled, or after two quiet seconds
                # (the shutdown then cancels and flattens what is left).
                quiet = perf_counter() - active > _QUIET_END
                if finished is not None and finished.is_set() and (self._settled() or quiet):
                    return
                continue
            if isinstance(item, _Stop):
                return
            if isinstance(item, _Fault):
                raise item.error
            if not isinstance(item, Reconciliation):
                # The poller's passes are its heartbeat, not activity: counted as quiet time,
                # or a symbol that never settles (halted) would keep the run alive forever.
                active = perf_counter()
            if (self.gate is not None and self.gate.offer(item)) or isinstance(item, Posted):
                self._through_gate()  # lock-step: a moment is applied whole
                continue
            self._apply(item)
            self._through_gate(item)
            self._kill_switch.check()
            self._beat()
            if self._past_until():
                return

    def _through_gate(self, applied: object = None) -> None:
        """Lock-step: apply every moment that is whole (or timed out), in order, and ack it."""
        gate = self.gate
        if gate is not None and isinstance(applied, _Received):
            gate.update_applied()
        if gate is not None:
            gate.release_overdue()
        while gate is not None and (taken := gate.take(self.engine.clock)) is not None:
            moment, held = taken
            for item in held:
                self._apply(item)
            self._on_clock()
            self._kill_switch.check()
            self._commands_answered()
            # Every command's REST call has returned: go on — in doubt, once the broker was read.
            if self._in_doubt():
                self._reconcile_now.set()
                gate.ack(moment, after_pass=self._reader.begun)
            else:
                gate.ack(moment)

    def _note_fault(self, exc: Exception, **where: str) -> None:
        self.engine.incidents.note(
            incident.ENGINE_FAULT,
            level="error",
            error=f"{type(exc).__name__}: {exc}",
            exc_info=True,
            **where,
        )

    def _settle_interrupted(self) -> None:
        """What the fault cut short (journaled, never carried out) is settled before the
        shutdown, as a restart would (``settle_interrupted``); its own fault is only noted."""
        if self.journal is None:
            return
        try:
            settle_interrupted(self.engine, self.journal, timeout=self.settings.shutdown_timeout)
        except Exception as exc:
            self._note_fault(exc, during="shutdown")

    def _commands_answered(self) -> None:
        """Lock-step with commands on the executor: wait until every command of the moment
        (and any its answers led to) has its REST answer applied, as the engine thread's own
        sends would — the venue must not play the next moment before they reach it."""
        executor = self.engine.executor
        if executor is None:
            return
        while True:
            executor.wait_idle()
            self.engine.drain()
            if executor.is_idle():
                return

    def _in_doubt(self) -> bool:
        """A delivery failed, the broker did not list an order, or a pass was asked for."""
        return bool(self.engine.failed or self._missing) or self._reconcile_now.is_set()

    def _beat(self) -> None:
        """Every ``heartbeat_interval`` (wall) seconds: beat in the journal, answer operators."""
        journal = self.journal
        if journal is None or perf_counter() - self._last_beat < self.settings.heartbeat_interval:
            return
        self._last_beat = perf_counter()
        journal.beat(interval=self.settings.heartbeat_interval)
        self.answer_requests()

    def answer_requests(self) -> None:
        """Apply the operators' pending requests (``tickstate resume``) and journal the answers."""
        journal = self.journal
        if journal is None:
            return
        engine = self.engine
        for request in journal.pending_requests(engine.desk.strategy):
            if request.symbol not in engine.desk.symbols():
                journal.answer(request, "unknown_symbol")
                continue
            engine.incidents.note(
                incident.RESUME_REQUESTED, symbol=request.symbol, level="info", seq=request.seq
            )
            outcome = engine.resume(request.symbol, engine.clock.now(), by="operator")
            answer = outcome.kind.value
            if outcome.kind is not OutcomeKind.ACCEPTED:
                answer = f"{answer}: {outcome.reason}"
            journal.answer(request, answer)

    def _shut_down(self) -> None:
        """No new entries; cancel working entries; flatten if configured; wait for the acks."""
        engine = self.engine
        if self.gate is not None:
            self.gate.close()  # lock-step ends: the exchange's time runs on, cancels land
        now = engine.clock.now()
        for snapshot in engine.desk.snapshots():
            try:  # one symbol's trouble must not keep the others from being flattened
                if snapshot.has_working_entry:
                    engine.fire(
                        snapshot.symbol, EntryTimedOut(at=now, attempt=max(1, snapshot.attempt))
                    )
                # A halted symbol's books are in doubt: never flatten on the way out what may
                # not be there (field lesson 1); the operator decides.
                flatten = self.settings.flatten_on_exit and snapshot.holds_position
                if flatten and not snapshot.is_halted:
                    engine.fire(snapshot.symbol, ExitSignalled(at=now, reason="shutdown"))
            except Exception as exc:
                self._note_fault(exc, during="shutdown", symbol=snapshot.symbol)
        deadline = threading.Event()
        timer = threading.Timer(self.settings.shutdown_timeout, deadline.set)
        timer.daemon = True
        timer.start()
        try:
            flatten = self.settings.flatten_on_exit
            while not deadline.is_set() and not at_rest(engine.desk.snapshots(), flatten=flatten):
                try:
                    item = self._inbox.get(timeout=0.05)
                except queue.Empty:
                    continue
                if isinstance(item, _Stop | Bar | Updated | _Fault | Posted):
                    continue
                try:
                    self._apply(item)
                except Exception as exc:  # keep waiting for the acks of what was sent
                    self._note_fault(exc, during="shutdown")
        finally:
            timer.cancel()
        _log.info("stopped", settled=self._settled(), timed_out=deadline.is_set())


def _grace(seconds: float, clock: object) -> timedelta:
    """A bucket's grace in market time: ``seconds``, and never less than a generous socket
    delay (50 ms real) on a clock running faster than real time, or a replay at 8000x would
    complete buckets before their last minute crossed the socket."""
    speed = clock.speed if isinstance(clock, VirtualClock) else 1.0
    return timedelta(seconds=max(seconds, 0.05 * speed))
