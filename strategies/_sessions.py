"""Trading sessions come from an exchange calendar: the previous session is never "yesterday".

Holidays and weekends come from the ``exchange_calendars`` package (well kept, per-exchange rules
and holiday lists). A calendar is built once per name and then answers from plain Python data,
so no pandas object escapes this module::

    >>> from datetime import date
    >>> nyse = TradingCalendar.for_name("XNYS")
    >>> nyse.previous_session(date(2012, 11, 23))  # the day after Thanksgiving
    datetime.date(2012, 11, 21)
    >>> nyse.open_at(date(2013, 3, 11)).isoformat()  # the Monday after the switch to DST
    '2013-03-11T09:30:00-04:00'

``XNSE`` (the National Stock Exchange of India) uses the holiday list of ``XBOM`` (BSE): the two
exchanges publish the same trading holidays and the same 09:15-15:30 session.
"""

from __future__ import annotations

import bisect
import functools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from strategies._exceptions import CalendarError

__all__ = ["FIRST_YEAR", "LAST_YEAR", "Session", "TradingCalendar"]

#: The years every calendar is built for (clipped to the years its holidays are recorded for).
FIRST_YEAR, LAST_YEAR = 2000, 2030

# Names exchange_calendars spells differently: our name -> the calendar whose data it uses.
_ALIASES: Mapping[str, str] = MappingProxyType({"XNSE": "XBOM"})


def _library() -> Any:
    """``exchange_calendars``, imported on first use: pandas loads only when a calendar does."""
    import exchange_calendars  # type: ignore[import-untyped]

    return exchange_calendars


@dataclass(frozen=True, slots=True)
class TradingCalendar:
    """The sessions of one exchange: which dates trade, and when each opens and closes."""

    name: str
    timezone: ZoneInfo
    regular_open: time  # the usual local open; early closes and late opens are per session
    regular_close: time
    _sessions: tuple[date, ...] = field(repr=False)
    _hours: Mapping[date, tuple[datetime, datetime]] = field(repr=False, compare=False)

    @classmethod
    def for_name(cls, name: str) -> TradingCalendar:
        """The calendar called ``name`` (``XNYS``, ``XNSE``, ...), built once and cached."""
        return _build(name)

    @property
    def first(self) -> date:
        """The first session this calendar knows."""
        return self._sessions[0]

    @property
    def last(self) -> date:
        """The last session this calendar knows."""
        return self._sessions[-1]

    def is_session(self, day: date) -> bool:
        """Whether the exchange trades on ``day``."""
        self._check_range(day)
        return day in self._hours

    def previous_session(self, day: date) -> date:
        """The last session strictly before ``day`` (which need not be a session itself)."""
        self._check_range(day)
        index = bisect.bisect_left(self._sessions, day)
        if index == 0:
            raise CalendarError(f"{self.name} has no session before {day} in its data")
        return self._sessions[index - 1]

    def next_session(self, day: date) -> date:
        """The first session strictly after ``day`` (which need not be a session itself)."""
        self._check_range(day)
        index = bisect.bisect_right(self._sessions, day)
        if index == len(self._sessions):
            raise CalendarError(f"{self.name} has no session after {day} in its data")
        return self._sessions[index]

    def sessions(self, start: date, end: date) -> tuple[date, ...]:
        """Every session from ``start`` to ``end``, both included."""
        self._check_range(start)
        self._check_range(end)
        low = bisect.bisect_left(self._sessions, start)
        return self._sessions[low : bisect.bisect_right(self._sessions, end)]

    def open_at(self, day: date) -> datetime:
        """When the session of ``day`` opens, in the exchange's timezone."""
        return self._hours_of(day)[0]

    def close_at(self, day: date) -> datetime:
        """When the session of ``day`` closes (early closes too), in the exchange's timezone."""
        return self._hours_of(day)[1]

    def _hours_of(self, day: date) -> tuple[datetime, datetime]:
        self._check_range(day)
        hours = self._hours.get(day)
        if hours is None:
            raise CalendarError(f"{day} is not a {self.name} session")
        return hours

    def _check_range(self, day: date) -> None:
        if not date(self.first.year, 1, 1) <= day <= date(self.last.year, 12, 31):
            raise CalendarError(
                f"{day} is outside the {self.name} calendar ({self.first} to {self.last})"
            )


@functools.cache
def _build(name: str) -> TradingCalendar:
    with warnings.catch_warnings():  # pandas' deprecation notices about the library's own code
        warnings.filterwarnings("ignore", module="pandas")
        return _from_library(name)


def _from_library(name: str) -> TradingCalendar:
    xcals = _library()
    source = _ALIASES.get(name, name)
    start, end = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
    calendar: Any
    try:
        calendar = xcals.get_calendar(source, start=start.isoformat(), end=end.isoformat())
    except xcals.errors.InvalidCalendarName:
        raise CalendarError(f'unknown trading calendar "{name}" (e.g. XNYS, XNSE)') from None
    except ValueError:  # its holidays are recorded for fewer years: take the years it has
        bounded = type(xcals.get_calendar(source))
        if bounded.bound_min() is not None:
            start = max(start, bounded.bound_min().date())
        if bounded.bound_max() is not None:
            end = min(end, bounded.bound_max().date())
        calendar = xcals.get_calendar(source, start=start.isoformat(), end=end.isoformat())
    factory: Any = type(calendar)
    zone = ZoneInfo(str(calendar.tz))
    sessions = tuple(ts.date() for ts in calendar.sessions)
    opens = (ts.to_pydatetime().astimezone(zone) for ts in calendar.opens)
    closes = (ts.to_pydatetime().astimezone(zone) for ts in calendar.closes)
    hours = dict(zip(sessions, zip(opens, closes, strict=True), strict=True))
    return TradingCalendar(
        name=name,
        timezone=zone,
        regular_open=factory.open_times[-1][1],
        regular_close=factory.close_times[-1][1],
        _sessions=sessions,
        _hours=MappingProxyType(hours),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A strategy's trading hours on its exchange's calendar, in the exchange's timezone.

    ``open``/``close`` are the strategy's regular hours; on an early-close day the exchange's
    earlier close wins.
    """

    calendar: TradingCalendar
    open: time
    close: time

    @property
    def timezone(self) -> ZoneInfo:
        """The exchange's timezone."""
        return self.calendar.timezone

    def at(self, day: date, clock: time) -> datetime:
        """``clock`` on ``day`` in the exchange's timezone (DST-aware)."""
        return datetime.combine(day, clock, tzinfo=self.calendar.timezone)

    def open_at(self, day: date) -> datetime:
        """When the strategy's session of ``day`` opens; ``day`` must be a session."""
        return max(self.at(day, self.open), self.calendar.open_at(day))

    def close_at(self, day: date) -> datetime:
        """When the strategy's session of ``day`` closes; an early close comes first."""
        return min(self.at(day, self.close), self.calendar.close_at(day))

    def previous_session(self, day: date) -> date:
        """The last session strictly before ``day`` (the 80-20 setup day of ``day``)."""
        return self.calendar.previous_session(day)

    def next_session(self, day: date) -> date:
        """The first session strictly after ``day``."""
        return self.calendar.next_session(day)
