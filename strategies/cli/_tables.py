"""The tables people read: a run's summary, a journal's status, the live screen of a run.

Rendering only: every figure comes from the engine's summaries, a journal's status reads, or
the run's snapshots (``LiveTable`` reads them into a ``ScreenSnapshot``; ``_screen`` draws it).
Tables are drawn by ``rich``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from strategies.cli._screen import (
    ScreenSnapshot,
    StreamStatus,
    SymbolLine,
    Timeline,
    column_widths,
    render_screen,
    stopping_notice,
    stream_status,
    visible_lines,
)
from strategies.engine import RunFacts, SymbolSummary, total_of
from strategies.journal import SymbolStatus

if TYPE_CHECKING:
    from strategies.run import LiveRunner

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
    """The live screen of ``tickstate run``: a start-up line from the first moment, the run's
    header and symbols once it is built (``attach``), its last frame left on the terminal.

    It redraws itself four times a second on rich's refresh thread, reading immutable snapshots
    (the machines', the recorder's figures, the feed's last prices): the engine thread never
    waits for the screen, and a stop (``request_stop``) shows while the engine winds down.
    """

    def __init__(self, *, console: Console | None = None, refresh_per_second: float = 4) -> None:
        self._console = console or Console()
        self._lock = threading.Lock()  # the widths: the refresh thread and close() both draw
        self._name = "tickstate run"
        self._starting: str | None = "starting …"
        self._runner: LiveRunner | None = None
        self._timeline: Timeline | None = None
        self._zone = ZoneInfo("UTC")
        self._widths: dict[str, int] = {}
        self._closing = False
        self._spinner = Spinner("dots")  # one, so it turns from frame to frame
        self._live = Live(
            console=self._console,
            get_renderable=self._frame,
            refresh_per_second=refresh_per_second,
            transient=False,
        )
        self._open = False

    def __enter__(self) -> LiveTable:
        self._live.start()
        self._open = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def starting(self, message: str, *, name: str | None = None) -> None:
        """What the run is doing before it trades (loading bars, starting the exchange)."""
        if name is not None:
            self._name = name
        self._starting = message

    def attach(
        self,
        runner: LiveRunner,
        *,
        zone: ZoneInfo,
        timeline: Timeline | None = None,
    ) -> None:
        """Show ``runner``'s run from now on (``timeline``: the minutes it replays)."""
        self._zone, self._timeline = zone, timeline
        self._name = runner.engine.desk.strategy
        self._runner = runner
        self._starting = None

    def close(self) -> None:
        """Draw the last frame (every symbol) and leave it; a screen that never showed a run
        leaves nothing (the start-up line goes)."""
        if not self._open:
            return
        self._open = False
        self._closing = True
        if self._runner is None:
            self._live.transient = True
        self._live.stop()

    def snapshot(self) -> ScreenSnapshot:
        """What the screen shows now, read from the run."""
        runner = self._runner
        if runner is None:
            return ScreenSnapshot(strategy=self._name, notice=self._starting)
        engine, feed = runner.engine, runner.feed
        now = engine.clock.now().astimezone(self._zone)
        timeline = self._timeline
        progress = timeline.at(now) if timeline is not None else None
        session = now.date()
        if timeline is not None and progress is not None:
            session = timeline.sessions[progress.session - 1]
        stale = tuple(sorted(tuple(feed.stale)))  # copied at once: the engine thread writes it
        closed: dict[str, Decimal] = {}
        for trade in list(engine.recorder.trades):
            closed[trade.symbol] = closed.get(trade.symbol, Decimal(0)) + trade.pnl
        lines = tuple(
            _line(runner, symbol, closed.get(symbol, Decimal(0)), symbol in stale)
            for symbol in sorted(set(engine.signals) | set(engine.desk.symbols()))
        )
        connections = [
            (c.connects, c.disconnects)
            for stream in (runner.trade_stream, runner.bar_stream)
            if (c := getattr(stream, "counters", None)) is not None
        ]
        notice = None
        if runner.stop_requested:
            flatten = runner.settings.flatten_on_exit
            notice = stopping_notice(lines, flatten=flatten)
            if self._closing:
                notice = "(stopped by user)"
        elif progress is not None and progress.done == 0 and not self._closing:
            notice = "waiting for the first bar …"
        return ScreenSnapshot(
            strategy=self._name,
            market_time=now,
            session=session,
            progress=progress,
            streams=(
                None
                if not connections
                else StreamStatus.CLOSED
                if self._closing
                else stream_status(connections, stale)
            ),
            stale=stale,
            notice=notice,
            lines=lines,
        )

    def _frame(self) -> RenderableType:
        """One frame; whatever goes wrong in reading or drawing is shown, never raised (the
        refresh thread must not die, the run must not notice)."""
        try:
            snapshot = self.snapshot()
            if self._runner is None:
                self._spinner.update(text=Text(f"{snapshot.strategy}: {snapshot.notice}"))
                return self._spinner
            console = self._console
            height = None if self._closing else console.height
            shown = visible_lines(snapshot, width=console.width, height=height)
            with self._lock:
                self._widths = column_widths(snapshot, self._widths, lines=shown)
                widths = dict(self._widths)
            return render_screen(snapshot, width=console.width, height=height, widths=widths)
        except Exception as exc:
            return Text(f"screen: {type(exc).__name__}: {exc}", style="red")


def _line(runner: LiveRunner, symbol: str, closed: Decimal, stale: bool) -> SymbolLine:
    """One symbol of the run, from its machine's snapshot, the recorder and the feed."""
    engine = runner.engine
    snapshot = engine.desk.machine(symbol).snapshot()
    opened = engine.recorder.open_entry(symbol) if snapshot.position else None
    working = next((o.stop_price for o in snapshot.working_entries), None)
    return SymbolLine(
        symbol=symbol,
        state=snapshot.state,
        qty=snapshot.position,
        entry=None if opened is None else opened[1],
        entry_working=working if opened is None else None,
        working_entry=bool(snapshot.working_entries),
        stop=snapshot.stop_price,
        last=runner.feed.last_price(symbol),
        closed_pnl=closed,
        attempts=snapshot.entries_today,
        max_attempts=snapshot.max_attempts,
        last_event=snapshot.last_trigger,
        halt_reason=snapshot.halt_reason,
        alarm=snapshot.alarm,
        stale=stale,
    )
