"""A live run's market data: the broker's bars in, the strategy's bars out.

``BarFeed`` sits between the bar stream and the engine (on the engine thread):

1. **checks** each bar (``check_bar``): a bar dated on no session of the calendar (a weekend, a
   holiday, past the calendar's years), or with impossible prices (zero or negative, a move
   beyond ``max_jump`` from the symbol's last accepted close) is dropped, logged as
   ``bar_rejected`` with its reason, and counted — one bad bar never ends the run;
2. **aggregates** the feed's 1-minute bars into the strategy's ``bar_minutes`` bars of the
   regular session (``BarAggregator``: aligned to the open, pre- and post-market minutes left
   out, ``updatedBars`` folded in while their bucket is open);
3. **watches** each symbol's data: in the session, a symbol with no bar for ``stale_after`` is
   ``data_stale`` (a warning event, counted) until its next bar (``data_resumed``); the engine
   takes no new entry for it meanwhile. Its timers still run: they are on the clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog

from brokers import Bar
from strategies._exceptions import CalendarError
from strategies.engine import BarAggregator, SessionPlan
from strategies.engine import _incidents as incident
from strategies.engine._incidents import Incidents

__all__ = ["BarFeed", "FeedSettings", "check_bar"]

_log = structlog.get_logger("tickstate.feed")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSettings:
    """How a live run treats its bars."""

    feed: timedelta = timedelta(minutes=1)  # the size of the bars the broker streams
    grace: timedelta = timedelta(seconds=2)  # a bucket completes this long after its end
    stale_after: timedelta | None = timedelta(minutes=10)  # in the session, without a bar
    max_jump: Decimal = Decimal("0.5")  # a close this far (as a share) from the last is absurd


def check_bar(
    bar: Bar, plan: SessionPlan, *, last_close: Decimal | None, max_jump: Decimal
) -> str | None:
    """Why ``bar`` cannot be a bar of the market (None: it can). A bar whose open or close lies
    outside its range is no ``Bar`` at all: the stream drops its frame (``frame_dropped``)."""
    return _day_reason(plan, _day_of(bar, plan)) or _price_reason(
        bar, last_close=last_close, max_jump=max_jump
    )


def _day_of(bar: Bar, plan: SessionPlan) -> date:
    return bar.start.astimezone(plan.session.timezone).date()


def _day_reason(plan: SessionPlan, day: date) -> str | None:
    """Why no bar can be dated ``day`` (None: it is a session of the calendar)."""
    try:
        plan.session.close_at(day)
    except CalendarError as exc:
        return "outside_calendar" if "outside" in str(exc) else "not_a_session"
    return None


def _price_reason(bar: Bar, *, last_close: Decimal | None, max_jump: Decimal) -> str | None:
    """Why ``bar``'s prices cannot be the market's (None: they can)."""
    # A Bar holds low <= open, close <= high (and no NaN, which compares with nothing): its
    # four prices are finite and positive exactly when its low is positive and its high finite.
    if not (bar.low > _ZERO and bar.high.is_finite()):
        return "price_not_positive"
    if last_close is not None and abs(bar.close - last_close) > last_close * max_jump:
        return "absurd_move"
    return None


class BarFeed:
    """The bar side of a live run: checks, aggregation, staleness."""

    def __init__(
        self,
        plan: SessionPlan,
        settings: FeedSettings,
        symbols: list[str],
        *,
        last_close: dict[str, Decimal] | None = None,
        incidents: Incidents | None = None,
    ) -> None:
        self._plan = plan
        self._incidents = incidents  # data_stale is an incident of the run when given
        self._settings = settings
        self._aggregator = BarAggregator(
            plan.session, plan.bar_interval, feed=settings.feed, grace=settings.grace
        )
        self._symbols = sorted(symbols)
        self._last_close: dict[str, Decimal] = dict(last_close or {})
        self._last_seen: dict[str, datetime] = {}
        self._days: dict[date, str | None] = {}  # the calendar's answer for each day seen
        # No symbol can go stale before this: the earliest a watched symbol's silence reaches
        # ``stale_after``. A new bar moves a symbol's mark later, a new day's open too, and a
        # symbol going stale leaves the watch; one coming back, or an older bar come late,
        # clears it (``receive``).
        self._quiet_until: datetime | None = None
        self.stale: set[str] = set()
        self.rejected: Counter[str] = Counter()  # reason -> bars dropped
        self.counters: Counter[str] = Counter()  # data_stale, data_resumed

    @property
    def outside_session(self) -> int:
        """Bars of the extended hours, never shown to a signal."""
        return self._aggregator.outside_session

    @property
    def late_updates(self) -> int:
        """Updated minutes whose bucket had already gone to the strategy."""
        return self._aggregator.late_updates

    def last_price(self, symbol: str) -> Decimal | None:
        """The last close accepted for ``symbol`` (the previous session's before its first bar);
        read from another thread (the live screen), one dictionary read."""
        return self._last_close.get(symbol)

    def receive(self, bar: Bar) -> list[Bar]:
        """A bar of the stream; the strategy's bars it completes."""
        reason = self._check(bar, self._last_close.get(bar.symbol))
        if reason is not None:
            self.rejected[reason] += 1
            _log.warning(
                "bar_rejected",
                symbol=bar.symbol,
                reason=reason,
                bar_start=bar.start.isoformat(),
                close=str(bar.close),
            )
            return []
        self._last_close[bar.symbol] = bar.close
        seen = bar.start + self._settings.feed
        if seen < self._last_seen.get(bar.symbol, seen):
            self._quiet_until = None  # an older bar, come late, moves its mark back
        self._last_seen[bar.symbol] = seen
        if bar.symbol in self.stale:
            self.stale.discard(bar.symbol)
            self._quiet_until = None  # its bar may be late: it may go stale before the mark
            self.counters["data_resumed"] += 1
            _log.info("data_resumed", symbol=bar.symbol, bar_start=bar.start.isoformat())
        return self._aggregator.add(bar)

    def receive_update(self, bar: Bar) -> None:
        """An updated minute (``updatedBars``): folded in while its bucket is open."""
        if self._check(bar, None) is None:
            self._aggregator.update(bar)

    def _check(self, bar: Bar, last_close: Decimal | None) -> str | None:
        """``check_bar``, with each day's answer from the calendar kept: every bar asks it."""
        day = _day_of(bar, self._plan)
        if day in self._days:
            reason = self._days[day]
        else:
            reason = self._days[day] = _day_reason(self._plan, day)
        return reason or _price_reason(bar, last_close=last_close, max_jump=self._settings.max_jump)

    def due(self, now: datetime) -> list[Bar]:
        """The strategy's bars complete by ``now`` on the clock; marks symbols gone stale."""
        self._watch(now)
        return self._aggregator.due(now)

    def next_due(self) -> datetime | None:
        """When the next bucket completes on the clock."""
        return self._aggregator.next_due()

    def _watch(self, now: datetime) -> None:
        after = self._settings.stale_after
        if after is None:
            return
        day = now.astimezone(self._plan.session.timezone).date()
        hours = self._aggregator.session_hours(day)
        if hours is None or not hours[0] + after <= now < hours[1]:
            return
        if self._quiet_until is not None and now < self._quiet_until:
            return
        quiet_until: datetime | None = None
        for symbol in self._symbols:
            if symbol in self.stale:
                continue
            seen = max(self._last_seen.get(symbol, hours[0]), hours[0])
            if now - seen < after:
                if quiet_until is None or seen + after < quiet_until:
                    quiet_until = seen + after
            else:
                self.stale.add(symbol)
                self.counters["data_stale"] += 1
                fields: dict[str, Any] = {
                    "since": seen.isoformat(),
                    "minutes": int((now - seen).total_seconds() // 60),
                }
                if self._incidents is not None:
                    self._incidents.note(incident.DATA_STALE, symbol=symbol, **fields)
                else:
                    _log.warning(incident.DATA_STALE, symbol=symbol, **fields)
        self._quiet_until = quiet_until
