"""The ``tickstate`` command line: one argparse parser, one function per subcommand.

A user's mistake ends in one line on stderr naming what is wrong and a non-zero exit code,
never a traceback. Each subcommand imports what it needs when it runs: the parser alone (and so
``tickstate --help``) loads the standard library and nothing else.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from strategies._exceptions import SpecError

if TYPE_CHECKING:
    from brokers import Bar

__all__ = ["build_parser", "main"]

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2


def _diagram(args: argparse.Namespace) -> int:
    from machines import lifecycle_diagrams

    out: Path = args.dir
    generated = lifecycle_diagrams()
    if args.check:
        stale = []
        for name, text in generated.items():
            path = out / name
            if not path.is_file():
                stale.append(f"{path}: missing")
            elif path.read_text(encoding="utf-8") != text:
                stale.append(f"{path}: differs from what the code generates")
        for line in stale:
            print(f"tickstate diagram --check: {line}; run 'tickstate diagram'", file=sys.stderr)
        return EXIT_DIFFERS if stale else EXIT_OK
    out.mkdir(parents=True, exist_ok=True)
    for name, text in generated.items():
        path = out / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    dot = shutil.which("dot")
    if dot is None:
        print("skipped lifecycle.svg: the Graphviz 'dot' binary is not installed", file=sys.stderr)
        return EXIT_OK
    svg = subprocess.run(
        [dot, "-Tsvg"], input=generated["lifecycle.dot"], capture_output=True, text=True, check=True
    ).stdout
    (out / "lifecycle.svg").write_text(svg, encoding="utf-8")
    print(f"wrote {out / 'lifecycle.svg'}")
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from strategies.spec import load_strategy

    try:
        spec = load_strategy(args.file)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    count = len(spec.instruments)
    noun = "instrument" if count == 1 else "instruments"
    print(f"ok: {args.file} (strategy {spec.name}, {count} {noun})")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from strategies.spec import strategy_schema

    print(json.dumps(strategy_schema(), indent=2, sort_keys=False))
    return EXIT_OK


def _sim(args: argparse.Namespace) -> int:
    from brokers import SimExchange
    from strategies._exceptions import DataError
    from strategies.run import load_bars

    try:
        bars = load_bars(args.data) if args.data else []
    except DataError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    try:
        sim = SimExchange(
            bars,
            host=args.host,
            port=args.port,
            speed=args.speed,
            seed=args.seed,
            key_id=args.key_id,
            secret_key=args.secret_key,
            allow_remote=args.allow_remote,
        )
    except ValueError as exc:
        print(f"tickstate sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with sim:
        urls = f"{sim.rest_url} {sim.trading_stream_url} {sim.data_stream_url}"
        print(f"tickstate sim: serving {urls} (Ctrl-C stops)", flush=True)
        try:
            while not sim.finished.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from strategies._exceptions import DataError
    from strategies.cli._tables import print_summary
    from strategies.run import load_bars, run_replay
    from strategies.spec import load_strategy

    try:
        spec = load_strategy(args.config)
        bars = [bar for bar in load_bars(args.data) if bar.symbol in set(spec.symbols)]
    except (SpecError, DataError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if not bars:
        print(f"{args.data}: no bars for {', '.join(spec.symbols)}", file=sys.stderr)
        return EXIT_USAGE
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        print(
            "tickstate replay: --plot needs matplotlib: pip install 'tickstate[plot]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    out = args.out or Path("runs") / f"replay-{spec.name}"
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(f"replaying {spec.name}", total=len(bars))
        result = run_replay(
            spec,
            bars,
            out_dir=out,
            progress=lambda n: progress.advance(task, n),
            plot_dir=args.plot,
        )
    print_summary(result.summaries, title=f"{spec.name}: {len(result.trades)} trades")
    print(f"wrote {result.trades_path} and {result.summary_path}")
    print(f"{result.bars} bars in {result.seconds:.2f} s ({result.bars_per_second:,.0f} bars/s)")
    return EXIT_OK


def _money(text: str) -> Decimal:
    """An argparse type: a positive amount of money, exact."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive amount such as 500.00, got {text!r}")
    return value


def _port(text: str) -> int:
    """An argparse type: a TCP port (0: any free one)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535, got {text!r}")
    return value


def _run(args: argparse.Namespace) -> int:
    from strategies._exceptions import DataError
    from strategies.cli._tables import LiveTable, print_summary
    from strategies.observe import configure_logging
    from strategies.run import RunSettings, default_data, first_sessions, load_bars, run_live
    from strategies.spec import load_strategy

    try:
        spec = load_strategy(args.config)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    bars: list[Bar] = []
    history = None
    if spec.broker.kind == "sim":
        data = args.data or default_data(spec, Path(args.config))
        if data is None:
            print(f"{args.config}: broker.data: no recorded bars; pass --data", file=sys.stderr)
            return EXIT_USAGE
        try:
            bars, history = first_sessions(load_bars(data), spec, args.days, args.start)
        except DataError as exc:
            print(exc, file=sys.stderr)
            return EXIT_USAGE
        if not bars:
            print(f"{data}: no bars for {', '.join(spec.symbols)}", file=sys.stderr)
            return EXIT_USAGE
    tty = sys.stdout.isatty()
    log_path = Path("runs") / f"{spec.name}.log"
    if tty:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("a", encoding="utf-8")
        configure_logging(renderer="json", stream=log_file)
    else:
        configure_logging(renderer="json", stream=sys.stdout)
    loss_limit = args.daily_loss_limit or spec.daily_loss_limit
    settings = RunSettings(
        poll_interval=args.poll_interval,
        flatten_on_exit=not args.no_flatten,
        daily_loss_limit=loss_limit,
    )
    journal = args.journal
    if journal is None:
        from brokers import SystemClock

        # A fresh simulated exchange knows none of an earlier run's orders: a fresh journal.
        # Against Alpaca the journal persists, so a restart resumes where it stopped.
        stamp = SystemClock().now().strftime("%Y%m%d-%H%M%S")
        name = f"{spec.name}-{stamp}" if spec.broker.kind == "sim" else spec.name
        journal = Path("runs") / f"{name}.sqlite"
    journal.parent.mkdir(parents=True, exist_ok=True)
    table: LiveTable | None = None

    def on_runner(runner: object) -> None:
        nonlocal table
        if tty:
            from strategies.run import LiveRunner

            assert isinstance(runner, LiveRunner)
            engine = runner.engine
            table = LiveTable(
                engine.desk,
                lambda symbol: str(
                    sum((t.pnl for t in engine.recorder.trades if t.symbol == symbol), Decimal(0))
                ),
            )
            table.__enter__()

    def on_bar(bar: object) -> None:
        if table is not None:
            table.refresh()

    from strategies.observe import log_fired

    metrics = server = None
    if args.metrics_port is not None:
        import structlog

        from strategies.observe import RunMetrics

        metrics = RunMetrics(spec.name)
        server = metrics.serve(args.metrics_port)
        structlog.get_logger("tickstate.cli").info("metrics_serving", url=server.url)
        if tty:
            print(f"metrics: {server.url}", file=sys.stderr, flush=True)
    try:
        result = run_live(
            spec,
            bars=bars,
            history=history,
            settings=settings,
            speed=args.speed,
            observers=(log_fired,),
            on_bar=on_bar,
            on_runner=on_runner,
            journal_path=journal,
            config_path=Path(args.config),
            metrics=metrics,
        )
    except ValueError as exc:  # missing keys for Alpaca, and the like: the user's to fix
        print(f"tickstate run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if table is not None:
            table.__exit__()
        if server is not None:
            server.stop()
    trades = result.engine.recorder.trades
    print_summary(result.summaries, title=f"{spec.name}: {len(trades)} trades, live")
    exchange = "" if result.exchange_orders is None else f", {result.exchange_orders} orders"
    print(f"{result.bars} bars, {result.reconciliations} reconciliations{exchange}")
    print(f"journal: {journal} (tickstate status {journal})")
    if tty:
        print(f"logs: {log_path}")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from strategies._exceptions import JournalError
    from strategies.cli._tables import print_status
    from strategies.journal import newest_journal, read_latest

    try:
        path = args.journal or newest_journal(Path("runs"))
        statuses = read_latest(path)
    except JournalError as exc:
        print(f"tickstate status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    noun = "symbol" if len(statuses) == 1 else "symbols"
    print_status(statuses, title=f"{path}: {len(statuses)} {noun}")
    return EXIT_OK


def _whole(text: str, least: int) -> int | None:
    """``text`` as a whole number of at least ``least``, or None (the caller says why)."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= least else None


def _verify(args: argparse.Namespace) -> int:
    depth = _whole(args.depth, 1)
    in_flight = _whole(args.in_flight, 0)
    problem = None
    if depth is None:
        problem = f"--depth must be a whole number of steps, 1 or more, got {args.depth!r}"
    elif in_flight is None:
        problem = f"--in-flight must be a whole number, 0 or more, got {args.in_flight!r}"
    elif args.broker not in ("faithful", "hostile"):
        problem = f"--broker must be faithful or hostile, got {args.broker!r}"
    if problem is not None or depth is None or in_flight is None:
        print(f"tickstate verify: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from strategies.verify import Progress, VerifySetup, emit_tests, explore, report_lines

    setup = VerifySetup()
    if args.strategy is not None:
        from strategies.spec import load_strategy

        try:
            setup = VerifySetup.of(load_strategy(args.strategy))
        except SpecError as exc:
            print(exc, file=sys.stderr)
            return EXIT_USAGE
    tty = sys.stderr.isatty()

    def progress(p: Progress) -> None:
        print(
            f"\r  depth {p.level}/{depth}: {p.states:,} states, {p.transitions:,} transitions,"
            f" {p.seconds:.1f} s ",
            end="",
            file=sys.stderr,
            flush=True,
        )

    result = explore(
        setup, args.broker, depth, in_flight=in_flight, progress=progress if tty else None
    )
    if tty:
        print(file=sys.stderr)
    for line in report_lines(result, setup, in_flight):
        print(line)
    if args.emit_test is not None and result.violations:
        for path in emit_tests(result, setup, in_flight, args.emit_test):
            print(f"wrote {path}")
    return EXIT_OK if result.ok else EXIT_DIFFERS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tickstate``."""
    parser = argparse.ArgumentParser(
        prog="tickstate",
        description="Rule-based intraday trading on formal, thread-safe per-symbol state machines.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diagram = commands.add_parser(
        "diagram", help="write the lifecycle diagrams (Mermaid, DOT, Markdown table, SVG)"
    )
    diagram.add_argument(
        "--dir", type=Path, default=Path("diagrams"), help="output folder (default: diagrams)"
    )
    diagram.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each committed file that differs from the code",
    )
    diagram.set_defaults(run=_diagram)
    validate = commands.add_parser(
        "validate", help="check a strategy file; one line naming the key and the problem if wrong"
    )
    validate.add_argument("file", metavar="FILE", help="a strategy file (TOML)")
    validate.set_defaults(run=_validate)
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of strategy files (for editors)"
    )
    schema.set_defaults(run=_schema)
    replay = commands.add_parser(
        "replay", help="replay recorded bars through a strategy on the paper broker"
    )
    replay.add_argument("config", metavar="CONFIG", help="a strategy file (TOML)")
    replay.add_argument(
        "--data", type=Path, required=True, help="a bar CSV file or a folder of them"
    )
    replay.add_argument(
        "--out", type=Path, default=None, help="output folder (default: runs/replay-NAME)"
    )
    replay.add_argument(
        "--plot", type=Path, default=None, help="also draw a PNG per symbol-day with trades here"
    )
    replay.set_defaults(run=_replay)
    run = commands.add_parser(
        "run", help="run a strategy live (default: against the local simulated exchange)"
    )
    run.add_argument("config", metavar="CONFIG", help="a strategy file (TOML)")
    run.add_argument("--data", type=Path, default=None, help="bars the simulated exchange replays")
    run.add_argument("--days", type=int, default=1, help="sessions of data to replay (default 1)")
    run.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first session to replay, YYYY-MM-DD (default: the data's second session)",
    )
    run.add_argument("--speed", type=float, default=None, help="replay speed (default: the file's)")
    run.add_argument(
        "--poll-interval", type=float, default=30.0, help="seconds between reconciliations"
    )
    run.add_argument("--no-flatten", action="store_true", help="leave positions open when stopped")
    run.add_argument(
        "--daily-loss-limit",
        type=_money,
        default=None,
        metavar="AMOUNT",
        help="halt every symbol and flatten once the session's realised loss reaches AMOUNT "
        "(overrides the file's daily_loss_limit)",
    )
    run.add_argument(
        "--metrics-port",
        type=_port,
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics on 127.0.0.1:PORT while the run lasts (0: any free port)",
    )
    run.add_argument(
        "--journal",
        type=Path,
        default=None,
        help="journal file; an existing one resumes (default: a new one under runs/)",
    )
    run.set_defaults(run=_run)
    verify = commands.add_parser(
        "verify",
        help="check the lifecycle machine exhaustively, every interleaving up to a depth",
        description="Breadth-first, exhaustive exploration of the real lifecycle machine against"
        " a model of the venue: every sequence of up to --depth steps, every invariant after"
        " every step. Exit 1 when a property breaks (each shown as a shortest sequence).",
    )
    verify.add_argument(
        "--depth", default="8", metavar="N", help="steps per sequence, 1 or more (default: 8)"
    )
    verify.add_argument(
        "--broker",
        default="faithful",
        metavar="faithful|hostile",
        help="faithful: only what a venue could send for the commands issued, delivered late "
        "per order; hostile: also duplicated, re-delivered, reordered and lost (default: "
        "faithful)",
    )
    verify.add_argument(
        "--strategy",
        type=Path,
        default=None,
        metavar="FILE",
        help="take the machine's rules from this strategy file (its first symbol)",
    )
    verify.add_argument(
        "--in-flight",
        default="2",
        metavar="N",
        help="at most N venue events waiting for delivery at once (default: 2)",
    )
    verify.add_argument(
        "--emit-test",
        type=Path,
        default=None,
        metavar="DIR",
        help="write each violation as a pytest regression into DIR",
    )
    verify.set_defaults(run=_verify)
    status = commands.add_parser(
        "status", help="each symbol's state, position, stop and last event, from a journal"
    )
    status.add_argument(
        "journal",
        metavar="JOURNAL",
        nargs="?",
        type=Path,
        default=None,
        help="a journal file (default: the newest runs/*.sqlite); works while a run is live",
    )
    status.set_defaults(run=_status)
    sim = commands.add_parser(
        "sim", help="serve the simulated exchange (Alpaca's wire format) on one local port"
    )
    sim.add_argument("--port", type=int, required=True, help="TCP port (0: any free one)")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    sim.add_argument("--data", type=Path, help="recorded bars: a CSV file or a folder of them")
    sim.add_argument("--speed", type=float, default=1.0, help="times real time (default: 1)")
    sim.add_argument("--seed", type=int, default=0, help="seed of ids and faults (default: 0)")
    sim.add_argument("--key-id", default="K", help="accepted API key id (default: K)")
    sim.add_argument("--secret-key", default="S", help="accepted API secret (default: S)")
    sim.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    sim.set_defaults(run=_sim)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tickstate``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except OSError as exc:
        print(f"tickstate {args.command}: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return code
