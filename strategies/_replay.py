"""Replay: the engine over recorded bars, against the paper broker, on a manual clock.

Bars that start together are handled together, in two phases, as a live market would show them:
first every symbol's orders are matched against its bar (at the bar's start), then every bar is
complete (at its end) and the signals decide. A protective stop placed because an entry filled
inside a bar is matched against that same bar once more: bar data cannot tell whether the low
came before or after the fill, and the conservative reading is that the stop was hit — at its
own price, never at the bar's open, which came before the stop existed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from itertools import groupby

from brokers import Bar, ManualClock, PaperBroker
from strategies._engine import Engine

__all__ = ["replay_bars"]


def replay_bars(
    bars: Iterable[Bar],
    *,
    engine: Engine,
    paper: PaperBroker,
    clock: ManualClock,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Run ``bars`` (sorted by start) through the engine; returns how many bars were replayed."""
    interval = engine.plan.bar_interval
    count = 0
    session: date | None = None
    for start, group in groupby(bars, key=lambda b: b.start):
        batch = sorted(group, key=lambda b: b.symbol)
        day = engine.session_of(batch[0])
        if session is not None and day != session:
            _close_session(engine, paper, clock, session)
        session = day
        clock.set(start)
        for bar in batch:
            engine.start_bar(bar)
            paper.feed_bar(bar)
            engine.drain()
            _rematch_new_stops(engine, paper, bar, start + interval)
        clock.set(start + interval)
        for bar in batch:
            engine.on_bar(bar)
            engine.take_new_stops()  # placed after the bar completed: they work from the next bar
        count += len(batch)
        if progress is not None:
            progress(len(batch))
    if session is not None:
        _close_session(engine, paper, clock, session)
    return count


def _rematch_new_stops(engine: Engine, paper: PaperBroker, bar: Bar, end: datetime) -> None:
    stops = engine.take_new_stops()
    while stops:
        paper.feed_bar(bar, cutoff=end, only=stops, inside=True)
        engine.drain()
        stops = engine.take_new_stops()


def _close_session(engine: Engine, paper: PaperBroker, clock: ManualClock, day: date) -> None:
    clock.set(engine.plan.session.close_at(day))
    paper.close_session()
    engine.drain()
