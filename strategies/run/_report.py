"""One self-contained HTML report of a replay or a live run: everything inline, nothing fetched.

The page holds plotly.js once (read from plotly's wheel, where it ships minified) and one compact
JSON document: the summary as ``summary.json`` has it (every key shown, so figures added later
appear without a change here), the trades, and per symbol-day with a trade its bars as parallel
arrays (minutes of the day, prices as the ``Decimal`` strings' digits), the stop's steps and the
signal's levels (D-1's high and low for 80-20, the opening range for ORB). The page's script
(``_report_page``) draws the equity and drawdown curves, the tables, and one chart at a time,
chosen from the index — a hundred symbol-days are a hundred rows, not a hundred files.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from brokers import Bar
from strategies.engine._trades import Trade
from strategies.run._plot import StopStep
from strategies.run._report_page import PAGE
from strategies.signals import DailyBar

__all__ = ["Levels", "plotly_js", "report_document", "to_json", "write_report"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Levels:
    """Which of a signal's levels a chart draws: D-1's high and low (80-20), the opening range
    of ``range_minutes`` from ``session_open`` (ORB), or neither."""

    previous_day: bool = False
    range_minutes: int | None = None
    session_open: time | None = None

    @classmethod
    def of(cls, kind: str, params: Any, session_open: time) -> Levels:
        """The levels the built-in signal ``kind`` reads (none for a plugin's)."""
        if kind == "eighty_twenty":
            return cls(previous_day=True)
        if kind == "opening_range_breakout":
            minutes = int(getattr(params, "or_minutes", 15))
            return cls(range_minutes=minutes, session_open=session_open)
        return cls()


def plotly_js() -> str:
    """plotly.js, minified, as plotly's wheel ships it (the page inlines it once)."""
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_text("utf-8")


def to_json(value: Any) -> str:
    """JSON of plain data where a ``Decimal`` is written as its own digits (a JSON number, never
    through a float), so prices in the page are exactly the books'."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return json.dumps(value)  # a float is only ever a layout's constant, never a price
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into the report")


def _minute(when: datetime, timezone: ZoneInfo) -> int:
    local = when.astimezone(timezone)
    return local.hour * 60 + local.minute


def report_document(
    *,
    title: str,
    summary: Mapping[str, Any],
    bars: Sequence[Bar],
    trades: Sequence[Trade],
    stops: Sequence[StopStep],
    timezone: ZoneInfo,
    bar_interval: timedelta,
    levels: Levels | None = None,
    history: Mapping[str, Sequence[DailyBar]] | None = None,
    tick: Callable[[], None] | None = None,
    days_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The page's data: summary, trades, and a compact chart per symbol-day with a trade.

    ``days_total`` is told how many symbol-days there are, ``tick`` is called after each one
    (a progress bar). D-1 is the symbol's session before in ``bars``, or for the first the
    last of its ``history`` (the run's look-back)."""
    levels = levels or Levels()

    def day_of(when: datetime) -> date:
        return when.astimezone(timezone).date()

    wanted = {(t.symbol, day_of(t.entry_time)) for t in trades}
    wanted |= {(t.symbol, day_of(t.exit_time)) for t in trades}
    by_day: dict[tuple[str, date], list[Bar]] = defaultdict(list)
    extremes: dict[tuple[str, date], tuple[Decimal, Decimal]] = {}
    for bar in bars:
        key = (bar.symbol, day_of(bar.start))
        high, low = extremes.get(key, (bar.high, bar.low))
        extremes[key] = (max(high, bar.high), min(low, bar.low))
        if key in wanted:
            by_day[key].append(bar)
    for symbol, days in (history or {}).items():
        for daily in days:
            extremes.setdefault((symbol, daily.session), (daily.high, daily.low))
    sessions: dict[str, list[date]] = defaultdict(list)
    for symbol, day in sorted(extremes):
        sessions[symbol].append(day)
    stops_by: dict[tuple[str, date], list[StopStep]] = defaultdict(list)
    for step in stops:
        stops_by[(step.symbol, day_of(step.at))].append(step)
    if days_total is not None:
        days_total(len(by_day))
    charts = []
    for (symbol, day), day_bars in sorted(by_day.items()):
        steps = stops_by.get((symbol, day), [])
        end = day_bars[-1].start + bar_interval
        # Each price holds until the next step: a step to "no stop" first closes the segment at
        # its own time (a stop that lived between two bars is still a visible line).
        stop_points: list[list[Any]] = []
        for step in steps:
            minute = _minute(step.at, timezone)
            if step.price is None and stop_points and stop_points[-1][1] is not None:
                stop_points.append([minute, stop_points[-1][1]])
            stop_points.append([minute, step.price])
        if stop_points and stop_points[-1][1] is not None:
            stop_points.append([_minute(end, timezone), stop_points[-1][1]])
        lines = _previous_session(symbol, day, sessions, extremes) if levels.previous_day else []
        window = _opening_range(levels, day, day_bars, timezone)
        if window is not None:
            lines = [("OR high", window[3]), ("OR low", window[2])]
        charts.append(
            {
                "symbol": symbol,
                "day": day.isoformat(),
                "t": [_minute(bar.start, timezone) for bar in day_bars],
                "o": [bar.open for bar in day_bars],
                "h": [bar.high for bar in day_bars],
                "l": [bar.low for bar in day_bars],
                "c": [bar.close for bar in day_bars],
                "interval": int(bar_interval.total_seconds() // 60),
                "stop": stop_points,
                "lines": [[name, price] for name, price in lines],
                "window": window,
            }
        )
        if tick is not None:
            tick()
    return {
        "title": title,
        "summary": summary,
        "trades": [
            {
                "symbol": t.symbol,
                "side": t.side,
                "qty": t.qty,
                "entry_time": t.entry_time.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
                "entry_price": t.entry_price,
                "exit_time": t.exit_time.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
                "exit_price": t.exit_price,
                "pnl": t.pnl,
                "exit_reason": t.exit_reason,
                "day": day_of(t.entry_time).isoformat(),
            }
            for t in trades
        ],
        "charts": charts,
    }


def _previous_session(
    symbol: str,
    day: date,
    sessions: Mapping[str, list[date]],
    extremes: Mapping[tuple[str, date], tuple[Decimal, Decimal]],
) -> list[tuple[str, Decimal]]:
    """D-1's high and low from the bars themselves: the symbol's session before ``day``."""
    days = sessions.get(symbol, [])
    earlier = [d for d in days if d < day]
    if not earlier:
        return []
    high, low = extremes[(symbol, earlier[-1])]
    return [("D-1 high", high), ("D-1 low", low)]


def _opening_range(
    levels: Levels, day: date, bars: Sequence[Bar], timezone: ZoneInfo
) -> list[Any] | None:
    """``[start, end, low, high]`` of the day's opening range (minutes of the day), if any."""
    if levels.range_minutes is None or levels.session_open is None:
        return None
    opens = datetime.combine(day, levels.session_open, tzinfo=timezone)
    ends = opens + timedelta(minutes=levels.range_minutes)
    inside = [bar for bar in bars if opens <= bar.start < ends]
    if not inside:
        return None
    low, high = min(bar.low for bar in inside), max(bar.high for bar in inside)
    return [_minute(opens, timezone), _minute(ends, timezone), low, high]


def write_report(path: Path, document: Mapping[str, Any]) -> Path:
    """Write the page: plotly.js once, the document as inline JSON, the page's own script."""
    data = to_json(document).replace("</", "<\\/")  # a "</script>" in a string ends nothing
    parts = {
        "title": html.escape(str(document.get("title", "tickstate report"))),
        "plotly": plotly_js(),
        "data": data,
    }
    # One pass, so a marker inside plotly.js or the data is never substituted again.
    page = re.sub(r"\{\{(title|plotly|data)\}\}", lambda found: parts[found[1]], PAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
