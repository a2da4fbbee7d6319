"""Machine output: off a terminal stdout is JSON lines only (``tickstate run … | jq .``), the
summary the last of them, people's lines on stderr (or stdout with ``--table``); each log line
carries the run's id and the market time; one log file per run, beside its journal."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from strategies.cli import main
from strategies.run import load_bars

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"
DATA = ROOT / "data" / "intraday_5min"


class TestRunOffATerminal:
    def test_stdout_is_json_lines_the_summary_last_and_the_log_file_is_the_runs_own(
        self, tmp_path, capsys
    ):
        """A lock-step day at 1e9 (stdout captured: not a terminal): every line of stdout
        parses, the last is the summary; every log line names the run and its market time
        (in the exchange's zone once the run has a clock); the log file, named by the run id
        beside the journal, holds the same lines; no flat square-off is logged at info."""
        journal = tmp_path / "j.sqlite"
        argv = ["run", str(EXAMPLE), "--data", str(DATA), "--start", "2012-11-15"]
        assert main([*argv, "--speed", "1e9", "--journal", str(journal)]) == 0
        captured = capsys.readouterr()
        lines = [json.loads(line) for line in captured.out.splitlines()]  # every line parses
        *logs, summary = lines
        assert summary["event"] == "summary"
        assert summary["command"] == "run"
        assert summary["total"]["trades"] == 3
        assert {s["symbol"] for s in summary["symbols"]} == {"AAPL", "IBM", "MSFT", "GOOG"}
        assert all(isinstance(s["pnl"], str) for s in summary["symbols"])  # exact, not floats
        run_id = summary["run_id"]
        assert run_id.startswith("s8020-")
        assert summary["journal"] == str(journal)
        log_file = Path(summary["log"])
        assert log_file == tmp_path / f"{run_id}.log"
        assert [json.loads(line) for line in log_file.read_text().splitlines()] == logs
        assert logs
        assert {line["run_id"] for line in logs} == {run_id}
        assert all("market_ts" in line for line in logs)
        fills = [line for line in logs if line.get("trigger") == "entry_filled"]
        assert len(fills) == 3
        assert all(line["market_ts"].startswith("2012-11-15T") for line in fills)
        assert all(line["market_ts"].endswith("-05:00") for line in fills)
        square_offs = [line for line in logs if line.get("trigger") == "square_off"]
        assert all(line["state_from"] != line["state_to"] for line in square_offs)
        # The journal knows the run by the same id: status --json says it.
        assert main(["status", str(journal), "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["run"]["run_id"] == run_id
        assert status["run"]["running"] is False
        # People's lines: on stderr, never on stdout.
        assert "s8020: 3 trades, live" in captured.err
        assert f"journal: {journal}" in captured.err
        assert f"logs: {log_file}" in captured.err


class TestReplayOffATerminal:
    def test_replay_writes_its_summary_as_a_json_line_or_the_table_with_table(
        self, tmp_path, capsys
    ):
        """Replay off a terminal: stdout is the summary as one JSON line, the table on stderr;
        with --table the table is on stdout and no JSON is."""
        data = tmp_path / "bars.csv"  # two weeks of the demo bars: a replay reads all it is given
        rows = ["symbol,start,open,high,low,close,volume"]
        for b in load_bars(DATA, dates=(date(2012, 11, 1), date(2012, 11, 16))):
            start = b.start.strftime("%Y-%m-%dT%H:%M:%SZ")
            rows.append(f"{b.symbol},{start},{b.open},{b.high},{b.low},{b.close},{b.volume}")
        data.write_text("\n".join(rows) + "\n")
        argv = ["replay", str(EXAMPLE), "--data", str(data), "--start", "2012-11-15"]
        assert main([*argv, "--out", str(tmp_path / "a")]) == 0
        captured = capsys.readouterr()
        lines = [json.loads(line) for line in captured.out.splitlines()]
        assert [line["event"] for line in lines][-1:] == ["summary"]
        summary = lines[-1]
        written = json.loads((tmp_path / "a" / "summary.json").read_text())
        assert summary["total"]["trades"] == written["total"]["trades"] > 0
        assert "total" in captured.err
        assert main([*argv, "--out", str(tmp_path / "b"), "--table"]) == 0
        captured = capsys.readouterr()
        assert not [line for line in captured.out.splitlines() if line.startswith("{")]
        assert "total" in captured.out
        assert "bars/s" in captured.out
