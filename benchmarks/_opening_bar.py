"""The peers' common strategy, as a tickstate signal: a buy stop above the session's first bar.

Rules (each peer implements exactly these; ``benchmarks/opening_bar.toml`` is the file):

1. When a symbol's first bar of the session completes, one entry: a BUY STOP at the bar's high
   plus ``buffer_ticks`` (rounded up to the tick), with its protective stop at the bar's low
   minus ``buffer_ticks`` (rounded down), 100 shares. It works from the next bar.
2. The engine cancels it if it has not filled at the entry cutoff (11:30 New York time) and
   flattens an open position at the square-off (15:15) with a market order.
3. One attempt a day (``max_attempts = 1``); no trail, no target.

With ``place = false`` it decides nothing (the same first-bar check, no order): what running a
strategy over the bars costs each framework before any order.

A benchmark's signal, not a product's: it is registered under ``opening_bar`` in the running
process only (``register``), as an entry point of the ``tickstate.signals`` group would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from importlib import metadata
from typing import ClassVar

from pydantic import BaseModel, Field

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    Outcome,
    Side,
    Snapshot,
    StrategyEvent,
    floor_to_tick,
    round_entry,
)
from strategies._fields import FROZEN
from strategies.signals._attempts import entries_closed
from strategies.signals._protocol import SessionContext

__all__ = ["KIND", "OpeningBar", "OpeningBarParams", "register"]

KIND = "opening_bar"


class OpeningBarParams(BaseModel):
    """The ``[signal]`` table: how far outside the first bar the orders sit."""

    model_config = FROZEN

    buffer_ticks: int = Field(default=1, ge=0, description="ticks above the high / below the low")
    place: bool = Field(default=True, description="false: decide nothing (each framework's floor)")


class OpeningBar:
    """One symbol's opening-bar stop entry."""

    Params: ClassVar[type[OpeningBarParams]] = OpeningBarParams
    default_entry_cutoff: ClassVar[time] = time(11, 30)
    history_sessions: ClassVar[int] = 0

    def __init__(self, params: OpeningBarParams, symbol: str) -> None:
        self.params = params
        self.symbol = symbol
        self._context: SessionContext | None = None
        self._decided = True

    def start_session(self, context: SessionContext) -> None:
        """A new session: the next bar is its first."""
        self._context = context
        self._decided = False

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        """The session's first bar completed: the day's one entry (if entries are open)."""
        context = self._context
        if self._decided or context is None or bar.symbol != self.symbol:
            return ()
        self._decided = True
        if not self.params.place:
            return ()
        end = context.bar_end(bar)
        if entries_closed(end, context.entry_cutoff, snapshot) or not snapshot.is_flat:
            return ()
        tick = context.tick
        buffer = self.params.buffer_ticks
        entry = round_entry(Side.BUY, bar.high + buffer * tick.size_at(bar.high), tick)
        stop = floor_to_tick(bar.low - buffer * tick.size_at(bar.low), tick)
        leg = EntryLeg(side=Side.BUY, entry_price=entry, initial_stop=stop)
        return (EntrySignalled(at=end, qty=context.size(entry, stop), legs=(leg,)),)

    def on_outcome(self, outcome: Outcome) -> None:
        """Nothing to follow: one entry a day, and the engine does the rest."""


def register() -> None:
    """Make ``kind = "opening_bar"`` known to this process's signal registry (idempotent)."""
    from strategies.signals import _registry

    found = _registry._entry_points()
    if KIND not in found:
        assert isinstance(found, dict)
        found[KIND] = (
            metadata.EntryPoint(
                name=KIND,
                value="benchmarks._opening_bar:OpeningBar",
                group=_registry.ENTRY_POINT_GROUP,
            ),
        )
