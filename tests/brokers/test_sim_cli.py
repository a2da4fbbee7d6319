"""``tickstate sim``: refuses a non-loopback host, serves recorded bars and exits at their end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from strategies.cli import main


def test_non_loopback_host_without_allow_remote_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A public address without --allow-remote: one line on stderr, exit 2."""
    assert main(["sim", "--port", "0", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "allow_remote" in err or "non-loopback" in err


def test_bad_data_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV without the needed columns: one line naming the file, exit 2."""
    bad = tmp_path / "bars.csv"
    bad.write_text("symbol,open\nAAPL,1\n", encoding="utf-8")
    assert main(["sim", "--port", "0", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: line 1, column start: missing from the header")
    assert len(err.strip().splitlines()) == 1


def test_serves_the_data_and_exits_at_its_end(tmp_path: Path) -> None:
    """As a process: prints its URLs, replays the file at speed, exits 0 when the data ends."""
    data = tmp_path / "bars.csv"
    data.write_text(
        "symbol,start,open,high,low,close,volume\n"
        "AAPL,2026-11-23T14:30:00Z,100,101,99,100.5,1000\n"
        "AAPL,2026-11-23T14:31:00Z,100.5,101,100,100.75,900\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "strategies.cli",
            "sim",
            "--port",
            "0",
            "--data",
            str(data),
            "--speed",
            "600",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "http://127.0.0.1:" in done.stdout
    assert "ws://127.0.0.1:" in done.stdout
