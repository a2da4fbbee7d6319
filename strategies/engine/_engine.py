"""The engine: bars → signals → machine events → commands → broker → result events → machine.

One engine serves replay and live; only the clock and the broker differ. It is driven from one
thread: trade updates are queued by ``on_trade_update`` (from whatever thread the broker calls
back on) and applied by ``drain``, in arrival order, so an update published while a command runs
is handled after that command, never inside it. Commands run after ``fire`` returned, so never
under a machine's lock.
"""

from __future__ import annotations

import itertools
import queue
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter
from typing import Any, Protocol

import structlog

from brokers import (
    Bar,
    Broker,
    Clock,
    OrderSide,
    OrderType,
    TradeUpdate,
    TransportError,
    UpdateKind,
)
from machines import (
    ClientOrderId,
    ClosePosition,
    Command,
    DayRolledOver,
    Desk,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    HaltRequested,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    Outcome,
    OutcomeKind,
    PlaceStop,
    PriceMoved,
    ReplaceStop,
    ResumeRequested,
    Snapshot,
    SquareOffReached,
)
from strategies._policy import HaltScope
from strategies.engine import _incidents as incident
from strategies.engine._buying_power import BuyingPowerGate
from strategies.engine._crashpoints import crash_point, crash_points_armed
from strategies.engine._execute import FailedCommand, OrderIds, execute, placed_id
from strategies.engine._executor import SymbolExecutor
from strategies.engine._incidents import Incidents
from strategies.engine._summary import RunFacts, SymbolSummary, summarise
from strategies.engine._timers import Deadlines, SessionPlan, SymbolDay
from strategies.engine._trades import TradeRecorder
from strategies.engine._translate import order_events
from strategies.signals._protocol import DailyBar, SessionContext, Signal

__all__ = ["Engine", "Fired", "JournalSink", "Observer"]

_FILLS = (UpdateKind.FILL, UpdateKind.PARTIAL_FILL)

_log = structlog.get_logger("tickstate.engine")
_NEVER = datetime.max.replace(tzinfo=UTC)


class JournalSink(Protocol):
    """Where outcomes and command results are made durable (``strategies.Journal`` fits)."""

    def record(self, outcome: Outcome) -> int:
        """Make ``outcome`` durable; its sequence number."""
        ...

    def record_result(
        self, transition_seq: int, command: Command, result: Any, detail: str = ""
    ) -> int:
        """Make what became of one of its commands durable."""
        ...


@dataclass(frozen=True, slots=True)
class Fired:
    """One machine decision as the engine hands it on: journaled, its commands not yet run."""

    outcome: Outcome
    seconds: float  # how long ``Desk.fire`` took: an upper bound on the symbol lock's hold


#: Sees every decision, in the engine's thread, after the journal and before the commands run.
Observer = Callable[[Fired], None]


# Commands the runner sends again after a failed delivery (same client order id): the ones that
# protect a position or take it off. A failed entry is let go (its moment may pass), a failed
# replace leaves the old stop protecting, and a cancel still open is asked again by the
# reconciliation itself (``cancel_again``).
_REDRIVEN = (PlaceStop, ClosePosition)
_CARRIES_FILL = (OrderFilled, OrderCancelled, OrderExpired)
_BOOKED = (OutcomeKind.ACCEPTED, OutcomeKind.ANOMALY)


class Engine:
    """Runs one strategy's signals and machines against one broker."""

    def __init__(
        self,
        *,
        desk: Desk,
        signals: Mapping[str, Signal],
        broker: Broker,
        clock: Clock,
        plan: SessionPlan,
        history: Mapping[str, tuple[DailyBar, ...]] | None = None,
        recorder: TradeRecorder | None = None,
        journal: JournalSink | None = None,
        observers: Sequence[Observer] = (),
    ) -> None:
        self.desk = desk
        self.signals = signals
        self.broker = broker
        self.clock = clock
        self.plan = plan
        self.recorder = recorder if recorder is not None else TradeRecorder()
        self.ids = OrderIds()
        self._journal = journal
        self._observers = tuple(observers)
        self._history: dict[str, list[DailyBar]] = {s: list(h) for s, h in (history or {}).items()}
        self._today: dict[str, SymbolDay] = {}
        self._inbox: queue.SimpleQueue[TradeUpdate | OrderEvent] = queue.SimpleQueue()
        self._last_start: datetime | None = None  # session_of's one-entry cache
        self._last_session = date.min
        self._day_from = self._day_until = datetime.min.replace(tzinfo=UTC)  # its local date
        self._new_stops: list[str] = []
        self._deadlines: dict[date, Deadlines | None] = {}
        self._timed_out: set[tuple[str, date, int]] = set()  # (symbol, day, attempt) timed out
        # Until when ``on_clock`` has nothing to do (None: find out); a rollover moves it.
        self._quiet_until: datetime | None = None
        # Symbols whose data is in doubt (a live run's feed went quiet): no new entry for them.
        self.blocked_entries: frozenset[str] = frozenset()
        #: Asked before each entry (live: the PDT gate): an incident name declines it.
        self.entry_gate: Callable[[str], str | None] | None = None
        #: Declines an entry beyond the account's buying power before it is sent (set when the
        #: strategy file names the account: ``[costs] cash``/``leverage``).
        self.buying_power: BuyingPowerGate | None = None
        #: Runs commands off the engine thread (live); ``on_result``: a worker queued results.
        self.executor: SymbolExecutor | None = None
        self.on_result: Callable[[], None] | None = None
        self.incidents = Incidents(desk.strategy)
        #: Commands whose delivery failed, by the client order id they place or cancel; the
        #: runner's reconciliation re-drives them (``_REDRIVEN``) or lets them go.
        self.failed: dict[str, FailedCommand] = {}
        #: Each client order id's last delivery that reached the broker, numbered (``next`` is
        #: atomic: workers share it); ``delivery_mark``: the latest number.
        self.delivered: dict[str, int] = {}
        self._deliveries, self.delivery_mark = itertools.count(1), 0
        #: Called (any thread) when something makes the broker's books worth reading at once:
        #: a failed delivery, a refusal. The live runner asks its poller for a reconciliation.
        self.on_doubt: Callable[[], None] | None = None
        self._silenced: set[str] = set()  # symbols whose signal raised this session

    def summaries(
        self, symbols: Sequence[str], facts: RunFacts | None = None
    ) -> list[SymbolSummary]:
        """Per symbol: its trades so far, with its machine's race and anomaly counts (and, with
        ``facts``, the ratios measured against them)."""
        counters = {s: self.desk.machine(s).counters() for s in symbols}
        return summarise(
            self.recorder.trades,
            symbols,
            races={s: c.races for s, c in counters.items()},
            anomalies={s: c.anomalies for s, c in counters.items()},
            facts=facts,
        )

    # --- broker side -----------------------------------------------------------------------

    def on_trade_update(self, update: TradeUpdate) -> None:
        """Queue a trade update (any thread); ``drain`` applies it."""
        self._inbox.put(update)

    def drain(self) -> None:
        """Apply every queued update and command result, in order, until none is left."""
        inbox = self._inbox
        while not inbox.empty():  # one consumer (this thread): not empty stays not empty
            item = inbox.get_nowait()
            if isinstance(item, TradeUpdate):
                self._apply_update(item)
            else:
                cid = ClientOrderId.parse(item.client_order_id)
                if cid is not None:  # a result of our own command: its id is ours
                    self._fire_on(cid.symbol, item)

    def owns(self, client_order_id: str) -> ClientOrderId | None:
        """The parts of ``client_order_id`` if this engine's strategy placed it, else None."""
        cid = ClientOrderId.parse(client_order_id)
        return cid if cid is not None and cid.strategy == self.desk.strategy else None

    def _apply_update(self, update: TradeUpdate) -> None:
        order = update.order
        if self.owns(order.client_order_id) is None:
            return  # not ours: another strategy's or a manual order
        self.ids.learn(order.client_order_id, order.id)
        if update.kind in _FILLS and update.qty and update.price is not None:
            machine = self.desk.machine(order.symbol)
            self.recorder.on_fill(
                symbol=order.symbol,
                buy=order.side is OrderSide.BUY,
                qty=update.qty,
                price=update.price,
                at=update.timestamp,
                client_order_id=order.client_order_id,
                exit_reason=machine.snapshot().exit_reason,
                cumulative=order.filled_qty,
                avg_price=order.filled_avg_price,
                slips=order.type is not OrderType.LIMIT,
            )
        for event in order_events(update, self.ids.client_of.get):
            self._fire_on(order.symbol, event)

    def _fire_on(self, symbol: str, event: Event) -> Outcome:
        """The one outcome pipeline: decide, journal, observe, then run the commands."""
        # The books before a fill: what it moved (built only for events that carry one).
        before = self.desk.machine(symbol).snapshot() if isinstance(event, _CARRIES_FILL) else None
        started = perf_counter()
        outcome = self.desk.fire(symbol, event)
        fired = Fired(outcome, perf_counter() - started)
        crash_point("before_journal", outcome.trigger)  # tests only: see _crashpoints
        # Durable before any command runs (docs/design.md §2, invariant 8).
        seq = self._journal.record(outcome) if self._journal is not None else None
        if before is not None:
            self.book_fill(before, outcome)
        for observe in self._observers:
            observe(fired)
        for command in outcome.commands:
            self.send(symbol, command, seq)
        return outcome

    def send(self, symbol: str, command: Command, seq: int | None, *, again: bool = False) -> bool:
        """Carry out one journaled command (here, or on ``executor``: True at once); its result
        is journaled, its events queued. False: delivery failed (kept in ``failed``)."""
        if isinstance(command, PlaceStop):
            self._new_stops.append(command.client_order_id)
        elif isinstance(command, ReplaceStop):
            self._new_stops.append(command.new_client_order_id)
        if (executor := self.executor) is not None:
            executor.submit(symbol, lambda: self._deliver(symbol, command, seq, again))
            return True
        return self._deliver(symbol, command, seq, again)

    def _deliver(self, symbol: str, command: Command, seq: int | None, again: bool) -> bool:
        crash_point("before_send", type(command).__name__)
        now = self.clock.now()
        try:
            results = execute(
                command, self.broker, self.ids, now, stop_tif=self.plan.stop_time_in_force
            )
        except TransportError as exc:
            # The outcome is unknown: the reconciliation finds out from the broker's state, and
            # re-drives what protects a position (same client order id: the venue refuses a
            # second order with it, so sending it again is safe).
            self._note_failure(symbol, command, seq, now)
            self.incidents.note(
                incident.COMMAND_FAILED,
                symbol=symbol,
                client_order_id=command.client_order_id,
                command=type(command).__name__,
                error=type(exc).__name__,
                detail=exc.message,
                again=again,
            )
            self._record_result(seq, command, "failed", exc.message)
            self._doubt()
            return False
        crash_point("after_send", type(command).__name__)
        self.delivery_mark = self.delivered[placed_id(command)] = next(self._deliveries)
        self.failed.pop(placed_id(command), None)
        detail = "; ".join(getattr(r, "reason", "") for r in results)
        if again and not results:
            detail = "redriven"
        self._record_result(seq, command, "rejected" if results else "sent", detail)
        if results:
            self._doubt()  # a refusal can mean our view is stale (e.g. a fill not yet seen)
        for result in results:
            self._inbox.put(result)
        if results and self.on_result is not None:
            self.on_result()  # from an executor's worker: the engine thread must drain them
        return True

    def _note_failure(self, symbol: str, command: Command, seq: int | None, now: datetime) -> None:
        failed = FailedCommand(command=command, symbol=symbol, transition_seq=seq, failed_at=now)
        known = self.failed.get(failed.placed_id)
        if known is not None:
            failed = replace(failed, failed_at=known.failed_at, attempts=known.attempts + 1)
        self.failed[failed.placed_id] = failed

    def _doubt(self) -> None:
        if self.on_doubt is not None:
            self.on_doubt()

    @staticmethod
    def redriven(command: Command) -> bool:
        """Whether a failed delivery of ``command`` is sent again by the runner."""
        return isinstance(command, _REDRIVEN)

    def book_fill(self, before: Snapshot, outcome: Outcome) -> None:
        """Count a fill the machine took, however it was learnt — trade stream (already counted
        from the update, at its exact price), reconciliation, or the journal after a restart —
        so trades, the summary and the loss limit see every fill the books hold."""
        event = outcome.event
        if not isinstance(event, _CARRIES_FILL) or outcome.kind not in _BOOKED:
            return
        price = event.avg_fill_price
        moved = outcome.snapshot.position - before.position
        if not event.filled_qty or price is None or not moved:
            return
        self.recorder.on_cumulative(
            symbol=before.symbol,
            buy=moved > 0,
            filled_qty=event.filled_qty,
            avg_price=price,
            at=event.at,
            client_order_id=event.client_order_id,
            exit_reason=before.exit_reason,
        )

    def _record_result(self, seq: int | None, command: Command, result: str, detail: str) -> None:
        if self._journal is not None and seq is not None:
            self._journal.record_result(seq, command, result, detail)

    def fire(self, symbol: str, event: Event) -> Outcome:
        """Fire an event from outside the bar and trade-update paths (reconciliation, shutdown),
        execute its commands and apply what follows."""
        outcome = self._fire_on(symbol, event)
        self.drain()
        return outcome

    def take_new_stops(self) -> list[str]:
        """Client order ids of stops placed since the last call (for worst-case re-matching)."""
        placed, self._new_stops = self._new_stops, []
        return placed

    # --- bar side --------------------------------------------------------------------------

    def session_of(self, bar: Bar) -> date:
        """The exchange-local trading date of a bar."""
        start = bar.start
        if start != self._last_start:  # bars that start together share their session: reuse it
            self._last_start = start
            if not self._day_from <= start < self._day_until:
                self._learn_day(start)
        return self._last_session

    def _learn_day(self, start: datetime) -> None:
        # Converting to the exchange's timezone costs about 1 µs; every bar of the same local
        # date is known by two comparisons instead, with its local midnights in UTC. ZoneInfo
        # maps a midnight that falls in a DST gap (fold 0) to the transition itself and an
        # ambiguous one to its first occurrence, so the bounds are exact there too.
        zone = self.plan.session.timezone
        day = start.astimezone(zone).date()
        self._last_session = day
        self._day_from = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        self._day_until = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)

    def start_bar(self, bar: Bar) -> None:
        """A bar begins: roll the symbol's session over if the bar opens a new one."""
        day = self.session_of(bar)
        today = self._today.get(bar.symbol)
        if today is not None and today.day == day:
            return
        if today is not None:
            self._history.setdefault(bar.symbol, []).append(today.summary())
        plan = self.plan
        deadlines = self.deadlines(day)
        cutoff, square_off = (
            (deadlines.entry_cutoff, deadlines.square_off)
            if deadlines is not None
            else (plan.at(day, plan.entry_cutoff), plan.at(day, plan.square_off))
        )
        self._today[bar.symbol] = SymbolDay(
            day,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            cutoff.astimezone(bar.start.tzinfo),
            square_off.astimezone(bar.start.tzinfo),
        )
        machine = self.desk.machine(bar.symbol)
        if day > machine.snapshot().trading_date:
            self._fire_on(bar.symbol, DayRolledOver(trading_date=day))
            self._new_session(bar.symbol, bar.start)
            self._quiet_until = None  # a new day's deadlines
        signal = self.signals.get(bar.symbol)
        if signal is not None:
            context = SessionContext(
                symbol=bar.symbol,
                session=day,
                tick=plan.tick_of(bar.symbol),
                history=tuple(self._history.get(bar.symbol, ())),
                opens_at=plan.session.open_at(day),
                closes_at=plan.session.close_at(day),
                entry_cutoff=cutoff,
                square_off_at=square_off,
                bar_interval=plan.bar_interval,
                qty=plan.qty,
                risk_per_trade=plan.risk_per_trade,
            )
            self._guarded(bar.symbol, bar.start, signal.start_session, context)

    def _new_session(self, symbol: str, at: datetime) -> None:
        """A symbol's first bar of a session: its halt ends if its scope says so, and a position
        that outlived the last session (the runner was down at the close) is closed at once."""
        snapshot = self.desk.machine(symbol).snapshot()
        if snapshot.is_halted:
            if (
                self.plan.halt_scope is not HaltScope.SESSION
                or not snapshot.is_settled
                or snapshot.needs_operator
            ):
                why = (
                    "not_settled"
                    if not snapshot.is_settled
                    else "alarm"
                    if snapshot.needs_operator
                    else "until_resumed"
                )
                self.incidents.note(
                    incident.HALT_KEPT, symbol=symbol, reason=snapshot.halt_reason, why=why
                )
                return
            self.resume(symbol, at, by="rollover")
            return
        if snapshot.holds_position and snapshot.manages_position:
            self.incidents.note(
                incident.CARRIED_OVER, symbol=symbol, position=str(snapshot.position)
            )
            self._fire_on(symbol, ExitSignalled(at=at, reason="carried_over"))

    def resume(self, symbol: str, at: datetime, *, by: str) -> Outcome:
        """Ask a halted symbol's machine to trade again (it refuses unless its books are
        coherent); a lifted halt gives its signal another chance (``halt_lifted``)."""
        halt_reason = self.desk.machine(symbol).snapshot().halt_reason
        outcome = self.fire(symbol, ResumeRequested(at=at))
        if outcome.kind is OutcomeKind.ACCEPTED:
            self._silenced.discard(symbol)
            self.incidents.note(
                incident.HALT_LIFTED, symbol=symbol, level="info", reason=halt_reason, by=by
            )
        return outcome

    def _guarded(self, symbol: str, at: datetime, call: Callable[..., Any], *args: Any) -> Any:
        """Call a signal's method; if it raises, the fault stays with its symbol: logged with the
        traceback (``signal_error``), the symbol halted and flattened, the signal silenced for
        the rest of its session. None then."""
        if symbol in self._silenced:
            return None
        try:
            return call(*args)
        except Exception as exc:  # a plugin's bug: any exception at all
            self._signal_failed(symbol, at, exc)
            return None

    def _signal_failed(self, symbol: str, at: datetime, exc: Exception) -> None:
        """Log the error with its traceback, halt and flatten the symbol, silence its signal."""
        self._silenced.add(symbol)
        self.incidents.note(
            incident.SIGNAL_ERROR,
            symbol=symbol,
            level="error",
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc,
        )
        self._fire_on(symbol, HaltRequested(at=at, reason="signal_error", flatten=True))
        self.drain()

    def warm_up(self, bar: Bar) -> int:
        """A bar of today from before the run started (a late start): the signal learns from it
        (a range, an extreme, an arming) and its session summary counts it, but what it asks for
        is in the past and is dropped, never fired. Returns how many events were dropped."""
        self.start_bar(bar)
        self._today[bar.symbol].extend(bar)
        signal = self.signals.get(bar.symbol)
        if signal is None:
            return 0
        return len(signal.on_bar(bar, self.desk.machine(bar.symbol).snapshot()))

    def on_bar(self, bar: Bar) -> None:
        """A bar completed: session timers first, then the signal's events, each fired in order."""
        symbol = bar.symbol
        if crash_points_armed():  # tests only: see _crashpoints
            crash_point("bar", symbol)
        self.start_bar(bar)  # nothing to do unless the bar opens the symbol's session
        today = self._today[symbol]
        today.extend(bar)
        end = bar.start + self.plan.bar_interval
        machine = self.desk.machine(symbol)
        snapshot = machine.snapshot()
        if end >= today.entry_cutoff_at:
            self._time_out_entry(symbol, today.day, snapshot, end)
        if end >= today.square_off_at and not snapshot.done_for_day:
            self._fire_on(symbol, SquareOffReached(at=end))
        self.drain()
        if machine.snapshot().held_leg_nearer(bar.close):  # a pair resting one leg: swap
            self._fire_on(symbol, PriceMoved(at=end, price=bar.close))
            self.drain()
        signal = self.signals.get(symbol)
        if signal is None or symbol in self._silenced:
            return
        # Inline rather than through ``_guarded``: this runs on every bar, and a ``try`` costs
        # nothing until something raises.
        try:
            events = signal.on_bar(bar, machine.snapshot())
        except Exception as exc:  # a plugin's bug: any exception at all
            self._signal_failed(symbol, end, exc)
            return
        for event in events:
            if isinstance(event, EntrySignalled) and symbol in self.blocked_entries:
                _log.warning("entry_skipped", symbol=symbol, reason="data_stale")
                continue  # its data is in doubt: the signal may ask again on a later bar
            gate = self.entry_gate
            if isinstance(event, EntrySignalled) and gate is not None and (why := gate(symbol)):
                self.incidents.note(why, symbol=symbol)
                continue  # the venue would refuse its close: the signal may ask again later
            if (
                isinstance(event, EntrySignalled)
                and self.buying_power is not None
                and self.buying_power.declines(symbol, event, machine.snapshot())
            ):
                continue  # declined and counted: the signal may ask again later
            outcome = self._fire_on(symbol, event)
            try:
                signal.on_outcome(outcome)
            except Exception as exc:
                self._signal_failed(symbol, end, exc)
                return
            self.drain()

    # --- the clock -------------------------------------------------------------------------

    def deadlines(self, day: date) -> Deadlines | None:
        """``day``'s entry cutoff and square-off (see ``SessionPlan.deadlines``), cached."""
        if day not in self._deadlines:
            self._deadlines[day] = self.plan.deadlines(day)
        return self._deadlines[day]

    def on_clock(self, now: datetime) -> None:
        """Fire every deadline passed by ``now`` for every symbol, whether or not a bar came:
        the entry cutoff cancels a working entry, the square-off closes the day. Each fires at
        its own time (the event's ``at``), once. Cheap until the next deadline."""
        quiet = self._quiet_until
        if quiet is not None and now < quiet:
            return
        for symbol in self._symbols():
            snapshot = self.desk.machine(symbol).snapshot()
            deadlines = self.deadlines(snapshot.trading_date)
            if deadlines is None or now >= deadlines.closes:
                continue  # that session is over: the next one's first bar settles what is left
            if now >= deadlines.entry_cutoff:
                self._time_out_entry(symbol, deadlines.day, snapshot, deadlines.entry_cutoff)
                snapshot = self.desk.machine(symbol).snapshot()
            if now >= deadlines.square_off and not snapshot.done_for_day:
                self._fire_on(symbol, SquareOffReached(at=deadlines.square_off))
        self.drain()
        # In the clock's timezone (the bars'): the deadlines are the exchange's, and comparing
        # across two tzinfo objects asks both for their offset, on every bar.
        following = self.next_deadline(now)
        self._quiet_until = _NEVER if following is None else following.astimezone(now.tzinfo)

    def next_deadline(self, now: datetime) -> datetime | None:
        """The earliest deadline after ``now`` of a symbol whose day is not done (a runner
        sleeps until then at most)."""
        found: datetime | None = None
        for symbol in self._symbols():
            snapshot = self.desk.machine(symbol).snapshot()
            deadlines = self.deadlines(snapshot.trading_date)
            if deadlines is None or snapshot.done_for_day:
                continue
            for moment in (deadlines.entry_cutoff, deadlines.square_off):
                if moment > now and (found is None or moment < found):
                    found = moment
        return found

    def _symbols(self) -> list[str]:
        return sorted(set(self.signals) | set(self.desk.symbols()))

    def _time_out_entry(self, symbol: str, day: date, snapshot: Snapshot, at: datetime) -> None:
        """The entry cutoff passed: cancel the working entry of the attempt, once."""
        key = (symbol, day, snapshot.attempt)
        if not snapshot.has_working_entry or key in self._timed_out:
            return
        self._timed_out.add(key)
        self._fire_on(symbol, EntryTimedOut(at=at, attempt=snapshot.attempt))
