"""Which recorded bars a run or a replay takes: the sessions from a start, the look-back before
them, and half an hour of extended hours around each session.

Pure functions of the bars and the strategy's calendar, so ``tickstate replay`` chooses its
sessions without loading what a live venue needs (HTTP, WebSocket, the simulated exchange).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from brokers import Bar
from strategies.run._history import daily_history
from strategies.signals import DailyBar
from strategies.spec import StrategySpec

__all__ = ["around_the_sessions", "default_data", "first_sessions", "split_sessions"]


def split_sessions(
    bars: Sequence[Bar], spec: StrategySpec, days: int, start: date | None = None
) -> tuple[list[Bar], list[Bar]]:
    """``spec``'s bars before ``start`` (default: the second session in the data), and those of
    ``days`` sessions from ``start``: what a simulated venue's historical API serves, and what
    it replays."""
    tz = spec.session.hours().timezone
    wanted = set(spec.symbols)
    mine = [b for b in bars if b.symbol in wanted]
    sessions = sorted({b.start.astimezone(tz).date() for b in mine})
    if start is None:
        start = sessions[1] if len(sessions) > 1 else (sessions[0] if sessions else None)
    if start is None:
        return [], []
    keep = set(sorted(d for d in sessions if d >= start)[:days])
    live = [b for b in mine if b.start.astimezone(tz).date() in keep]
    earlier = [b for b in mine if b.start.astimezone(tz).date() < start]
    return earlier, live


def first_sessions(
    bars: Sequence[Bar], spec: StrategySpec, days: int, start: date | None = None
) -> tuple[list[Bar], dict[str, tuple[DailyBar, ...]]]:
    """The bars of ``days`` sessions from ``start`` (``split_sessions``), and each symbol's
    earlier sessions summarised as the strategy's bars see them (a test's shortcut past the
    broker's historical API)."""
    earlier, live = split_sessions(bars, spec, days, start)
    return live, daily_history(spec, earlier)


def default_data(spec: StrategySpec, config: Path) -> Path | None:
    """The recorded bars a simulated run replays: ``[broker] data``, else the demo data's
    1-minute bars (what Alpaca streams; the runner builds the strategy's bars from them)."""
    data = getattr(spec.broker, "data", None)
    if data is not None:
        return Path(data)
    for base in (Path.cwd(), config.resolve().parent.parent):
        candidate = base / "data" / "intraday_1min"
        if candidate.is_dir():
            return candidate
    return None


_EXTENDED_SHOWN = timedelta(minutes=30)


def around_the_sessions(spec: StrategySpec, bars: list[Bar]) -> list[Bar]:
    """The bars of each session from 30 minutes before its open to 30 minutes after its close:
    a simulated run still streams extended-hours bars (the runner must leave them out), without
    hours of pre- and post-market replay in which a strategy of the regular session waits."""
    session = spec.session.hours()
    zone = session.timezone
    windows: dict[date, tuple[datetime, datetime] | None] = {}
    kept = []
    for bar in bars:
        day = bar.start.astimezone(zone).date()
        if day not in windows:
            try:
                windows[day] = (
                    session.open_at(day) - _EXTENDED_SHOWN,
                    session.close_at(day) + _EXTENDED_SHOWN,
                )
            except ValueError:  # not a session: the runner's bar checks say so
                windows[day] = None
        window = windows[day]
        if window is None or window[0] <= bar.start < window[1]:
            kept.append(bar)
    return kept
