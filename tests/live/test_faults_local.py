"""Faults stay local, over real sockets: ``tickstate run`` against the simulated exchange.

- A plugin signal raises while GOOG holds a position: GOOG is flattened and halted
  (``signal_error``, the traceback in the log), the other symbols trade the day, exit 0.
- The engine itself raises (an injected fault while GOOG holds a position): the documented
  shutdown runs — GOOG's stop cancelled, the position closed, all journaled — and the command
  exits non-zero with one line; ``tickstate status`` then says the run is not running.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import strategies.engine._crashpoints as crashpoints
from machines import Desk
from strategies.cli import main
from strategies.journal import Journal, read_latest
from strategies.run._shutdown import fault_line
from strategies.spec import load_strategy
from tests.live.support import DAY, ROOT, JournalView

EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"
DATA = ROOT / "data" / "intraday_5min"


def _run(config: Path, journal: Path, *extra: str) -> int:
    return main(
        [
            "run",
            str(config),
            "--data",
            str(DATA),
            "--start",
            "2012-11-15",
            "--speed",
            "8000",
            "--poll-interval",
            "0.2",
            "--journal",
            str(journal),
            *extra,
        ]
    )


def _events(out: str) -> list[dict]:
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


def _rebuilds_with_nothing_pending(config: Path, journal: Path) -> Desk:
    spec = load_strategy(config)
    with Journal(journal) as opened:
        first = opened.first_trading_date(spec.name)
        assert first is not None
        desk = Desk(strategy=spec.name, trading_date=first, symbol_rules=spec.rules())
        assert opened.rebuild(desk) == ()
    return desk


def test_a_plugin_that_raises_halts_and_flattens_its_symbol_only(tmp_path, register_signal, capsys):
    """GOOG's signal raises as soon as GOOG is long: GOOG is closed and halted with
    ``signal_error`` (logged once, with its traceback); AAPL and IBM trade; the run exits 0."""
    register_signal("fragile_8020", "tests.live.plugins:FragileEightyTwenty")
    config = tmp_path / "fragile.toml"
    config.write_text(
        EXAMPLE.read_text().replace('kind = "eighty_twenty"', 'kind = "fragile_8020"'),
        encoding="utf-8",
    )
    journal = tmp_path / "j.sqlite"
    assert _run(config, journal) == 0
    events = _events(capsys.readouterr().out)
    errors = [e for e in events if e["event"] == "signal_error"]
    assert [e["symbol"] for e in errors] == ["GOOG"]
    assert "Traceback" in errors[0]["exception"]
    assert "fragile plugin" in errors[0]["exception"]
    latest = {s.symbol: s.snapshot for s in read_latest(journal)}
    goog = latest["GOOG"]
    assert goog.is_halted
    assert goog.halt_reason == "signal_error"
    assert goog.position == 0
    assert goog.working_orders == ()
    for symbol in ("AAPL", "IBM"):
        assert not latest[symbol].is_halted
        assert latest[symbol].entries_today == 1  # it traded
        assert latest[symbol].position == 0
    _rebuilds_with_nothing_pending(config, journal)


@pytest.fixture
def engine_fault(monkeypatch):
    """The engine raises on GOOG's fourth bar (09:45 ET: long since 09:40, its stop working)."""
    monkeypatch.setattr(crashpoints, "_TARGET", ("bar:GOOG", 4, True))
    monkeypatch.setattr(crashpoints, "_seen", 0)


def test_an_engine_fault_shuts_down_flat_and_exits_non_zero(tmp_path, engine_fault, capsys):
    """Not a signal's fault: the shutdown runs (GOOG's stop cancelled, the position closed),
    the journal is consistent (it rebuilds, nothing pending, everything flat), the command
    exits 3 with one line, and ``status`` says the run is not running."""
    journal = tmp_path / "j.sqlite"
    assert _run(EXAMPLE, journal) == 3
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert err[0].startswith("tickstate run: engine fault: InjectedFaultError: ")
    assert "Traceback" not in captured.err
    faults = [e for e in _events(captured.out) if e["event"] == "engine_fault"]
    assert "Traceback" in faults[0]["exception"]
    latest = {s.symbol: s.snapshot for s in read_latest(journal)}
    assert all(s.position == 0 and s.working_orders == () for s in latest.values())
    desk = _rebuilds_with_nothing_pending(EXAMPLE, journal)
    assert all(s.position == 0 for s in desk.snapshots())
    goog = [t for t in _transitions(journal) if t["symbol"] == "GOOG"]
    assert any(t["trigger"] == "exit_signal" and "shutdown" in t["event"] for t in goog)
    assert any(t["trigger"] == "exit_filled" for t in goog)
    assert main(["status", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "run: not running (ended " in out
    assert "engine_fault" in out


def test_a_fault_on_a_command_worker_shuts_down_as_one_on_the_engine_thread(
    tmp_path, monkeypatch, capsys
):
    """The first protective stop's answer raises on a command worker (``--command-workers 2``):
    the worker hands the fault to the engine thread, which shuts down as for its own — exit 3,
    one line, every position closed — instead of the worker logging it and the run going on
    with a stop whose answer was never applied."""
    monkeypatch.setattr(crashpoints, "_TARGET", ("after_send:PlaceStop", 1, True))
    monkeypatch.setattr(crashpoints, "_seen", 0)
    journal = tmp_path / "j.sqlite"
    assert _run(EXAMPLE, journal, "--command-workers", "2") == 3
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert err[0].startswith(
        "tickstate run: engine fault: InjectedFaultError: injected fault at after_send:PlaceStop "
        "(positions flattened,"
    ), captured.err
    assert any(e["event"] == "executor_job_failed" for e in _events(captured.out))
    latest = {s.symbol: s.snapshot for s in read_latest(journal)}
    assert all(s.position == 0 for s in latest.values()), latest


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_fault_between_journaling_a_stop_and_sending_it_still_flattens(
    tmp_path, monkeypatch, capsys, workers
):
    """The fault lands after GOOG's stop was journaled, before it was sent: the venue never had
    it. The shutdown first settles what the fault cut short, as a restart would (the stop is not
    at the broker: to the machine it never worked, ``interrupted_by_fault``), so it is not left
    waiting on the answer to a cancel of a stop that never existed: flat, one line, exit 3, and
    the journal rebuilds with nothing pending."""
    monkeypatch.setattr(crashpoints, "_TARGET", ("before_send:PlaceStop", 1, True))
    monkeypatch.setattr(crashpoints, "_seen", 0)
    journal = tmp_path / "j.sqlite"
    assert _run(EXAMPLE, journal, "--command-workers", workers) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "(positions flattened, journal consistent;" in err[0], err
    latest = {s.symbol: s.snapshot for s in read_latest(journal)}
    assert all(s.is_settled for s in latest.values()), latest
    results = [
        (r["client_order_id"], r["result"], r["detail"]) for r in JournalView.read(journal).results
    ]
    assert ("s8020-GOOG-20121115-1-stop", "skipped", "interrupted_by_fault") in results
    spec = load_strategy(EXAMPLE)
    desk = Desk(strategy=spec.name, trading_date=DAY, symbol_rules=spec.rules())
    with Journal(journal) as book:
        assert book.rebuild(desk) == ()


def test_the_fault_line_names_what_the_shutdown_left_unsettled():
    """The line never claims "positions flattened" while a symbol holds a position or an order
    at the broker (``--no-flatten``, or a venue that did not answer within the bound)."""
    fault = ValueError("boom")
    assert fault_line(fault, []) == (
        "engine fault: ValueError: boom (positions flattened, journal consistent; the traceback "
        "is in the log)"
    )
    assert "(NOT settled at the broker: GOOG: check it, journal consistent;" in fault_line(
        fault, ["GOOG"]
    )


def _transitions(journal: Path) -> list[dict]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(journal)) as db:
        return [
            {"symbol": symbol, "trigger": trigger, "event": event}
            for symbol, trigger, event in db.execute(
                "SELECT symbol, trigger, event FROM transitions ORDER BY seq"
            )
        ]
