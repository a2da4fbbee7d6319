"""`tickstate replay`: a strategy file over recorded bars → trades.csv, summary.json, a table."""

import json
from pathlib import Path

from strategies.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"


class TestReplayCommand:
    def test_replay_writes_trades_and_summary_and_is_deterministic(
        self, two_months, tmp_path, capsys
    ):
        """Two runs over the same bars write byte-identical trade lists with trades in them."""
        first, second = tmp_path / "a", tmp_path / "b"
        assert main(["replay", str(EXAMPLE), "--data", str(two_months), "--out", str(first)]) == 0
        assert main(["replay", str(EXAMPLE), "--data", str(two_months), "--out", str(second)]) == 0
        trades = (first / "trades.csv").read_bytes()
        assert trades == (second / "trades.csv").read_bytes()
        assert len(trades.splitlines()) > 1
        summary = json.loads((first / "summary.json").read_text())
        assert summary["strategy"] == "s8020"
        assert set(summary["symbols"]) == {"AAPL", "IBM", "MSFT", "GOOG"}
        assert summary["total"]["trades"] == len(trades.splitlines()) - 1
        assert summary["total"]["anomalies"] == 0
        captured = capsys.readouterr()  # off a terminal: people's lines on stderr
        assert "bars/s" in captured.err
        assert "total" in captured.err
        *_logs, last = captured.out.splitlines()  # JSON lines, the summary last
        record = json.loads(last)
        assert record["event"] == "summary"
        assert record["total"]["trades"] == summary["total"]["trades"]

    def test_a_bad_strategy_file_is_one_line_and_exit_2(self, tmp_path, capsys):
        """A malformed strategy file ends the replay before anything runs, in one line."""
        bad = tmp_path / "bad.toml"
        bad.write_text('name = "x"\n')
        assert main(["replay", str(bad), "--data", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{bad}: ")
        assert len(err.splitlines()) == 1

    def test_malformed_bars_are_one_line_naming_file_and_line(self, tmp_path, capsys):
        """A malformed bar row names its file and line; exit 2, no traceback."""
        data = tmp_path / "bars.csv"
        data.write_text(
            "symbol,start,open,high,low,close,volume\nAAPL,2012-01-03T14:30:00Z,1,2,x,1,5\n"
        )
        assert (
            main(["replay", str(EXAMPLE), "--data", str(data), "--out", str(tmp_path / "o")]) == 2
        )
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{data}: line 2")
        assert "Traceback" not in err
