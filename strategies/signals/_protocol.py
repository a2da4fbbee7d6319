"""What a signal is: a per-symbol object that turns completed bars into lifecycle events.

A signal decides *what the strategy wants* (arm, enter, trail, exit) from bars and the machine's
snapshot; the machine decides *whether it may* (attempts, windows, one position at a time) and
the engine does the rest. Signals are pure: no I/O, no clock — time arrives with the bars — and
the same bars give the same events in replay and live.

The engine calls, for each symbol and each session D:

1. ``start_session(context)`` once, before D's first bar, with D-1 and older daily bars;
2. ``on_bar(bar, snapshot)`` for every completed bar of D, in time order; the events returned
   are fired on the symbol's machine in order (orders they place work from the next bar on);
3. ``on_outcome(outcome)`` right after each of those events is decided, with the machine's
   answer (accepted, declined, ignored, anomaly), before the next one is fired.

Generic session rules — day rollover, square-off, cancelling entries at the entry cutoff — are
the engine's, not the signal's. A signal's own phases (waiting, armed, in an attempt, done) are
a declared ``PhaseTable`` (``phases``), so they can be drawn and checked like the lifecycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from brokers import Bar
from machines import Outcome, Snapshot, StrategyEvent, TickRule

__all__ = ["DailyBar", "SessionContext", "Signal", "StrategyTimes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyBar:
    """One regular session of one symbol, summarised."""

    session: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionContext:
    """What a signal knows when session D starts."""

    symbol: str
    session: date
    tick: TickRule
    history: tuple[DailyBar, ...]  # previous sessions by the exchange calendar, oldest first
    opens_at: datetime
    closes_at: datetime
    entry_cutoff: datetime  # no new entry decided at or after this time
    square_off_at: datetime
    bar_interval: timedelta  # every bar spans this long: it completes at ``start + bar_interval``
    qty: Decimal  # shares per entry with fixed sizing (ignored when risk_per_trade is set)
    risk_per_trade: Decimal | None = None  # money lost if the initial stop is hit

    def size(self, entry: Decimal, initial_stop: Decimal) -> Decimal:
        """Shares for one entry: fixed, or ``risk_per_trade / |entry - stop|`` (at least 1)."""
        if self.risk_per_trade is None:
            return self.qty
        risk = abs(entry - initial_stop)
        return max(Decimal(1), (self.risk_per_trade / risk).to_integral_value(ROUND_FLOOR))

    def bar_end(self, bar: Bar) -> datetime:
        """When ``bar`` completes: the time of every event decided on it."""
        return bar.start + self.bar_interval

    @property
    def previous(self) -> DailyBar | None:
        """D-1: the previous trading session, if there is one."""
        return self.history[-1] if self.history else None


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyTimes:
    """A strategy file's clock, local to its session: what a signal's parameters must fit.

    A signal's ``Params`` may define ``check_times(times) -> tuple[str, str] | None``, returning
    the key it names and the problem (``("or_minutes", "must be a multiple of ...")``) when its
    parameters cannot work with these times; ``tickstate validate`` reports it as
    ``signal.<key>: <problem>``.
    """

    session_open: time
    entry_start: time
    entry_cutoff: time
    bar_minutes: int


class Signal(Protocol):
    """The signal of one symbol."""

    def start_session(self, context: SessionContext) -> None:
        """Session D begins: forget D-1's intraday state, qualify D's setup."""
        ...

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        """A bar of D completed: the events the strategy wants fired, in order."""
        ...

    def on_outcome(self, outcome: Outcome) -> None:
        """What the machine made of one of the events ``on_bar`` returned."""
        ...
