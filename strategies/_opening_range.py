"""The opening-range breakout signal: a one-cancels-other stop pair around the first minutes.

Rules: ``reference/strategies.md``. The opening range is the high ``ORH`` and low ``ORL`` of the
bars in ``[open, open + or_minutes)``. When it is complete, one entry with two legs: a BUY STOP at
``ORH + buffer`` and a SELL STOP at ``ORL - buffer`` (``buffer = buffer_ticks·t``); the first fill
cancels the other leg (the machine does that). The long's stop is ``ORL - buffer`` floored, the
short's ``ORH + buffer`` ceiled, or both the range's midpoint (floored for the long, ceiled for
the short). The engine cancels unfilled entries at the entry cutoff and flattens at square-off.

Readings chosen where the rules or the bar data leave a choice (each pinned by a test in
``tests/strategies/test_opening_range.py``):

- **The window.** A bar belongs to the range when it *starts* inside the window; the range is
  complete when a bar that ends at or after the window's end completes (with ``or_minutes`` not
  a multiple of the bar interval, the range covers whole bars up to the next bar boundary). The
  entries are decided then and work from the next bar. A day without a bar in the window does
  not trade.
- **Both legs on one bar.** A bar that reaches both entry stops fills both (bar data cannot say
  which came first; the matching core takes the older order, the buy leg, first). The machine
  flags ``both_legs_filled``, flattens what is left and halts the symbol for the day.
- **Quantity.** One quantity for the pair: the smaller of the two legs' sizes (with risk-based
  sizing, the leg with the larger risk decides).
- **A range without width.** With ``ORH = ORL`` the legs need a buffer to stand apart; with
  ``buffer_ticks = 0`` the day does not trade. (Every stop then lies strictly on the protective
  side of its entry: the floored midpoint is at most ``ORH``, below the buy stop.)
- **Target.** ``entry ± target_r x risk``, from the leg's *planned* entry price and initial stop
  (the machine's snapshot does not carry the fill price; with a gap-through fill the target is
  where the plan put it). It is reached when a completed bar's high (long) / low (short) reaches
  it — the fill bar included, since a stop entry's fill comes before the bar's extreme on its
  side — and the exit is ``ExitSignalled(reason="target")``: the position is closed at the next
  bar's open, never assumed filled at the target price.
- **confirm = "close_beyond".** After the window, the first completed bar that closes strictly
  beyond the range (``close > ORH`` or ``close < ORL``) decides a single-leg entry on that side: a
  stop order at the same price as the pair's leg (``ORH + buffer`` / ``ORL - buffer``), working
  from the next bar (a next bar that opens beyond it fills at its open).
- **Re-arming** (only with ``max_attempts > 1``). When an attempt ends flat and attempts are left,
  ``stop_order`` places the pair again on that bar's completion (a stop-and-reverse when price
  sits beyond the other leg); ``close_beyond`` waits for the next close beyond the range (the
  stop-out bar's close counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    ExitSignalled,
    Side,
    Snapshot,
    StrategyEvent,
    TickRule,
    ceil_to_tick,
    floor_to_tick,
    round_entry,
)
from strategies._signal import SessionContext
from strategies._spec_signals import OpeningRangeSignal

__all__ = ["OpeningRange", "OpeningRangePlan", "plan_range"]

_TWO = Decimal(2)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningRangePlan:
    """The day's opening range and the two legs it gives."""

    high: Decimal
    low: Decimal
    long: EntryLeg
    short: EntryLeg

    def leg(self, side: Side) -> EntryLeg:
        """The leg that enters on ``side``."""
        return self.long if side is Side.BUY else self.short


def plan_range(
    params: OpeningRangeSignal, high: Decimal, low: Decimal, tick: TickRule
) -> OpeningRangePlan | None:
    """The legs of an opening range ``[low, high]``, or None when they cannot be placed."""
    buy = round_entry(Side.BUY, high + params.buffer_ticks * tick.size_at(high), tick)
    sell = round_entry(Side.SELL, low - params.buffer_ticks * tick.size_at(low), tick)
    if not sell > 0 or not buy > sell:
        return None
    if params.stop == "midpoint":
        middle = (high + low) / _TWO
        long_stop, short_stop = floor_to_tick(middle, tick), ceil_to_tick(middle, tick)
    else:
        long_stop, short_stop = floor_to_tick(sell, tick), ceil_to_tick(buy, tick)
    return OpeningRangePlan(
        high=high,
        low=low,
        long=EntryLeg(side=Side.BUY, entry_price=buy, initial_stop=long_stop),
        short=EntryLeg(side=Side.SELL, entry_price=sell, initial_stop=short_stop),
    )


class _Phase(Enum):
    FORMING = "forming"  # the opening range is still being measured
    READY = "ready"  # the range is known: enter as soon as the rule and the machine allow
    ENTERED = "entered"  # the entry was signalled; following the attempt it opened
    DONE = "done"  # nothing more today


class OpeningRange:
    """The opening-range-breakout signal of one symbol."""

    def __init__(self, params: OpeningRangeSignal, symbol: str) -> None:
        self.params = params
        self.symbol = symbol
        self._context: SessionContext | None = None
        self._phase = _Phase.FORMING
        # Session times in UTC, like the bars: comparing datetimes of two zones costs ~1.5 µs
        # each (a conversion), of one zone ~40 ns — and these are compared on every bar.
        self._opens_at: datetime | None = None
        self._window_end: datetime | None = None
        self._entry_cutoff: datetime | None = None
        self._high: Decimal | None = None
        self._low: Decimal | None = None
        self._plan: OpeningRangePlan | None = None
        self._entries_before = 0
        self._exited_attempt = 0

    @property
    def plan(self) -> OpeningRangePlan | None:
        """Today's range and legs, once the window is over."""
        return self._plan

    def start_session(self, context: SessionContext) -> None:
        """Session D begins: measure a new opening range."""
        self._context = context
        self._phase = _Phase.FORMING
        self._opens_at = context.opens_at.astimezone(UTC)
        self._window_end = self._opens_at + timedelta(minutes=self.params.or_minutes)
        self._entry_cutoff = context.entry_cutoff.astimezone(UTC)
        self._high = self._low = None
        self._plan = None
        self._entries_before = 0
        self._exited_attempt = 0

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> tuple[StrategyEvent, ...]:
        """A bar of D completed: measure the range, enter, watch the target and the attempt."""
        context = self._context
        if context is None or bar.symbol != self.symbol or self._phase is _Phase.DONE:
            return ()
        end = context.bar_end(bar)
        events: list[StrategyEvent] = []
        if self._phase is _Phase.FORMING:
            self._measure(bar, end, context)
        if self._phase is _Phase.ENTERED:
            self._follow(bar, snapshot, end, events)
        if self._phase is _Phase.READY:
            self._enter(bar, snapshot, end, context, events)
        return tuple(events)

    # --- the steps -------------------------------------------------------------------------

    def _measure(self, bar: Bar, end: datetime, context: SessionContext) -> None:
        assert self._opens_at is not None
        assert self._window_end is not None
        if self._opens_at <= bar.start < self._window_end:
            self._high = bar.high if self._high is None else max(self._high, bar.high)
            self._low = bar.low if self._low is None else min(self._low, bar.low)
        if end < self._window_end:
            return
        if self._high is None or self._low is None:
            self._phase = _Phase.DONE
            return
        self._plan = plan_range(self.params, self._high, self._low, context.tick)
        self._phase = _Phase.READY if self._plan is not None else _Phase.DONE

    def _enter(
        self,
        bar: Bar,
        snapshot: Snapshot,
        end: datetime,
        context: SessionContext,
        events: list[StrategyEvent],
    ) -> None:
        plan = self._plan
        assert plan is not None
        assert self._entry_cutoff is not None
        if (
            end >= self._entry_cutoff
            or snapshot.done_for_day
            or snapshot.entries_today >= snapshot.max_attempts
        ):
            self._phase = _Phase.DONE
            return
        if not snapshot.is_flat:
            return  # one position at a time
        if self.params.confirm == "stop_order":
            legs: tuple[EntryLeg, ...] = (plan.long, plan.short)
        elif bar.close > plan.high:
            legs = (plan.long,)
        elif bar.close < plan.low:
            legs = (plan.short,)
        else:
            return
        qty = min(context.size(leg.entry_price, leg.initial_stop) for leg in legs)
        events.append(EntrySignalled(at=end, qty=qty, legs=legs))
        self._entries_before = snapshot.entries_today
        self._phase = _Phase.ENTERED

    def _follow(
        self, bar: Bar, snapshot: Snapshot, end: datetime, events: list[StrategyEvent]
    ) -> None:
        if snapshot.entries_today <= self._entries_before:
            if snapshot.is_flat:
                self._phase = _Phase.DONE  # the machine declined the entry
            return
        if snapshot.position != 0:
            target = self._target(snapshot.side)
            if (
                target is not None
                and snapshot.manages_position
                and self._exited_attempt != snapshot.attempt
                and (bar.high >= target if snapshot.side is Side.BUY else bar.low <= target)
            ):
                self._exited_attempt = snapshot.attempt
                events.append(ExitSignalled(at=end, reason="target"))
            return
        if snapshot.is_flat:
            self._phase = _Phase.READY  # the attempt is over: enter again if attempts are left

    def _target(self, side: Side | None) -> Decimal | None:
        if self.params.target_r is None or side is None or self._plan is None:
            return None
        leg = self._plan.leg(side)
        risk = abs(leg.entry_price - leg.initial_stop)
        if side is Side.BUY:
            return leg.entry_price + self.params.target_r * risk
        return leg.entry_price - self.params.target_r * risk
