"""The opening-range breakout signal: a one-cancels-other stop pair around the first minutes.

Rules: ``docs/strategies.md``. The opening range is the high ``ORH`` and low ``ORL`` of the
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

Its phases, declared in ``PHASES``: ``forming`` (the range is being measured) → ``ready`` →
``entered`` (the machine took the entry) → ``ready`` again when the attempt ends flat, or
``done`` for the day (no range, entries closed, or the entry declined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    ExitSignalled,
    Outcome,
    Side,
    Snapshot,
    StrategyEvent,
    TickRule,
    ceil_to_tick,
    floor_to_tick,
    round_entry,
)
from strategies._fields import FROZEN, Count, Ratio, shown
from strategies.signals._attempts import AttemptWatch, entries_closed
from strategies.signals._phases import STAY, PhaseTable
from strategies.signals._protocol import SessionContext, StrategyTimes

__all__ = [
    "PHASES",
    "OpeningRange",
    "OpeningRangeCue",
    "OpeningRangeParams",
    "OpeningRangePhase",
    "OpeningRangePlan",
    "plan_range",
]

_TWO = Decimal(2)
_ANY_DAY = date(2000, 1, 3)


class OpeningRangeParams(BaseModel):
    """The ``[signal]`` table of the opening-range breakout."""

    model_config = FROZEN

    or_minutes: Count = Field(default=15, ge=1, le=390, description="minutes of the opening range")
    buffer_ticks: Count = Field(default=1, ge=0, description="entry stops this many ticks outside")
    stop: Literal["opposite_side", "midpoint"] = Field(
        default="opposite_side", description="initial stop: the range's other side, or its middle"
    )
    target_r: Ratio | None = Field(
        default=None, description="optional profit target as a multiple of the risk (> 0)"
    )
    confirm: Literal["stop_order", "close_beyond"] = Field(
        default="stop_order", description="enter on the stop order, or on a close beyond the range"
    )

    @field_validator("target_r")
    @classmethod
    def _target_positive(cls, target_r: Decimal | None) -> Decimal | None:
        if target_r is not None and not target_r > 0:
            raise PydanticCustomError("target_r", "must be > 0, got {got}", {"got": str(target_r)})
        return target_r

    def check_times(self, times: StrategyTimes) -> tuple[str, str] | None:
        """The range covers whole bars and ends before the entry cutoff."""
        if self.or_minutes % times.bar_minutes:
            return (
                "or_minutes",
                f"must be a multiple of bar_minutes ({times.bar_minutes}), got {self.or_minutes}",
            )
        range_end = datetime.combine(_ANY_DAY, times.session_open) + timedelta(
            minutes=self.or_minutes
        )
        if not range_end.time() < times.entry_cutoff or range_end.date() != _ANY_DAY:
            return (
                "or_minutes",
                f"the opening range must end before the entry cutoff {shown(times.entry_cutoff)}, "
                f"got {self.or_minutes} minutes from {shown(times.session_open)}",
            )
        return None


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
    params: OpeningRangeParams, high: Decimal, low: Decimal, tick: TickRule
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


class OpeningRangePhase(Enum):
    """Where an opening-range day stands."""

    FORMING = "forming"  # the opening range is still being measured
    READY = "ready"  # the range is known: enter as soon as the rule and the machine allow
    ENTERED = "entered"  # the machine took the entry: following the attempt it opened
    DONE = "done"  # nothing more today


class OpeningRangeCue(StrEnum):
    """What moves an opening-range day from one phase to the next."""

    SESSION = "session"  # a session starts: measure a new range
    RANGE_SET = "range_set"  # the window is over and the range gives two legs
    NO_RANGE = "no_range"  # no bar in the window, or legs that cannot stand apart
    ENTRY_TAKEN = "entry_taken"  # the machine took our entry
    ENTRY_DECLINED = "entry_declined"  # a rule declined our entry
    ATTEMPT_OVER = "attempt_over"  # the machine is flat again after our attempt
    ENTRIES_CLOSED = "entries_closed"  # entry cutoff, square-off, or no attempt left


_P = OpeningRangePhase  # short, for the table below
_EVERY = tuple(_P)


def _others(*phases: OpeningRangePhase) -> tuple[OpeningRangePhase, ...]:
    return tuple(p for p in _EVERY if p not in phases)


PHASES = PhaseTable.declare(
    "opening_range_breakout",
    _P,
    OpeningRangeCue,
    initial=_P.FORMING,
    rows=(
        ("session", _EVERY, _P.FORMING),
        ("range_set", (_P.FORMING,), _P.READY),
        ("no_range", (_P.FORMING,), _P.DONE),
        ("entry_taken", (_P.READY,), _P.ENTERED),
        ("entry_declined", (_P.READY,), _P.DONE),
        ("entries_closed", (_P.READY,), _P.DONE),
        ("attempt_over", (_P.ENTERED,), _P.READY),
        ("range_set", _others(_P.FORMING), STAY),
        ("no_range", _others(_P.FORMING), STAY),
        ("entry_taken", _others(_P.READY), STAY),
        ("entry_declined", _others(_P.READY), STAY),
        ("entries_closed", _others(_P.READY), STAY),
        ("attempt_over", _others(_P.ENTERED), STAY),
    ),
)


class OpeningRange:
    """The opening-range-breakout signal of one symbol."""

    Params: ClassVar[type[OpeningRangeParams]] = OpeningRangeParams
    phases: ClassVar[PhaseTable[OpeningRangePhase, OpeningRangeCue]] = PHASES
    default_entry_cutoff: ClassVar[time] = time(11, 30)
    history_sessions: ClassVar[int] = 0  # today's bars only

    def __init__(self, params: OpeningRangeParams, symbol: str) -> None:
        self.params = params
        self.symbol = symbol
        self._context: SessionContext | None = None
        self._phase = PHASES.initial
        self._attempt = AttemptWatch()
        # Session times in UTC, like the bars: comparing datetimes of two zones costs ~1.5 µs
        # each (a conversion), of one zone ~40 ns — and these are compared on every bar.
        self._opens_at: datetime | None = None
        self._window_end: datetime | None = None
        self._entry_cutoff: datetime | None = None
        self._high: Decimal | None = None
        self._low: Decimal | None = None
        self._plan: OpeningRangePlan | None = None

    @property
    def phase(self) -> OpeningRangePhase:
        """Where today stands."""
        return self._phase

    @property
    def plan(self) -> OpeningRangePlan | None:
        """Today's range and legs, once the window is over."""
        return self._plan

    def _cue(self, cue: OpeningRangeCue) -> None:
        self._phase = PHASES.next(self._phase, cue)

    def start_session(self, context: SessionContext) -> None:
        """Session D begins: measure a new opening range."""
        self._context = context
        self._cue(OpeningRangeCue.SESSION)
        self._opens_at = context.opens_at.astimezone(UTC)
        self._window_end = self._opens_at + timedelta(minutes=self.params.or_minutes)
        self._entry_cutoff = context.entry_cutoff.astimezone(UTC)
        self._high = self._low = None
        self._plan = None
        self._attempt.reset()

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        """A bar of D completed: measure the range, enter, watch the target and the attempt."""
        context = self._context
        if context is None or bar.symbol != self.symbol or self._phase is OpeningRangePhase.DONE:
            return ()
        end = context.bar_end(bar)
        events: list[StrategyEvent] = []
        if self._phase is OpeningRangePhase.FORMING:
            self._measure(bar, end, context)
        if self._phase is OpeningRangePhase.ENTERED:
            self._follow(bar, snapshot, end, events)
        if self._phase is OpeningRangePhase.READY:
            self._enter(bar, snapshot, end, context, events)
        return events

    def on_outcome(self, outcome: Outcome) -> None:
        """The machine's answer to our entry, or to our exit at the target."""
        if isinstance(outcome.event, EntrySignalled):
            taken = self._attempt.entry_taken(outcome)
            self._cue(OpeningRangeCue.ENTRY_TAKEN if taken else OpeningRangeCue.ENTRY_DECLINED)
        elif isinstance(outcome.event, ExitSignalled):
            self._attempt.exit_taken(outcome)

    # --- the steps -------------------------------------------------------------------------

    def _measure(self, bar: Bar, end: datetime, context: SessionContext) -> None:
        assert self._opens_at is not None
        assert self._window_end is not None
        if self._opens_at <= bar.start < self._window_end:
            self._high = bar.high if self._high is None else max(self._high, bar.high)
            self._low = bar.low if self._low is None else min(self._low, bar.low)
        if end < self._window_end:
            return
        if self._high is not None and self._low is not None:
            self._plan = plan_range(self.params, self._high, self._low, context.tick)
        self._cue(OpeningRangeCue.RANGE_SET if self._plan is not None else OpeningRangeCue.NO_RANGE)

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
        if entries_closed(end, self._entry_cutoff, snapshot):
            self._cue(OpeningRangeCue.ENTRIES_CLOSED)
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
        # The mark: on a venue that refuses opposite orders the pair rests the leg nearer it.
        events.append(EntrySignalled(at=end, qty=qty, legs=legs, mark=bar.close))

    def _follow(
        self, bar: Bar, snapshot: Snapshot, end: datetime, events: list[StrategyEvent]
    ) -> None:
        if snapshot.holds_position:
            target = self._target(snapshot.side)
            if (
                target is not None
                and snapshot.manages_position
                and not self._attempt.exit_asked(snapshot)
                and (bar.high >= target if snapshot.side is Side.BUY else bar.low <= target)
            ):
                events.append(ExitSignalled(at=end, reason="target"))
            return
        if self._attempt.over(snapshot):
            self._cue(OpeningRangeCue.ATTEMPT_OVER)  # enter again if attempts are left

    def _target(self, side: Side | None) -> Decimal | None:
        if self.params.target_r is None or side is None or self._plan is None:
            return None
        leg = self._plan.leg(side)
        risk = abs(leg.entry_price - leg.initial_stop)
        if side is Side.BUY:
            return leg.entry_price + self.params.target_r * risk
        return leg.entry_price - self.params.target_r * risk
