"""Gap fade: bet that a session which opens beyond yesterday's range comes back into it.

The rule, for a gap down (a gap up mirrors it, selling):

- D's first bar opens at least ``min_gap_ticks`` below D-1's low: the setup qualifies.
- When that first bar completes, a BUY STOP goes in at the first bar's high (rounded up to the
  tick), with its initial stop ``stop_offset_ticks`` below the first bar's low (rounded down).
- Once in the position, a completed bar that closes at or above D-1's low (the gap has filled)
  asks to exit. Otherwise the protective stop or the engine's square-off ends the trade.

Bar data cannot tell what happened first inside a bar, so the entry is decided only when the
first bar has completed, and it works from the next bar on.

Its day, declared as a ``PhaseTable``: ``waiting`` (for the first bar) -> ``entered`` (the machine
took the entry) or ``done`` (no gap, or the entry was declined).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    ExitSignalled,
    Outcome,
    OutcomeKind,
    Side,
    Snapshot,
    StrategyEvent,
    ceil_to_tick,
    floor_to_tick,
)
from strategies.signals import STAY, Count, PhaseTable, SessionContext, entries_closed

__all__ = ["PHASES", "GapFade", "GapFadeParams"]


class GapFadeParams(BaseModel):
    """The ``[signal]`` table of a gap-fade strategy (everything but ``kind``)."""

    # Unknown keys are refused ("did you mean"), and the validated values never change.
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_gap_ticks: Count = Field(
        default=1, ge=1, description="how many ticks beyond D-1's range the open must be"
    )
    stop_offset_ticks: Count = Field(
        default=1, ge=0, description="initial stop ticks beyond the first bar's far side"
    )
    exit_on_fill: bool = Field(
        default=True, description="exit once a bar closes back inside D-1's range"
    )


class Phase(Enum):
    """Where a gap-fade day stands."""

    WAITING = "waiting"  # for D's first bar (or for the machine to take the entry)
    ENTERED = "entered"  # the machine took our entry
    DONE = "done"  # nothing more today


class Cue(StrEnum):
    """What moves a gap-fade day from one phase to the next."""

    SESSION_STARTED = "session_started"
    NO_GAP = "no_gap"  # the first bar opened inside D-1's range
    ENTRY_TAKEN = "entry_taken"  # the machine accepted our entry
    ENTRY_DECLINED = "entry_declined"  # a rule declined it (window, attempts): done for today


PHASES = PhaseTable.declare(
    "gap_fade",
    Phase,
    Cue,
    initial=Phase.WAITING,
    rows=(
        ("session_started", tuple(Phase), Phase.WAITING),
        ("no_gap", (Phase.WAITING,), Phase.DONE),
        ("no_gap", (Phase.ENTERED, Phase.DONE), STAY),
        ("entry_taken", (Phase.WAITING,), Phase.ENTERED),
        ("entry_taken", (Phase.ENTERED, Phase.DONE), STAY),
        ("entry_declined", (Phase.WAITING,), Phase.DONE),
        ("entry_declined", (Phase.ENTERED, Phase.DONE), STAY),
    ),
)


class GapFade:
    """The gap-fade signal of one symbol: built as ``GapFade(params, symbol)``."""

    Params: ClassVar[type[GapFadeParams]] = GapFadeParams
    phases: ClassVar[PhaseTable[Phase, Cue]] = PHASES
    default_entry_cutoff: ClassVar[time] = time(11, 0)  # a fade that has not started by 11 won't
    history_sessions: ClassVar[int] = 1  # D-1 only

    def __init__(self, params: GapFadeParams, symbol: str) -> None:
        self.params = params
        self.symbol = symbol
        self._context: SessionContext | None = None
        self._phase = PHASES.initial
        self._leg: EntryLeg | None = None  # today's entry, once the first bar showed a gap
        self._target: Decimal | None = None  # D-1's low (long) or high (short): the gap filled

    def start_session(self, context: SessionContext) -> None:
        """A new session: forget yesterday's entry, wait for today's first bar."""
        self._context = context
        self._phase = PHASES.next(self._phase, Cue.SESSION_STARTED)
        self._leg = self._target = None

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        """A bar of the session completed: qualify on the first, then enter, then exit."""
        context = self._context
        if context is None or self._phase is Phase.DONE:
            return ()
        end = context.bar_end(bar)  # every event decided on this bar happens when it completes
        if self._phase is Phase.ENTERED:
            return self._manage(bar, snapshot, end)
        if self._leg is None and not self._qualify(bar, context):
            self._phase = PHASES.next(self._phase, Cue.NO_GAP)
            return ()
        if entries_closed(end, context.entry_cutoff, snapshot) or not snapshot.is_flat:
            return ()  # the machine would decline it; ask again on a later bar while waiting
        assert self._leg is not None
        qty = context.size(self._leg.entry_price, self._leg.initial_stop)
        return (EntrySignalled(at=end, qty=qty, legs=(self._leg,), mark=bar.close),)

    def on_outcome(self, outcome: Outcome) -> None:
        """The machine's answer to our entry: the attempt is ours, or today is over."""
        if isinstance(outcome.event, EntrySignalled):
            taken = outcome.kind is OutcomeKind.ACCEPTED
            self._phase = PHASES.next(self._phase, Cue.ENTRY_TAKEN if taken else Cue.ENTRY_DECLINED)

    # --- the steps -------------------------------------------------------------------------

    def _qualify(self, bar: Bar, context: SessionContext) -> bool:
        """Whether D's first bar opened far enough beyond D-1's range; sets today's entry."""
        d1 = context.previous
        if d1 is None:
            return False
        tick, gap = context.tick, self.params.min_gap_ticks
        offset = self.params.stop_offset_ticks
        if bar.open <= d1.low - gap * tick.size_at(d1.low):  # gapped down: buy the way back up
            entry = ceil_to_tick(bar.high, tick)
            stop = floor_to_tick(bar.low - offset * tick.size_at(bar.low), tick)
            side, self._target = Side.BUY, d1.low
        elif bar.open >= d1.high + gap * tick.size_at(d1.high):  # gapped up: sell the way down
            entry = floor_to_tick(bar.low, tick)
            stop = ceil_to_tick(bar.high + offset * tick.size_at(bar.high), tick)
            side, self._target = Side.SELL, d1.high
        else:
            return False
        if entry == stop:  # a one-tick bar with no offset: no room for a protective stop
            return False
        self._leg = EntryLeg(side=side, entry_price=entry, initial_stop=stop)
        return True

    def _manage(self, bar: Bar, snapshot: Snapshot, end: datetime) -> Sequence[StrategyEvent]:
        """In the position: exit once a bar closes back inside D-1's range."""
        target, leg = self._target, self._leg
        if not (self.params.exit_on_fill and snapshot.manages_position) or target is None:
            return ()
        assert leg is not None
        filled = bar.close >= target if leg.side is Side.BUY else bar.close <= target
        return (ExitSignalled(at=end, reason="gap_filled"),) if filled else ()
