"""``tickstate sim``: a rehearsal exchange — refuses a non-loopback host, takes every fault knob as
a flag or from a TOML file, waits for its first client, and serves until it is stopped."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import websocket

from strategies.cli import main


def test_non_loopback_host_without_allow_remote_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A public address without --allow-remote: one line on stderr, exit 2."""
    assert main(["sim", "--port", "0", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--allow-remote" in err  # the flag, not the constructor argument allow_remote=True


def test_bad_data_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV without the needed columns: one line naming the file, exit 2."""
    bad = tmp_path / "bars.csv"
    bad.write_text("symbol,open\nAAPL,1\n", encoding="utf-8")
    assert main(["sim", "--port", "0", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: line 1, column start: missing from the header")
    assert len(err.strip().splitlines()) == 1


class _Sim:
    """``tickstate sim`` as a process; its stdout read line by line on a thread."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "strategies.cli", "sim", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, name="sim-stdout", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, fragment: str) -> str:
        """The next line holding ``fragment`` (every line is kept in ``seen``)."""
        while True:
            line = self.lines.get(timeout=30)
            self.seen.append(line)
            if fragment in line:
                return line

    def stop(self) -> tuple[int, str]:
        """SIGINT (Ctrl-C); the exit code and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


def _url(line: str, scheme: str) -> str:
    return next(word for word in line.split() if word.startswith(scheme))


def _two_bars(tmp_path: Path) -> Path:
    data = tmp_path / "bars.csv"
    data.write_text(
        "symbol,start,open,high,low,close,volume\n"
        "AAPL,2026-11-23T14:30:00Z,100,101,99,100.5,1000\n"
        "AAPL,2026-11-23T14:31:00Z,100.5,101,100,100.75,900\n",
        encoding="utf-8",
    )
    return data


def test_waits_for_a_client_serves_the_data_and_stays_up_until_stopped(tmp_path: Path) -> None:
    """As a process: prints what it serves, holds its clock until a bar-stream client subscribes,
    replays, stays up after the data ends with its books readable, and Ctrl-C exits 0."""
    sim = _Sim("--data", str(_two_bars(tmp_path)), "--speed", "600", "--key-id", "KK", "--secret-key", "SS")
    try:
        serving = sim.expect("serving")
        rest, data = _url(serving, "http://"), next(w for w in serving.split() if w.endswith("/v2/iex"))
        assert "APCA_API_KEY_ID=KK APCA_API_SECRET_KEY=SS" in sim.expect("keys")
        assert "2026-11-23 14:30:00Z to 2026-11-23 14:32:00Z at 600x" in sim.expect("data")
        sim.expect("Ctrl-C stops")
        headers = {"APCA-API-KEY-ID": "KK", "APCA-API-SECRET-KEY": "SS"}
        clock = requests.get(rest + "/v2/clock", headers=headers, timeout=10).json()
        assert clock["timestamp"] == "2026-11-23T14:30:00Z"  # held: nobody watches yet
        ws = websocket.create_connection(data, timeout=10)
        try:
            ws.recv()
            ws.send(json.dumps({"action": "auth", "key": "KK", "secret": "SS"}))
            ws.recv()
            ws.send(json.dumps({"action": "subscribe", "bars": ["AAPL"]}))
            ws.recv()
            assert "the clock runs from 2026-11-23 14:30" in sim.expect("a client subscribed")
            assert [json.loads(ws.recv())[0]["t"] for _ in range(2)] == [
                "2026-11-23T14:30:00Z",
                "2026-11-23T14:31:00Z",
            ]
            assert "the books stay readable" in sim.expect("the data ended")
            assert sim.process.poll() is None
            orders = requests.get(rest + "/v2/orders", headers=headers, timeout=10)
            assert orders.status_code == 200
        finally:
            ws.close()
    finally:
        code, err = sim.stop()
    assert code == 0, err
    assert "Traceback" not in err
    assert "tickstate sim: stopped" in sim.expect("stopped")


def test_fault_knobs_come_from_a_toml_file_and_flags_override_it(tmp_path: Path) -> None:
    """--faults FILE.toml sets knobs; a flag wins over the file; both are printed."""
    faults = tmp_path / "faults.toml"
    faults.write_text('rest_5xx = 1.0\nrest_5xx_status = 502\nrest_delay_routes = ["GET /v2/clock"]\n')
    sim = _Sim("--faults", str(faults), "--rest-5xx-status", "504")
    try:
        rest = _url(sim.expect("serving"), "http://")
        shown = sim.expect("faults")
        assert "rest_5xx=1.0" in shown
        assert "rest_5xx_status=504" in shown
        assert "rest_delay_routes=('GET /v2/clock',)" in shown
        sim.expect("Ctrl-C stops")
        answer = requests.get(rest + "/v2/account", headers={"APCA-API-KEY-ID": "K", "APCA-API-SECRET-KEY": "S"}, timeout=10)
        assert answer.status_code == 504
    finally:
        code, err = sim.stop()
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--drop", "2"], "tickstate sim: SimFaults.drop must be a probability in [0, 1], not 2.0"),
        (["--drop", "x"], "tickstate sim: argument --drop: invalid float value: 'x'"),
        (["--rest-5xx-status", "404"], "tickstate sim: SimFaults.rest_5xx_status must be a 5xx status"),
        (["--speed", "0"], "tickstate sim: argument --speed: must be a speed from 0.001 to 1,000,000,000 times real time, got '0'"),
        (["--updated-bars", "1.5"], "tickstate sim: argument --updated-bars: must be a share from 0 to 1, got '1.5'"),
        (["--port", "99999"], "tickstate sim: argument --port: must be a port number 0-65535, got '99999'"),
        (["--no-such-flag"], "tickstate: unrecognized arguments: --no-such-flag"),
    ],
)
def test_a_bad_flag_is_one_line_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each mistake on the command line: one line on stderr, exit 2, no traceback."""
    argv = ["sim", "--port", "0", *args] if "--port" not in args else ["sim", *args]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside parse_args
        code = exc.code
    assert code == 2
    assert capsys.readouterr().err == message + "\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dropp = 0.1\n", "dropp: not a fault knob (knobs: drop, duplicate"),
        ("drop = \"lots\"\n", "drop: not a valid value: 'lots'"),
        ("drop = \n", "not valid TOML"),
    ],
)
def test_a_bad_faults_file_is_one_line_exit_2(
    tmp_path: Path, text: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A faults file with an unknown knob, a wrong value or bad TOML: one line naming it."""
    faults = tmp_path / "faults.toml"
    faults.write_text(text, encoding="utf-8")
    assert main(["sim", "--port", "0", "--faults", str(faults)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tickstate sim: {faults}: ")
    assert problem in err
    assert err.count("\n") == 1


def test_help_of_tickstate_stays_light_but_sim_help_lists_every_knob() -> None:
    """The knob flags are made from SimFaults, for ``sim`` only: each knob has its flag."""
    import dataclasses

    from brokers import SimFaults
    from strategies.cli import build_parser

    plain = build_parser().format_help()
    assert "--drop" not in plain
    done = subprocess.run(
        [sys.executable, "-m", "strategies.cli", "sim", "--help"], capture_output=True, text=True, check=True, timeout=60
    )
    for knob in dataclasses.fields(SimFaults):
        assert "--" + knob.name.replace("_", "-") in done.stdout, knob.name


def test_the_sessions_before_start_are_served_as_history(tmp_path: Path) -> None:
    """With ``--start``, the earlier sessions are not replayed but the historical API serves them:
    a run pointed at the exchange reads its look-back (D-1) there before its first session."""
    data = tmp_path / "bars.csv"
    data.write_text(
        "symbol,start,open,high,low,close,volume\n"
        "AAPL,2026-11-20T14:30:00Z,90,91,89,90.5,1000\n"
        "AAPL,2026-11-23T14:30:00Z,100,101,99,100.5,1000\n",
        encoding="utf-8",
    )
    sim = _Sim("--data", str(data), "--start", "2026-11-23", "--key-id", "KK", "--secret-key", "SS")
    try:
        rest = _url(sim.expect("serving"), "http://")
        sim.expect("keys")
        assert "2026-11-23 14:30:00Z to 2026-11-23 14:31:00Z" in sim.expect("data")  # one session
        sim.expect("Ctrl-C stops")
        answer = requests.get(
            rest + "/v2/stocks/bars",
            params={"symbols": "AAPL", "timeframe": "1Min", "start": "2026-11-20T00:00:00Z", "end": "2026-11-21T00:00:00Z"},
            headers={"APCA-API-KEY-ID": "KK", "APCA-API-SECRET-KEY": "SS"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert [bar["t"] for bar in answer.json()["bars"]["AAPL"]] == ["2026-11-20T14:30:00Z"]
    finally:
        code, err = sim.stop()
    assert code == 0, err
