"""A replay that trades as the simulated exchange does: one moment at a time, as in lock-step.

``replay_twin`` plays recorded bars (the feed's size: 1-minute bars for the demo data) through
the engine against an in-process paper broker with the twin's rules (``ALPACA_PAPER``: the
collar, wash trades, asynchronous cancels and replaces), the twin's seeded ``PartialFills`` and
cash, and in the order a lock-step live run meets them (``brokers.LockStep``,
``strategies.run._lockstep``). At each moment of the exchange's timeline (a bar's end, a late
print's return 30 s later, a session's close):

1. the venue, on its own clock: every bar ending now is matched (orders submitted by its start;
   outside the regular session only extended-hours orders), what is due lands (cancels and
   replaces, after the bar: the reading that can hurt), DAY orders expire at the close;
2. the run, its clock still at the last moment, applies every trade update so far, in the
   venue's order — the commands they lead to run at once and their updates are applied too;
3. the run's clock moves to the moment; the bars go through the same ``BarFeed`` a live run
   builds the strategy's bars with (minute bars, then late prints, by symbol); then what the
   clock says (buckets completing on the clock, entry cutoffs, square-offs). Orders sent now
   reach the venue now: they are matched from the next bar on.

So a lock-step live run on the twin and this replay, over the same bars, strategy and seed,
take the same trades, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from brokers import (
    ALPACA_PAPER,
    Asset,
    Bar,
    ManualClock,
    MatchingEngine,
    PaperBroker,
    PartialFills,
    TradeUpdate,
    late_prints,
)
from strategies._exceptions import CalendarError
from strategies._memory import tuned_for_a_run
from strategies.engine import interval_of
from strategies.engine._engine import Engine, Observer
from strategies.run._feed import BarFeed, FeedSettings
from strategies.run._settings import RunSettings
from strategies.run._wiring import build_engine_for
from strategies.signals import DailyBar
from strategies.spec import StrategySpec

if TYPE_CHECKING:
    from strategies._sessions import TradingCalendar
    from strategies.observe._logging import MarketTime

__all__ = ["TWIN_CASH", "TWIN_MARGIN", "TWIN_UPDATED_BARS", "replay_twin"]

#: The simulated exchange's defaults that shape what it fills: its account's cash, and the
#: share of bars first sent without a late print (``updatedBars``).
TWIN_CASH = Decimal(100_000)
TWIN_MARGIN = Decimal(4)  # buying power: 4x equity, Alpaca's intraday (the file may say less)
TWIN_UPDATED_BARS = 0.05
_BAR, _LATE, _CLOSE = 0, 1, 2  # what happens at a moment, in this order (as the exchange's)


class _Happening(NamedTuple):
    """One moment's event of the exchange's timeline. A tuple, ordered by its fields: when,
    then what (``_BAR``, ``_LATE``, ``_CLOSE``), then which; no two share all three, so a bar
    is never compared. The timeline holds one or two a feed bar (the minute year: ~400,000)."""

    at: datetime
    kind: int
    seq: int
    bar: Bar | None = None


@tuned_for_a_run(tidy=False)  # a replay is a run, as replay_bars says
def replay_twin(
    spec: StrategySpec,
    bars: Sequence[Bar],
    *,
    history: Mapping[str, tuple[DailyBar, ...]] | None = None,
    seed: int = 0,
    cash: Decimal | None = None,
    settings: RunSettings | None = None,
    market_time: MarketTime | None = None,
    observers: Sequence[Observer] = (),
    progress: Callable[[int], None] | None = None,
) -> tuple[Engine, int]:
    """Replay ``bars`` (one feed size, any symbols of ``spec``) as the twin in lock-step would
    trade them; the engine and how many of the strategy's bars it saw. ``progress`` is told
    how many of ``bars`` each moment played."""
    settings = settings or RunSettings()
    ordered = sorted(bars, key=_start)  # stable: the exchange plays them in this order
    size = interval_of(ordered) or timedelta(minutes=1)
    session = spec.session.hours()
    zone = session.timezone
    venue_clock, clock = ManualClock(ordered[0].start), ManualClock(ordered[0].start)
    if market_time is not None:  # log lines carry the replay's market time
        market_time.follow(clock, zone)
    inbox: list[TradeUpdate] = []
    symbols = sorted({b.symbol for b in ordered})
    paper = PaperBroker(
        clock=venue_clock,
        cash=cash or spec.costs.cash or TWIN_CASH,
        margin=spec.costs.leverage or TWIN_MARGIN,
        seed=seed,
        fill_ratio=PartialFills(seed, ALPACA_PAPER.partial_fill_rate),
        rules=ALPACA_PAPER,
        assets={s: Asset(symbol=s, id=MatchingEngine.asset_id(s)) for s in symbols},
        zone=zone,
    )
    paper.subscribe(inbox.append)
    venue = paper.engine
    engine = build_engine_for(
        spec,
        broker=paper,
        clock=clock,
        trading_date=ordered[0].start.astimezone(zone).date(),
        history=history,
        observers=observers,
    )
    feed = BarFeed(
        engine.plan,
        FeedSettings(
            feed=size,
            grace=timedelta(seconds=max(settings.bar_grace, 0.05)),
            stale_after=(
                None if settings.stale_after is None else timedelta(seconds=settings.stale_after)
            ),
        ),
        list(engine.signals),
        last_close={s: days[-1].close for s, days in (history or {}).items() if days},
    )
    late = late_prints(ordered, TWIN_UPDATED_BARS, size, seed)
    seen = 0

    def apply_updates() -> None:
        while inbox:
            update = inbox.pop(0)
            engine.on_trade_update(update)
            engine.drain()

    def strategy_bar(bar: Bar) -> None:
        nonlocal seen
        engine.blocked_entries = frozenset(feed.stale)
        engine.on_bar(bar)
        seen += 1

    timeline = _timeline(ordered, size, {k: v.whole_at for k, v in late.items()}, spec)
    calendar = spec.session.hours().calendar  # the exchange's: is a bar in its session?
    i = 0
    while i < len(timeline):
        at = timeline[i].at
        moment = []
        while i < len(timeline) and timeline[i].at == at:
            moment.append(timeline[i])
            i += 1
        apply_updates()  # what the last moment's commands brought, before the venue moves
        venue_clock.set(at)
        shown: list[tuple[int, Bar]] = []
        for happening in moment:
            bar = happening.bar
            if happening.kind == _BAR and bar is not None:
                regular = _regular(calendar, bar.start)
                inbox.extend(venue.on_bar(bar, at, cutoff=bar.start, regular=regular))
                inbox.extend(venue.settle(at))
                held = late.get((bar.symbol, bar.start))
                shown.append((_BAR, held.first if held is not None else bar))
            elif happening.kind == _LATE and bar is not None:
                shown.append((_LATE, bar))
            else:
                inbox.extend(venue.expire_day_orders(at))
        inbox.extend(venue.settle(at))
        apply_updates()
        clock.set(at)
        shown.sort(key=lambda item: (item[0], item[1].start, item[1].symbol))
        for kind, bar in shown:
            if kind == _BAR:
                for built in feed.receive(bar):
                    strategy_bar(built)
            else:
                feed.receive_update(bar)
        for built in feed.due(at):
            strategy_bar(built)
        engine.on_clock(at)
        if progress is not None:  # the feed's bars played so far
            progress(sum(1 for happening in moment if happening.kind == _BAR))
    apply_updates()
    return engine, seen


def _start(bar: Bar) -> datetime:
    return bar.start


def _regular(calendar: TradingCalendar, when: datetime) -> bool:
    """Whether ``when`` lies in a regular session of the exchange's ``calendar``."""
    try:
        hours = calendar.session_hours(when.astimezone(calendar.timezone).date())
    except CalendarError:  # outside the calendar's years
        return False
    return hours is not None and hours[0] <= when < hours[1]


def _timeline(
    bars: Sequence[Bar],
    size: timedelta,
    late: Mapping[tuple[str, datetime], datetime],
    spec: StrategySpec,
) -> list[_Happening]:
    """The exchange's moments: bars' ends, late prints' returns, sessions' closes, in order
    (``bars`` in time order)."""
    calendar = spec.session.hours().calendar
    zone = calendar.timezone
    found: list[_Happening] = []
    last_end: dict[date, datetime] = {}
    for seq, bar in enumerate(bars):
        end = bar.start + size
        found.append(_Happening(end, _BAR, seq, bar))
        whole_at = late.get((bar.symbol, bar.start))
        if whole_at is not None:
            found.append(_Happening(whole_at, _LATE, seq, bar))
        last_end[bar.start.astimezone(zone).date()] = end  # in time order: the day's last
    for seq, (day, end) in enumerate(sorted(last_end.items())):
        try:
            closes = calendar.close_at(day)
        except CalendarError:  # not a session: the day ends with its data
            closes = end
        found.append(_Happening(closes, _CLOSE, seq))
    found.sort()
    return found
