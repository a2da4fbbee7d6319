"""Issue 18's must-show: every bad input, one table. Each case builds its input in a fresh
folder, runs ``tickstate`` in-process, and pins the exit code, the exact line(s) on stderr and
what stdout holds; none may print a traceback. Legal but suspicious inputs (no bars for a symbol,
a lower-case symbol, a ``--start`` on a Saturday, bars ``bar_minutes`` cannot be built from)
get one ``warning:`` or ``note:`` line. A case that would start a run ends before it trades:
a text file as its journal stops it once its warnings are said."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from strategies.cli import main

#: A strategy on ``bars.csv`` beside it: 80-20 on AAPL, one attempt a day.
BASE = """\
name = "bad"
max_attempts = 1
[signal]
kind = "eighty_twenty"
[session]
calendar = "XNYS"
[sizing]
fixed_qty = 100
[broker]
kind = "sim"
speed = 100000
data = "bars.csv"
[[instruments]]
symbol = "AAPL"
tick = "0.01"
"""
DAYS = ("2012-11-14", "2012-11-15", "2012-11-16", "2012-11-19")  # Wed, Thu, Fri, Mon
HEADER = "symbol,start,open,high,low,close,volume"
MORE = '[[instruments]]\nsymbol = "MSFT"\ntick = "0.01"\n'

Build = Callable[[Path], None]


def bars(
    name: str = "bars.csv", symbol: str = "AAPL", step: int = 5, rows: list[str] | None = None
) -> Build:
    """Six ``step``-minute bars of ``symbol`` from each of ``DAYS``' opens (or ``rows``)."""

    def build(tmp: Path) -> None:
        lines = (
            rows
            if rows is not None
            else [
                f"{symbol},{day}T{14 + (30 + i * step) // 60:02d}:{(30 + i * step) % 60:02d}:00Z,"
                "10,10.5,9.5,10,100"
                for day in DAYS
                for i in range(6)
            ]
        )
        (tmp / name).write_text("\n".join([HEADER, *lines]) + "\n")

    return build


def strategy(*edits: tuple[str, str], extra: str = "", name: str = "s.toml") -> Build:
    """``BASE`` with each ``(old, new)`` replaced once, and ``extra`` appended."""

    def build(tmp: Path) -> None:
        text = BASE
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        (tmp / name).write_text(text + extra)

    return build


def text(name: str, content: str | bytes) -> Build:
    def build(tmp: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return build


def journal(name: str, damage: Callable[[bytes], bytes] | None = None, *, edit: str = "") -> Build:
    """A real journal (a few days traded by the echo driver), then ``damage`` done to its bytes
    or ``edit`` run on it as SQL."""

    def build(tmp: Path) -> None:
        path = tmp / name
        path.write_bytes(_journal_bytes())
        if edit:
            db = sqlite3.connect(path)
            db.execute(edit)
            db.commit()
            db.close()  # checkpointed: the file holds the edit, as a later reader finds it
        if damage is not None:
            path.write_bytes(damage(path.read_bytes()))

    return build


_JOURNAL: list[bytes] = []


def _journal_bytes() -> bytes:
    if not _JOURNAL:
        import tempfile

        from strategies.journal import Journal
        from tests.strategies.journaling import Driver, trade_days

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "j.sqlite"
            with Journal(path) as opened:
                trade_days(Driver(opened), 3)
            _JOURNAL.append(path.read_bytes())
    return _JOURNAL[0]


def _flip_pages(data: bytes) -> bytes:
    damaged = bytearray(data)
    for offset in range(4096, len(damaged), 4096):  # every page's b-tree header but the first
        damaged[offset] ^= 0xFF
    return bytes(damaged)


def _flip_one_bit(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[8192] ^= 0x10  # the b-tree header of the journal's third page
    return bytes(damaged)


def _foreign(tmp: Path) -> None:
    db = sqlite3.connect(tmp / "foreign.sqlite")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()


def two_attempts(tmp: Path) -> None:
    """``attempts.sqlite``: a run of ``BASE`` with ``max_attempts = 2`` that entered AAPL twice
    on 2012-11-15 (each entry refused by the venue)."""
    import tomllib
    from datetime import UTC, date, datetime

    import machines as m
    from strategies.journal import Journal
    from strategies.spec import validate_strategy

    data = tomllib.loads(BASE.replace("max_attempts = 1", "max_attempts = 2"))
    rules = validate_strategy(data).rules()["AAPL"]
    day, at = date(2012, 11, 15), datetime(2012, 11, 15, 15, 0, tzinfo=UTC)
    leg = m.EntryLeg(side=m.Side.BUY, entry_price=Decimal("10.02"), initial_stop=Decimal("9.37"))
    with Journal(tmp / "attempts.sqlite") as opened:
        opened.begin_run(strategy="bad", config_path=None, trading_date=day, run_id="first")
        desk = m.Desk(strategy="bad", trading_date=day, rules=rules)
        for _ in range(2):
            entered = desk.fire("AAPL", m.EntrySignalled(at=at, qty=Decimal(100), legs=(leg,)))
            opened.record(entered)
            (order,) = entered.commands
            refused = m.OrderRejected(client_order_id=order.client_order_id, at=at, reason="no")
            opened.record(desk.fire("AAPL", refused))


def many_instruments(count: int) -> Build:
    instruments = "".join(
        f'[[instruments]]\nsymbol = "S{i}"\ntick = "0.01"\n' for i in range(1, count)
    )
    return strategy(extra=instruments)


class _GapParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gap_pct: Decimal = Field(gt=0)


class GapFade:
    """A plugin's signal with its own parameters, registered for the cases that name it."""

    Params = _GapParams


@dataclass(frozen=True)
class Case:
    """One bad input: the files built in ``{tmp}``, the command line, and what it must answer.
    ``out`` is stdout's exact lines, or None when it holds a run's JSON log lines or a replay's
    table (not this test's business); ``err`` None: any one line."""

    name: str
    argv: tuple[str, ...]
    code: int
    err: tuple[str, ...]
    out: tuple[str, ...] | None = ()
    build: tuple[Build, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    plugin: bool = False
    untouched: str | None = None  # a file (in {tmp}) that must keep its bytes
    more: bool = False  # stderr goes on after ``err``: a replay's table and its log


S = "{tmp}/s.toml"
DATA = "{tmp}/bars.csv"
RUN = ("run", S, "--start", "2012-11-15")
STOP = ("--journal", "{tmp}/stop.sqlite")  # a text file: the run ends before it trades
STOPPED = "tickstate run: {tmp}/stop.sqlite: not a tickstate journal: file is not a database"
SPEEDS = "must be a speed from 0.001 to 1,000,000,000 times real time"
ALPACA = (
    'kind = "sim"\nspeed = 100000\ndata = "bars.csv"',
    'kind = "alpaca"\nrest_url = "{rest}"\ndata_rest_url = "{data_rest}"\n'
    'trading_stream_url = "{trading_ws}"\ndata_stream_url = "{data_ws}"',
)
KEYS = {"APCA_API_KEY_ID": "K", "APCA_API_SECRET_KEY": "S"}


def flag(argv: tuple[str, ...], line: str) -> Case:
    """A flag's bad value: argparse's one line, exit 2."""
    return Case(" ".join(word for word in argv if word != S), argv, 2, (line,))


def validate(
    name: str, build: Build, line: str, *, code: int = 2, out: tuple[str, ...] = ()
) -> Case:
    return Case(
        f"validate: {name}", ("validate", S), code, (line,) if line else (), out, (build, bars())
    )


CASES = [
    # --- flags: each says what it wants ------------------------------------------------------
    flag(
        ("run", S, "--days", "-3"),
        "tickstate run: argument --days: must be a whole number of at least 1, got '-3'",
    ),
    flag(
        ("run", S, "--days", "0"),
        "tickstate run: argument --days: must be a whole number of at least 1, got '0'",
    ),
    flag(
        ("run", S, "--days", "two"),
        "tickstate run: argument --days: must be a whole number of at least 1, got 'two'",
    ),
    flag(
        ("run", S, "--poll-interval", "0"),
        "tickstate run: argument --poll-interval: must be at least 0.1 seconds, got '0'",
    ),
    flag(
        ("run", S, "--poll-interval", "nan"),
        "tickstate run: argument --poll-interval: must be at least 0.1 seconds, got 'nan'",
    ),
    flag(
        ("run", S, "--start", "2012-13-45"),
        "tickstate run: argument --start: must be a date as YYYY-MM-DD, got '2012-13-45'",
    ),
    flag(("run", S, "--speed", "inf"), f"tickstate run: argument --speed: {SPEEDS}, got 'inf'"),
    flag(("run", S, "--speed", "1e10"), f"tickstate run: argument --speed: {SPEEDS}, got '1e10'"),
    flag(("run", S, "--speed", "0"), f"tickstate run: argument --speed: {SPEEDS}, got '0'"),
    flag(
        ("run", S, "--daily-loss-limit", "-5"),
        "tickstate run: argument --daily-loss-limit: must be a positive amount such as 500.00, got '-5'",
    ),
    flag(
        ("run", S, "--daily-loss-limit", "lots"),
        "tickstate run: argument --daily-loss-limit: must be a positive amount such as 500.00, got 'lots'",
    ),
    flag(
        ("run", S, "--metrics-port", "99999"),
        "tickstate run: argument --metrics-port: must be a port number 0-65535, got '99999'",
    ),
    flag(("run", S, "--seed", "abc"), "tickstate run: argument --seed: invalid int value: 'abc'"),
    flag(
        ("replay", S, "--data", DATA, "--model", "fancy"),
        "tickstate replay: argument --model: invalid choice: 'fancy' (choose from 'twin', 'plain')",
    ),
    flag(("replay", S), "tickstate replay: the following arguments are required: --data"),
    flag(
        ("replay", S, "--data", DATA, "--start", "2012-02-30"),
        "tickstate replay: argument --start: must be a date as YYYY-MM-DD, got '2012-02-30'",
    ),
    flag(
        ("sim", "--port", "99999"),
        "tickstate sim: argument --port: must be a port number 0-65535, got '99999'",
    ),
    flag(
        ("sim", "--port", "0", "--speed", "1e-300"),
        f"tickstate sim: argument --speed: {SPEEDS}, got '1e-300'",
    ),
    flag(
        ("sim", "--port", "0", "--start", "2012-02-30"),
        "tickstate sim: argument --start: must be a date as YYYY-MM-DD, got '2012-02-30'",
    ),
    flag(
        ("sim", "--port", "0", "--days", "-1"),
        "tickstate sim: argument --days: must be a whole number of at least 1, got '-1'",
    ),
    flag(
        ("sim", "--port", "0", "--updated-bars", "2"),
        "tickstate sim: argument --updated-bars: must be a share from 0 to 1, got '2'",
    ),
    flag(
        ("sim", "--port", "0", "--rate-limit", "0"),
        "tickstate sim: argument --rate-limit: must be a whole number of at least 1, got '0'",
    ),
    flag(("sim",), "tickstate sim: the following arguments are required: --port"),
    flag(
        ("status", "--format", "png"),
        "tickstate status: argument --format: invalid choice: 'png' (choose from 'mermaid', 'dot', 'svg')",
    ),
    flag(
        ("frobnicate",),
        "tickstate: argument COMMAND: invalid choice: 'frobnicate' (choose from 'diagram', 'validate', 'schema', 'replay', 'run', 'verify', 'status', 'resume', 'new-signal', 'sim')",
    ),
    # --- strategy files: `file: key: problem` -----------------------------------------------
    *[
        validate(
            f"speed = {speed}",
            strategy(("speed = 100000", f"speed = {speed}")),
            f"{S}: broker.speed: {problem}, got {got}",
        )
        for speed, problem, got in [
            ("inf", "must be a finite number", "Infinity"),
            ("nan", "must be a finite number", "NaN"),
            ("1e-300", "must be >= 0.001", "1E-300"),
            ("1e10", "must be <= 1000000000.0", "1E+10"),
            ("0", "must be >= 0.001", "0"),
        ]
    ],
    validate(
        "a broken IPv6 host",
        strategy(('kind = "sim"', 'kind = "sim"\nrest_url = "http://[::1"')),
        f'{S}: broker.rest_url: is not a URL (Invalid IPv6 URL), got "http://[::1"',
    ),
    validate(
        "a port past 65535",
        strategy(('kind = "sim"', 'kind = "sim"\nrest_url = "http://127.0.0.1:70000"')),
        f'{S}: broker.rest_url: is not a URL (Port out of range 0-65535), got "http://127.0.0.1:70000"',
    ),
    validate(
        "a URL with no host",
        strategy(('kind = "sim"', 'kind = "sim"\nrest_url = "http://:80"')),
        f'{S}: broker.rest_url: names no host, got "http://:80"',
    ),
    validate(
        "tick = 1e-30",
        strategy(('tick = "0.01"', 'tick = "1e-30"')),
        f'{S}: instruments[0].tick: must be from 0.0001 to 1000, got "1e-30"',
    ),
    validate(
        "5,000-deep nesting",
        text("s.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n"),
        f"{S}: invalid TOML: nested too deeply",
    ),
    validate(
        'zone_inclusive = "yes"',
        strategy(('kind = "eighty_twenty"', 'kind = "eighty_twenty"\nzone_inclusive = "yes"')),
        f'{S}: signal.zone_inclusive: must be true or false, got "yes"',
    ),
    validate(
        "a misspelt key",
        strategy(("max_attempts", "max_attempt")),
        f'{S}: max_attempt: unknown key; did you mean "max_attempts"?',
    ),
    validate(
        "a misspelt signal",
        strategy(('"eighty_twenty"', '"eighty_twentyy"')),
        f'{S}: signal.kind: unknown signal "eighty_twentyy"; did you mean "eighty_twenty"?',
    ),
    validate(
        "a misspelt signal parameter",
        strategy(('kind = "eighty_twenty"', 'kind = "eighty_twenty"\nzonee = 0.2')),
        f'{S}: signal.zonee: unknown key; did you mean "zone"?',
    ),
    validate(
        "speed under kind = alpaca",
        strategy(
            (
                *ALPACA[:1],
                'kind = "alpaca"\nspeed = 60',
            )
        ),
        f'{S}: broker.speed: unknown key for kind = "alpaca"; only kind = "sim" takes speed',
    ),
    validate(
        "data under kind = alpaca",
        strategy(
            (
                *ALPACA[:1],
                'kind = "alpaca"\ndata = "bars.csv"',
            )
        ),
        f'{S}: broker.data: unknown key for kind = "alpaca"; only kind = "sim" takes data',
    ),
    validate(
        "a misspelt IANA zone",
        strategy(('calendar = "XNYS"', 'calendar = "XNYS"\ntimezone = "America/NewYork"')),
        f'{S}: session.timezone: unknown IANA timezone, got "America/NewYork" (did you mean "America/New_York"?)',
    ),
    validate(
        "a zone the calendar does not trade in",
        strategy(('calendar = "XNYS"', 'calendar = "XNYS"\ntimezone = "Europe/London"')),
        f'{S}: session.timezone: XNYS trades in America/New_York, got "Europe/London"',
    ),
    validate(
        "an unknown calendar",
        strategy(('calendar = "XNYS"', 'calendar = "NYSE2"')),
        f'{S}: session.calendar: unknown trading calendar; use XNYS, XNSE or an exchange_calendars name, got "NYSE2"',
    ),
    validate(
        "a quantity no order has",
        strategy(("fixed_qty = 100", "fixed_qty = 1000000000000000")),
        f"{S}: sizing.fixed_qty: must be <= 1000000, got 1000000000000000",
    ),
    validate(
        "no shares",
        strategy(("fixed_qty = 100", "fixed_qty = 0")),
        f"{S}: sizing.fixed_qty: must be >= 1, got 0",
    ),
    validate(
        "half a share",
        strategy(("fixed_qty = 100", "fixed_qty = 1.5")),
        f"{S}: sizing.fixed_qty: must be an integer, got 1.5",
    ),
    validate(
        "a risk no order has",
        strategy(("fixed_qty = 100", 'risk_per_trade = "1e30"')),
        f'{S}: sizing.risk_per_trade: must be from 0.01 to 1,000,000, got "1E+30"',
    ),
    validate(
        "a risk that sizes every entry at 0",
        strategy(("fixed_qty = 100", 'risk_per_trade = "0.0001"')),
        f'{S}: sizing.risk_per_trade: must be from 0.01 to 1,000,000, got "0.0001"',
    ),
    validate(
        "both sizes",
        strategy(("fixed_qty = 100", 'fixed_qty = 100\nrisk_per_trade = "250"')),
        f"{S}: sizing: set exactly one of fixed_qty or risk_per_trade",
    ),
    validate(
        "keys in the file",
        strategy(('kind = "sim"', 'kind = "sim"\nkey_id = "K"')),
        f"{S}: broker.key_id: unknown key; credentials never go in a strategy file (set them in the environment)",
    ),
    validate(
        "kind = paper",
        strategy(('kind = "sim"\nspeed = 100000\ndata = "bars.csv"', 'kind = "paper"')),
        f'{S}: broker.kind: must be one of "sim", "alpaca", got "paper" (replays always use the in-process paper broker; run needs a venue)',
    ),
    validate(
        "a square-off after the close",
        strategy(("max_attempts = 1", 'max_attempts = 1\nsquare_off = "16:30"')),
        f"{S}: square_off: must be before the close 16:00",
    ),
    validate(
        "a name no order id can carry",
        strategy(('name = "bad"', 'name = "bad name"')),
        f'{S}: name: must be letters, digits or _ (it starts every client order id), got "bad name"',
    ),
    validate(
        "not TOML",
        text("s.toml", "name = \n"),
        f"{S}: line 1, column 8: invalid TOML: invalid value",
    ),
    validate(
        "not UTF-8",
        text("s.toml", b'name = "\xff"\n'),
        f"{S}: cannot read the file: it is not UTF-8 text",
    ),
    Case(
        "validate: no such file",
        ("validate", "{tmp}/missing.toml"),
        2,
        ("{tmp}/missing.toml: cannot read the file: No such file or directory",),
    ),
    validate(
        "a lower-case symbol",
        strategy(('symbol = "AAPL"', 'symbol = "aapl"')),
        "",
        code=0,
        out=(
            f"ok: {S} (strategy bad, 1 instrument)",
            f"note: {S}: instruments[0].symbol: 'aapl' is not upper case; brokers list 'AAPL'",
        ),
    ),
    validate(
        "bar_minutes = 7 over 5-minute bars",
        strategy(("max_attempts = 1", "max_attempts = 1\nbar_minutes = 7")),
        "",
        code=0,
        out=(
            f"ok: {S} (strategy bad, 1 instrument)",
            f"warning: {S}: bar_minutes: 7-minute bars cannot be built from the 5-minute bars in {DATA}; replay and run will refuse it",
        ),
    ),
    Case(
        "validate: 2,000 instruments",
        ("validate", S),
        0,
        (),
        (f"ok: {S} (strategy bad, 2000 instruments)",),
        (many_instruments(2000), bars()),
    ),
    Case(
        "validate: a plugin's misspelt parameter",
        ("validate", S),
        2,
        (f'{S}: signal.gap_pc: unknown key; did you mean "gap_pct"?',),
        (),
        (strategy(('kind = "eighty_twenty"', 'kind = "gap_fade"\ngap_pct = 1\ngap_pc = 1')),),
        plugin=True,
    ),
    Case(
        "validate: an unknown signal lists the plugins too",
        ("validate", S),
        2,
        (
            f'{S}: signal.kind: unknown signal "momentum"; expected one of: eighty_twenty, gap_fade, opening_range_breakout',
        ),
        (),
        (strategy(('"eighty_twenty"', '"momentum"')),),
        plugin=True,
    ),
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
            (strategy(), bars(rows=[f"AAPL,{start},10,10,10,10,1"])),
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
                journal("flipped.sqlite", _flip_pages),
                "tickstate run: {tmp}/flipped.sqlite: the journal is damaged (Page 10: btreeInitPage() returns error code 11); keep it and start a new one",
            ),
            (
                "with one bit flipped",
                "bit.sqlite",
                journal("bit.sqlite", _flip_one_bit),
                "tickstate run: {tmp}/bit.sqlite: the journal is damaged (Page 3: btreeInitPage() returns error code 11); keep it and start a new one",
            ),
            (
                "of another program",
                "foreign.sqlite",
                _foreign,
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
        None,
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
    Case("new-signal: a bad name", ("new-signal", "Gap Fade", "--dir", "{tmp}"), 2, None),
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
        request.getfixturevalue("register_signal")("gap_fade", f"{__name__}:GapFade")
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
