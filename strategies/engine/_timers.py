"""The session's timetable (``SessionPlan``) and its timers: the entry cutoff and the square-off
of each trading date, on the clock.

Time does not arrive with bars: a symbol may get no bar for minutes, a data socket may go quiet,
a session may close at 13:00. So the engine asks these timers, not the bars, whether a deadline
has passed (``Engine.on_clock``); a bar's end is only one more moment at which it asks.

The square-off is capped before the session's actual close: on an early close (13:00 on the day
after Thanksgiving) it moves to one bar before the close, so the closing order still meets a bar
of the session; the entry cutoff is never after the square-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from brokers import Bar, TimeInForce
from machines import TickRule
from strategies._exceptions import CalendarError
from strategies._policy import HaltScope
from strategies.signals._protocol import DailyBar

__all__ = ["Deadlines", "SessionPlan", "SessionTimes", "SymbolDay", "deadlines_of"]


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
        """When ``day``'s session closes (an early close too)."""
        ...


@dataclass(frozen=True, slots=True)
class Deadlines:
    """One trading date's deadlines, as aware datetimes."""

    day: date
    entry_cutoff: datetime  # working entries are cancelled from here on
    square_off: datetime  # positions are closed from here on
    closes: datetime  # the session's actual close
    capped: bool  # the strategy's square-off fell at or after ``closes - bar``: it was moved


def deadlines_of(
    session: SessionTimes,
    day: date,
    *,
    entry_cutoff: time,
    square_off: time,
    bar_interval: timedelta,
) -> Deadlines | None:
    """The deadlines of ``day`` (None when ``day`` is not a session of the calendar)."""
    try:
        closes = session.close_at(day)
    except CalendarError:
        return None
    zone = session.timezone
    wanted = datetime.combine(day, square_off, tzinfo=zone)
    latest = closes - bar_interval
    square = min(wanted, latest)
    cutoff = min(datetime.combine(day, entry_cutoff, tzinfo=zone), square)
    return Deadlines(
        day=day, entry_cutoff=cutoff, square_off=square, closes=closes, capped=square < wanted
    )


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
    halt_scope: HaltScope = HaltScope.SESSION
    stop_time_in_force: TimeInForce = TimeInForce.GTC  # protective stops outlive a dead runner

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
class SymbolDay:
    """One symbol's session so far: its range and close (the daily bar it becomes), and its
    deadlines in the bars' timezone."""

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
        # Comparisons, not max()/min() (two builtin calls a bar); a tie keeps the earlier
        # value, as max() and min() do.
        if bar.high > self.high:
            self.high = bar.high
        if bar.low < self.low:
            self.low = bar.low
        self.close = bar.close

    def summary(self) -> DailyBar:
        return DailyBar(
            session=self.day, open=self.open, high=self.high, low=self.low, close=self.close
        )
