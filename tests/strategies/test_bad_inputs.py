"""Bad input on the command line: one line naming the flag or the key, exit 2, no traceback
(issue 18's list, as far as it is done: values of flags, and replay speeds in strategy files)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from strategies.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "eighty_twenty.toml")

FLAGS = [
    (
        ["run", EXAMPLE, "--days", "-3"],
        "tickstate run: argument --days: must be a whole number of at least 1, got '-3'",
    ),
    (
        ["run", EXAMPLE, "--days", "0"],
        "tickstate run: argument --days: must be a whole number of at least 1, got '0'",
    ),
    (
        ["run", EXAMPLE, "--poll-interval", "0"],
        "tickstate run: argument --poll-interval: must be at least 0.1 seconds, got '0'",
    ),
    (
        ["run", EXAMPLE, "--poll-interval", "nan"],
        "tickstate run: argument --poll-interval: must be at least 0.1 seconds, got 'nan'",
    ),
    (
        ["run", EXAMPLE, "--start", "2012-13-45"],
        "tickstate run: argument --start: must be a date as YYYY-MM-DD, got '2012-13-45'",
    ),
    (
        ["run", EXAMPLE, "--speed", "inf"],
        "tickstate run: argument --speed: must be a speed from 0.001 to 100,000 times real time, got 'inf'",
    ),
    (
        ["run", EXAMPLE, "--speed", "1e9"],
        "tickstate run: argument --speed: must be a speed from 0.001 to 100,000 times real time, got '1e9'",
    ),
    (
        ["run", EXAMPLE, "--daily-loss-limit", "-5"],
        "tickstate run: argument --daily-loss-limit: must be a positive amount such as 500.00, got '-5'",
    ),
    (
        ["run", EXAMPLE, "--metrics-port", "99999"],
        "tickstate run: argument --metrics-port: must be a port number 0-65535, got '99999'",
    ),
    (
        ["sim", "--port", "99999"],
        "tickstate sim: argument --port: must be a port number 0-65535, got '99999'",
    ),
    (
        ["sim", "--port", "0", "--speed", "1e-300"],
        "tickstate sim: argument --speed: must be a speed from 0.001 to 100,000 times real time, got '1e-300'",
    ),
    (
        ["sim", "--port", "0", "--start", "2012-02-30"],
        "tickstate sim: argument --start: must be a date as YYYY-MM-DD, got '2012-02-30'",
    ),
    (
        ["sim", "--port", "0", "--days", "-1"],
        "tickstate sim: argument --days: must be a whole number of at least 1, got '-1'",
    ),
]


@pytest.mark.parametrize(
    ("argv", "line"), FLAGS, ids=[" ".join(a[2:] if a[0] == "run" else a) for a, _ in FLAGS]
)
def test_a_bad_flag_value_is_one_line_and_exit_two(argv, line, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", line + "\n")


@pytest.mark.parametrize("speed", ["inf", "nan", "1e-300", "1e9", "0"])
def test_a_replay_speed_no_run_can_keep_is_refused_by_validate(speed, tmp_path, capsys):
    raw = (ROOT / "examples" / "eighty_twenty.toml").read_text()
    text = raw.replace("speed = 60 ", f"speed = {speed} ")
    assert text != raw
    path = tmp_path / "s.toml"
    path.write_text(text)
    tomllib.loads(text)  # still TOML: the refusal is the strategy's
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}: broker.speed: ")
    assert err.count("\n") == 1
