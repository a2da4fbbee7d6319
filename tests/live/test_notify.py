"""The notification hook: ``[notify] webhook_url`` posts fills, halts, the kill switch and
``data_stale`` as JSON to a receiver on 127.0.0.1 (an ephemeral port, shut down by the test),
off the engine thread — a slow or failing receiver never holds the run up. Waits on events."""

from __future__ import annotations

import json
import queue
import threading
import tomllib
from collections.abc import Iterator
from datetime import date, time, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from strategies.cli import main
from strategies.observe._notify import Notifier
from strategies.run import RunSettings, first_sessions, load_bars, run_live
from strategies.spec import StrategySpec

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2012, 11, 15)  # 80-20 on 5-minute bars: GOOG long at 09:40, stopped out (-65) at 09:55
SECRET = "T0KEN-in-the-path"


class Receiver:
    """A webhook receiver on loopback: each POST's JSON body goes to ``posts``; ``status`` is
    its answer; with ``hold`` set, each request waits until ``release`` is set."""

    def __init__(self, status: int = 200, hold: bool = False) -> None:
        self.posts: queue.Queue[dict] = queue.Queue()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.answered = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived.set()
                if hold:
                    receiver.release.wait(30)
                receiver.posts.put(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.answered.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="receiver")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/{SECRET}"

    def take(self, until: set[str], timeout: float = 10) -> list[dict]:
        """Posts until every kind in ``until`` was seen (each wait bounded, never a sleep)."""
        got: list[dict] = []
        while not until <= {p["kind"] for p in got}:
            got.append(self.posts.get(timeout=timeout))
        while True:  # and whatever else already came
            try:
                got.append(self.posts.get_nowait())
            except queue.Empty:
                return got

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


def _spec(url: str, **extra: object) -> StrategySpec:
    raw = tomllib.loads((ROOT / "examples" / "eighty_twenty.toml").read_text())
    raw["notify"] = {"webhook_url": url, "timeout": 1}
    raw.update(extra)
    return StrategySpec.model_validate(raw)


def _day(spec: StrategySpec, drop: str | None = None):
    """The day's 5-minute bars; ``drop``: that symbol has none from 10:00 to 10:45 ET."""
    around = (DAY - timedelta(days=10), DAY + timedelta(days=1))  # D-1 for the look-back
    recorded = load_bars(ROOT / "data" / "intraday_5min", symbols=spec.symbols, dates=around)
    bars, history = first_sessions(recorded, spec, 1, DAY)
    zone = spec.session.hours().timezone
    if drop is not None:
        bars = [
            b
            for b in bars
            if not (b.symbol == drop and time(10) <= b.start.astimezone(zone).time() < time(10, 45))
        ]
    return bars, history


class TestNotificationsOfARun:
    def test_fills_halts_the_kill_switch_and_data_stale_reach_the_receiver(self, receiver):
        """A lock-step day (1e9) with a 50.00 loss limit and MSFT's bars missing from 10:00: GOOG's
        entry and stop fills are posted, then the kill switch and a halt for every symbol, and
        MSFT's data_stale — each with the run id and its market time; amounts are strings.
        The URL's path (its token) is in no log line."""
        spec = _spec(receiver.url)
        bars, history = _day(spec, drop="MSFT")
        with capture_logs() as logs:
            result = run_live(
                spec,
                bars=bars,
                history=history,
                settings=RunSettings(poll_interval=0.5, daily_loss_limit=Decimal("50.00")),
                speed=1e9,
                run_id="run-notify-1",
            )
        got = receiver.take({"fill", "kill_switch", "halt", "data_stale"})
        assert result.engine.incidents.count("kill_switch") == 1
        assert {p["run_id"] for p in got} == {"run-notify-1"}
        assert {p["strategy"] for p in got} == {spec.name}
        goog = [p for p in got if p["kind"] == "fill" and p["symbol"] == "GOOG"]
        assert len(goog) == 2  # the entry, then the stop that lost 65.00
        assert goog[0]["position"] != "0"
        assert goog[1]["position"] == "0"
        assert all(isinstance(p["avg_fill_price"], str) for p in goog)
        assert goog[0]["market_ts"].startswith("2012-11-15T09:")
        assert goog[0]["market_ts"].endswith("-05:00")  # the exchange's zone
        (kill,) = [p for p in got if p["kind"] == "kill_switch"]
        assert kill["reason"] == "daily_loss_limit"
        assert kill["limit"] == "50.00"
        assert kill["symbol"] is None
        halted = {p["symbol"] for p in got if p["kind"] == "halt"}
        assert halted == set(spec.symbols)
        assert {p["reason"] for p in got if p["kind"] == "halt"} == {"daily_loss_limit"}
        (stale,) = [p for p in got if p["kind"] == "data_stale"]
        assert stale["symbol"] == "MSFT"
        assert stale["market_ts"].startswith("2012-11-15T10:")
        assert not [line for line in logs if line["event"] == "notify_failed"]
        assert SECRET not in repr(logs)
        closed = [line for line in logs if line["event"] == "notify_closed"]
        assert closed[0]["sent"] == len(got)

    def test_a_bad_webhook_url_is_one_line_and_exit_2(self, tmp_path, capsys):
        """``tickstate run`` with a webhook URL that is no URL: one line naming the key, exit 2,
        the URL (a credential) not echoed."""
        config = tmp_path / "bad.toml"
        text = (ROOT / "examples" / "eighty_twenty.toml").read_text()
        config.write_text(text + f'\n[notify]\nwebhook_url = "http://[::1/{SECRET}"\n')
        assert main(["run", str(config), "--journal", str(tmp_path / "j.sqlite")]) == 2
        captured = capsys.readouterr()
        assert captured.err == (
            f"{config}: notify.webhook_url: is not a URL (its host or port cannot be read)\n"
        )
        assert SECRET not in captured.err


class TestNotifierNeverHoldsTheEngine:
    def test_a_slow_receiver_never_delays_the_caller(self):
        """The receiver holds its first request: notify() returns at once every time while it
        is held; what was queued goes once it is released."""
        slow = Receiver(hold=True)
        try:
            notifier = Notifier(slow.url, strategy="s", timeout=5).start()
            notifier.notify("fill", symbol="AAPL", qty="1")
            assert slow.arrived.wait(10)  # the notify thread is inside the POST, held
            for n in range(50):
                notifier.notify("fill", symbol="AAPL", n=n)  # each only queues
            assert not slow.answered.is_set()  # the receiver still holds the first one
            assert notifier.queued == 51
            slow.release.set()
            notifier.close()
            assert notifier.sent == 51
            assert slow.posts.qsize() == 51
        finally:
            slow.stop()

    def test_a_full_queue_drops_and_counts_and_close_gives_up_on_a_stuck_receiver(self):
        """Capacity 2 behind a held receiver: the rest are dropped (counted, warned); close()
        waits one timeout, then counts what is left as unsent — nothing raises."""
        slow = Receiver(hold=True)
        try:
            notifier = Notifier(slow.url, strategy="s", timeout=0.5, capacity=2).start()
            notifier.notify("halt", symbol="AAPL")
            assert slow.arrived.wait(10)
            with capture_logs() as logs:
                for _ in range(5):
                    notifier.notify("halt", symbol="AAPL")
                notifier.close()
            assert notifier.dropped == 3
            assert notifier.unsent >= 1
            events = [line["event"] for line in logs]
            assert events.count("notify_dropped") == 3
            assert "notify_unsent" in events
            assert {line["log_level"] for line in logs if line["event"] != "notify_closed"} == {
                "warning"
            }
        finally:
            slow.stop()

    def test_a_failing_receiver_is_counted_and_warned_never_raised(self):
        """A 500 and a refused connection: each counted as failed and logged at warning with
        the receiver's host only, never the URL's token."""
        failing = Receiver(status=500)
        try:
            refused = Receiver()
            dead_url = refused.url
            refused.stop()  # nothing listens on its port any more
            with capture_logs() as logs:
                first = Notifier(failing.url, strategy="s", timeout=2).start()
                first.notify("kill_switch", symbol=None)
                first.close()
                second = Notifier(dead_url, strategy="s", timeout=2).start()
                second.notify("data_stale", symbol="IBM")
                second.close()
            assert (first.failed, first.sent) == (1, 0)
            assert (second.failed, second.sent) == (1, 0)
            failed = [line for line in logs if line["event"] == "notify_failed"]
            assert [line.get("status") for line in failed] == [500, None]
            assert failed[1]["error"] in ("URLError", "ConnectionRefusedError")
            assert {line["log_level"] for line in failed} == {"warning"}
            assert failed[0]["receiver"] == f"http://127.0.0.1:{failing.server.server_port}"
            assert SECRET not in repr(logs)
        finally:
            failing.stop()
