"""Prometheus metrics: counted from the machines' outcomes, timed in the engine thread, served on
127.0.0.1 from the run's own registry, scraped here over loopback with ``requests``."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from time import perf_counter

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from brokers import StreamCounters
from machines import (
    BrokerSnapshotTaken,
    DayRolledOver,
    Desk,
    EntryLeg,
    EntrySignalled,
    EntryTimedOut,
    HaltRequested,
    Rules,
    Side,
    State,
)
from strategies.cli import main
from strategies.engine import Fired
from strategies.observe import RunMetrics, _metrics
from strategies.run import RunSettings, first_sessions, load_bars, run_live
from strategies.spec import load_strategy

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS_OF_EXAMPLE = ("AAPL", "IBM", "MSFT", "GOOG")
AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NAMES = {
    "tickstate_transitions",
    "tickstate_races",
    "tickstate_anomalies",
    "tickstate_stream_reconnects",
    "tickstate_incidents",
    "tickstate_lock_hold_seconds",
    "tickstate_event_to_command_seconds",
    "tickstate_position",
    "tickstate_open_pnl",
    "tickstate_realised_pnl",
    "tickstate_working_orders",
    "tickstate_last_price",
    "tickstate_state",
}


def scrape(url: str) -> dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Every sample of every tickstate family: {family: {(sample name, labels): value}}."""
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    families = {}
    for family in text_string_to_metric_families(response.text):
        if family.name.startswith("tickstate_") and not family.name.endswith("_created"):
            families[family.name] = {
                (s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples
            }
    return families


def total(family: dict, sample: str) -> float:
    return sum(v for (name, _labels), v in family.items() if name == sample)


class FakeStream:
    """A stream with the adapter's counters."""

    def __init__(self, reconnects: int) -> None:
        self.counters = StreamCounters(connects=reconnects + 1, reconnects=reconnects)


class TestRunMetrics:
    def test_outcomes_latencies_and_reconnects_are_served_on_loopback(self):
        """Transitions, a race and an anomaly are counted with their labels; the engine-thread
        hooks feed both histograms; the streams' own reconnect counts are read at scrape time."""
        metrics = RunMetrics("s8020")
        desk = Desk(strategy="s8020", trading_date=date(2026, 11, 23), rules=Rules())

        def fire(symbol, event):  # as the engine does it: time the fire, hand it on
            started = perf_counter()
            outcome = desk.fire(symbol, event)
            metrics(Fired(outcome, perf_counter() - started))
            return outcome

        leg = EntryLeg(side=Side.BUY, entry_price=Decimal("101"), initial_stop=Decimal("99"))
        fire("AAPL", DayRolledOver(trading_date=date(2026, 11, 24)))  # transition
        fire("AAPL", EntryTimedOut(at=AT, attempt=1))  # race: stale_timer
        metrics.update_applying(perf_counter())  # a trade update arrives; what it leads to:
        fire("AAPL", EntrySignalled(at=AT, qty=Decimal(100), legs=(leg,)))  # PlaceEntry
        fire("IBM", BrokerSnapshotTaken(at=AT, position_qty=Decimal(5)))  # anomaly, no command
        metrics.update_applied()
        fire("AAPL", HaltRequested(at=AT, reason="daily_loss_limit"))  # a cancel, not after one
        metrics.update_applying(perf_counter())
        fire("MSFT", HaltRequested(at=AT, reason="daily_loss_limit", flatten=True))  # no command
        metrics.update_applied()
        metrics.watch_stream("trade_updates", FakeStream(2))
        metrics.watch_stream("bars", FakeStream(0))
        metrics.watch_stream("fake", object())  # no counters: skipped

        with metrics.serve(0) as server:
            assert server.url.startswith("http://127.0.0.1:")
            assert server._server.server_address[0] == "127.0.0.1"
            got = scrape(server.url)
        assert set(got) == NAMES
        assert got["tickstate_transitions"] == {
            ("tickstate_transitions_total", (("strategy", "s8020"), ("symbol", "AAPL"))): 3.0,
            ("tickstate_transitions_total", (("strategy", "s8020"), ("symbol", "MSFT"))): 1.0,
        }
        race = (("reason", "stale_timer"), ("strategy", "s8020"), ("symbol", "AAPL"))
        assert got["tickstate_races"][("tickstate_races_total", race)] == 1.0
        anomaly = (("reason", "position_mismatch"), ("strategy", "s8020"), ("symbol", "IBM"))
        assert got["tickstate_anomalies"][("tickstate_anomalies_total", anomaly)] == 1.0
        assert desk.machine("IBM").state == State.HALTED  # the anomaly halted its own symbol
        assert got["tickstate_stream_reconnects"] == {
            ("tickstate_stream_reconnects_total", (("strategy", "s8020"), ("stream", "bars"))): 0.0,
            (
                "tickstate_stream_reconnects_total",
                (("strategy", "s8020"), ("stream", "trade_updates")),
            ): 2.0,
        }
        lock = got["tickstate_lock_hold_seconds"]
        assert total(lock, "tickstate_lock_hold_seconds_count") == 6  # one per fire
        assert 0 < total(lock, "tickstate_lock_hold_seconds_sum") < 1
        latency = got["tickstate_event_to_command_seconds"]
        # only the entry led to a command while a trade update was being applied
        assert total(latency, "tickstate_event_to_command_seconds_count") == 1

    def test_the_server_stops_and_each_run_has_its_own_registry(self):
        """After stop() the port refuses connections; a second run's counts start at zero."""
        first, second = RunMetrics("a"), RunMetrics("a")
        first.transitions.labels("a", "AAPL").inc()
        server = first.serve(0)
        assert (
            total(scrape(server.url)["tickstate_transitions"], "tickstate_transitions_total") == 1
        )
        server.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url, timeout=2)
        with second.serve(0) as other:
            assert "tickstate_transitions" not in scrape(other.url) or not total(
                scrape(other.url)["tickstate_transitions"], "tickstate_transitions_total"
            )


class TestTickstateRunServesMetrics:
    def test_a_live_run_serves_its_metrics_until_it_ends(self, tmp_path, monkeypatch, capsys):
        """`tickstate run --metrics-port 0` over the demo day against the simulated exchange:
        scraped over loopback as the run ends (before the server stops), then the port is shut."""
        seen: dict[str, object] = {}
        stop = _metrics.MetricsServer.stop

        def scrape_then_stop(server):
            seen["url"] = server.url
            seen["metrics"] = scrape(server.url)
            stop(server)

        monkeypatch.setattr(_metrics.MetricsServer, "stop", scrape_then_stop)
        code = main(
            [
                "run",
                str(ROOT / "examples" / "eighty_twenty.toml"),
                "--data",
                str(ROOT / "data" / "intraday_5min"),
                "--start",
                "2012-11-15",
                "--speed",
                "8000",
                "--poll-interval",
                "0.5",
                "--journal",
                str(tmp_path / "j.sqlite"),
                "--metrics-port",
                "0",
            ]
        )
        captured = capsys.readouterr()
        out = captured.out
        assert code == 0
        assert '"event": "metrics_serving"' in out
        got = seen["metrics"]
        assert set(got) == NAMES
        trades = int(re.search(r"(\d+) trades, live", captured.err)[1])
        assert trades >= 1
        transitions = total(got["tickstate_transitions"], "tickstate_transitions_total")
        # Every transition is counted; a square-off that finds a symbol flat is logged at debug
        # only (at most one per symbol), so the info log shows the rest.
        logged = out.count('"event": "transition"')
        assert logged > 0
        assert 0 < transitions - logged <= len(SYMBOLS_OF_EXAMPLE)
        assert total(got["tickstate_anomalies"], "tickstate_anomalies_total") == 0
        assert total(got["tickstate_races"], "tickstate_races_total") == out.count(
            '"event": "race_detected"'
        )
        # Each filled entry got its protective stop sent in reaction to the fill's trade update.
        latency = got["tickstate_event_to_command_seconds"]
        assert total(latency, "tickstate_event_to_command_seconds_count") >= trades
        lock = got["tickstate_lock_hold_seconds"]
        assert total(lock, "tickstate_lock_hold_seconds_count") >= transitions
        reconnects = got["tickstate_stream_reconnects"]
        assert {dict(labels)["stream"] for _name, labels in reconnects} == {"bars", "trade_updates"}
        with pytest.raises(requests.ConnectionError):
            requests.get(str(seen["url"]), timeout=2)


def _by_symbol(family: dict, sample: str) -> dict[str, float]:
    return {dict(labels)["symbol"]: v for (name, labels), v in family.items() if name == sample}


class TestPerSymbolGauges:
    def test_gauges_follow_position_pnl_orders_and_state_during_a_lock_step_run(self):
        """The demo day of the 80-20 example in lock-step at 1e9: scraped over loopback from
        the engine thread at the first bar a position is open, the gauges equal the machine's
        snapshot (position, working orders, state), the bar's close and the open trade's PnL
        at it; scraped after the run, realised PnL equals the run's trades per symbol."""
        spec = load_strategy(ROOT / "examples" / "eighty_twenty.toml")
        day = date(2012, 11, 15)
        around = (day - timedelta(days=10), day + timedelta(days=1))  # D-1 for the look-back
        recorded = load_bars(ROOT / "data" / "intraday_5min", symbols=spec.symbols, dates=around)
        bars, history = first_sessions(recorded, spec, 1, day)
        metrics = RunMetrics(spec.name)
        seen: dict[str, object] = {}
        engines = []

        def on_bar(bar):
            if "during" in seen:
                return
            engine = engines[0]
            snapshot = engine.desk.machine(bar.symbol).snapshot()
            if snapshot.position == 0:
                return
            seen["during"] = scrape(server.url)  # the engine waits: nothing moves meanwhile
            seen["bar"], seen["snapshot"] = bar, snapshot
            seen["entry"] = engine.recorder.open_entry(bar.symbol)

        with metrics.serve(0) as server:
            result = run_live(
                spec,
                bars=bars,
                history=history,
                settings=RunSettings(poll_interval=0.5),
                speed=1e9,
                metrics=metrics,
                on_bar=on_bar,
                on_runner=lambda runner: engines.append(runner.engine),
            )
            after = scrape(server.url)
        during, bar, snapshot = seen["during"], seen["bar"], seen["snapshot"]
        symbol = bar.symbol
        assert _by_symbol(during["tickstate_position"], "tickstate_position")[symbol] == float(
            snapshot.position
        )
        working = _by_symbol(during["tickstate_working_orders"], "tickstate_working_orders")
        assert working[symbol] == len(snapshot.working_orders) >= 1  # its protective stop
        assert _by_symbol(during["tickstate_last_price"], "tickstate_last_price")[symbol] == float(
            bar.close
        )
        held, entry = seen["entry"]
        assert held == snapshot.position
        opened = _by_symbol(during["tickstate_open_pnl"], "tickstate_open_pnl")[symbol]
        assert opened == pytest.approx(float(held * (bar.close - entry)))
        states = {
            dict(labels)["tickstate_state"]: v
            for (_name, labels), v in during["tickstate_state"].items()
            if dict(labels)["symbol"] == symbol
        }
        assert set(states) == {state.value for state in State}
        assert states[snapshot.state.value] == 1.0
        assert sum(states.values()) == 1.0
        # After the run: everything flat, realised PnL per symbol as the run's trades.
        realised = _by_symbol(after["tickstate_realised_pnl"], "tickstate_realised_pnl")
        for summary in result.summaries:
            if summary.trades:
                assert realised[summary.symbol] == pytest.approx(float(summary.pnl))
        assert set(_by_symbol(after["tickstate_position"], "tickstate_position").values()) == {0.0}
        assert set(_by_symbol(after["tickstate_open_pnl"], "tickstate_open_pnl").values()) == {0.0}
