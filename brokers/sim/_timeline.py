"""A replay's timeline: the moments of recorded bars (their ends, late prints' returns, the
sessions' closes, a broken feed's stray bars), in the order the exchange plays them.

Pure data and the standard library (no ``aiohttp``): ``tickstate replay``'s twin model plays
the same late prints without loading the exchange's server."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum

from brokers._types import Bar

__all__ = ["Event", "EventKind", "LatePrint", "bar_start", "late_prints", "smallest_interval"]

#: When ``updatedBars`` sends a bar again: about 30 s of exchange time after it was first sent.
LATE_PRINT_DELAY = timedelta(seconds=30)


class EventKind(IntEnum):
    """What happens at a moment of a replay; at the same moment in this order: a bar's fills
    and the bar, then a late print's bar, then the close."""

    BAR_ENDS = 0
    PRINT_RETURNS = 1
    DAY_CLOSES = 2
    STRAY_BAR = 3  # a broken feed's bar (``SimFaults.stray_bars``): streamed, never traded


@dataclass(frozen=True, slots=True)
class LatePrint:
    """A bar first streamed without one of its prints (``first``), whole again from ``whole_at``
    (when ``updatedBars`` sends the recorded bar)."""

    first: Bar
    whole_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One moment of a replay."""

    at: datetime
    kind: EventKind
    seq: int = 0
    bar: Bar | None = None
    day: date = date.min
    skip_to_close: bool = False


def late_prints(
    bars: Sequence[Bar], share: float, interval: timedelta, seed: int
) -> dict[tuple[str, datetime], LatePrint]:
    """A seeded ``share`` of the bars (those with at least two shares traded), each first shown
    without one late print: inside the bar's range, so only its volume (and count) is missing."""
    rng = random.Random(f"{seed}/late-prints")
    found: dict[tuple[str, datetime], LatePrint] = {}
    if share <= 0:
        return found
    for bar in bars:
        if rng.random() >= share or bar.volume < 2:
            continue
        volume = int(bar.volume)
        late = rng.randint(1, max(1, volume // 5))
        first = dataclasses.replace(
            bar,
            volume=bar.volume - late,
            trade_count=max(bar.trade_count - 1, 0),
        )
        found[bar.symbol, bar.start] = LatePrint(
            first=first, whole_at=bar.start + interval + LATE_PRINT_DELAY
        )
    return found


def bar_start(bar: Bar) -> datetime:
    return bar.start


def smallest_interval(bars: Sequence[Bar]) -> timedelta:
    """The smallest positive gap between consecutive bars of one symbol (one minute if none)."""
    last: dict[str, datetime] = {}
    gaps = []
    for bar in bars:
        previous = last.get(bar.symbol)
        if previous is not None and bar.start > previous:
            gaps.append(bar.start - previous)
        last[bar.symbol] = bar.start
    return min(gaps, default=timedelta(minutes=1))
