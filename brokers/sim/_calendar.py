"""The simulated exchange's calendar: New York Stock Exchange sessions, holidays, early closes.

Built from ``exchange_calendars`` (``XNYS``) on first use — pandas loads only when a calendar
is asked for — then answered from plain Python data, one table per process. Only this room
imports the library: the core of ``brokers`` stays free of it. Extended hours are those Alpaca
lists: from 04:00, until 20:00 (17:00 after a 13:00 close, four hours after any close).
"""

from __future__ import annotations

import bisect
import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["NEW_YORK", "MarketDay", "SessionCalendar", "new_york_calendar"]

NEW_YORK = ZoneInfo("America/New_York")
#: The years the table covers (Alpaca's calendar goes further back; the twin needs no more).
FIRST_YEAR, LAST_YEAR = 2000, 2030
_PRE_MARKET_OPENS = time(4, 0)
_POST_MARKET = timedelta(hours=4)
_POST_MARKET_ENDS = time(20, 0)


@dataclass(frozen=True, slots=True)
class MarketDay:
    """One session: its date and its regular open and close, in New York time."""

    day: date
    opens: datetime
    closes: datetime

    @property
    def session_opens(self) -> datetime:
        """When extended hours begin (04:00)."""
        return datetime.combine(self.day, _PRE_MARKET_OPENS, tzinfo=NEW_YORK)

    @property
    def session_closes(self) -> datetime:
        """When extended hours end: four hours after the close, at 20:00 at the latest."""
        latest = datetime.combine(self.day, _POST_MARKET_ENDS, tzinfo=NEW_YORK)
        return min(self.closes + _POST_MARKET, latest)


class SessionCalendar:
    """Sessions by date, and the market's state at any moment."""

    def __init__(self, days: Sequence[MarketDay]) -> None:
        self._days = sorted(days, key=lambda d: d.day)
        self._dates = [d.day for d in self._days]
        self._by_date = {d.day: d for d in self._days}

    def session(self, day: date) -> MarketDay | None:
        """The session of ``day``, or None on a weekend, a holiday or outside the table."""
        return self._by_date.get(day)

    def between(self, start: date, end: date) -> list[MarketDay]:
        """Every session from ``start`` to ``end``, both included."""
        low = bisect.bisect_left(self._dates, start)
        return self._days[low : bisect.bisect_right(self._dates, end)]

    def is_open(self, now: datetime) -> bool:
        """Whether ``now`` lies in a regular session (``[open, close)``)."""
        today = self.session(now.astimezone(NEW_YORK).date())
        return today is not None and today.opens <= now < today.closes

    def next_open(self, now: datetime) -> datetime:
        """The first regular open after ``now`` (a session that is open now has opened)."""
        return self._next(now, lambda d: d.opens)

    def next_close(self, now: datetime) -> datetime:
        """The first regular close after ``now`` (today's while the session is open)."""
        return self._next(now, lambda d: d.closes)

    def _next(self, now: datetime, moment: Callable[[MarketDay], datetime]) -> datetime:
        # Today's session (if it is one) or the next; when today's moment has passed, the one
        # after: two sessions always hold the answer inside the table.
        index = bisect.bisect_left(self._dates, now.astimezone(NEW_YORK).date())
        for day in self._days[index : index + 2]:
            if moment(day) > now:
                return moment(day)
        return moment(self._days[-1])  # past the table: the last moment it knows


@functools.cache
def new_york_calendar() -> SessionCalendar:
    """The NYSE's sessions from 2000 to 2030, built once per process."""
    import exchange_calendars  # type: ignore[import-untyped]

    with warnings.catch_warnings():  # pandas' deprecation notices about the library's own code
        warnings.filterwarnings("ignore", module="pandas")
        calendar: Any = exchange_calendars.get_calendar(
            "XNYS", start=f"{FIRST_YEAR}-01-01", end=f"{LAST_YEAR}-12-31"
        )
        days = [
            MarketDay(
                day=session.date(),
                opens=opens.to_pydatetime().astimezone(NEW_YORK),
                closes=closes.to_pydatetime().astimezone(NEW_YORK),
            )
            for session, opens, closes in zip(
                calendar.sessions, calendar.opens, calendar.closes, strict=True
            )
        ]
    return SessionCalendar(days)
