"""The cases of issue 18's bad-input table (``test_bad_input_table.py``): how each input is built
in a fresh folder (``{tmp}``), and the cases of the command line itself: flags and strategy files."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

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


def flip_pages(data: bytes) -> bytes:
    damaged = bytearray(data)
    for offset in range(4096, len(damaged), 4096):  # every page's b-tree header but the first
        damaged[offset] ^= 0xFF
    return bytes(damaged)


def flip_one_bit(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[8192] ^= 0x10  # the b-tree header of the journal's third page
    return bytes(damaged)


def foreign(tmp: Path) -> None:
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


COMMAND_LINE_CASES = [
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
        ("run", S, "--command-workers", "65"),
        "tickstate run: argument --command-workers: must be a whole number 0-64 (0: the engine "
        "thread), got '65'",
    ),
    flag(
        ("run", S, "--command-workers", "-1"),
        "tickstate run: argument --command-workers: must be a whole number 0-64 (0: the engine "
        "thread), got '-1'",
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
        "tickstate: argument COMMAND: invalid choice: 'frobnicate' (choose from 'diagram', 'validate', 'schema', 'replay', 'sweep', 'run', 'verify', 'status', 'resume', 'new-signal', 'sim')",
    ),
    flag(
        ("rnu",),
        "tickstate: argument COMMAND: invalid choice: 'rnu' (choose from 'diagram', 'validate', 'schema', 'replay', 'sweep', 'run', 'verify', 'status', 'resume', 'new-signal', 'sim') (did you mean \"run\"?)",
    ),
    flag(
        ("run", S, "--speeed", "5"),
        'tickstate: unrecognized arguments: --speeed 5 (did you mean "--speed"?)',
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
]
