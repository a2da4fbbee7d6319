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
        "tickstate run: argument --speed: must be a speed from 0.001 to 1,000,000,000 times real time, got 'inf'",
    ),
    (
        ["run", EXAMPLE, "--speed", "1e10"],
        "tickstate run: argument --speed: must be a speed from 0.001 to 1,000,000,000 times real time, got '1e10'",
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
        "tickstate sim: argument --speed: must be a speed from 0.001 to 1,000,000,000 times real time, got '1e-300'",
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


@pytest.mark.parametrize("speed", ["inf", "nan", "1e-300", "1e10", "0"])
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


@pytest.mark.parametrize(
    ("start", "why"),
    [
        ("2012-11-17T15:00:00Z", "a Saturday"),
        ("2012-11-22T15:00:00Z", "Thanksgiving"),
        ("1900-01-03T15:00:00Z", "before the calendar"),
        ("9999-01-04T15:00:00Z", "after the calendar"),
    ],
    ids=lambda v: v if " " in v or v.isalpha() else v[:10],
)
def test_replay_of_bars_on_no_session_is_one_line(start, why, tmp_path, capsys):
    data = tmp_path / "bars.csv"
    data.write_text(f"symbol,start,open,high,low,close,volume\nAAPL,{start},10,10,10,10,1\n")
    assert main(["replay", EXAMPLE, "--data", str(data), "--out", str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"{data}: none of its 1 bars of AAPL is in a regular session of the calendar (the first: "
        f"AAPL at {start[:16]}Z; a weekend, a holiday, extended hours, or a year the calendar does "
        "not cover)\n"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            'rest_url = "http://[::1"',
            'broker.rest_url: is not a URL (Invalid IPv6 URL), got "http://[::1"',
        ),
        (
            'rest_url = "http://127.0.0.1:70000"',
            'broker.rest_url: is not a URL (Port out of range 0-65535), got "http://127.0.0.1:70000"',
        ),
        ('rest_url = "http://:80"', 'broker.rest_url: names no host, got "http://:80"'),
    ],
)
def test_an_endpoint_no_client_could_reach_is_refused_by_validate(line, problem, tmp_path, capsys):
    raw = (ROOT / "examples" / "eighty_twenty.toml").read_text()
    text = raw.replace('kind = "sim"', f'kind = "sim"\n{line}', 1)
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == f"{path}: {problem}\n"


def test_a_tick_no_market_has_and_a_file_nested_too_deep_are_one_line(tmp_path, capsys):
    raw = (ROOT / "examples" / "eighty_twenty.toml").read_text()
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(raw.replace('tick = "0.01"', 'tick = "1e-30"', 1))
    assert main(["validate", str(tiny)]) == 2
    assert (
        capsys.readouterr().err
        == f'{tiny}: instruments[0].tick: must be from 0.0001 to 1000, got "1e-30"\n'
    )
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["validate", str(deep)]) == 2
    assert capsys.readouterr().err == f"{deep}: invalid TOML: nested too deeply\n"


def test_a_flag_that_is_not_a_toml_boolean_is_refused(tmp_path, capsys):
    raw = (ROOT / "examples" / "eighty_twenty.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(raw.replace("zone_inclusive = true ", 'zone_inclusive = "yes"', 1))
    assert main(["validate", str(path)]) == 2
    assert (
        capsys.readouterr().err
        == f'{path}: signal.zone_inclusive: must be true or false, got "yes"\n'
    )


def test_a_lower_case_symbol_is_noted(tmp_path, capsys):
    raw = (ROOT / "examples" / "eighty_twenty.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(raw.replace('symbol = "AAPL"', 'symbol = "aapl"', 1))
    data = tmp_path / "bars.csv"
    data.write_text(
        "symbol,start,open,high,low,close,volume\naapl,2012-11-26T15:00:00Z,10,10,10,10,1\n"
    )
    assert main(["validate", str(path), "--data", str(data)]) == 0
    _ok, *notes = capsys.readouterr().out.splitlines()
    assert notes == [
        f"note: {path}: instruments[0].symbol: 'aapl' is not upper case; brokers list 'AAPL'"
    ]
