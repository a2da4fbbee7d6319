"""The tables people read: a run's summary, a journal's status, the live screen of a run.

Rendering only: every figure comes from the engine's summaries, a journal's status reads, or
the desk's snapshots. Tables are drawn by ``rich``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from machines import Desk
from strategies.engine import SymbolSummary
from strategies.journal import SymbolStatus

__all__ = ["LiveTable", "print_status", "print_summary"]


def print_summary(
    summaries: Sequence[SymbolSummary], *, title: str, stream: TextIO | None = None
) -> None:
    """One row per symbol and a total: trades, win rate, PnL, drawdown, races, anomalies."""
    table = Table(title=title, title_justify="left")
    for column in ("symbol", "trades", "wins", "win rate", "PnL", "max DD", "races", "anomalies"):
        table.add_column(column, justify="left" if column == "symbol" else "right")
    for s in summaries:
        table.add_row(
            s.symbol,
            str(s.trades),
            str(s.wins),
            f"{s.win_rate * 100:.1f}%",
            f"{s.pnl:.2f}",
            f"{s.max_drawdown:.2f}",
            str(s.races),
            str(s.anomalies),
        )
    trades = sum(s.trades for s in summaries)
    wins = sum(s.wins for s in summaries)
    rate = Decimal(wins) / trades * 100 if trades else Decimal(0)
    table.add_row(
        "total",
        str(trades),
        str(wins),
        f"{rate:.1f}%",
        f"{sum((s.pnl for s in summaries), Decimal(0)):.2f}",
        "",
        str(sum(s.races for s in summaries)),
        str(sum(s.anomalies for s in summaries)),
        style="bold",
    )
    Console(file=stream, width=100).print(table)


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def print_status(
    statuses: Sequence[SymbolStatus], *, title: str, stream: TextIO | None = None
) -> None:
    """One row per (strategy, symbol): state, position, stop, attempts, last event and time."""
    table = Table(title=title, title_justify="left")
    many = len({s.strategy for s in statuses}) > 1
    columns = ["strategy"] if many else []
    columns += ["symbol", "state", "position", "stop", "attempts", "last event", "at"]
    for column in columns:
        right = column in ("position", "stop", "attempts")
        table.add_column(column, justify="right" if right else "left")
    for s in statuses:
        snap = s.snapshot
        last = s.last_trigger if s.last_kind == "accepted" else f"{s.last_trigger} ({s.last_kind})"
        row = [s.strategy] if many else []
        state = snap.state if snap.halt_reason is None else f"{snap.state}: {snap.halt_reason}"
        if snap.alarm is not None:  # the operator's to resolve: say so where they look
            state += " ALARM" if snap.alarm == snap.halt_reason else f" ALARM: {snap.alarm}"
        row += [
            s.symbol,
            state,
            _number(snap.position),
            _number(snap.stop_price),
            f"{snap.entries_today}/{snap.max_attempts}",
            last,
            s.last_at.isoformat(sep=" ", timespec="seconds"),
        ]
        table.add_row(*row)
    Console(file=stream, width=120).print(table)


class LiveTable:
    """Renders the desk's snapshots; ``refresh()`` may be called from the engine thread."""

    def __init__(self, desk: Desk, pnl_of: Callable[[str], str]) -> None:
        self._desk = desk
        self._pnl_of = pnl_of
        self._live = Live(self._render(), refresh_per_second=4, transient=False)

    def _render(self) -> Table:
        table = Table(title=f"{self._desk.strategy} — live", title_justify="left")
        for column in ("symbol", "state", "qty", "entry", "stop", "attempts", "PnL", "last event"):
            table.add_column(
                column, justify="left" if column in ("symbol", "state", "last event") else "right"
            )
        for s in self._desk.snapshots():
            entry = next((o.stop_price for o in s.working_entries), None)
            table.add_row(
                s.symbol,
                s.state,
                str(s.position),
                "" if entry is None else str(entry),
                "" if s.stop_price is None else str(s.stop_price),
                f"{s.entries_today}/{s.max_attempts}",
                self._pnl_of(s.symbol),
                s.last_trigger or "",
            )
        return table

    def __enter__(self) -> LiveTable:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.update(self._render())
        self._live.__exit__(None, None, None)

    def refresh(self) -> None:
        """Redraw with the current snapshots."""
        self._live.update(self._render())
