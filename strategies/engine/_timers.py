"""The session's timers: the entry cutoff and the square-off of each trading date, on the clock.

Time does not arrive with bars: a symbol may get no bar for minutes, a data socket may go quiet,
a session may close at 13:00. So the engine asks these timers, not the bars, whether a deadline
has passed (``Engine.on_clock``); a bar's end is only one more moment at which it asks.

The square-off is capped before the session's actual close: on an early close (13:00 on the day
after Thanksgiving) it moves to one bar before the close, so the closing order still meets a bar
of the session; the entry cutoff is never after the square-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from strategies._exceptions import CalendarError

__all__ = ["Deadlines", "SessionTimes", "deadlines_of"]


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
