"""backtrader (1.9.78.123) running the peers' strategies on tickstate's bars, rule for rule.

Two strategies, each the same rules as its tickstate counterpart:

- ``OpeningBar`` — ``benchmarks/_opening_bar.py``: a buy stop one tick above each symbol's first
  bar of the session, its protective stop one tick below that bar, the entry cancelled at 11:30,
  the position closed at 15:15 (100 shares).
- ``EightyTwenty`` — ``examples/eighty_twenty.toml`` (``strategies/signals/_eighty_twenty.py``):
  D-1 opened in one 20 % of its range and closed in the other; arm 10 ticks beyond D-1's low
  (high), a stop entry at it, the initial stop a tick beyond the day's extreme (revised while the
  entry works), trailed to each completed bar's low (high) after the fill bar, entries cancelled
  at 14:30, square-off at 15:15, one attempt a day.

Prices are handled in integer cents (bars are on the 0.01 tick), so a zone edge compares exactly
as tickstate's ``Decimal`` does. Where backtrader's defaults read bars differently from
tickstate's replay, the difference is closed here, not left in the comparison:

- **Stale bars.** With several data feeds, backtrader tries every order on each moment any feed
  has a bar, against its own feed's *current* bar even when that feed has none at this moment
  (so a stop placed after bar *t* could fill on bar *t*). ``Broker`` tries an order only when
  its feed has a bar at the moment, as tickstate's paper broker does.
- **The fill bar.** tickstate's replay matches a protective stop placed on a fill against the
  fill bar once more (bar data cannot say whether the low came after the fill; the conservative
  reading is that it did), filling it at its own price. backtrader would first try it on the
  next bar; ``Broker.rematch`` does tickstate's re-match on the fill bar.
- **Deadlines** (entry cutoff, square-off) are checked at every moment any symbol's bar
  completes, as tickstate's clock fires them; a market order then fills at the symbol's next
  bar's open (backtrader's default, and the paper broker's).

Bars are handed to backtrader already in memory (``Feed`` fills its lines in one step), as
tickstate's replay loop gets its ``Bar`` list: loading is not part of either timed run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import backtrader as bt

if TYPE_CHECKING:  # not imported at run time: a backtrader process loads nothing of tickstate
    from brokers import Bar

__all__ = ["Deadline", "PeerTrade", "run_eighty_twenty", "run_opening_bar"]

NEW_YORK = ZoneInfo("America/New_York")
FIVE_MINUTES_DAYS = 5 / (24 * 60)  # backtrader's datetimes are days (floats)


@dataclass(frozen=True, slots=True)
class PeerTrade:
    """One round trip as a peer made it: times are bar starts (UTC), prices in cents."""

    symbol: str
    entry_time: datetime
    entry_cents: int
    exit_time: datetime
    exit_cents: int


@dataclass(frozen=True, slots=True)
class Deadline:
    """One session's deadlines (what the strategies read of tickstate's ``Deadlines``)."""

    entry_cutoff: datetime
    square_off: datetime


def cents(price: float) -> int:
    """A price on the 0.01 tick as integer cents."""
    return round(price * 100)


class Feed(bt.feed.DataBase):  # type: ignore[misc]
    """One symbol's bars, already in memory: ``preload`` fills the lines in one step."""

    params = (("rows", None),)

    def _load(self) -> bool:
        return False

    def preload(self) -> None:
        rows = self.p.rows
        lines = self.lines
        for name, column in zip(
            ("datetime", "open", "high", "low", "close", "volume"), rows, strict=True
        ):
            getattr(lines, name).array.extend(column)
        lines.openinterest.array.extend([0.0] * len(rows[0]))
        self.home()


def feeds(bars: Iterable[Bar]) -> dict[str, Feed]:
    """A ``Feed`` per symbol (bar start, naive UTC, as backtrader's datetime)."""
    columns: dict[str, tuple[list[float], ...]] = {}
    for b in bars:
        col = columns.setdefault(b.symbol, ([], [], [], [], [], []))
        col[0].append(bt.date2num(b.start.astimezone(UTC).replace(tzinfo=None)))
        col[1].append(float(b.open))
        col[2].append(float(b.high))
        col[3].append(float(b.low))
        col[4].append(float(b.close))
        col[5].append(float(b.volume))
    return {symbol: Feed(rows=col, name=symbol) for symbol, col in sorted(columns.items())}


class Broker(bt.brokers.BackBroker):  # type: ignore[misc]
    """backtrader's broker, trying an order only on a bar of its own feed at this moment, and
    re-matching a protective stop against its entry's fill bar (tickstate's replay rules)."""

    def next(self) -> None:
        datas = self.cerebro.datas
        self._now = max(d.datetime[0] for d in datas if len(d))
        super().next()

    def _try_exec(self, order: Any) -> None:
        if order.data.datetime[0] == self._now:
            super()._try_exec(order)

    def rematch(self, order: Any) -> bool:
        """Fill the stop ``order`` on its feed's current bar at its own price if the bar reached
        it (the fill bar of the entry it protects); whether it filled."""
        price, data = order.created.price, order.data
        reached = data.high[0] >= price if order.isbuy() else data.low[0] <= price
        if not reached or order not in self.pending:
            return False
        self.pending.remove(order)
        self._execute(order, ago=0, price=price)
        return True


def _num(at: datetime) -> float:
    return float(bt.date2num(at.astimezone(UTC).replace(tzinfo=None)))


def _utc_of(day: date, when: time) -> float:
    return _num(datetime.combine(day, when, tzinfo=NEW_YORK))


class _Base(bt.Strategy):  # type: ignore[misc]
    """What both strategies share: per-symbol days, deadlines on the clock, trade records."""

    params: tuple[tuple[str, Any], ...] = (
        ("cutoff", time(11, 30)),
        ("square_off", time(15, 15)),
        ("qty", 100),
        ("calendar", None),  # {date: Deadline}: the exchange calendar's deadlines, if given
    )

    def __init__(self) -> None:
        self.trades: list[PeerTrade] = []
        self._bars_seen = {d: 0 for d in self.datas}
        self._day_of: dict[Any, date] = {}
        self._deadlines: dict[date, tuple[float, float]] = {}
        self._entry_of: dict[Any, Any] = {}  # working entry order per feed
        self._stop_of: dict[Any, Any] = {}  # working protective stop per feed
        self._held: dict[Any, tuple[datetime, int]] = {}  # position's entry per feed
        self._filled_now: dict[Any, Any] = {}  # feed -> its protective stop, on the fill bar
        self._cutoff_done: dict[date, bool] = {}
        self._square_done: dict[date, bool] = {}

    def prenext(self) -> None:
        self.next()  # a feed that has not started yet (FB before its listing) waits for no one

    def deadlines(self, day: date) -> tuple[float, float]:
        """``day``'s entry cutoff and square-off (backtrader's datetimes), from the calendar
        handed in (``Deadline``s: early closes move the square-off) or the clock times."""
        found = self._deadlines.get(day)
        if found is None:
            given = self.p.calendar.get(day) if self.p.calendar else None
            if given is not None:
                found = (_num(given.entry_cutoff), _num(given.square_off))
            else:
                found = (_utc_of(day, self.p.cutoff), _utc_of(day, self.p.square_off))
            self._deadlines[day] = found
        return found

    def next(self) -> None:
        fresh = []
        for d in self.datas:
            n = len(d)
            if n != self._bars_seen[d]:
                self._bars_seen[d] = n
                fresh.append(d)
        now = fresh[0].datetime[0]
        end = now + FIVE_MINUTES_DAYS
        day = bt.num2date(now).date()
        cutoff, square = self.deadlines(day)
        for d in fresh:
            stop = self._filled_now.pop(d, None)
            if stop is not None and self.broker.rematch(stop):
                self._stop_of.pop(d, None)
        if end >= cutoff and not self._cutoff_done.get(day):
            self._cutoff_done[day] = True
            for d, order in list(self._entry_of.items()):
                self.cancel(order)
                del self._entry_of[d]
                self.on_entry_cancelled(d)
        if end >= square and not self._square_done.get(day):
            self._square_done[day] = True
            for d in list(self._held):
                stop = self._stop_of.pop(d, None)
                if stop is not None:
                    self.cancel(stop)
                self.close(data=d)
        for d in fresh:
            if self._day_of.get(d) != day:
                self._day_of[d] = day
                self.start_day(d, day)
            self.on_bar(d, end, cutoff)

    def notify_order(self, order: Any) -> None:
        if order.status != order.Completed:
            return
        d = order.data
        price = cents(order.executed.price)
        at = bt.num2date(order.executed.dt).replace(tzinfo=UTC)
        # backtrader notifies a copy of the order: orders are told apart by their ``ref``
        entry = self._entry_of.get(d)
        if entry is not None and entry.ref == order.ref:
            del self._entry_of[d]
            self._held[d] = (at, price)
            stop = self.place_stop(d, order)
            self._stop_of[d] = stop
            self._filled_now[d] = stop
        elif d in self._held:
            entry_at, entry_price = self._held.pop(d)
            stop = self._stop_of.get(d)
            if stop is not None and stop.ref == order.ref:
                del self._stop_of[d]
            self.trades.append(PeerTrade(d._name, entry_at, entry_price, at, price))

    # --- what each strategy says --------------------------------------------------------

    def start_day(self, d: Any, day: date) -> None:
        raise NotImplementedError

    def on_bar(self, d: Any, end: float, cutoff: float) -> None:
        raise NotImplementedError

    def place_stop(self, d: Any, entry: Any) -> Any:
        raise NotImplementedError

    def on_entry_cancelled(self, d: Any) -> None:
        """The entry cutoff cancelled ``d``'s working entry."""


class OpeningBar(_Base):
    """Buy stop a tick above the first bar of the session, protective stop a tick below it
    (with ``place=False``: the same first-bar check, no order)."""

    params = (("place", True),)

    def __init__(self) -> None:
        super().__init__()
        self._first: dict[Any, bool] = {}
        self._protect: dict[Any, float] = {}

    def start_day(self, d: Any, day: date) -> None:
        self._first[d] = True

    def on_bar(self, d: Any, end: float, cutoff: float) -> None:
        if not self._first.get(d):
            return
        self._first[d] = False
        if not self.p.place or end >= cutoff or d in self._held:
            return
        entry = (cents(d.high[0]) + 1) / 100
        self._protect[d] = (cents(d.low[0]) - 1) / 100
        self._entry_of[d] = self.buy(data=d, size=self.p.qty, exectype=bt.Order.Stop, price=entry)

    def place_stop(self, d: Any, entry: Any) -> Any:
        return self.sell(data=d, size=self.p.qty, exectype=bt.Order.Stop, price=self._protect[d])


@dataclass(slots=True)
class _Setup:
    long: bool
    trigger: int
    entry: int
    phase: str = "waiting"  # waiting → armed → entered → done
    extreme: int | None = None
    stop: int | None = None  # S0 while the entry works, then the protective stop
    fill_bar: bool = False


class EightyTwenty(_Base):
    """80-20 with ``examples/eighty_twenty.toml``'s parameters (zone 0.20 inclusive, trigger 10
    ticks, entry offset 0, stop offset 1, trail every completed bar by 0 ticks, window 14:30)."""

    params = (("cutoff", time(14, 30)), ("trigger_ticks", 10))

    def __init__(self) -> None:
        super().__init__()
        self._daily: dict[Any, list[int]] = {}  # today's O H L C so far, per feed
        self._setup: dict[Any, _Setup | None] = {}

    def start_day(self, d: Any, day: date) -> None:
        d1 = self._daily.get(d)
        self._setup[d] = _qualify(d1, self.p.trigger_ticks) if d1 else None
        o = cents(d.open[0])
        self._daily[d] = [o, o, o, o]

    def on_bar(self, d: Any, end: float, cutoff: float) -> None:
        low, high = cents(d.low[0]), cents(d.high[0])
        daily = self._daily[d]
        daily[1], daily[2], daily[3] = max(daily[1], high), min(daily[2], low), cents(d.close[0])
        s = self._setup[d]
        if s is None or s.phase == "done":
            return
        mine = low if s.long else high
        beyond = s.extreme is None or (mine < s.extreme if s.long else mine > s.extreme)
        if beyond:
            s.extreme = mine
        if s.phase == "entered":
            self._follow(d, s, low, high, new_extreme=beyond)
        if (
            s.phase == "waiting"
            and end <= cutoff
            and (low <= s.trigger if s.long else high >= s.trigger)
        ):
            s.phase = "armed"
        if s.phase == "armed":
            if end >= cutoff:
                s.phase = "done"
                return
            s.stop = self._initial_stop(s)
            s.phase = "entered"
            if s.long:
                order = self.buy(d, size=self.p.qty, exectype=bt.Order.Stop, price=s.entry / 100)
            else:
                order = self.sell(d, size=self.p.qty, exectype=bt.Order.Stop, price=s.entry / 100)
            self._entry_of[d] = order

    def _initial_stop(self, s: _Setup) -> int:
        assert s.extreme is not None
        if s.long:
            stop = s.extreme - 1
            return stop if stop < s.entry else s.entry - 1
        stop = s.extreme + 1
        return stop if stop > s.entry else s.entry + 1

    def _follow(self, d: Any, s: _Setup, low: int, high: int, *, new_extreme: bool) -> None:
        if d in self._entry_of:  # the entry still works: S0 follows the day's extreme
            if new_extreme:
                s.stop = self._initial_stop(s)
            return
        if d in self._held:
            if s.fill_bar:
                s.fill_bar = False
                return  # no trail on the fill bar
            candidate = low if s.long else high
            assert s.stop is not None
            if (candidate > s.stop if s.long else candidate < s.stop) and candidate > 0:
                s.stop = candidate
                old = self._stop_of.pop(d, None)
                if old is not None:
                    self.cancel(old)
                self._stop_of[d] = self._stop_order(d, s)
            return
        s.phase = "done"  # flat again: one attempt a day

    def _stop_order(self, d: Any, s: _Setup) -> Any:
        assert s.stop is not None
        price = s.stop / 100
        if s.long:
            return self.sell(d, size=self.p.qty, exectype=bt.Order.Stop, price=price)
        return self.buy(d, size=self.p.qty, exectype=bt.Order.Stop, price=price)

    def place_stop(self, d: Any, entry: Any) -> Any:
        s = self._setup[d]
        assert s is not None
        s.fill_bar = True
        return self._stop_order(d, s)

    def on_entry_cancelled(self, d: Any) -> None:
        s = self._setup[d]
        if s is not None:
            s.phase = "done"


def _qualify(d1: list[int], trigger_ticks: int) -> _Setup | None:
    o, h, low, c = d1
    span = h - low
    if span <= 0:
        return None
    # opened >= 0.8 span and closed <= 0.2 span, in integers (zone 0.20, edges included)
    opened, closed = o - low, c - low
    if 5 * opened >= 4 * span and 5 * closed <= span:
        return _Setup(long=True, trigger=low - trigger_ticks, entry=low)
    if 5 * opened <= span and 5 * closed >= 4 * span:
        return _Setup(long=False, trigger=h + trigger_ticks, entry=h)
    return None


def _run(strategy: type[_Base], bars: Sequence[Bar], **params: Any) -> list[PeerTrade]:
    cerebro = prepare(strategy, bars, **params)
    return finish(cerebro)


def prepare(strategy: type[_Base], bars: Sequence[Bar], **params: Any) -> Any:
    """A ``Cerebro`` with ``bars`` and ``strategy`` added, ready to ``run`` (not timed)."""
    cerebro = bt.Cerebro(stdstats=False)
    broker = Broker(checksubmit=False)  # orders go straight to the book, as on the paper broker
    broker.cerebro = cerebro
    cerebro.setbroker(broker)
    cerebro.broker.setcash(10_000_000.0)
    for feed in feeds(bars).values():
        cerebro.adddata(feed)
    cerebro.addstrategy(strategy, **params)
    return cerebro


def finish(cerebro: Any) -> list[PeerTrade]:
    """Run a prepared ``Cerebro``; the strategy's round trips."""
    (strategy,) = cerebro.run()
    trades: list[PeerTrade] = strategy.trades
    return sorted(trades, key=lambda t: (t.entry_time, t.symbol))


def run_opening_bar(bars: Sequence[Bar], calendar: Mapping[date, Any]) -> list[PeerTrade]:
    """backtrader's opening-bar trades over ``bars`` (``calendar``: each day's deadlines)."""
    return _run(OpeningBar, bars, calendar=calendar)


def run_eighty_twenty(bars: Sequence[Bar], calendar: Mapping[date, Any]) -> list[PeerTrade]:
    """backtrader's 80-20 trades over ``bars`` (``calendar``: each day's deadlines)."""
    return _run(EightyTwenty, bars, calendar=calendar)
