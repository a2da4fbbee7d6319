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
from operator import attrgetter

from brokers import Bar, ManualClock, PaperBroker
from strategies._engine import Engine

__all__ = ["replay_bars"]

_START = attrgetter("start")
_SYMBOL = attrgetter("symbol")


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
    # Bound once: this loop runs a few calls per bar and little else, so lookups show.
    start_bar, on_bar, drain = engine.start_bar, engine.on_bar, engine.drain
    take_new_stops, feed_bar = engine.take_new_stops, paper.feed_bar
    count = 0
    session: date | None = None
    started: set[str] = set()  # symbols whose session has started: start_bar is a no-op for them
    for start, group in groupby(bars, key=_START):
        batch = sorted(group, key=_SYMBOL)
        day = engine.session_of(batch[0])
        if day != session:
            if session is not None:
                _close_session(engine, paper, clock, session)
            session = day
            started = set()
        end = start + interval
        clock.set(start)
        for bar in batch:
            if bar.symbol not in started:
                started.add(bar.symbol)
                start_bar(bar)
                feed_bar(bar)
            elif not feed_bar(bar):
                # Nothing filled, so nothing was queued and nothing fired: every step of this
                # loop ends drained and with its new stops taken, so there is nothing to do.
                continue
            drain()
            stops = take_new_stops()
            if stops:
                _rematch_new_stops(engine, paper, bar, end, stops)
        clock.set(end)
        for bar in batch:
            on_bar(bar)
        take_new_stops()  # placed after their bar completed: they work from the next bar
        count += len(batch)
        if progress is not None:
            progress(len(batch))
    if session is not None:
        _close_session(engine, paper, clock, session)
    return count


def _rematch_new_stops(
    engine: Engine, paper: PaperBroker, bar: Bar, end: datetime, stops: list[str]
) -> None:
    while stops:
        paper.feed_bar(bar, cutoff=end, only=stops, inside=True)
        engine.drain()
        stops = engine.take_new_stops()


def _close_session(engine: Engine, paper: PaperBroker, clock: ManualClock, day: date) -> None:
    clock.set(engine.plan.session.close_at(day))
    paper.close_session()
    engine.drain()
