"""Pictures of a replay: one PNG per symbol-day with trades — bars, entries, trailed stops, exits.

Needs the optional ``plot`` extra (matplotlib). Drawing is deterministic for the same inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from brokers import Bar
from strategies.engine._trades import Trade

__all__ = ["StopStep", "plot_days"]


@dataclass(frozen=True, slots=True)
class StopStep:
    """The protective stop of ``symbol`` moved to ``price`` at ``at`` (None: no stop)."""

    symbol: str
    at: datetime
    price: Decimal | None


def plot_days(
    bars: Sequence[Bar],
    trades: Sequence[Trade],
    stops: Sequence[StopStep],
    *,
    out_dir: Path,
    timezone: ZoneInfo,
    bar_interval: timedelta,
    drawing: Callable[[str, int], Callable[[], None]] | None = None,
) -> list[Path]:
    """Write ``{symbol}-{yyyy-mm-dd}.png`` for every symbol-day with a trade; returns the paths.

    ``drawing`` is told how many pictures there are and returns what to call after each (a
    progress bar, so drawing is not a bar that sits at 100 %)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    def day_of(when: datetime) -> date:
        return when.astimezone(timezone).date()

    def x(when: datetime) -> float:
        return float(mdates.date2num(when.astimezone(timezone).replace(tzinfo=None)))  # type: ignore[no-untyped-call]

    third = bar_interval.total_seconds() / 3 / 86400  # a third of a bar, in days

    wanted = {(t.symbol, day_of(t.entry_time)) for t in trades}
    wanted |= {(t.symbol, day_of(t.exit_time)) for t in trades}
    by_day: dict[tuple[str, date], list[Bar]] = defaultdict(list)
    for bar in bars:
        key = (bar.symbol, day_of(bar.start))
        if key in wanted:
            by_day[key].append(bar)
    out_dir.mkdir(parents=True, exist_ok=True)
    tick = drawing(f"drawing {len(by_day)} pictures", len(by_day)) if drawing else None
    written = []
    for (symbol, day), day_bars in sorted(by_day.items()):
        fig, ax = plt.subplots(figsize=(12, 5), dpi=80)
        for bar in day_bars:
            at = x(bar.start)
            colour = "tab:green" if bar.close >= bar.open else "tab:red"
            ax.vlines(at, float(bar.low), float(bar.high), color=colour, linewidth=1)
            ax.hlines(float(bar.open), at - third, at, color=colour, linewidth=1)
            ax.hlines(float(bar.close), at, at + third, color=colour, linewidth=1)
        steps = [s for s in stops if s.symbol == symbol and day_of(s.at) == day]
        for step, following in zip(steps, [*steps[1:], None], strict=True):
            if step.price is None:
                continue
            until = following.at if following is not None else day_bars[-1].start + bar_interval
            ax.hlines(float(step.price), x(step.at), x(until), color="tab:orange", linewidth=1.5)
        for trade in trades:
            if trade.symbol != symbol:
                continue
            if day_of(trade.entry_time) == day:
                marker = "^" if trade.side == "long" else "v"
                ax.plot(x(trade.entry_time), float(trade.entry_price), marker,
                        color="tab:blue", markersize=10)  # fmt: skip
            if day_of(trade.exit_time) == day:
                ax.plot(x(trade.exit_time), float(trade.exit_price), "X",
                        color="black", markersize=9)  # fmt: skip
        ax.set_title(f"{symbol} {day.isoformat()} — entries ▲▼, exits ✕, stop (orange)")
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
        path = out_dir / f"{symbol}-{day.isoformat()}.png"
        fig.savefig(path, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
        if tick is not None:
            tick()
    return written
