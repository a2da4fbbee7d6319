"""The engine: bars → signals → machine events → commands → broker → result events → machine.

One engine serves replay and live; only the clock and the broker differ. It is driven from one
thread: trade updates are queued by ``on_trade_update`` (from whatever thread the broker calls
back on) and applied by ``drain``, in arrival order, so an update published while a command runs
is handled after that command, never inside it. Commands run after ``fire`` returned, so never
under a machine's lock.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import perf_counter
from typing import Any, Protocol

import structlog

from brokers import Bar, Broker, Clock, OrderSide, TradeUpdate, TransportError, UpdateKind
from machines import (
    ClientOrderId,
    Command,
    DayRolledOver,
    Desk,
    EntrySignalled,
    EntryTimedOut,
    Event,
    OrderEvent,
    Outcome,
    PlaceStop,
    ReplaceStop,
    Snapshot,
    SquareOffReached,
    TickRule,
)
from strategies.engine._crashpoints import crash_point
from strategies.engine._execute import OrderIds, execute
from strategies.engine._timers import Deadlines, SessionTimes, deadlines_of
from strategies.engine._trades import SymbolSummary, TradeRecorder, summarise
from strategies.engine._translate import order_event
from strategies.signals._protocol import DailyBar, SessionContext, Signal

__all__ = ["Engine", "Fired", "JournalSink", "Observer", "SessionPlan", "SessionTimes"]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPlan:
    """A strategy's daily timetable and sizing, as the engine needs it."""

    session: SessionTimes
    entry_cutoff: time  # local time: entries are cancelled at this time
    square_off: time  # local time: positions are flattened at this time
    bar_interval: timedelta
    qty: Decimal
    tick_of: Callable[[str], TickRule]
    risk_per_trade: Decimal | None = None

    def at(self, day: date, when: time) -> datetime:
        """A local time of ``day`` as an aware datetime."""
        return datetime.combine(day, when, tzinfo=self.session.timezone)

    def deadlines(self, day: date) -> Deadlines | None:
        """``day``'s entry cutoff and square-off, capped before its actual close (None when
        ``day`` is not a session)."""
        return deadlines_of(
            self.session,
            day,
            entry_cutoff=self.entry_cutoff,
            square_off=self.square_off,
            bar_interval=self.bar_interval,
        )


@dataclass(slots=True)
class _SymbolDay:
    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    # In the bars' timezone (UTC), not the exchange's: an aware comparison across two tzinfo
    # objects asks both for their UTC offset (about 1.5 µs with a ZoneInfo), one within the same
    # tzinfo compares the fields directly. Each bar is compared with both, so this is per bar.
    entry_cutoff_at: datetime
    square_off_at: datetime

    def extend(self, bar: Bar) -> None:
        """One more bar of the day: its range and its close."""
        self.high = max(self.high, bar.high)
        self.low = min(self.low, bar.low)
        self.close = bar.close

    def summary(self) -> DailyBar:
        return DailyBar(
            session=self.day, open=self.open, high=self.high, low=self.low, close=self.close
        )


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
        self._today: dict[str, _SymbolDay] = {}
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

    def summaries(self, symbols: Sequence[str]) -> list[SymbolSummary]:
        """Per symbol: its trades so far, with its machine's race and anomaly counts."""
        counters = {s: self.desk.machine(s).counters() for s in symbols}
        return summarise(
            self.recorder.trades,
            symbols,
            races={s: c.races for s, c in counters.items()},
            anomalies={s: c.anomalies for s, c in counters.items()},
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
            )
        event = order_event(update, self.ids.client_of.get)
        if event is not None:
            self._fire_on(order.symbol, event)

    def _fire_on(self, symbol: str, event: Event) -> Outcome:
        """The one outcome pipeline: decide, journal, observe, then run the commands."""
        started = perf_counter()
        outcome = self.desk.fire(symbol, event)
        fired = Fired(outcome, perf_counter() - started)
        crash_point("before_journal", outcome.trigger)  # tests only: see _crashpoints
        # Durable before any command runs (DESIGN §2, invariant 8).
        seq = self._journal.record(outcome) if self._journal is not None else None
        for observe in self._observers:
            observe(fired)
        for command in outcome.commands:
            if isinstance(command, PlaceStop):
                self._new_stops.append(command.client_order_id)
            elif isinstance(command, ReplaceStop):
                self._new_stops.append(command.new_client_order_id)
            crash_point("before_send", type(command).__name__)
            try:
                results = execute(command, self.broker, self.ids, self.clock.now())
            except TransportError as exc:
                # The outcome is unknown: the reconciliation finds out from the broker's state.
                _log.warning(
                    "command_failed",
                    symbol=symbol,
                    client_order_id=command.client_order_id,
                    command=type(command).__name__,
                    error=type(exc).__name__,
                    detail=exc.message,
                )
                self._record_result(seq, command, "failed", exc.message)
                continue
            crash_point("after_send", type(command).__name__)
            self._record_result(
                seq,
                command,
                "rejected" if results else "sent",
                "; ".join(getattr(r, "reason", "") for r in results),
            )
            for result in results:
                self._inbox.put(result)
        return outcome

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
        self._today[bar.symbol] = _SymbolDay(
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
            self._quiet_until = None  # a new day's deadlines
        signal = self.signals.get(bar.symbol)
        if signal is not None:
            signal.start_session(
                SessionContext(
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
            )

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
        signal = self.signals.get(symbol)
        if signal is not None:
            for event in signal.on_bar(bar, machine.snapshot()):
                if isinstance(event, EntrySignalled) and symbol in self.blocked_entries:
                    _log.warning("entry_skipped", symbol=symbol, reason="data_stale")
                    continue  # its data is in doubt: the signal may ask again on a later bar
                signal.on_outcome(self._fire_on(symbol, event))
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
            if deadlines is None:
                continue
            if now >= deadlines.entry_cutoff:
                self._time_out_entry(symbol, deadlines.day, snapshot, deadlines.entry_cutoff)
                snapshot = self.desk.machine(symbol).snapshot()
            if now >= deadlines.square_off and not snapshot.done_for_day:
                self._fire_on(symbol, SquareOffReached(at=deadlines.square_off))
        self.drain()
        self._quiet_until = self.next_deadline(now) or _NEVER

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
