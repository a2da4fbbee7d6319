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

Building a calendar imports ``pandas`` and walks thirty years of sessions (about a second of CPU,
most of a short replay), so what is built is kept as plain data in the user's cache directory
(``platformdirs``; ``TICKSTATE_CACHE_DIR`` overrides it), one file per calendar and version of
``exchange_calendars``: a new release of the library (new holidays) builds afresh. A cache that
cannot be read or written is ignored; the calendar is then built from the library.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
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
    # The days it answers for, whole years (``_check_range``): every lookup of a session asks.
    _range: tuple[date, date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first, last = self._sessions[0], self._sessions[-1]
        object.__setattr__(self, "_range", (date(first.year, 1, 1), date(last.year, 12, 31)))

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

    def session_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """When the session of ``day`` opens and closes, in the exchange's timezone; None when
        ``day`` is no session (``CalendarError`` outside the calendar's years)."""
        self._check_range(day)
        return self._hours.get(day)

    def _hours_of(self, day: date) -> tuple[datetime, datetime]:
        hours = self.session_hours(day)
        if hours is None:
            raise CalendarError(f"{day} is not a {self.name} session")
        return hours

    def _check_range(self, day: date) -> None:
        low, high = self._range
        if not low <= day <= high:
            raise CalendarError(
                f"{day} is outside the {self.name} calendar ({self.first} to {self.last})"
            )


@functools.cache
def _build(name: str) -> TradingCalendar:
    file = _cache_file(name)
    cached = _read_cache(file, name) if file is not None else None
    if cached is not None:
        return cached
    with warnings.catch_warnings():  # pandas' deprecation notices about the library's own code
        warnings.filterwarnings("ignore", module="pandas")
        calendar = _from_library(name)
    if file is not None:
        _write_cache(file, calendar)
    return calendar


#: Bumped when the cached form (or how a calendar is built from the library) changes.
_CACHE_FORMAT = 1


def _cache_file(name: str) -> Path | None:
    """Where the calendar ``name`` is cached for this version of ``exchange_calendars``
    (``None``: the library is not installed, so there is nothing to key a cache by)."""
    from importlib import metadata

    try:
        version = metadata.version("exchange_calendars")
    except metadata.PackageNotFoundError:
        return None
    root = os.environ.get("TICKSTATE_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("tickstate")
    key = f"{name}-{FIRST_YEAR}-{LAST_YEAR}-exchange_calendars-{version}-v{_CACHE_FORMAT}"
    return Path(root) / "calendars" / f"{key}.json"


def _read_cache(file: Path, name: str) -> TradingCalendar | None:
    """The calendar cached in ``file``, or ``None`` when there is none or it is unreadable."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data["format"] != _CACHE_FORMAT or data["name"] != name:
            return None
        zone = ZoneInfo(data["timezone"])
        sessions = tuple(map(date.fromisoformat, data["sessions"]))
        opens = (datetime.fromtimestamp(ts, zone) for ts in data["opens"])
        closes = (datetime.fromtimestamp(ts, zone) for ts in data["closes"])
        hours = dict(zip(sessions, zip(opens, closes, strict=True), strict=True))
        return TradingCalendar(
            name=name,
            timezone=zone,
            regular_open=time.fromisoformat(data["regular_open"]),
            regular_close=time.fromisoformat(data["regular_close"]),
            _sessions=sessions,
            _hours=MappingProxyType(hours),
        )
    except (OSError, ValueError, KeyError, TypeError):  # absent, partial, or another program's
        return None


def _write_cache(file: Path, calendar: TradingCalendar) -> None:
    """Keep ``calendar`` in ``file``, atomically (a reader never sees half a file); a cache that
    cannot be written is no error."""
    hours = [calendar._hours[day] for day in calendar._sessions]
    data = {
        "format": _CACHE_FORMAT,
        "name": calendar.name,
        "timezone": calendar.timezone.key,
        "regular_open": calendar.regular_open.isoformat(),
        "regular_close": calendar.regular_close.isoformat(),
        "sessions": [day.isoformat() for day in calendar._sessions],
        "opens": [int(opens.astimezone(UTC).timestamp()) for opens, _ in hours],
        "closes": [int(closes.astimezone(UTC).timestamp()) for _, closes in hours],
    }
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=file.parent, prefix=file.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, separators=(",", ":"))
            os.replace(temporary, file)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass


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
