"""``tickstate status``: the journal as a table, live or not; a bad file is one line, exit 2."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import machines as m
from machines import Side, State
from strategies.cli import main
from strategies.journal import Journal, read_liveness
from tests.strategies.journaling import (
    FIRST_DAY,
    STRATEGY,
    SYMBOLS,
    Driver,
    at,
    trade_days,
    trading_day,
)

D = Decimal


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite"
    with Journal(path) as journal:
        driver = Driver(journal)
        trade_days(driver, 1)
        leg = m.EntryLeg(side=Side.BUY, entry_price=D("101.00"), initial_stop=D("99.00"))
        driver.fire("AAPL", m.EntrySignalled(at=at(FIRST_DAY, 10), qty=D(100), legs=(leg,)))
    return path


class TestStatusJson:
    def test_status_json_is_one_document_with_decimals_as_strings(self, journal_path, capsys):
        """--json: one JSON document (the whole of stdout) with the run's liveness and each
        symbol's full snapshot, amounts as exact strings, and its last event."""
        assert main(["status", str(journal_path), "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["journal"] == str(journal_path)
        assert document["run"]["running"] is False
        symbols = {s["symbol"]: s for s in document["symbols"]}
        assert set(symbols) == set(SYMBOLS)
        aapl = symbols["AAPL"]
        assert aapl["strategy"] == STRATEGY
        assert aapl["state"] == State.ENTRY_PENDING
        assert (aapl["entries_today"], aapl["max_attempts"]) == (2, 2)
        assert aapl["position"] == "0"
        (entry,) = aapl["working_orders"]
        assert entry["stop_price"] == "101.00"  # a string: exact, never a float
        assert aapl["last_event"]["trigger"] == "entry_accepted"
        assert aapl["last_event"]["at"] == "2026-11-23T10:00:00-05:00"

    def test_json_and_diagram_together_is_one_line(self, journal_path, capsys):
        """Both at once is a usage mistake: one line, exit 2."""
        assert main(["status", str(journal_path), "--json", "--diagram"]) == 2
        captured = capsys.readouterr()
        assert captured.err == "tickstate status: --json and --diagram: choose one\n"
        assert captured.out == ""


class TestStatus:
    def test_status_prints_each_symbol_as_a_table_row(self, journal_path, capsys):
        """Symbol, state, position, stop, attempts and the last event with its time."""
        assert main(["status", str(journal_path)]) == 0
        out = capsys.readouterr().out
        for header in ("symbol", "state", "position", "stop", "attempts", "last event", "at"):
            assert header in out
        rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
        assert set(rows) == set(SYMBOLS)
        assert State.ENTRY_PENDING in rows["AAPL"]
        assert "2/2" in rows["AAPL"]  # a second attempt today
        assert "entry_accepted" in rows["AAPL"]
        assert "2026-11-23 10:00:00-05:00" in rows["AAPL"]
        assert State.FLAT in rows["IBM"]
        assert f"{journal_path}: 3 symbols" in out

    def test_an_operator_alarm_shows_in_the_state_column(self, tmp_path, capsys):
        """A position the broker contradicts halts the symbol and raises the alarm: shown."""
        path = tmp_path / "alarm.sqlite"
        with Journal(path) as journal:
            driver = Driver(journal)
            trade_days(driver, 1)
            driver.fire("IBM", m.BrokerSnapshotTaken(at=at(FIRST_DAY, 11), position_qty=D(5)))
        assert main(["status", str(path)]) == 0
        out = capsys.readouterr().out
        assert out.count("ALARM") == 1  # the state cell wraps: halted: position_mismatch ALARM
        assert "position_mismatch" in out

    def test_status_defaults_to_the_newest_journal_under_runs(
        self, journal_path, tmp_path, capsys, monkeypatch
    ):
        """Without an argument it reads the most recently written runs/*.sqlite."""
        runs = tmp_path / "work" / "runs"
        runs.mkdir(parents=True)
        old = runs / "old.sqlite"
        Journal(old).close()
        os.utime(old, (1, 1))
        newest = runs / "new.sqlite"
        newest.write_bytes(journal_path.read_bytes())
        monkeypatch.chdir(runs.parent)
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert "runs/new.sqlite: 3 symbols" in out

    def test_no_journal_under_runs_is_one_line(self, tmp_path, capsys, monkeypatch):
        """No runs/*.sqlite: one line saying so, exit 2."""
        monkeypatch.chdir(tmp_path)
        assert main(["status"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "runs: no journal (*.sqlite) found" in err

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"\x00garbage" * 512, "not a tickstate journal"),
            (b"", "not a tickstate journal"),
        ],
    )
    def test_a_corrupt_file_is_one_line_and_exit_2(self, tmp_path, capsys, content, message):
        """A file that is not a journal: one line naming it, exit 2, no traceback."""
        bad = tmp_path / "bad.sqlite"
        bad.write_bytes(content)
        assert main(["status", str(bad)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1
        assert captured.err.startswith(f"tickstate status: {bad}: ")
        assert message in captured.err
        assert "Traceback" not in captured.err

    def test_a_truncated_journal_is_one_line_and_exit_2(self, journal_path, tmp_path, capsys):
        """A journal cut short (a damaged disk): one line, exit 2."""
        cut = tmp_path / "cut.sqlite"
        data = journal_path.read_bytes()
        cut.write_bytes(data[:100] + b"\xff" * (len(data) - 100))
        assert main(["status", str(cut)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith(f"tickstate status: {cut}: ")

    def test_a_missing_file_is_one_line_and_exit_2(self, tmp_path, capsys):
        """A path with no file: one line, exit 2, and no file is created."""
        missing = tmp_path / "missing.sqlite"
        assert main(["status", str(missing)]) == 2
        assert "no such journal" in capsys.readouterr().err
        assert not missing.exists()

    def test_status_works_on_a_live_journal(self, tmp_path, capsys):
        """While another thread keeps writing, status reads the journal as it is."""
        path = tmp_path / "live.sqlite"
        journal = Journal(path)
        started, done = threading.Event(), threading.Event()

        def write() -> None:
            driver = Driver(journal)
            trade_days(driver, 1)
            started.set()
            trade_days_from_second(driver)
            done.set()

        writer = threading.Thread(target=write, name="live-writer")
        writer.start()
        started.wait(10)
        codes = []
        while not done.is_set() or not codes:
            codes.append(main(["status", str(path)]))
        writer.join()
        journal.close()
        assert set(codes) == {0}
        assert "AAPL" in capsys.readouterr().out


class TestStatusDiagram:
    def test_the_overview_marks_each_symbol_in_its_state(self, journal_path, capsys):
        """--diagram writes the overview as Mermaid, each state listing the symbols in it."""
        assert main(["status", "--diagram", str(journal_path)]) == 0
        out = capsys.readouterr().out
        assert out.startswith("---\n")
        assert "stateDiagram-v2" in out
        assert f'state "{State.ENTRY_PENDING}<br/>AAPL" as {State.ENTRY_PENDING}' in out
        assert f'state "{State.FLAT}<br/>IBM, MSFT" as {State.FLAT}' in out
        assert f"class {State.FLAT}, {State.ENTRY_PENDING} marked" in out

    def test_the_overview_as_dot(self, journal_path, capsys):
        """--format dot gives Graphviz text with the marked states highlighted."""
        assert main(["status", "--diagram", "--format", "dot", str(journal_path)]) == 0
        out = capsys.readouterr().out
        assert out.startswith('digraph "overview" {')
        assert f'"{State.ENTRY_PENDING}" [label="{State.ENTRY_PENDING}\\nAAPL"' in out

    @pytest.mark.usefixtures("graphviz")
    def test_the_overview_as_svg(self, journal_path, capsys):
        """--format svg draws it with Graphviz."""
        assert main(["status", "--diagram", "--format", "svg", str(journal_path)]) == 0
        out = capsys.readouterr().out
        assert "<svg" in out
        assert "AAPL" in out

    def test_svg_without_graphviz_is_one_line(self, journal_path, capsys, monkeypatch):
        """No dot binary: one line saying what is missing, exit 2."""
        monkeypatch.setattr("shutil.which", lambda name: None)
        assert main(["status", "--diagram", "--format", "svg", str(journal_path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == "tickstate status: --format svg needs the Graphviz 'dot' binary\n"


def trade_days_from_second(driver: Driver) -> None:
    for n in range(1, 6):
        for symbol in SYMBOLS:
            trading_day(driver, symbol, FIRST_DAY + timedelta(days=n), stopped=n % 2 == 0)


class TestLiveness:
    def test_a_journal_whose_run_never_beat_is_not_running(self, journal_path, capsys):
        """No heartbeat recorded (the fixture never began a run): status says not running."""
        assert main(["status", str(journal_path)]) == 0
        assert "run: not running" in capsys.readouterr().out

    def test_a_beating_run_is_running_an_ended_or_silent_one_is_not(self, tmp_path):
        """Alive while it beats; ``ended`` once it says so; a heartbeat three intervals old is
        a process that died (SIGKILL leaves no end)."""
        path = tmp_path / "beats.sqlite"
        with Journal(path) as journal:
            journal.begin_run(strategy="t")
            journal.beat(interval=5.0)
            alive = read_liveness(path)
            assert alive.running
            assert alive.describe().startswith(f"running (pid {os.getpid()}")
            later = alive.beat_at + timedelta(seconds=16)
            dead = read_liveness(path, now=later)
            assert not dead.running
            assert "no heartbeat for 16 s" in dead.describe()
            journal.end_run("engine_fault")
        ended = read_liveness(path)
        assert not ended.running
        assert ended.describe().startswith("not running (ended ")
        assert ended.exit == "engine_fault"


class TestResume:
    def _halted(self, tmp_path: Path) -> Path:
        path = tmp_path / "halted.sqlite"
        with Journal(path) as journal:
            driver = Driver(journal)
            trade_days(driver, 1)
            driver.fire("AAPL", m.HaltRequested(at=at(FIRST_DAY, 16), reason="operator"))
        return path

    def test_resume_records_a_request_the_runner_answers(self, tmp_path, capsys):
        """``tickstate resume JOURNAL SYMBOL`` writes the request into the journal; the runner
        (here: a Journal reading it back) finds it pending until answered."""
        path = self._halted(tmp_path)
        assert main(["resume", str(path), "AAPL"]) == 0
        out = capsys.readouterr().out
        assert "resume of AAPL requested (request 1)" in out
        assert "when it next starts (it is not running)" in out
        with Journal(path) as journal:
            (request,) = journal.pending_requests(STRATEGY)
            assert (request.symbol, request.action) == ("AAPL", "resume")
            journal.answer(request, "accepted")
            assert journal.pending_requests(STRATEGY) == ()

    @pytest.mark.parametrize(
        ("symbol", "message"),
        [("NVDA", "no symbol NVDA in this journal"), ("IBM", "IBM is not halted (flat)")],
    )
    def test_a_symbol_that_cannot_be_resumed_is_one_line(self, tmp_path, capsys, symbol, message):
        """Unknown or not halted: one line naming it, exit 2, nothing recorded."""
        path = self._halted(tmp_path)
        assert main(["resume", str(path), symbol]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert message in err
        with Journal(path) as journal:
            assert journal.pending_requests(STRATEGY) == ()
