"""From the feed's bars to the strategy's: ``bar_minutes`` bars of the regular session.

Alpaca streams 1-minute bars only, for minutes with trades, pre- and post-market ones included
(``docs/alpaca-behaviours.md`` rows 13-14); a strategy written for 5-minute regular-hours
bars must receive exactly those, in replay and live alike. ``BarAggregator`` builds them:

- buckets are aligned to the session's open (09:30, 09:35, ... in New York), by the exchange
  calendar, so an early close ends the last one at 13:00;
- a bar outside the regular session never reaches a bucket (``outside_session`` counts them);
  nor does a bar of a date that is not a session;
- a bucket is complete when its last minute arrives (with ``feed``, the incoming bars' size,
  known), when a bar of a later bucket arrives — of any symbol: one feed sends the minutes in
  time order — or when the clock passes its end by ``grace`` (the last minutes may have had no
  trades); ``due`` and ``next_due`` say when;
- a bucket with no bar at all is no bar (as the 5-minute demo files have it);
- an updated minute (``updatedBars``: late trades, about 30 s after) replaces the minute while
  its bucket is open; after that it is counted (``late_updates``), never re-sent.

The bucket's bar: the first open, the highest high, the lowest low, the last close, the summed
volume and trade count, and the volume-weighted average of the minutes' ``vwap`` when every
minute has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import groupby, repeat
from operator import attrgetter

from brokers import Bar
from strategies._exceptions import CalendarError
from strategies._memory import collector_paused
from strategies.engine._timers import SessionTimes

__all__ = ["BarAggregator", "aggregate_bars", "interval_of"]

_ZERO = Decimal(0)
_START = attrgetter("start")
_SYMBOL = attrgetter("symbol")
_TZINFO = attrgetter("tzinfo")
_VOLUME = attrgetter("volume")
_VWAP = attrgetter("vwap")


@dataclass(slots=True)
class _Bucket:
    symbol: str
    start: datetime
    end: datetime
    minutes: dict[datetime, Bar] = field(default_factory=dict)

    def bar(self) -> Bar:
        if len(self.minutes) == 1:  # data of the strategy's own size: most buckets, in replay
            (only,) = self.minutes.values()
            return _bar_of_one(self.symbol, self.start, only)
        bars = [self.minutes[k] for k in sorted(self.minutes)]
        volume = sum((b.volume for b in bars), Decimal(0))
        vwap = None
        if volume > 0 and all(b.vwap is not None for b in bars):
            vwap = sum((b.vwap * b.volume for b in bars if b.vwap is not None), Decimal(0)) / volume
        return Bar(
            symbol=self.symbol,
            start=self.start,
            open=bars[0].open,
            high=max(b.high for b in bars),
            low=min(b.low for b in bars),
            close=bars[-1].close,
            volume=volume,
            trade_count=sum(b.trade_count for b in bars),
            vwap=vwap,
        )


def _bar_of_one(symbol: str, start: datetime, minute: Bar) -> Bar:
    """The bucket of one bar: the same sums as ``_Bucket.bar`` (a Decimal(0) + the volume keeps
    its spelling as the sum does), without the generators."""
    volume = Decimal(0) + minute.volume
    vwap = None
    if volume > 0 and minute.vwap is not None:
        vwap = (Decimal(0) + minute.vwap * minute.volume) / volume
    return Bar(
        symbol=symbol,
        start=start,
        open=minute.open,
        high=minute.high,
        low=minute.low,
        close=minute.close,
        volume=volume,
        trade_count=minute.trade_count,
        vwap=vwap,
    )


def _are_their_buckets(start: datetime, group: list[Bar]) -> bool:
    """``_is_its_bucket`` of every bar of ``group``, one moment's bars in one timezone, in C
    loops over the group."""
    first = group[0].start
    if first != start or first.tzinfo is not start.tzinfo:
        return False
    if list(map(_VWAP, group)).count(None) != len(group):
        return False
    volumes = list(map(_VOLUME, group))
    return not any(map(Decimal.compare_total, map(_ZERO.__add__, volumes), volumes))


def _zones(group: list[Bar]) -> int:
    """How many timezones spell the starts of ``group``."""
    return len(set(map(_TZINFO, map(_START, group))))


def _as_bucket(start: datetime, bar: Bar) -> Bar:
    """``bar`` as its bucket's at ``start``: itself when it already is that bar."""
    return bar if _is_its_bucket(start, bar) else _bar_of_one(bar.symbol, start, bar)


def _is_its_bucket(start: datetime, bar: Bar) -> bool:
    """Whether ``bar`` is already the bar ``_bar_of_one`` would build for its bucket at
    ``start``, to the spelling of every field: it starts there (in the same timezone), has no
    ``vwap`` to average, and its volume is spelled as the sum spells it (``0 + 1E+2`` is
    ``100``; ``0 + -0`` is ``0``). Then it goes out as it came: a replay of data of the
    strategy's own size built a second copy of every bar."""
    return (
        bar.vwap is None
        and bar.start == start
        and bar.start.tzinfo is start.tzinfo
        and not (_ZERO + bar.volume).compare_total(bar.volume)
    )


class BarAggregator:
    """Builds ``interval`` bars of the regular session from finer bars, as they come."""

    def __init__(
        self,
        session: SessionTimes,
        interval: timedelta,
        *,
        feed: timedelta | None = None,
        grace: timedelta = timedelta(0),
    ) -> None:
        self._session = session
        self._interval = interval
        self._feed = feed  # the size of the bars coming in, when known
        self.grace = grace
        self._open: dict[str, _Bucket] = {}
        # The same open buckets by their start: which are complete is asked on every bar, and
        # a desk of thousands of symbols has thousands open but only one or two starts.
        self._starts: dict[datetime, dict[str, _Bucket]] = {}
        self._hours: dict[date, tuple[datetime, datetime] | None] = {}
        self._utc_hours: dict[date, tuple[datetime, datetime] | None] = {}  # the same, in UTC
        self.outside_session = 0  # bars before the open, after the close, or on no session
        self.late_updates = 0  # updated minutes whose bucket had already gone out
        self._sent: dict[str, datetime] = {}  # symbol -> start of the last bucket sent

    def add(self, bar: Bar) -> list[Bar]:
        """One bar of the feed; the buckets it completes (every symbol's earlier ones), in
        time order then by symbol."""
        start = self._bucket_start(bar)
        if start is None:
            self.outside_session += 1
            return []
        done = self._complete(lambda begun: begun < start)
        sent = self._sent.get(bar.symbol)
        if sent is not None and start <= sent:
            self.late_updates += 1  # a minute of a bucket already sent: too late to change it
            return done
        bucket = self._open.get(bar.symbol)
        if bucket is None:
            bucket = _Bucket(bar.symbol, start, start + self._interval)
            self._open[bar.symbol] = bucket
            self._starts.setdefault(start, {})[bar.symbol] = bucket
        bucket.minutes[bar.start] = bar
        if self._feed is not None and bar.start + self._feed >= bucket.end:
            done += self._finish([bucket])  # its last minute: nothing can follow
        return done

    def add_each_alone(self, bars: Iterable[Bar]) -> list[Bar]:
        """``add`` of every bar of ``bars`` when the feed is of the interval's own size: then
        every bar completes its bucket on arrival (its last minute is itself), so no bucket is
        ever left open and each bar is its bucket's only one — the same bars ``add`` builds,
        without a bucket per bar (a plain replay of 5-minute data spent as long building them
        as replaying them)."""
        if self._feed != self._interval:
            raise ValueError("bars build their buckets alone only from a feed of their size")
        built: list[Bar] = []
        sent = self._sent
        latest = max(sent.values(), default=None)  # no symbol has sent a later bucket
        # A moment's bars (every symbol's, one after another in time order) share a bucket:
        # it is found once, and the checks of the moment's bars run in C over the group.
        for _, moment in groupby(bars, key=_START):
            group = list(moment)
            start = self._bucket_start(group[0])
            if start is None:
                self.outside_session += len(group)
                continue
            symbols = list(map(_SYMBOL, group))
            fresh = latest is None or start > latest
            # None is late, and one bucket start (the moment spelled in one timezone):
            if fresh and len(set(symbols)) == len(group) and _zones(group) == 1:
                sent.update(zip(symbols, repeat(start)))
                latest = start
                if _are_their_buckets(start, group):
                    built += group
                else:
                    built += [_as_bucket(start, bar) for bar in group]
                continue
            latest = self._add_one_by_one(group, built, latest)
        return built

    def _add_one_by_one(
        self, group: list[Bar], built: list[Bar], latest: datetime | None
    ) -> datetime | None:
        """``add_each_alone`` of one moment's ``group`` a bar at a time: some bar repeats a
        symbol, or comes after its bucket went out, or the moment is spelled in more than one
        timezone; the latest bucket start sent, after them."""
        sent = self._sent
        for bar in group:
            start = self._bucket_start(bar)
            if start is None:
                self.outside_session += 1
                continue
            last = sent.get(bar.symbol)
            if last is not None and start <= last:
                self.late_updates += 1
                continue
            sent[bar.symbol] = start
            latest = start if latest is None or start > latest else latest
            built.append(_as_bucket(start, bar))
        return latest

    def update(self, bar: Bar) -> bool:
        """An updated minute (late trades): it replaces the minute if its bucket is still open;
        False (and counted) when that bucket already went out."""
        start = self._bucket_start(bar)
        bucket = self._open.get(bar.symbol)
        if start is None or bucket is None or bucket.start != start:
            self.late_updates += start is not None
            return False
        bucket.minutes[bar.start] = bar
        return True

    def due(self, now: datetime) -> list[Bar]:
        """The buckets whose end passed ``now`` by the grace: complete, whatever still comes."""
        grace, interval = self.grace, self._interval  # a bucket ends ``interval`` after its start
        return self._complete(lambda begun: begun + interval + grace <= now)

    def next_due(self) -> datetime | None:
        """When the next open bucket completes on the clock."""
        ends = [start + self._interval for start in self._starts]
        return min(ends) + self.grace if ends else None

    def flush(self) -> list[Bar]:
        """Every open bucket (the data ended)."""
        return self._complete(lambda begun: True)

    def _complete(self, ready: Callable[[datetime], bool]) -> list[Bar]:
        """The open buckets whose start is ``ready``, finished."""
        starts = self._starts
        return self._finish([b for at in starts if ready(at) for b in starts[at].values()])

    def _finish(self, finished: list[_Bucket]) -> list[Bar]:
        """Send ``finished``: their bars in time order then by symbol; they are closed."""
        if not finished:
            return []
        finished.sort(key=lambda b: (b.start, b.symbol))
        starts = self._starts
        for bucket in finished:
            del self._open[bucket.symbol]
            group = starts[bucket.start]
            del group[bucket.symbol]
            if not group:
                del starts[bucket.start]
            self._sent[bucket.symbol] = bucket.start
        return [bucket.bar() for bucket in finished]

    def _bucket_start(self, bar: Bar) -> datetime | None:
        """The start of the bucket ``bar`` belongs to; None outside the regular session."""
        day = bar.start.astimezone(self._session.timezone).date()
        # Against the session's hours in UTC: comparing times of two tzinfo objects asks both
        # for their offset, and the bars of every feed are UTC. A session holds no DST change
        # (they fall at night), so the open plus whole intervals is the bucket in any zone.
        hours = self._utc_hours[day] if day in self._utc_hours else self._in_utc(day)
        if hours is None or not hours[0] <= bar.start < hours[1]:
            return None
        opens = hours[0]
        bucket = opens + (bar.start - opens) // self._interval * self._interval
        # In the bars' own timezone (UTC from every feed: then this is the same object), so
        # the strategy's bar reads like the feed's.
        return bucket.astimezone(bar.start.tzinfo)

    def _in_utc(self, day: date) -> tuple[datetime, datetime] | None:
        """``session_hours`` in UTC (cached)."""
        hours = self.session_hours(day)
        utc = None if hours is None else (hours[0].astimezone(UTC), hours[1].astimezone(UTC))
        self._utc_hours[day] = utc
        return utc

    def session_hours(self, day: date) -> tuple[datetime, datetime] | None:
        """``day``'s regular session as (open, close), None when it is no session (cached)."""
        if day not in self._hours:
            try:
                hours: tuple[datetime, datetime] | None = (
                    self._session.open_at(day),
                    self._session.close_at(day),
                )
            except CalendarError:
                hours = None
            self._hours[day] = hours
        return self._hours[day]


def aggregate_bars(
    bars: Sequence[Bar], session: SessionTimes, interval: timedelta
) -> tuple[list[Bar], int]:
    """``bars`` (in time order) as ``interval`` bars of the regular session; and how many bars
    fell outside it. A replay's way in: the same buckets a live run builds."""
    feed = interval_of(bars)
    builder = BarAggregator(session, interval, feed=feed)
    out: list[Bar] = []
    with collector_paused():  # a year of bars is built here, and none of them is garbage
        if feed == interval:
            out = builder.add_each_alone(bars)
        else:
            for bar in bars:
                out.extend(builder.add(bar))
            out.extend(builder.flush())
    return out, builder.outside_session


def interval_of(bars: Iterable[Bar]) -> timedelta | None:
    """The data's bar size: the smallest positive gap between two bars of one symbol (None for
    fewer than two bars of any symbol)."""
    last: dict[str, datetime] = {}
    smallest: timedelta | None = None
    for bar in bars:
        previous = last.get(bar.symbol)
        if previous is not None and bar.start > previous:
            gap = bar.start - previous
            if smallest is None or gap < smallest:
                smallest = gap
        last[bar.symbol] = bar.start
    return smallest
