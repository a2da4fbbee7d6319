"""``tickstate sim``: the simulated exchange as a rehearsal venue, served until it is stopped.

It holds its clock at the data's start until a bar-stream client subscribes (``tickstate run``
does), replays the data at ``--speed``, and stays up after the data ends so the books can be
read, until Ctrl-C or SIGTERM. Every fault knob of ``SimFaults`` is a flag (``--drop 0.1``,
``--rest-delay-routes "POST /v2/orders"``) and a key of an optional ``--faults FILE.toml``;
flags win over the file. The knob flags are made from ``SimFaults`` itself, and only when the
command line asks for ``sim`` — so a new knob gets its flag, and ``tickstate --help`` still
loads nothing but the parser. Mistakes are one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import tomllib
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType, UnionType
from typing import TYPE_CHECKING, Any

from strategies.cli import _args as args_

if TYPE_CHECKING:
    from brokers import Bar, SimExchange, SimFaults

__all__ = ["add_fault_flags", "add_sim_arguments", "bind_problem", "run_sim"]

EXIT_OK, EXIT_USAGE = 0, 2
#: Where the knob flags' values land in the namespace: ``fault_<name>``.
_PREFIX = "fault_"
_POLL = 0.2  # seconds between looks at the exchange's state while serving


def add_sim_arguments(sim: argparse.ArgumentParser, port: Callable[[str], int]) -> None:
    """The exchange's own flags (the fault knobs come from ``add_fault_flags``)."""
    sim.add_argument("--port", type=port, required=True, help="TCP port (0: any free one)")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    sim.add_argument("--data", type=Path, help="recorded bars: a CSV file or a folder of them")
    sim.add_argument(
        "--start",
        type=args_.session_date,
        default=None,
        help="first session of the data to replay, YYYY-MM-DD (default: the data's first)",
    )
    sim.add_argument(
        "--days",
        type=args_.count,
        default=None,
        help="sessions to replay (default: all from --start)",
    )
    sim.add_argument("--speed", type=args_.speed, default=1.0, help="times real time (default: 1)")
    sim.add_argument("--seed", type=int, default=0, help="seed of ids and faults (default: 0)")
    sim.add_argument("--key-id", default="K", help="accepted API key id (default: K)")
    sim.add_argument("--secret-key", default="S", help="accepted API secret (default: S)")
    sim.add_argument(
        "--rate-limit",
        type=args_.count,
        default=200,
        help="requests a minute per key (default: 200)",
    )
    sim.add_argument(
        "--data-connections",
        type=args_.count,
        default=1,
        help="bar-stream connections a key may hold at once (default: 1, as Alpaca's free plan)",
    )
    sim.add_argument(
        "--updated-bars",
        type=args_.share,
        default=0.05,
        help="share of bars first sent without a late print, then on updatedBars (default 0.05)",
    )
    sim.add_argument(
        "--faults",
        type=Path,
        default=None,
        metavar="FILE.toml",
        help="fault knobs as TOML keys (drop = 0.1, ...); flags win over the file",
    )
    sim.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )


def bind_problem(flag: str, exc: OSError) -> str:
    """Why binding ``flag``'s address failed, in the CLI's words: ``--port 8080: address
    already in use`` (not asyncio's ``error while attempting to bind on address (...)``)."""
    import os

    why = os.strerror(exc.errno) if exc.errno else (exc.strerror or str(exc))
    return f"{flag}: {why[:1].lower()}{why[1:]}"


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _knobs() -> dict[str, tuple[Any, Any]]:
    """Every ``SimFaults`` field: its type and default."""
    import dataclasses

    from brokers import SimFaults

    hints = typing.get_type_hints(SimFaults)
    return {f.name: (hints[f.name], f.default) for f in dataclasses.fields(SimFaults)}


def _items(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _parser_of(kind: Any) -> Callable[[str], Any] | None:
    """How to read a knob of type ``kind`` from the command line (None: a switch)."""
    if kind is bool:
        return None
    if isinstance(kind, UnionType):  # ``int | None``: the value, when given, is the int
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if typing.get_origin(kind) is tuple:
        return _items
    if kind is float:
        return float
    if kind is int:
        return int
    return str


def add_fault_flags(sim: argparse.ArgumentParser) -> None:
    """A flag for every ``SimFaults`` knob: ``--rest-5xx-status 502``, ``--no-...`` for switches."""
    group = sim.add_argument_group("fault knobs (SimFaults; all off by default)")
    for name, (kind, default) in _knobs().items():
        flag = "--" + name.replace("_", "-")
        shown = ",".join(default) if isinstance(default, tuple) else default
        parse = _parser_of(kind)
        if parse is None:
            group.add_argument(
                flag,
                dest=_PREFIX + name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"SimFaults.{name} (default: {shown})",
            )
        else:
            what = "a comma-separated list" if parse is _items else kind
            group.add_argument(
                flag,
                dest=_PREFIX + name,
                type=parse,
                default=None,
                metavar=name.upper(),
                help=f"SimFaults.{name}: {getattr(what, '__name__', what)} (default: {shown})",
            )


def _faults(args: argparse.Namespace) -> SimFaults:
    """The knobs of ``--faults FILE`` with the flags over them; ``ValueError`` names a bad one."""
    from brokers import SimFaults

    knobs = _knobs()
    chosen: dict[str, Any] = {}
    if args.faults is not None:
        chosen.update(_faults_file(args.faults, knobs))
    for name in knobs:
        value = getattr(args, _PREFIX + name, None)
        if value is not None:
            chosen[name] = value
    return SimFaults(**chosen)


def _faults_file(path: Path, knobs: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    found: dict[str, Any] = {}
    for name, value in table.items():
        if name not in knobs:
            raise ValueError(f"{path}: {name}: not a fault knob (knobs: {', '.join(knobs)})")
        kind = knobs[name][0]
        parse = _parser_of(kind)
        try:
            found[name] = _from_toml(value, parse)
        except (TypeError, ValueError):
            raise ValueError(f"{path}: {name}: not a valid value: {value!r}") from None
    return found


def _from_toml(value: Any, parse: Callable[[str], Any] | None) -> Any:
    if parse is None:
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if parse is _items:
        if isinstance(value, str):
            return _items(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError(value)
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    if parse is int and not isinstance(value, int):
        raise TypeError(value)
    return parse(str(value))


def _window(bars: list[Bar], start: date | None, days: int | None) -> list[Bar]:
    """The bars of ``days`` sessions (New York dates) from ``start``."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    sessions = sorted({b.start.astimezone(zone).date() for b in bars})
    keep = [d for d in sessions if start is None or d >= start]
    if days is not None:
        keep = keep[:days]
    wanted = set(keep)
    return [b for b in bars if b.start.astimezone(zone).date() in wanted]


def run_sim(args: argparse.Namespace) -> int:
    """Serve the exchange until Ctrl-C or SIGTERM; print what it serves and what it does."""
    from brokers import SimExchange
    from strategies._exceptions import DataError
    from strategies.run import load_bars

    try:
        bars = load_bars(args.data) if args.data else []
    except DataError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    history: list[Bar] = []
    if bars and (args.start is not None or args.days is not None):
        window = _window(bars, args.start, args.days)
        if not window:
            print(f"{args.data}: no bars from {args.start}", file=sys.stderr)
            return EXIT_USAGE
        # The sessions before --start are the look-back a run reads at start-up (D-1 for
        # 80-20): served by the historical API, as tickstate run's in-process exchange does.
        history = [bar for bar in bars if bar.start < window[0].start]
        bars = window
    if not args.allow_remote and not _is_loopback(args.host):
        print(
            f"tickstate sim: --host {args.host} is not a loopback address; add --allow-remote "
            "to serve other machines",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        faults = _faults(args)
        sim = SimExchange(
            bars,
            host=args.host,
            port=args.port,
            speed=args.speed,
            seed=args.seed,
            key_id=args.key_id,
            secret_key=args.secret_key,
            allow_remote=args.allow_remote,
            faults=faults,
            rate_limit=args.rate_limit,
            hold_until_subscribed=True,
            updated_bars=args.updated_bars,
            data_connections=args.data_connections,
            history=history,
        )
    except ValueError as exc:
        print(f"tickstate sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stopped = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    try:
        sim.start()  # binds the port; a failure leaves nothing running
    except OSError as exc:
        print(f"tickstate sim: {bind_problem(f'--port {args.port}', exc)}", file=sys.stderr)
        return EXIT_USAGE
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        try:  # Ctrl-C may come at any moment once the exchange serves, even mid-print
            _announce(sim, args, faults)
            _serve(sim, stopped)
        except KeyboardInterrupt:
            pass
    finally:
        sim.stop()
        signal.signal(signal.SIGTERM, previous)
    print("tickstate sim: stopped", flush=True)
    return EXIT_OK


def _announce(sim: SimExchange, args: argparse.Namespace, faults: SimFaults) -> None:
    import dataclasses

    from brokers import SimFaults

    lines = [
        f"tickstate sim: serving {sim.rest_url} {sim.trading_stream_url} {sim.data_stream_url}",
        f"  trading REST    {sim.rest_url}/v2   (orders, positions, account, calendar, clock)",
        f"  market data     {sim.data_rest_url}/v2/stocks/bars   (historical bars)",
        f"  trading stream  {sim.trading_stream_url}",
        f"  bar stream      {sim.data_stream_url}   (bars, updatedBars, dailyBars)",
        f"  keys            APCA_API_KEY_ID={args.key_id} APCA_API_SECRET_KEY={args.secret_key}",
    ]
    window = sim.data_window
    if window is None:
        lines.append(f"  data            none: the clock stands at {_utc(sim.clock.now())}")
    else:
        first, last = window
        lines.append(
            f"  data            {args.data}: {_utc(first)} to {_utc(last)} at {args.speed:g}x"
            "; the clock waits for a bar-stream client"
        )
    changed = {
        f.name: getattr(faults, f.name)
        for f in dataclasses.fields(SimFaults)
        if getattr(faults, f.name) != f.default
    }
    shown = ", ".join(f"{k}={v}" for k, v in changed.items()) or "none"
    lines.append(f"  faults          {shown}")
    lines.append(
        '  tickstate run   [broker] kind = "sim", rest_url, trading_stream_url and'
        " data_stream_url as above; the keys in the environment"
    )
    lines.append("  Ctrl-C stops")
    print("\n".join(lines), flush=True)


def _serve(sim: SimExchange, stopped: threading.Event) -> None:
    """Wait for Ctrl-C or SIGTERM, saying when the clock starts and when the data ends."""
    window = sim.data_window
    started = ended = window is None
    while not stopped.wait(_POLL):
        if not started and window is not None and sim.wait_for_subscribers(1, timeout=0):
            started = True
            print(f"tickstate sim: a client subscribed; the clock runs from {_utc(window[0])}")
        if not ended and sim.finished.is_set():
            ended = True
            print(
                f"tickstate sim: the data ended at {_now(sim)}; the books stay readable"
                " until Ctrl-C"
            )
        sys.stdout.flush()


def _now(sim: SimExchange) -> str:
    return _utc(sim.clock.now())


def _utc(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"
