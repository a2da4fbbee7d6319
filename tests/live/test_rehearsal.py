"""Rehearsal: ``tickstate sim`` as a process, and the runner pointed at it through the strategy
file's ``[broker]`` URLs with the keys the exchange printed (from the environment)."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from brokers import AlpacaBroker, AlpacaSettings
from strategies.run import RunSettings, run_live
from tests.live.support import DAY, ROOT, day_bars, spec_for

KEY, SECRET = "REHEARSAL", "NOT-A-SECRET"


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, name="sim-stdout", daemon=True).start()
    return lines


def _expect(lines: queue.Queue[str], fragment: str) -> str:
    while True:
        line = lines.get(timeout=60)
        if fragment in line:
            return line


def test_tickstate_run_trades_on_tickstate_sim_with_its_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 80-20 day (GOOG and AAPL long) runs against a separately started exchange that
    accepts only its own keys; its books, read with those keys, hold the run's orders."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "strategies.cli", "sim", "--port", "0",
            "--data", str(ROOT / "data" / "intraday_5min"), "--start", DAY.isoformat(), "--days", "1",
            "--speed", "4000", "--key-id", KEY, "--secret-key", SECRET,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        lines = _lines(process)
        words = _expect(lines, "serving").split()
        rest = next(w for w in words if w.startswith("http://"))
        trading = next(w for w in words if w.endswith("/stream"))
        data = next(w for w in words if w.endswith("/v2/iex"))
        assert f"APCA_API_KEY_ID={KEY} APCA_API_SECRET_KEY={SECRET}" in _expect(lines, "keys")
        monkeypatch.setenv("APCA_API_KEY_ID", KEY)
        monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
        spec = spec_for(broker={"kind": "sim", "rest_url": rest, "trading_stream_url": trading, "data_stream_url": data})
        bars, history = day_bars(spec)
        close = datetime.combine(DAY, datetime.min.time().replace(hour=16), tzinfo=ZoneInfo("America/New_York"))
        result = run_live(
            spec, bars=bars, history=history, settings=RunSettings(poll_interval=0.5, until=close)
        )
        traded = {t.symbol for t in result.engine.recorder.trades}
        assert {"GOOG", "AAPL"} <= traded
        books = AlpacaBroker(AlpacaSettings(rest_url=rest, key_id=KEY, secret_key=SECRET))
        orders = books.list_orders(status="all", limit=500)
        books.close()
        assert {o.client_order_id for o in orders if o.filled_qty} >= {
            f"s8020-{symbol}-{DAY:%Y%m%d}-1-buy" for symbol in ("GOOG", "AAPL")
        }
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        assert process.stderr is not None
        err = process.stderr.read()
    assert code == 0, err
