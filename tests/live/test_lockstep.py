"""Lock-step: on the simulated exchange, live trades equal replay trades, byte for byte (issue 16).

Each live run is the real thing: ``run_live`` starts the simulated exchange in-process on a
loopback port, in lock-step with the run (the default of ``tickstate run`` on ``kind = "sim"``),
and trades through the Alpaca adapter over real sockets; the replay is ``tickstate replay``'s
(``run_replay``, the twin's fill model) over the same bars, strategy and seed.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from pathlib import Path

import pytest

from brokers import LockStep, SimExchange, SimFaults
from machines import OrderFilled
from strategies.cli import main
from strategies.run import (
    LiveRunner,
    Reconciliation,
    RunSettings,
    around_the_sessions,
    daily_history,
    load_bars,
    run_live,
    run_replay,
    split_sessions,
)
from strategies.spec import StrategySpec, load_strategy, validate_strategy
from tests.live.support import STALL_PROOF

ROOT = Path(__file__).resolve().parents[2]
MINUTES = ROOT / "data" / "intraday_1min"
EXAMPLES = {
    "eighty_twenty": ROOT / "examples" / "eighty_twenty.toml",
    "opening_range": ROOT / "examples" / "opening_range.toml",
}
#: Five sessions from Thanksgiving week: 19, 20, 21 (the holiday is skipped), 23 (the early
#: close at 13:00) and the Monday after.
START, SESSIONS = date(2012, 11, 19), 5
#: As fast as the run acknowledges, and a pace the exchange itself holds back to (a session in
#: about half a second of sleeping alone): lock-step makes them trade alike.
SPEEDS = {"as-fast-as-acked": 1e9, "speed-60000": 60_000.0}


@functools.cache
def _data(name: str) -> tuple[StrategySpec, list, list]:
    """The example, its look-back sessions, and the five sessions as ``tickstate run`` plays them."""
    spec = load_strategy(EXAMPLES[name])
    bars = load_bars(MINUTES, symbols=spec.symbols, dates=(date(2012, 10, 20), date(2012, 12, 5)))
    earlier, live = split_sessions(bars, spec, SESSIONS, START)
    return spec, earlier, around_the_sessions(spec, live)


_REPLAYED: dict[str, bytes] = {}


def _replayed(name: str, factory: pytest.TempPathFactory) -> bytes:
    """``tickstate replay CONFIG --data data/intraday_1min --start 2012-11-19 --days 5``."""
    if name not in _REPLAYED:
        spec, earlier, live = _data(name)
        out = factory.mktemp(f"replay-{name}")
        result = run_replay(spec, live, out_dir=out, history=daily_history(spec, earlier))
        assert len(result.trades) >= 2, "the sessions must trade for the comparison to mean much"
        _REPLAYED[name] = result.trades_path.read_bytes()
    return _REPLAYED[name]


class TestLiveEqualsReplay:
    @pytest.mark.parametrize("speed", list(SPEEDS.values()), ids=list(SPEEDS))
    @pytest.mark.parametrize("name", sorted(EXAMPLES))
    def test_a_lock_step_run_writes_the_replays_trades_byte_for_byte(
        self, name: str, speed: float, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Five sessions live (lock-step, real sockets, the Alpaca adapter) write exactly the
        trades.csv that tickstate replay writes for the same bars, strategy and seed."""
        spec, earlier, live = _data(name)
        replayed = _replayed(name, tmp_path_factory)
        result = run_live(
            spec,
            bars=live,
            history_bars=earlier,
            settings=RunSettings(lockstep_timeout=STALL_PROOF),
            speed=speed,
        )
        trades, summary = result.write(spec.name, tmp_path_factory.mktemp("live"))
        assert result.lockstep_timeouts == 0
        assert result.late_orders == 0
        assert trades.read_bytes() == replayed
        assert summary.exists()


class TestQuickStart:
    def test_five_quick_starts_print_the_same_summary(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The README's quick start (80-20 on 2012-11-15; at a high speed), five times: five
        equal summaries, trade for trade."""
        monkeypatch.chdir(tmp_path)
        printed = []
        for run in range(5):
            journal = tmp_path / f"run{run}.sqlite"
            argv = [
                "run",
                str(EXAMPLES["eighty_twenty"]),
                "--start",
                "2012-11-15",
                "--speed",
                "1e9",
                "--journal",
                str(journal),
            ]
            assert main(argv) == 0
            out = capsys.readouterr().err.splitlines()  # off a terminal, people's lines
            # The poller's passes run on the wall clock (how many depends on the machine's
            # load), so the count of reconciliations is left out; the rest must be equal.
            printed.append(
                [
                    re.sub(r"\d+ reconciliations", "N reconciliations", line)
                    for line in out
                    if not line.startswith(("{", "journal:", "logs:"))
                ]
            )
        assert any("3 trades" in line for line in printed[0])
        for summary in printed[1:]:
            assert summary == printed[0]


class TestRealtime:
    def test_a_free_running_run_warns_of_orders_that_missed_their_bar(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--realtime keeps the exchange's clock running free: orders reach it after the bar
        they were meant for, each an ``order_late`` (counted), and the run says so."""
        monkeypatch.chdir(tmp_path)
        argv = [
            "run",
            str(EXAMPLES["eighty_twenty"]),
            "--start",
            "2012-11-15",
            "--speed",
            "3000",
            "--realtime",
            "--journal",
            str(tmp_path / "run.sqlite"),
        ]
        assert main(argv) == 0
        captured = capsys.readouterr()
        assert '"event": "order_late"' in captured.out
        assert "reached the simulated exchange after the bar they were meant for" in captured.err


class TestCostsInLockStep:
    def test_with_costs_and_buying_power_live_equals_replay(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """ORB with commission, a tick of slippage and a $100,000 cash account: a lock-step run
        writes the replay's trades.csv (with its cost columns) byte for byte, and declines the
        same oversized entries for buying power (issue 19)."""
        base, earlier, live = _data("opening_range")
        data = base.model_dump(mode="json")
        data["costs"] = {
            "commission_per_share": "0.005",
            "commission_minimum": "1",
            "slippage_ticks": 1,
            "cash": "100000",
            "leverage": "1",
        }
        spec = validate_strategy(data, base_dir=EXAMPLES["opening_range"].parent)
        days = sorted({b.start.date() for b in live})
        two = [b for b in live if b.start.date() <= days[2]]  # the sessions of 19-21 November
        replayed = run_replay(
            spec, two, out_dir=tmp_path_factory.mktemp("r"), history=daily_history(spec, earlier)
        )
        result = run_live(
            spec,
            bars=two,
            history_bars=earlier,
            settings=RunSettings(lockstep_timeout=STALL_PROOF),
            speed=1e9,
        )
        trades, _ = result.write(spec.name, tmp_path_factory.mktemp("live"))
        assert result.lockstep_timeouts == 0
        assert "net_pnl" in trades.read_text()
        assert trades.read_bytes() == replayed.trades_path.read_bytes()
        assert result.total is not None
        assert replayed.total.buying_power_blocked > 0
        assert result.total.buying_power_blocked == replayed.total.buying_power_blocked
        assert result.total.costs == replayed.total.costs > 0


class TestTheVenuesRestAheadOfItsStream:
    def test_fills_the_poller_reads_first_are_booked_at_the_venues_time(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Half the trade updates held 100 ms on their way, a third sent twice, a third swapped
        with the next, while the poller reads the orders every 50 ms: fills are often learnt
        from REST before the stream's copy lands. Each is booked at the venue's time of the
        fill (the order's ``updated_at``), not at the moment the poller looked; lock-step waits
        for a held update in the moment that sent it, and never for a duplicate's second copy
        (which the client drops). So no moment times out and the run writes the replay's
        trades.csv byte for byte (a loaded CI host once got there by itself: an entry booked a
        minute late, a row out of order)."""
        spec, earlier, live = _data("opening_range")
        replayed = _replayed("opening_range", tmp_path_factory)
        sim = SimExchange(
            live,
            speed=1e9,
            session_tz=str(spec.session.hours().timezone),
            hold_until_subscribed=True,
            history=earlier,
            lockstep=LockStep(),
            seed=spec.broker.seed,
            faults=SimFaults(delay=0.5, delay_ms=100, duplicate=0.3, reorder=0.3),
        ).start()
        learnt_first: list[int] = []

        def probe(runner: LiveRunner) -> None:
            # How many fills reconciliation fed (the stream's copy came after): the path under
            # test must be taken, or the comparison proves nothing.
            apply = runner._apply_reconciliation

            def counted(found: Reconciliation) -> None:
                learnt_first.append(sum(1 for _, e in found.events if isinstance(e, OrderFilled)))
                apply(found)

            runner._apply_reconciliation = counted  # type: ignore[method-assign]

        try:
            result = run_live(
                spec,
                bars=live,
                settings=RunSettings(poll_interval=0.05, lockstep_timeout=STALL_PROOF),
                exchange=sim,
                on_runner=probe,
            )
        finally:
            sim.stop()
        trades, _ = result.write(spec.name, tmp_path_factory.mktemp("live"))
        assert result.lockstep_timeouts == 0  # held updates waited for in their moment, no echo
        assert sum(learnt_first) > 0
        assert trades.read_bytes() == replayed
