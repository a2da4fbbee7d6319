"""The tables people read: a run's summary, a journal's status, the live screen of a run.

Rendering only: every figure comes from the engine's summaries, a journal's status reads, or
the desk's snapshots. Tables are drawn by ``rich``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from machines import Desk
from strategies.engine import RunFacts, SymbolSummary, total_of
from strategies.journal import SymbolStatus

__all__ = ["LiveTable", "print_status", "print_summary"]


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _ratio(value: float | None, *, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if percent else f"{value:.2f}"


def _summary_row(s: SymbolSummary) -> list[str]:
    return [
        s.symbol,
        str(s.trades),
        f"{s.win_rate * 100:.1f}%",
        _money(s.pnl),
        _money(s.costs),
        _money(s.net_pnl),
        _money(s.max_drawdown),
        _ratio(s.sharpe),
        _ratio(s.sortino),
        _ratio(s.profit_factor),
        _money(s.expectancy),
        _ratio(s.exposure, percent=True),
        str(s.buying_power_blocked),
        f"{s.races}/{s.anomalies}",
    ]


_SUMMARY_COLUMNS = (
    "symbol",
    "trades",
    "win rate",
    "gross PnL",
    "costs",
    "net PnL",
    "max DD",
    "Sharpe",
    "Sortino",
    "PF",
    "expect.",
    "exposure",
    "BP declined",
    "races/anomalies",
)


def print_summary(
    summaries: Sequence[SymbolSummary],
    *,
    title: str,
    total: SymbolSummary | None = None,
    facts: RunFacts | None = None,
    stream: TextIO | None = None,
) -> None:
    """One row per symbol and a total: trades, win rate, gross PnL, costs, net PnL, drawdown
    (of the net), daily Sharpe and Sortino, profit factor, expectancy, exposure, entries held
    back for buying power, races and anomalies; then what produced them (sessions, config hash,
    data fingerprint). The average win and loss are in summary.json."""
    table = Table(title=title, title_justify="left")
    for column in _SUMMARY_COLUMNS:
        table.add_column(column, justify="left" if column == "symbol" else "right")
    for s in summaries:
        table.add_row(*_summary_row(s))
    if total is None:
        total = total_of((), summaries)  # no trades to hand: the counts, not the ratios
        total = replace(
            total,
            trades=sum(s.trades for s in summaries),
            win_rate=_rate(summaries),
            pnl=sum((s.pnl for s in summaries), Decimal(0)),
            commission=sum((s.commission for s in summaries), Decimal(0)),
            slippage=sum((s.slippage for s in summaries), Decimal(0)),
            net_pnl=sum((s.net_pnl for s in summaries), Decimal(0)),
            max_drawdown=Decimal(0),
        )
    table.add_row(*_summary_row(total), style="bold")
    console = Console(file=stream, width=160)
    console.print(table)
    if facts is not None and facts.sessions:
        console.print(
            f"{facts.sessions[0]} to {facts.sessions[-1]}, {len(facts.sessions)} sessions; "
            f"starting equity {facts.starting_equity:,}; config {facts.config_hash[:12]}, "
            f"data {(facts.data_fingerprint or '-')[:12]} (sha-256, in summary.json)",
            highlight=False,
        )


def _rate(summaries: Sequence[SymbolSummary]) -> Decimal:
    trades = sum(s.trades for s in summaries)
    wins = sum(s.wins for s in summaries)
    return (Decimal(wins) / trades).quantize(Decimal("0.0001")) if trades else Decimal(0)


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
