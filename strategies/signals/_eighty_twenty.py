"""The 80-20 signal (Connors & Raschke): D-1 opened in one end of its range and closed in the other.

Rules: ``docs/strategies.md``. Long (the short mirrors it): D-1 opened in the top ``zone``
of its range and closed in the bottom ``zone``; on D, a bar whose low reaches ``trigger_ticks``
below D-1's low arms a BUY STOP at ``E = L + entry_offset_ticks·t``; the initial stop sits
``stop_offset_ticks`` below the day's low until the fill; after the fill bar the stop trails
each completed bar's low; a stopped-out setup arms again by the ``rearm`` rule while attempts
are left.

Bar data cannot say in which order things happened inside one bar. The readings chosen, each
the conservative one, and each pinned by a test in ``tests/strategies/test_eighty_twenty.py``:

- **Arming bar.** A bar arms only when it *ends* at or before ``trigger_window_end`` (a bar that
  straddles the window end may have reached the trigger after it). The entry is decided when the
  arming bar completes and works from the next bar: the arming bar never fills it, even if it
  trades back through ``E`` (it may have done so before reaching the trigger). A gap-down first
  bar arms at its completion, like any other.
- **Entry cutoff.** No entry is decided on a bar that ends at or after the entry cutoff; the
  engine cancels a working entry when the cutoff passes.
- **Initial stop.** ``S0`` follows the lows of D while the entry works. The entry is decided
  when the arming bar completes, with ``S0`` from every bar of D up to and including it; then,
  while the machine's entry is still pending (snapshot ``entry_pending``), each completed bar
  that makes a new low of D re-computes ``S0`` from the lows so far and sends it as
  ``InitialStopRevised`` when it differs from the working leg's. The machine takes a revision
  only before any fill (no stop order exists yet, so ``S0`` may move either way); from the
  first fill on the stop exists and only trails. In replay a bar's orders are matched when the
  bar starts and the signal sees the bar when it completes, so the bar on which the entry fills
  never revises ``S0``: ``S0`` covers every bar of D *before* the fill bar — exactly the rule's
  "lowest low up to and including the fill bar" except the fill bar's own low, which may have
  come after the fill. That low is covered by the replay's worst-case re-match instead: the
  stop placed at the fill is matched against the fill bar once more, so when the fill bar
  reaches ``S0`` the stop is taken on that bar, at ``S0``. When the fill bar made a lower low
  that does not reach ``S0`` (``stop_offset_ticks >= 2``) the stop stays at ``S0``: a stop is
  never loosened after the fact. ``S0 >= E`` (possible only with zero trigger, entry and stop
  offsets) gives ``E - t``. With ``risk_per_trade`` the size is fixed when the entry is
  decided, from the ``S0`` known then; a later revision does not resize the working order.
- **Ticks and rounding.** ``t`` is the tick at the price in question (``context.tick``): at
  ``L``/``H`` for the trigger and entry, at the extreme for ``S0``, at the bar's low/high for a
  trail, at ``E`` for the guard. The entry rounds away from the market (a buy stop up), a long's
  stop down and a short's up — never to the nearest tick.
- **Trailing.** Only after bars that complete after the fill bar; ``green_bars`` trails a long
  after bars with ``close > open`` and a short after bars with ``close < open`` (a doji is
  neither). A candidate is proposed only when it is strictly tighter than the machine's stop.
- **Re-arming.** When an attempt ends flat (stopped out, or its entry cancelled or rejected) and
  attempts are left, the setup waits to arm again, inside the same windows: ``retrigger`` needs a
  bar that again reaches the trigger level; ``below_entry`` a bar that trades strictly below ``E``
  (short: above). The bar that stopped the position out counts: its extreme lies at or after the
  stop fill (a stop fills the first time price reaches it, and the bar's low is at or below it).
  One entry per arming; a declined entry ends the day's setup.
- **Range filter.** ``mean_range_20`` needs the 20 sessions before D-1 in the history; with fewer
  the setup does not qualify (the filter cannot be shown to pass). The comparison is strict.
- **Target.** The 80-20 rules have none; exits are the stop and the engine's square-off.

Its phases, declared in ``PHASES``: ``idle`` (D-1 does not qualify) or ``waiting`` (for the
trigger) → ``armed`` → ``entered`` (the machine took the entry) → ``rearming`` when the attempt
ends flat, or ``done`` for the day (entries closed, or the entry declined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    InitialStopRevised,
    Outcome,
    Side,
    Snapshot,
    StrategyEvent,
    TickRule,
    TrailProposed,
    ceil_to_tick,
    floor_to_tick,
    round_entry,
)
from strategies._fields import FROZEN, ClockTime, Count, Ratio, shown
from strategies.signals._attempts import AttemptWatch, entries_closed
from strategies.signals._phases import STAY, PhaseTable
from strategies.signals._protocol import DailyBar, SessionContext, StrategyTimes

__all__ = [
    "PHASES",
    "EightyTwenty",
    "EightyTwentyCue",
    "EightyTwentyParams",
    "EightyTwentyPhase",
    "Setup",
    "qualify",
]

_MEAN_RANGE_SESSIONS = 20


class EightyTwentyParams(BaseModel):
    """The ``[signal]`` table of 80-20 (``docs/strategies.md``'s names and defaults)."""

    model_config = FROZEN

    zone: Ratio = Field(
        default=Decimal("0.20"),
        description="the top/bottom fraction of D-1's range (0 < zone < 0.5)",
    )
    zone_inclusive: StrictBool = Field(  # TOML's true/false only: "yes" is a mistake
        default=True, description="whether a price on the zone edge counts"
    )
    trigger_ticks: Count = Field(
        default=10, ge=0, description="ticks beyond D-1's low/high that arm"
    )
    entry_offset_ticks: Count = Field(default=0, ge=0, description="entry stop ticks inside L/H")
    stop_offset_ticks: Count = Field(
        default=1, ge=0, description="initial stop ticks beyond the extreme"
    )
    trail_offset_ticks: Count = Field(
        default=0, ge=0, description="trailing stop ticks behind each bar"
    )
    trail_on: Literal["completed_bar", "green_bars"] = Field(
        default="completed_bar", description="trail after every completed bar, or only green ones"
    )
    range_filter: Literal["off", "mean_range_20"] = Field(
        default="off", description="mean_range_20: D-1's range must exceed the 20 sessions' mean"
    )
    trigger_window_end: ClockTime | None = Field(
        default=None, description="the last time a trigger may arm (default: the entry cutoff)"
    )
    rearm: Literal["retrigger", "below_entry"] = Field(
        default="retrigger", description="how a stopped-out setup arms again"
    )

    @field_validator("zone")
    @classmethod
    def _zone_inside_half(cls, zone: Decimal) -> Decimal:
        if not Decimal(0) < zone < Decimal("0.5"):
            raise PydanticCustomError(
                "zone", "must be > 0 and < 0.5, got {got}", {"got": str(zone)}
            )
        return zone

    def check_times(self, times: StrategyTimes) -> tuple[str, str] | None:
        """The trigger window must end inside the entry window."""
        end = self.trigger_window_end
        if end is not None and not times.entry_start < end <= times.entry_cutoff:
            return (
                "trigger_window_end",
                f"must be after {shown(times.entry_start)} and not after the entry cutoff "
                f"{shown(times.entry_cutoff)}",
            )
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """A qualified D-1: the side to trade on D, the trigger level and the entry stop ``E``."""

    side: Side
    trigger: Decimal
    entry: Decimal

    @property
    def long(self) -> bool:
        """Whether the setup buys."""
        return self.side is Side.BUY


def qualify(
    params: EightyTwentyParams, history: tuple[DailyBar, ...], tick: TickRule
) -> Setup | None:
    """The setup D-1 (the last of ``history``) gives D, or None when it does not qualify."""
    if not history:
        return None
    d1 = history[-1]
    span = d1.high - d1.low
    if not span > 0:
        return None
    if params.range_filter == "mean_range_20":
        before = history[-1 - _MEAN_RANGE_SESSIONS : -1]
        if len(before) < _MEAN_RANGE_SESSIONS:
            return None
        mean = sum((b.high - b.low for b in before), Decimal(0)) / _MEAN_RANGE_SESSIONS
        if not span > mean:
            return None
    top, bottom = (1 - params.zone) * span, params.zone * span
    opened, closed = d1.open - d1.low, d1.close - d1.low
    if params.zone_inclusive:
        long, short = opened >= top and closed <= bottom, opened <= bottom and closed >= top
    else:
        long, short = opened > top and closed < bottom, opened < bottom and closed > top
    if long:
        t = tick.size_at(d1.low)
        return Setup(
            side=Side.BUY,
            trigger=d1.low - params.trigger_ticks * t,
            entry=round_entry(Side.BUY, d1.low + params.entry_offset_ticks * t, tick),
        )
    if short:
        t = tick.size_at(d1.high)
        return Setup(
            side=Side.SELL,
            trigger=d1.high + params.trigger_ticks * t,
            entry=round_entry(Side.SELL, d1.high - params.entry_offset_ticks * t, tick),
        )
    return None


class EightyTwentyPhase(Enum):
    """Where an 80-20 day stands."""

    IDLE = "idle"  # no setup today
    WAITING = "waiting"  # for the trigger
    ARMED = "armed"  # the entry is decided as soon as the machine may take it
    ENTERED = "entered"  # the machine took the entry: following the attempt it opened
    REARMING = "rearming"  # the attempt ended flat: waiting for the re-arm condition
    DONE = "done"  # nothing more today


class EightyTwentyCue(StrEnum):
    """What moves an 80-20 day from one phase to the next."""

    SETUP = "setup"  # a session starts and D-1 qualifies
    NO_SETUP = "no_setup"  # a session starts and D-1 does not qualify
    TRIGGERED = "triggered"  # a bar reached the trigger (or the re-arm condition)
    ENTRY_TAKEN = "entry_taken"  # the machine took our entry
    ENTRY_DECLINED = "entry_declined"  # a rule declined our entry: one entry per arming
    ATTEMPT_OVER = "attempt_over"  # the machine is flat again after our attempt
    ENTRIES_CLOSED = "entries_closed"  # entry cutoff, square-off, or no attempt left


_P = EightyTwentyPhase  # short, for the table below
_EVERY = tuple(_P)
PHASES = PhaseTable.declare(
    "eighty_twenty",
    _P,
    EightyTwentyCue,
    initial=_P.IDLE,
    rows=(
        ("setup", _EVERY, _P.WAITING),
        ("no_setup", _EVERY, _P.IDLE),
        ("triggered", (_P.WAITING, _P.REARMING), _P.ARMED),
        ("triggered", (_P.IDLE, _P.ARMED, _P.ENTERED, _P.DONE), STAY),
        ("entry_taken", (_P.ARMED,), _P.ENTERED),
        ("entry_declined", (_P.ARMED,), _P.DONE),
        ("entries_closed", (_P.ARMED,), _P.DONE),
        ("attempt_over", (_P.ENTERED,), _P.REARMING),
        *(
            (cue, tuple(p for p in _EVERY if p is not _P.ARMED), STAY)
            for cue in ("entry_taken", "entry_declined", "entries_closed")
        ),
        ("attempt_over", tuple(p for p in _EVERY if p is not _P.ENTERED), STAY),
    ),
)


class EightyTwenty:
    """The 80-20 signal of one symbol (long and short)."""

    Params: ClassVar[type[EightyTwentyParams]] = EightyTwentyParams
    phases: ClassVar[PhaseTable[EightyTwentyPhase, EightyTwentyCue]] = PHASES
    default_entry_cutoff: ClassVar[time] = time(14, 30)

    @staticmethod
    def history_sessions(params: EightyTwentyParams) -> int:
        """D-1, and with ``mean_range_20`` the 20 sessions before it."""
        return 1 + (_MEAN_RANGE_SESSIONS if params.range_filter == "mean_range_20" else 0)

    def __init__(self, params: EightyTwentyParams, symbol: str) -> None:
        self.params = params
        self.symbol = symbol
        self._context: SessionContext | None = None
        self._setup: Setup | None = None
        self._phase = PHASES.initial
        self._attempt = AttemptWatch()
        # Both in UTC, as bars are: an aware comparison across two tzinfo objects asks each for
        # its UTC offset (about 1.5 µs with a ZoneInfo); within one tzinfo it is a field compare.
        self._window_end: datetime | None = None
        self._entry_cutoff: datetime | None = None
        self._extreme: Decimal | None = None  # lowest low (long) / highest high (short) of D

    @property
    def phase(self) -> EightyTwentyPhase:
        """Where today stands."""
        return self._phase

    @property
    def setup(self) -> Setup | None:
        """Today's setup, if D-1 qualified."""
        return self._setup

    def _cue(self, cue: EightyTwentyCue) -> None:
        self._phase = PHASES.next(self._phase, cue)

    def start_session(self, context: SessionContext) -> None:
        """Session D begins: qualify D-1 and forget yesterday's intraday state."""
        self._context = context
        self._setup = qualify(self.params, context.history, context.tick)
        self._cue(EightyTwentyCue.SETUP if self._setup is not None else EightyTwentyCue.NO_SETUP)
        self._attempt.reset()
        self._extreme = None
        window = self.params.trigger_window_end
        self._entry_cutoff = context.entry_cutoff.astimezone(UTC)
        self._window_end = (
            self._entry_cutoff
            if window is None
            else datetime.combine(
                context.session, window, tzinfo=context.entry_cutoff.tzinfo
            ).astimezone(UTC)
        )

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        """A bar of D completed: trail, notice the end of an attempt, arm, enter."""
        context, setup = self._context, self._setup
        if context is None or setup is None or bar.symbol != self.symbol:
            return ()
        if self._phase is EightyTwentyPhase.DONE:
            return ()  # nothing more today: the extreme is read only while armed or entered
        long = setup.long
        low_or_high = bar.low if long else bar.high
        extreme = self._extreme
        beyond = extreme is None or (low_or_high < extreme if long else low_or_high > extreme)
        if beyond:
            self._extreme = low_or_high
        end = context.bar_end(bar)
        events: list[StrategyEvent] = []
        if self._phase is EightyTwentyPhase.ENTERED:
            self._follow(bar, snapshot, end, setup, context, events, new_extreme=beyond)
        waiting = self._phase in (EightyTwentyPhase.WAITING, EightyTwentyPhase.REARMING)
        if waiting and self._arms(bar, end, setup):
            self._cue(EightyTwentyCue.TRIGGERED)
        if self._phase is EightyTwentyPhase.ARMED:
            self._enter(snapshot, end, setup, context, events)
        return events

    def on_outcome(self, outcome: Outcome) -> None:
        """The machine's answer to our entry: the attempt is ours, or this arming is spent."""
        if isinstance(outcome.event, EntrySignalled):
            taken = self._attempt.entry_taken(outcome)
            self._cue(EightyTwentyCue.ENTRY_TAKEN if taken else EightyTwentyCue.ENTRY_DECLINED)

    # --- the steps -------------------------------------------------------------------------

    def _arms(self, bar: Bar, end: datetime, setup: Setup) -> bool:
        assert self._window_end is not None
        if end > self._window_end:
            return False
        if self._phase is EightyTwentyPhase.REARMING and self.params.rearm == "below_entry":
            return bar.low < setup.entry if setup.long else bar.high > setup.entry
        return bar.low <= setup.trigger if setup.long else bar.high >= setup.trigger

    def _enter(
        self,
        snapshot: Snapshot,
        end: datetime,
        setup: Setup,
        context: SessionContext,
        events: list[StrategyEvent],
    ) -> None:
        assert self._entry_cutoff is not None
        if entries_closed(end, self._entry_cutoff, snapshot):
            self._cue(EightyTwentyCue.ENTRIES_CLOSED)
            return
        if not snapshot.is_flat:
            return  # one position at a time: stay armed until the machine is flat
        stop = self._initial_stop(setup, context.tick)
        leg = EntryLeg(side=setup.side, entry_price=setup.entry, initial_stop=stop)
        qty = context.size(setup.entry, stop)
        events.append(EntrySignalled(at=end, qty=qty, legs=(leg,)))

    def _initial_stop(self, setup: Setup, tick: TickRule) -> Decimal:
        extreme = self._extreme
        assert extreme is not None
        offset = self.params.stop_offset_ticks * tick.size_at(extreme)
        if setup.long:
            stop = floor_to_tick(extreme - offset, tick)
            return stop if stop < setup.entry else setup.entry - tick.size_at(setup.entry)
        stop = ceil_to_tick(extreme + offset, tick)
        return stop if stop > setup.entry else setup.entry + tick.size_at(setup.entry)

    def _revise(
        self,
        snapshot: Snapshot,
        end: datetime,
        setup: Setup,
        tick: TickRule,
        events: list[StrategyEvent],
    ) -> None:
        """A new extreme while the entry works: move ``S0`` to it (the machine has no stop yet)."""
        stop = self._initial_stop(setup, tick)
        for order in snapshot.working_entries:
            if order.side is setup.side:
                if order.protect_at != stop:
                    events.append(InitialStopRevised(at=end, side=setup.side, stop_price=stop))
                return

    def _follow(
        self,
        bar: Bar,
        snapshot: Snapshot,
        end: datetime,
        setup: Setup,
        context: SessionContext,
        events: list[StrategyEvent],
        *,
        new_extreme: bool,
    ) -> None:
        if snapshot.entry_pending:
            if new_extreme:
                self._revise(snapshot, end, setup, context.tick, events)
            return
        if snapshot.holds_position:
            if self._attempt.fill_bar(snapshot):
                return  # the fill bar: no trail on it
            if snapshot.manages_position and self._trails_after(bar, setup):
                proposal = self._trail(bar, setup, context.tick, snapshot)
                if proposal is not None:
                    events.append(TrailProposed(at=end, stop_price=proposal))
            return
        if self._attempt.over(snapshot):
            self._cue(EightyTwentyCue.ATTEMPT_OVER)

    def _trails_after(self, bar: Bar, setup: Setup) -> bool:
        if self.params.trail_on == "completed_bar":
            return True
        return bar.close > bar.open if setup.long else bar.close < bar.open

    def _trail(self, bar: Bar, setup: Setup, tick: TickRule, snapshot: Snapshot) -> Decimal | None:
        current = (
            snapshot.desired_stop if snapshot.desired_stop is not None else snapshot.stop_price
        )
        offset = self.params.trail_offset_ticks
        if setup.long:
            candidate = floor_to_tick(bar.low - offset * tick.size_at(bar.low), tick)
            tighter = current is None or candidate > current
        else:
            candidate = ceil_to_tick(bar.high + offset * tick.size_at(bar.high), tick)
            tighter = current is None or candidate < current
        return candidate if tighter and candidate > 0 else None
