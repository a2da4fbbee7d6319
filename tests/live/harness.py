"""A live runner in a child process, an exchange in this one, bars fed one at a time.

``Session`` starts a ``SimExchange`` without recorded bars (its clock moves only when a bar is
fed), starts ``tests/live/crash_child.py`` against it, and feeds it the day's bars one by one,
each only after the child said it finished the previous one. The child can be killed (by a
crash point it was started with, or by ``kill``) and started again on the same journal; the
exchange, its order book and its positions live on in this process.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from brokers import Bar, SimExchange
from strategies.engine._crashpoints import ENV
from tests.live.support import DAY, ROOT, FillLog, day_bars, spec_for, update_line

CHILD = Path(__file__).with_name("crash_child.py")
# Bounds on waits for the child's events, not expected durations: each wait ends when the line
# comes. A child's start (a Python process importing the runner) took over 30 s on a host loaded
# to 7 on 2 cores; a bound is there to fail a hung child, not a slow host.
ACK_TIMEOUT = 60.0  # seconds for the child to finish one bar
READY_TIMEOUT = 120.0  # seconds for a child to start and connect both streams


class ChildDied(Exception):
    """The child exited while the test waited for it."""


@dataclass
class Child:
    process: subprocess.Popen[str]
    lines: queue.SimpleQueue[str | None] = field(default_factory=queue.SimpleQueue)

    def start_reading(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None

        def read(stream: IO[str]) -> None:
            for line in stream:
                self.lines.put(line.strip())
            self.lines.put(None)  # end of output: the child is gone

        threading.Thread(target=read, args=(stdout,), name="child-stdout", daemon=True).start()

    def expect(self, wanted: Callable[[str], bool], timeout: float) -> str:
        """The first line ``wanted`` accepts; ``ChildDied`` if the output ends first."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no wanted line from the child in {timeout} s") from None
            if line is None:
                self.process.wait(timeout=10)
                raise ChildDied(self.process.returncode)
            if wanted(line):
                return line


@dataclass
class Session:
    """One trading day: the exchange here, the runner in a child process."""

    tmp: Path
    early_square_off: bool = False
    square_off: str | None = None  # "HH:MM" ET; entries end five minutes before (``spec_for``)
    days: tuple[date, ...] = (DAY,)  # the sessions the exchange can be fed (``bars_of``)
    sim: SimExchange = field(init=False)
    bars: list[Bar] = field(init=False)
    journal: Path = field(init=False)
    fills: FillLog = field(default_factory=FillLog)
    child: Child | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)
    # ``feed`` waits for the child to apply each fill; off: the next bar may race the stop a
    # fill calls for, as in a free-running run (a loaded host then changes the day).
    fills_acked: bool = True

    def __post_init__(self) -> None:
        self.spec = spec_for(early_square_off=self.early_square_off, square_off=self.square_off)
        self._bars = {day: day_bars(self.spec, day)[0] for day in self.days}
        self.bars = self._bars[self.days[0]]
        self.journal = self.tmp / "journal.db"
        self.sim = SimExchange(
            start=self.bars[0].start, bar_interval=timedelta(minutes=5), rate_limit=100_000
        )
        self.fills.install(self.sim)
        self.sim.start()

    # --- the child -------------------------------------------------------------------------

    def bars_of(self, day: date) -> list[Bar]:
        """The bars of one of ``days``."""
        return self._bars[day]

    def start(self, crash_at: str | None = None, *extra: str, day: date | None = None) -> Child:
        """Start the runner (on the journal) and wait until both its streams are connected.

        ``day``: the session it runs (default the first); ``extra``: more ``crash_child.py``
        arguments (``--fast-retries``, ``--daily-loss-limit 100``)."""
        assert self.child is None or self.child.process.poll() is not None
        # A developer's real Alpaca keys would be offered to the local exchange: not here.
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in (ENV, "APCA_API_KEY_ID", "APCA_API_SECRET_KEY")
        }
        if crash_at is not None:
            env[ENV] = crash_at
        env["PYTHONPATH"] = str(ROOT)
        self.starts += 1
        log = self.tmp / f"child-{self.starts}.log"
        self.logs.append(log)
        command = [
            sys.executable,
            str(CHILD),
            "--rest-url",
            self.sim.rest_url,
            "--trading-url",
            self.sim.trading_stream_url,
            "--data-url",
            self.sim.data_stream_url,
            "--journal",
            str(self.journal),
        ]
        if self.early_square_off:
            command.append("--early-square-off")
        if self.square_off is not None:
            command += ["--square-off", self.square_off]
        if day is not None:
            command += ["--start", day.isoformat()]
        command += extra
        with log.open("w") as stderr:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=ROOT
            )
        child = Child(process)
        child.start_reading()
        self.child = child
        for _ in range(2):  # the trading stream, then the bar stream
            child.expect(lambda line: line == "connect", READY_TIMEOUT)
        return child

    def kill(self) -> None:
        """SIGKILL the child (from outside) and wait for it."""
        assert self.child is not None
        self.child.process.send_signal(signal.SIGKILL)
        self.child.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM the child (a clean stop) and wait for it to exit; its exit code."""
        assert self.child is not None
        self.child.process.send_signal(signal.SIGTERM)
        return self.child.process.wait(timeout=30)

    def close(self) -> None:
        if self.child is not None and self.child.process.poll() is None:
            self.kill()
        self.sim.stop()

    # --- the day ---------------------------------------------------------------------------

    def feed(self, bar: Bar, *, acked: bool = True) -> None:
        """Close ``bar`` at the exchange; with ``acked``, wait until the child finished it (and,
        with ``fills_acked``, applied every fill it made, so the next bar cannot overtake the
        stop a fill calls for: the day goes as in lock-step, however loaded the host)."""
        fills = self.sim.feed_bar(bar)
        if not acked:
            return
        assert self.child is not None
        waiting = {f"bar {bar.symbol} {bar.start.isoformat()}"}
        if self.fills_acked:
            waiting |= {update_line(u) for u in fills}
        while waiting:
            waiting.discard(self.child.expect(lambda line: line in waiting, ACK_TIMEOUT))

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in self.logs)
