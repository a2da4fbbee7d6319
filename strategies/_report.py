"""Human-readable summaries: the table a replay (or a finished live run) prints."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TextIO

from rich.console import Console
from rich.table import Table

from strategies._trades import SymbolSummary

__all__ = ["print_summary"]


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
