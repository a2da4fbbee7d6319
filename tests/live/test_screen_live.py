"""The live screen's data reach it: a lock-step run of one session on the simulated exchange,
read by ``LiveTable`` as ``tickstate run`` reads it on a terminal, and stopped on request."""

from __future__ import annotations

import io
import re
import signal
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from brokers import Bar
from strategies.cli import main
from strategies.cli._screen import ScreenSnapshot, StreamStatus, Timeline
from strategies.cli._tables import LiveTable
from strategies.run import (
    LiveRunner,
    RunSettings,
    around_the_sessions,
    load_bars,
    run_live,
    split_sessions,
)
from tests.live.support import DAY, ROOT, spec_for  # DAY: GOOG enters at 09:40 and holds


def test_a_lock_step_run_reaches_the_screen_and_a_stop_shows_on_it() -> None:
    """Mid-run the screen holds the open position (fill price, stop, last price, open PnL)
    with the streams connected; a stop asked for then reads "flattening 1 position"; the last
    frame says "(stopped by user)" and its closed PnL equals the run's trades."""
    spec = spec_for(symbols=("GOOG",))
    recorded = load_bars(  # one symbol's file: the year of minutes is read row by row
        ROOT / "data" / "intraday_1min" / "GOOG.csv.gz",
        dates=(DAY - timedelta(days=7), DAY + timedelta(days=1)),
    )
    earlier, bars = split_sessions(recorded, spec, 1, DAY)
    bars = around_the_sessions(spec, bars)
    zone = spec.session.hours().timezone
    console = Console(file=io.StringIO(), width=120, record=True, color_system=None)
    screen = LiveTable(console=console)
    seen: list[ScreenSnapshot] = []
    held: list[LiveRunner] = []

    def on_runner(runner: LiveRunner) -> None:
        held.append(runner)
        timeline = Timeline((b.start for b in bars), zone, step=runner.feed_interval)
        screen.attach(runner, zone=zone, timeline=timeline)

    def on_bar(bar: Bar) -> None:  # the engine thread, after each of the strategy's bars
        if held[0].stop_requested:
            return
        snapshot = screen.snapshot()
        seen.append(snapshot)
        if any(line.qty for line in snapshot.lines):
            held[0].request_stop()  # what Ctrl-C does
            seen.append(screen.snapshot())

    with screen:
        result = run_live(
            spec,
            bars=bars,
            history_bars=earlier,
            settings=RunSettings(),
            speed=1e9,
            on_runner=on_runner,
            on_bar=on_bar,
        )
    holding, stopping = seen[-2], seen[-1]
    [open_line] = [line for line in holding.lines if line.qty]
    assert open_line.entry is not None
    assert open_line.stop is not None
    assert open_line.stop < open_line.entry  # a long's protective stop
    assert open_line.last is not None
    assert open_line.open_pnl == (open_line.last - open_line.entry) * open_line.qty
    assert holding.streams is StreamStatus.CONNECTED
    assert holding.market_time is not None
    assert holding.market_time.date() == DAY
    assert holding.progress is not None
    assert 0 < holding.progress.done < holding.progress.total
    assert stopping.notice == "stopping: flattening 1 position …"

    final = screen.snapshot()
    assert final.notice == "(stopped by user)"
    assert final.streams is StreamStatus.CLOSED
    assert not any(line.qty for line in final.lines)  # flattened on the way out
    pnl = {s.symbol: s.pnl for s in result.summaries}
    assert {line.symbol: line.closed_pnl for line in final.lines} == pnl
    assert final.closed_pnl == sum(pnl.values(), Decimal(0))
    text = console.export_text()
    assert "(stopped by user)" in text
    assert f"{final.closed_pnl:+,.2f}" in text  # the last frame's total, left on the terminal


class _Terminal(io.StringIO):
    """stdout as a terminal: ``tickstate run`` draws its live screen on it."""

    def isatty(self) -> bool:
        return True


def test_ctrl_c_on_a_terminal_stops_the_run_and_the_summary_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tickstate run`` on a terminal: the start-up line first, the screen, then a SIGINT
    (raised on the engine thread at its tenth bar, as a Ctrl-C lands) stops it: exit 0, the
    last frame and the summary say "(stopped by user)"."""
    from strategies.engine import Engine

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    on_bar = Engine.on_bar
    bars = [0]

    def interrupted(self: Engine, bar: Bar) -> None:
        on_bar(self, bar)
        bars[0] += 1
        if bars[0] == 10:
            signal.raise_signal(signal.SIGINT)  # the run's own handler takes it

    monkeypatch.setattr(Engine, "on_bar", interrupted)
    config = ROOT / "examples" / "eighty_twenty.toml"
    argv = ["run", str(config), "--start", str(DAY), "--speed", "1e9"]
    assert main(argv) == 0
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # colours, cursor moves
    assert "loading 1-minute bars of AAPL, IBM, MSFT, GOOG" in out
    assert "live (stopped by user)" in out  # the summary's title
    last_frame = out[: out.index("live (stopped by user)")]
    assert "(stopped by user)" in last_frame
    assert "streams closed" in last_frame
