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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from brokers import Bar, Broker, Clock, OrderSide, TradeUpdate, TransportError, UpdateKind
from machines import (
    Command,
    DayRolledOver,
    Desk,
    EntryTimedOut,
    Event,
    OrderEvent,
    Outcome,
    PlaceStop,
    ReplaceStop,
    SquareOffReached,
    SymbolMachine,
    TickRule,
)
from strategies._crashpoints import crash_point
from strategies._execute import OrderIds, execute
from strategies._signal import DailyBar, SessionContext, SymbolSignal
from strategies._trades import SymbolSummary, TradeRecorder, summarise
from strategies._translate import order_event

__all__ = ["Engine", "EngineProbe", "JournalSink", "SessionPlan", "SessionTimes"]

_FILLS = (UpdateKind.FILL, UpdateKind.PARTIAL_FILL)

_log = structlog.get_logger("tickstate.engine")


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


class EngineProbe(Protocol):
    """Timing hooks, called in the engine's thread (``strategies._metrics.RunMetrics`` fits)."""

    def firing(self) -> None:
        """``Desk.fire`` is about to be called."""
        ...

    def fired(self) -> None:
        """``Desk.fire`` returned."""
        ...

    def sending(self, command: Command) -> None:
        """``command`` is about to be handed to the broker."""
        ...


class SessionTimes(Protocol):
    """When an exchange's sessions open and close (``strategies.Session`` fits)."""

    @property
    def timezone(self) -> ZoneInfo:
        """The exchange's timezone."""
        ...

    def open_at(self, day: date) -> datetime:
        """When ``day``'s session opens."""
        ...

    def close_at(self, day: date) -> datetime:
        """When ``day``'s session closes."""
        ...


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
    timed_out: set[int] = field(default_factory=set)

    def extend(self, bar: Bar) -> None:
        # What max/min would keep (the first of equal values), without their per-call overhead.
        if bar.high > self.high:
            self.high = bar.high
        if bar.low < self.low:
            self.low = bar.low
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
        signals: Mapping[str, SymbolSignal],
        broker: Broker,
        clock: Clock,
        plan: SessionPlan,
        history: Mapping[str, tuple[DailyBar, ...]] | None = None,
        recorder: TradeRecorder | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        journal: JournalSink | None = None,
    ) -> None:
        self.desk = desk
        self.signals = signals
        self.broker = broker
        self.clock = clock
        self.plan = plan
        self.recorder = recorder if recorder is not None else TradeRecorder()
        self.ids = OrderIds()
        self._on_outcome = on_outcome
        self._journal = journal
        self._history: dict[str, list[DailyBar]] = {s: list(h) for s, h in (history or {}).items()}
        self._today: dict[str, _SymbolDay] = {}
        self._inbox: queue.SimpleQueue[TradeUpdate | OrderEvent] = queue.SimpleQueue()
        self._prefix = f"{desk.strategy}-"
        self._last_start: datetime | None = None  # session_of's one-entry cache
        self._last_session = date.min
        self._day_from = self._day_until = datetime.min.replace(tzinfo=UTC)  # its local date
        self._new_stops: list[str] = []
        # The desk's machines, looked up once per symbol: on_bar needs one per bar, and the
        # desk's registry only ever grows (a machine, once created, is the symbol's for good).
        self._machines: dict[str, SymbolMachine] = {}
        self.probe: EngineProbe | None = None  # metrics: set by the live run when asked for

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
                self._fire_on(self._symbol_of(item.client_order_id), item)

    def _apply_update(self, update: TradeUpdate) -> None:
        order = update.order
        if not order.client_order_id.startswith(self._prefix):
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

    def _symbol_of(self, client_order_id: str) -> str:
        # {strategy}-{symbol}-{yyyymmdd}-{attempt}-{role}...: the symbol follows the prefix.
        return client_order_id[len(self._prefix) :].split("-", 1)[0]

    def _fire_on(self, symbol: str, event: Event) -> Outcome:
        probe = self.probe
        if probe is None:
            outcome = self.desk.fire(symbol, event)
        else:
            probe.firing()
            outcome = self.desk.fire(symbol, event)
            probe.fired()
        crash_point("before_journal", outcome.trigger)  # tests only: see _crashpoints
        # Durable before any command runs (DESIGN §2, invariant 8).
        seq = self._journal.record(outcome) if self._journal is not None else None
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        for command in outcome.commands:
            if isinstance(command, PlaceStop):
                self._new_stops.append(command.client_order_id)
            elif isinstance(command, ReplaceStop):
                self._new_stops.append(command.new_client_order_id)
            if probe is not None:
                probe.sending(command)
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
        # session_of(bar), its cache read inlined: this runs for every bar.
        day = self._last_session if bar.start == self._last_start else self.session_of(bar)
        today = self._today.get(bar.symbol)
        if today is not None and today.day == day:
            return
        if today is not None:
            self._history.setdefault(bar.symbol, []).append(today.summary())
        plan = self.plan
        self._today[bar.symbol] = _SymbolDay(
            day,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            plan.at(day, plan.entry_cutoff).astimezone(bar.start.tzinfo),
            plan.at(day, plan.square_off).astimezone(bar.start.tzinfo),
        )
        machine = self.desk.machine(bar.symbol)
        if day > machine.snapshot().trading_date:
            self._fire_on(bar.symbol, DayRolledOver(trading_date=day))
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
                    entry_cutoff=plan.at(day, plan.entry_cutoff),
                    square_off_at=plan.at(day, plan.square_off),
                    bar_interval=plan.bar_interval,
                    qty=plan.qty,
                    risk_per_trade=plan.risk_per_trade,
                )
            )

    def on_bar(self, bar: Bar) -> None:
        """A bar completed: session timers first, then the signal's events, each fired in order."""
        symbol = bar.symbol
        today = self._today.get(symbol)
        day = self._last_session if bar.start == self._last_start else self.session_of(bar)
        if today is None or today.day != day:  # start_bar's own test, inlined
            self.start_bar(bar)
            today = self._today[symbol]
        # today.extend(bar), inlined: this runs for every bar of every symbol.
        if bar.high > today.high:
            today.high = bar.high
        if bar.low < today.low:
            today.low = bar.low
        today.close = bar.close
        end = bar.start + self.plan.bar_interval
        machine = self._machines.get(symbol)
        if machine is None:
            machine = self._machines[symbol] = self.desk.machine(symbol)
        snapshot = machine.snapshot()
        fired = False  # the engine fires from one thread: unless it fired, snapshot is current
        if (
            end >= today.entry_cutoff_at
            and snapshot.state in ("entry_pending", "in_position", "stop_replacing")
            and snapshot.attempt not in today.timed_out
            and any(o.role.value == "entry" for o in snapshot.working_orders)
        ):
            today.timed_out.add(snapshot.attempt)
            self._fire_on(symbol, EntryTimedOut(at=end, attempt=snapshot.attempt))
            fired = True
        if end >= today.square_off_at and not snapshot.done_for_day:
            self._fire_on(symbol, SquareOffReached(at=end))
            fired = True
        if not self._inbox.empty():  # most bars fire nothing: skip the call
            self.drain()
            fired = True
        signal = self.signals.get(symbol)
        if signal is not None:
            for event in signal.on_bar(bar, machine.snapshot() if fired else snapshot):
                self._fire_on(symbol, event)
                self.drain()
