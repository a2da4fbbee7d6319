"""Issue 18's must-show: every bad input, one table. Each case builds its input in a fresh
folder, runs ``tickstate`` in-process, and pins the exit code, the exact line(s) on stderr and
what stdout holds; none may print a traceback. Legal but suspicious inputs (no bars for a symbol,
a lower-case symbol, a ``--start`` on a Saturday, bars ``bar_minutes`` cannot be built from)
get one ``warning:`` or ``note:`` line. A case that would start a run ends before it trades:
a text file as its journal stops it once its warnings are said."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from strategies.cli import main
from tests.strategies import bad_input_cases as cases
from tests.strategies.bad_input_cases import (
    ALPACA,
    COMMAND_LINE_CASES,
    DATA,
    KEYS,
    MORE,
    RUN,
    STOP,
    STOPPED,
    Case,
    S,
    bars,
    flip_one_bit,
    flip_pages,
    foreign,
    journal,
    many_instruments,
    strategy,
    text,
    two_attempts,
)

#: A [broker] kind = "sim" that names the exchange ``tickstate sim`` serves (the venue fixture).
SIM_URLS = 'rest_url = "{rest}"\ntrading_stream_url = "{trading_ws}"\ndata_stream_url = "{data_ws}"'

CASES = [
    *COMMAND_LINE_CASES,
    # --- replay --------------------------------------------------------------------------------
    *[
        Case(
            f"replay: bars on {why}",
            ("replay", S, "--data", DATA),
            2,
            (
                f"{DATA}: none of its 1 bars of AAPL is in a regular session of the calendar (the first: AAPL at {start[:16]}Z; a weekend, a holiday, extended hours, or a year the calendar does not cover)",
            ),
            (),
            # MSFT has no bar either: its warning is not said when the replay fails
            (strategy(extra=MORE), bars(rows=[f"AAPL,{start},10,10,10,10,1"])),
        )
        for start, why in [
            ("2012-11-17T15:00:00Z", "a Saturday"),
            ("2012-11-22T15:00:00Z", "Thanksgiving"),
            ("1900-01-03T15:00:00Z", "1900"),
            ("9999-01-04T15:00:00Z", "9999"),
        ]
    ],
    Case(
        "replay: bar_minutes = 7 over 5-minute bars",
        ("replay", S, "--data", DATA),
        2,
        (f"{DATA}: 5-minute bars cannot make the strategy's 7-minute bars",),
        (),
        (strategy(("max_attempts = 1", "max_attempts = 1\nbar_minutes = 7")), bars()),
    ),
    Case(
        "replay: a symbol with no bars",
        ("replay", S, "--data", DATA),
        0,
        (f"warning: tickstate replay: no bars for MSFT in {DATA}; they will not trade",),
        None,
        (strategy(extra=MORE), bars()),
        more=True,
    ),
    Case(
        "replay: no symbol has bars",
        ("replay", S, "--data", "{tmp}/msft.csv"),
        2,
        ("{tmp}/msft.csv: no bars for AAPL",),
        (),
        (strategy(), bars("msft.csv", "MSFT")),
    ),
    Case(
        "replay: a lower-case symbol",
        ("replay", S, "--data", DATA),
        2,
        (f"{DATA}: no bars for aapl (the data has AAPL; symbols are case-sensitive)",),
        (),
        (strategy(('symbol = "AAPL"', 'symbol = "aapl"')), bars()),
    ),
    Case(
        "replay: --start after the data",
        ("replay", S, "--data", DATA, "--start", "2013-11-18"),
        2,
        (f"tickstate replay: --start 2013-11-18 is after the last session in {DATA} (2012-11-19)",),
        (),
        (strategy(), bars()),
    ),
    Case(
        "replay: a Saturday --start",
        ("replay", S, "--data", DATA, "--start", "2012-11-17"),
        0,
        ("warning: tickstate replay: --start 2012-11-17 is a Saturday; starting at 2012-11-19",),
        None,
        (strategy(), bars()),
        more=True,
    ),
    Case(
        "replay: no such data",
        ("replay", S, "--data", "{tmp}/nope.csv"),
        2,
        ("{tmp}/nope.csv: cannot read: No such file or directory",),
        (),
        (strategy(),),
    ),
    Case(
        "replay: a bar that is no bar",
        ("replay", S, "--data", DATA),
        2,
        (f"{DATA}: line 2, column low: low 9.5 is above high 9",),
        (),
        (strategy(), bars(rows=["AAPL,2012-11-15T15:00:00Z,10,9,9.5,10,1"])),
    ),
    Case(
        "replay: 5,000-deep nesting",
        ("replay", S, "--data", DATA),
        2,
        (f"{S}: invalid TOML: nested too deeply",),
        (),
        (text("s.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n"), bars()),
    ),
    # --- run: journals, each refused in one line, its bytes kept -----------------------------
    *[
        Case(
            f"run: a journal {what}",
            (*RUN, "--journal", f"{{tmp}}/{name}"),
            2,
            (line,),
            None,
            (strategy(), bars(), build),
            untouched=name,
        )
        for what, name, build, line in [
            (
                "that is a text file",
                "text.sqlite",
                text("text.sqlite", "hello\n"),
                "tickstate run: {tmp}/text.sqlite: not a tickstate journal: file is not a database",
            ),
            (
                "cut to one byte",
                "one.sqlite",
                journal("one.sqlite", lambda b: b[:1]),
                "tickstate run: {tmp}/one.sqlite: not a tickstate journal",
            ),
            (
                "cut to 100 bytes",
                "cut.sqlite",
                journal("cut.sqlite", lambda b: b[:100]),
                "tickstate run: {tmp}/cut.sqlite: the journal is damaged (database disk image is malformed); keep it and start a new one",
            ),
            (
                "cut in half",
                "half.sqlite",
                journal("half.sqlite", lambda b: b[: len(b) // 2]),
                "tickstate run: {tmp}/half.sqlite: the journal is damaged (database disk image is malformed); keep it and start a new one",
            ),
            (
                "with bit-flipped pages",
                "flipped.sqlite",
                journal("flipped.sqlite", flip_pages),
                "tickstate run: {tmp}/flipped.sqlite: the journal is damaged (Page 10: btreeInitPage() returns error code 11); keep it and start a new one",
            ),
            (
                "with one bit flipped",
                "bit.sqlite",
                journal("bit.sqlite", flip_one_bit),
                "tickstate run: {tmp}/bit.sqlite: the journal is damaged (Page 3: btreeInitPage() returns error code 11); keep it and start a new one",
            ),
            (
                "of another program",
                "foreign.sqlite",
                foreign,
                "tickstate run: {tmp}/foreign.sqlite: not a tickstate journal",
            ),
            (
                "of a newer schema",
                "newer.sqlite",
                journal("newer.sqlite", edit="PRAGMA user_version = 2"),
                "tickstate run: {tmp}/newer.sqlite: journal schema version 2, this tickstate reads 1",
            ),
        ]
    ],
    Case(
        "run: max_attempts edited under its journal",
        (*RUN, "--journal", "{tmp}/attempts.sqlite"),
        2,
        (
            "tickstate run: {tmp}/attempts.sqlite: seq 3 (AAPL): its entry_signal was accepted, "
            "the file's rules now decline it (attempts_left): run the file this journal was "
            "written with (max_attempts?)",
        ),
        None,
        (strategy(), bars(), two_attempts),
        untouched="attempts.sqlite",
    ),
    Case(
        "run: a journal that is a folder",
        (*RUN, "--journal", "{tmp}/dir.sqlite"),
        2,
        ("tickstate run: {tmp}/dir.sqlite: cannot open the journal: unable to open database file",),
        None,
        (strategy(), bars(), text("dir.sqlite/x", "")),
    ),
    # --- run: the data -------------------------------------------------------------------------
    Case(
        "run: a Saturday --start",
        ("run", S, "--start", "2012-11-17", *STOP),
        2,
        (
            "warning: tickstate run: --start 2012-11-17 is a Saturday; starting at 2012-11-19",
            STOPPED,
        ),
        None,
        (strategy(), bars(), text("stop.sqlite", "stop\n")),
    ),
    Case(
        "run: --start after the data",
        ("run", S, "--start", "2013-11-18", *STOP),
        2,
        (f"tickstate run: --start 2013-11-18 is after the last session in {DATA} (2012-11-19)",),
        (),
        (strategy(), bars(), text("stop.sqlite", "stop\n")),
    ),
    Case(
        "run: a symbol with no bars",
        (*RUN, *STOP),
        2,
        (f"warning: tickstate run: no bars for MSFT in {DATA}; they will not trade", STOPPED),
        None,
        (strategy(extra=MORE), bars(), text("stop.sqlite", "stop\n")),
    ),
    Case(
        "run: a lower-case symbol",
        (*RUN, *STOP),
        2,
        (f"{DATA}: no bars for aapl (the data has AAPL; symbols are case-sensitive)",),
        (),
        (strategy(('symbol = "AAPL"', 'symbol = "aapl"')), bars(), text("stop.sqlite", "stop\n")),
    ),
    Case(
        "run: 2,000 instruments",
        (*RUN, *STOP),
        2,
        (
            f"warning: tickstate run: no bars for S1, S2, S3, S4, S5 and 1,994 more in {DATA}; they will not trade",
            STOPPED,
        ),
        None,
        (many_instruments(2000), bars(), text("stop.sqlite", "stop\n")),
    ),
    Case(
        "run: no bars at all",
        (*RUN, *STOP),
        2,
        ("{tmp}/bars.csv: no bars for S0, S1, S2, S3, S4 and 1,995 more",),
        (),
        (
            bars(symbol="ZZZ"),
            strategy(
                ('symbol = "AAPL"', 'symbol = "S0"'),
                extra="".join(
                    f'[[instruments]]\nsymbol = "S{i}"\ntick = "0.01"\n' for i in range(1, 2000)
                ),
            ),
        ),
    ),
    Case(
        "run: 5,000-deep nesting",
        ("run", S),
        2,
        (f"{S}: invalid TOML: nested too deeply",),
        (),
        (text("s.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n"),),
    ),
    Case(
        "run: speed = inf in the file (it hung)",
        ("run", S),
        2,
        (f"{S}: broker.speed: must be a finite number, got Infinity",),
        (),
        (strategy(("speed = 100000", "speed = inf")), bars()),
    ),
    Case(
        "run: no data",
        ("run", S),
        2,
        (f"{S}: broker.data: no recorded bars; pass --data",),
        (),
        (strategy(('data = "bars.csv"', "seed = 0")),),
    ),
    Case(
        "run: a metrics port in use",
        (*RUN, "--metrics-port", "{busy}", *STOP),
        2,
        ("tickstate run: --metrics-port {busy}: address already in use",),
        None,
        (strategy(), bars(), text("stop.sqlite", "stop\n")),
    ),
    # --- run: the venue ------------------------------------------------------------------------
    Case(
        "run: no Alpaca keys",
        ("run", S),
        2,
        ("tickstate run: missing environment variable(s): APCA_API_KEY_ID, APCA_API_SECRET_KEY",),
        (),
        (strategy(ALPACA),),
        env={"APCA_API_KEY_ID": "", "APCA_API_SECRET_KEY": ""},
    ),
    Case(
        "run: wrong Alpaca keys",
        ("run", S),
        2,
        (
            "tickstate run: the broker refused the API keys in APCA_API_KEY_ID and APCA_API_SECRET_KEY (401: access key verification failed : verification failure)",
        ),
        None,
        (strategy(ALPACA),),
        env={"APCA_API_KEY_ID": "X", "APCA_API_SECRET_KEY": "Y"},
    ),
    Case(
        "run: tickstate sim's URLs unreachable",
        ("run", S),
        1,
        (
            "tickstate run: cannot reach the broker's historical bars at "
            "http://127.0.0.1:{closed}: GET /stocks/bars: connection failed",
        ),
        None,
        (
            strategy(
                (
                    "speed = 100000",
                    SIM_URLS.replace("{rest}", "http://127.0.0.1:{closed}")
                    .replace("{trading_ws}", "ws://127.0.0.1:{closed}/stream")
                    .replace("{data_ws}", "ws://127.0.0.1:{closed}/v2/iex"),
                )
            ),
            bars(),
        ),
        env={"APCA_API_KEY_ID": "X", "APCA_API_SECRET_KEY": "Y"},
    ),
    Case(
        "run: wrong keys for tickstate sim",
        ("run", S),
        2,
        (
            "tickstate run: the broker refused the API keys in APCA_API_KEY_ID and "
            "APCA_API_SECRET_KEY (401: access key verification failed : verification failure)",
        ),
        None,
        (strategy(("speed = 100000", SIM_URLS)), bars()),
        env={"APCA_API_KEY_ID": "X", "APCA_API_SECRET_KEY": "Y"},
    ),
    Case(
        "run: an unreachable exchange",
        ("run", S),
        1,
        (
            "tickstate run: cannot reach the broker's historical bars at http://127.0.0.1:{closed}: GET /stocks/bars: connection failed",
        ),
        None,
        (
            strategy(
                (
                    ALPACA[0],
                    ALPACA[1]
                    .replace("{rest}", "http://127.0.0.1:{closed}")
                    .replace("{data_rest}", "http://127.0.0.1:{closed}"),
                )
            ),
        ),
        env=KEYS,
    ),
    # --- sim -----------------------------------------------------------------------------------
    Case(
        "sim: a port in use",
        ("sim", "--port", "{busy}"),
        2,
        ("tickstate sim: --port {busy}: address already in use",),
    ),
    Case(
        "sim: a remote host without --allow-remote",
        ("sim", "--port", "0", "--host", "0.0.0.0"),
        2,
        (
            "tickstate sim: --host 0.0.0.0 is not a loopback address; add --allow-remote to serve other machines",
        ),
    ),
    Case(
        "sim: no such faults file",
        ("sim", "--port", "0", "--faults", "{tmp}/f.toml"),
        2,
        ("tickstate sim: {tmp}/f.toml: cannot read: No such file or directory",),
    ),
    Case(
        "sim: an unknown fault knob",
        ("sim", "--port", "0", "--faults", "{tmp}/f.toml"),
        2,
        (
            "tickstate sim: {tmp}/f.toml: dorp: not a fault knob (knobs: drop, duplicate, delay, "
            "delay_ms, reorder, close_after, rest_429, rest_5xx, rest_5xx_status, "
            "rest_fail_routes, rest_fail_first, rest_delay, rest_delay_routes, "
            "stream_before_response, cancel_filled_204, partial_fill, quiet_from, stray_bars)",
        ),
        (),
        (text("f.toml", "dorp = 0.1\n"),),
    ),
    Case(
        "sim: no such data",
        ("sim", "--port", "0", "--data", "{tmp}/nope.csv"),
        2,
        ("{tmp}/nope.csv: cannot read: No such file or directory",),
    ),
    # --- status, resume, new-signal ------------------------------------------------------------
    Case(
        "status: no such journal",
        ("status", "{tmp}/nope.sqlite"),
        2,
        ("tickstate status: {tmp}/nope.sqlite: no such journal",),
    ),
    Case(
        "status: a text file",
        ("status", "{tmp}/t.sqlite"),
        2,
        ("tickstate status: {tmp}/t.sqlite: not a tickstate journal: file is not a database",),
        (),
        (text("t.sqlite", "hello\n"),),
    ),
    Case(
        "status: --json and --diagram",
        ("status", "{tmp}/j.sqlite", "--json", "--diagram"),
        2,
        ("tickstate status: --json and --diagram: choose one",),
        (),
        (journal("j.sqlite"),),
    ),
    Case(
        "resume: a symbol not in the journal",
        ("resume", "{tmp}/j.sqlite", "ZZZ"),
        2,
        ("tickstate resume: {tmp}/j.sqlite: no symbol ZZZ in this journal",),
        (),
        (journal("j.sqlite"),),
        untouched="j.sqlite",
    ),
    Case(
        "resume: a symbol not halted",
        ("resume", "{tmp}/j.sqlite", "AAPL"),
        2,
        ("tickstate resume: {tmp}/j.sqlite: AAPL is not halted (flat)",),
        (),
        (journal("j.sqlite"),),
        untouched="j.sqlite",
    ),
    Case(
        "new-signal: a bad name",
        ("new-signal", "Gap Fade", "--dir", "{tmp}"),
        2,
        (
            "tickstate new-signal: 'Gap Fade' is not a signal name: lower-case letters, digits "
            "and _, starting with a letter (e.g. gap_fade)",
        ),
    ),
]


@pytest.fixture(scope="module")
def venue() -> Iterator[dict[str, str]]:
    """A simulated exchange to point ``kind = "alpaca"`` at (its keys: K and S), a port that
    is taken and one nobody listens on, all on 127.0.0.1."""
    from brokers import SimExchange

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    closed = free.getsockname()[1]
    free.close()
    with SimExchange([], port=0, key_id="K", secret_key="S") as sim:
        yield {
            "rest": sim.rest_url,
            "data_rest": sim.data_rest_url,
            "trading_ws": sim.trading_stream_url,
            "data_ws": sim.data_stream_url,
            "busy": str(busy.getsockname()[1]),
            "closed": str(closed),
        }
    busy.close()


def test_the_table_holds_every_case_issue_18_lists():
    """At least 60 bad inputs, each named once."""
    names = [case.name for case in CASES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_input_is_one_line_and_its_exit_code(
    case, tmp_path, venue, capsys, monkeypatch, request
):
    """The exact line(s) on stderr, the exit code, stdout as pinned, never a traceback."""
    fields = {"tmp": str(tmp_path), **venue}

    def filled(text: str) -> str:
        for key, value in fields.items():
            text = text.replace("{" + key + "}", value)
        return text

    if case.plugin:
        request.getfixturevalue("register_signal")("gap_fade", f"{cases.__name__}:GapFade")
    for build in case.build:
        build(tmp_path)
    for path in tmp_path.glob("*.toml"):  # the strategies name the venue's addresses
        written = path.read_bytes()
        if b"{" in written:
            path.write_text(filled(written.decode()))
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # runs/ and its logs land here
    kept = (tmp_path / case.untouched).read_bytes() if case.untouched else None
    try:
        code = main([filled(word) for word in case.argv])
    except SystemExit as exited:  # argparse
        code = exited.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == case.code, err
    lines = err.splitlines()
    if case.err is None:  # one line, whatever it says
        assert len(lines) == 1, err
        assert lines[0].strip(), err
    elif case.more:  # the warnings come first, said once
        said = [filled(line) for line in case.err]
        assert lines[: len(said)] == said
        assert not [line for line in lines[len(said) :] if line.startswith("warning:")]
    else:
        assert lines == [filled(line) for line in case.err]
    if case.out is None:  # a run's JSON lines, a replay's table: not this test's business
        pass
    else:
        assert out.splitlines() == [filled(line) for line in case.out]
    if kept is not None:
        assert (tmp_path / case.untouched).read_bytes() == kept
