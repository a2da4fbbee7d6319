"""The ``tickstate`` command line: one argparse parser, one function per subcommand.

A user's mistake ends in one line on stderr naming what is wrong and a non-zero exit code,
never a traceback. Each subcommand imports what it needs when it runs: the parser alone (and so
``tickstate --help``) loads the standard library and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from strategies._exceptions import SpecError
from strategies._policy import MAX_COMMAND_WORKERS
from strategies.cli import _args as args_
from strategies.cli._codes import EXIT_DIFFERS, EXIT_OK, EXIT_USAGE
from strategies.cli._sim import add_fault_flags, add_sim_arguments
from strategies.cli._sweep import add_sweep_arguments
from strategies.cli._verify import add_verify_arguments

if TYPE_CHECKING:
    from brokers import Bar
    from strategies.spec import StrategySpec

__all__ = ["build_parser", "main"]


def _diagram(args: argparse.Namespace) -> int:
    from strategies.cli._diagram import check_diagrams, generated_files, write_diagrams

    out: Path = args.dir
    try:
        files = generated_files()
    except (LookupError, ImportError, TypeError) as exc:  # a plugin that cannot be loaded
        print(f"tickstate diagram: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        stale = check_diagrams(out, files)
        for line in stale:
            print(f"tickstate diagram --check: {line}", file=sys.stderr)
        return EXIT_DIFFERS if stale else EXIT_OK
    out.mkdir(parents=True, exist_ok=True)
    for line in write_diagrams(out, files) or [f"{out}: up to date"]:
        print(line)
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
    for index, instrument in enumerate(spec.instruments):
        if instrument.symbol != instrument.symbol.upper():  # legal, but no US venue lists it so
            print(
                f"note: {args.file}: instruments[{index}].symbol: {instrument.symbol!r} is not "
                f"upper case; brokers list {instrument.symbol.upper()!r}"
            )
    for line in _data_lines(spec, args):
        print(f"{line[0]}: {args.file}: {line[1]}")
    return EXIT_OK


def _data_lines(spec: StrategySpec, args: argparse.Namespace) -> list[tuple[str, str]]:
    """``note``s and ``warning``s about the file against its data (the file's ``[broker]
    data``, ``--data``, or the demo data): bars its ``bar_minutes`` cannot be built from, and
    what its times become on the early closes of the data's sessions (the square-off moves to
    one bar before the close, the entry cutoff no later than that)."""
    from strategies._exceptions import DataError
    from strategies.cli._data_lines import bar_size_warning
    from strategies.run import default_data, load_bars

    data = args.data or default_data(spec, Path(args.file))
    if data is None:
        return []
    try:  # one symbol's bars say which sessions the data holds, and its bar size
        bars = load_bars(data, symbols=spec.symbols[:1])
    except DataError as exc:
        return [("note", f"cannot read the data to check early closes: {exc}")]
    size = bar_size_warning(spec, data, bars)
    notes = [("note", note) for note in _early_close_notes(spec, data, bars)]
    return notes if size is None else [("warning", size), *notes]


def _early_close_notes(spec: StrategySpec, data: Path, bars: Sequence[Bar]) -> list[str]:
    """What the strategy's times become on the early closes of the sessions of ``bars``."""
    from strategies.run import plan_for

    plan = plan_for(spec)
    zone = plan.session.timezone
    capped: dict[tuple[str, str], list[str]] = {}
    for day in sorted({bar.start.astimezone(zone).date() for bar in bars}):
        deadlines = plan.deadlines(day)
        if deadlines is None or not deadlines.capped:
            continue
        closes, square = deadlines.closes.strftime("%H:%M"), deadlines.square_off.strftime("%H:%M")
        capped.setdefault((closes, square), []).append(day.isoformat())
    return [
        f"square_off {spec.square_off:%H:%M} falls after the {closes} close of {', '.join(days)} "
        f"in {data}: those sessions square off at {square} (and take no entry after it)"
        for (closes, square), days in sorted(capped.items())
    ]


def _schema(args: argparse.Namespace) -> int:
    if args.check is not None:
        from strategies.cli._schema_doc import check_markdown

        return check_markdown(args.check)
    if args.markdown:
        from strategies.cli._schema_doc import schema_markdown

        sys.stdout.write(schema_markdown())
        return EXIT_OK
    from strategies.spec import strategy_schema

    print(json.dumps(strategy_schema(), indent=2, sort_keys=False))
    return EXIT_OK


def _new_signal(args: argparse.Namespace) -> int:
    from strategies.cli._scaffold import run_new_signal

    return run_new_signal(args.name, args.dir)


def _sim(args: argparse.Namespace) -> int:
    from strategies.cli._sim import run_sim

    return run_sim(args)


def _verify(args: argparse.Namespace) -> int:
    from strategies.cli._verify import run_verify

    return run_verify(args)


def _replay(args: argparse.Namespace) -> int:
    from strategies.cli._replay import replay_command

    return replay_command(args)


def _sweep(args: argparse.Namespace) -> int:
    from strategies.cli._sweep import run_sweep_command

    return run_sweep_command(args)


def _run(args: argparse.Namespace) -> int:
    from strategies.cli._run import run_command

    return run_command(args)


def _status(args: argparse.Namespace) -> int:
    from strategies.cli._journal_cmds import status_command

    return status_command(args)


def _resume(args: argparse.Namespace) -> int:
    from strategies.cli._journal_cmds import resume_command

    return resume_command(args)


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, read from its metadata only when
    asked (``importlib.metadata`` is not loaded to build the parser)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: typing.Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> typing.NoReturn:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("tickstate")
        except PackageNotFoundError:  # a source tree on sys.path, never installed
            found = "unknown (not installed)"
        print(f"tickstate {found}")  # on stdout, as argparse's own version action does
        parser.exit(EXIT_OK)


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's rule for mistakes: one line on stderr, exit 2 — with a "did you
    mean" for a misspelt command or flag (argparse of Python 3.11 suggests nothing)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}{self._suggestion(message)}\n")

    def _suggestion(self, message: str) -> str:
        import difflib
        import re

        if choice := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message):
            known = re.findall(r"'([^']*)'", choice.group(2))
            word, cutoff = choice.group(1), 0.6
        elif message.startswith("unrecognized arguments: "):
            word, cutoff = message.split()[2].split("=")[0], 0.75  # a typo, not a guess
            known = [flag for flag in self._every_flag() if flag.startswith("--")]
        else:
            return ""
        close = difflib.get_close_matches(word, known, n=1, cutoff=cutoff)
        return f' (did you mean "{close[0]}"?)' if close else ""

    def _every_flag(self) -> list[str]:
        """This parser's flags and its subcommands' (an unknown flag is reported by the top
        parser, whichever subcommand it was meant for)."""
        flags: list[str] = []
        for action in self._actions:
            flags += action.option_strings
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    flags += [f for a in sub._actions for f in a.option_strings]
        return flags


def build_parser(*, fault_flags: bool = False) -> argparse.ArgumentParser:
    """The argument parser of ``tickstate``; ``fault_flags`` adds ``sim``'s knob flags (made from
    ``SimFaults``, so they load the simulated exchange: only when ``sim`` is asked for)."""
    parser = _Parser(
        prog="tickstate",
        description="Rule-based intraday trading on formal, thread-safe per-symbol state machines.",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    diagram = commands.add_parser(
        "diagram",
        help="write diagrams/: the lifecycle's overview and pages, the signals' phases "
        "(Mermaid, DOT, Markdown, and SVG/PNG with Graphviz)",
    )
    diagram.add_argument(
        "--dir", type=Path, default=Path("diagrams"), help="output folder (default: diagrams)"
    )
    diagram.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each file that differs from the code, each picture "
        "drawn from an older source or edited since, and each file the code does not generate",
    )
    diagram.set_defaults(run=_diagram)
    validate = commands.add_parser(
        "validate", help="check a strategy file; one line naming the key and the problem if wrong"
    )
    validate.add_argument("file", metavar="FILE", help="a strategy file (TOML)")
    validate.add_argument(
        "--data",
        type=Path,
        help="recorded bars whose early closes to check the file's times against "
        "(default: the file's [broker] data, else the demo data)",
    )
    validate.set_defaults(run=_validate)
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of strategy files (for editors)"
    )
    schema.add_argument(
        "--markdown",
        action="store_true",
        help="print the strategy-file reference instead (docs/strategy-file.md): every key's "
        "type, range, default and description",
    )
    schema.add_argument(
        "--check",
        type=Path,
        default=None,
        metavar="FILE",
        help="write nothing; exit 1 if FILE differs from what --markdown prints",
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
        "--start",
        type=args_.session_date,
        default=None,
        help="first session, YYYY-MM-DD, as tickstate run takes it: the sessions before it are "
        "the look-back, each session from 30 min before its open to 30 min after its close",
    )
    replay.add_argument(
        "--days",
        type=args_.count,
        default=1,
        help="sessions from --start (default 1, as tickstate run)",
    )
    replay.add_argument(
        "--model",
        choices=("twin", "plain"),
        default="twin",
        help="twin (default): fill as the simulated exchange does, minute by minute as a "
        "lock-step run; plain: the strategy's bars, plain stops and whole fills",
    )
    replay.add_argument(
        "--seed", type=int, default=None, help="the twin's seed (default: the file's, else 0)"
    )
    replay.add_argument(
        "--plot", type=Path, default=None, help="also draw a PNG per symbol-day with trades here"
    )
    replay.add_argument(
        "--table",
        action="store_true",
        help="off a terminal, print the summary table on stdout instead of JSON lines",
    )
    replay.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FILE.html",
        help="also write one self-contained HTML report: equity, drawdown, tables, a chart per "
        "symbol-day",
    )
    replay.set_defaults(run=_replay)
    sweep = commands.add_parser(
        "sweep",
        help="one replay per combination of a parameter grid, on Ray; a ranked results table",
    )
    add_sweep_arguments(sweep)
    sweep.set_defaults(run=_sweep)
    run = commands.add_parser(
        "run", help="run a strategy live (default: against the local simulated exchange)"
    )
    run.add_argument("config", metavar="CONFIG", help="a strategy file (TOML)")
    run.add_argument("--data", type=Path, default=None, help="bars the simulated exchange replays")
    run.add_argument(
        "--days", type=args_.count, default=1, help="sessions of data to replay (default 1)"
    )
    run.add_argument(
        "--start",
        type=args_.session_date,
        default=None,
        help="first session to replay, YYYY-MM-DD (default: the data's second session)",
    )
    run.add_argument(
        "--speed", type=args_.speed, default=None, help="replay speed (default: the file's)"
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the simulated exchange's seed: partial fills, late prints (default: the file's)",
    )
    run.add_argument(
        "--realtime",
        action="store_true",
        help="simulated exchange: let its clock run free instead of in lock-step with the run "
        "(orders that reach it after their bar are warned about: order_late)",
    )
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="write trades.csv and summary.json there, as tickstate replay does",
    )
    run.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FILE.html",
        help="at the end, write the run's self-contained HTML report, as tickstate replay does",
    )
    run.add_argument(
        "--poll-interval", type=args_.seconds, default=30.0, help="seconds between reconciliations"
    )
    run.add_argument(
        "--command-workers",
        type=args_.workers,
        default=None,
        metavar="N",
        help="send orders on N threads, in order per symbol, symbols in parallel (0: one "
        f"after another on the engine thread; default: a thread per symbol, at most "
        f"{MAX_COMMAND_WORKERS}, but one after another in lock-step, where that costs no market "
        "time)",
    )
    run.add_argument("--no-flatten", action="store_true", help="leave positions open when stopped")
    run.add_argument(
        "--daily-loss-limit",
        type=args_.money,
        default=None,
        metavar="AMOUNT",
        help="halt every symbol and flatten once the session's realised loss reaches AMOUNT "
        "(overrides the file's daily_loss_limit)",
    )
    run.add_argument(
        "--metrics-port",
        type=args_.port,
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
    run.add_argument(
        "--table",
        action="store_true",
        help="off a terminal, print the summary table on stdout (the log lines stay in the "
        "run's log file) instead of JSON lines: the log, then the summary",
    )
    run.set_defaults(run=_run)
    verify = commands.add_parser(
        "verify",
        help="check the lifecycle machine exhaustively, every interleaving up to a depth",
        description="Breadth-first, exhaustive exploration of the real lifecycle machine against"
        " a model of the venue: every sequence of up to --depth steps, every invariant after"
        " every step. Exit 1 when a property breaks (each shown as a shortest sequence).",
    )
    add_verify_arguments(verify)
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
    status.add_argument(
        "--diagram",
        action="store_true",
        help="instead of the table, write the lifecycle's overview with each symbol marked in "
        "its current state, on stdout",
    )
    status.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document instead of the table: the run's liveness and each "
        "symbol's full snapshot (amounts as strings) with its last event",
    )
    status.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="the --diagram's format (default: mermaid; svg needs Graphviz)",
    )
    status.set_defaults(run=_status)
    resume = commands.add_parser(
        "resume",
        help="let a halted symbol trade again: the running runner (or the next start) applies it",
    )
    resume.add_argument("journal", metavar="JOURNAL", type=Path, help="the run's journal file")
    resume.add_argument("symbol", metavar="SYMBOL", help="the halted symbol")
    resume.add_argument(
        "--strategy", default=None, help="the strategy, when the journal holds several"
    )
    resume.set_defaults(run=_resume)
    new_signal = commands.add_parser(
        "new-signal",
        help="write a signal plugin package to start from (pyproject, signal, strategy file)",
        description="Write DIR/NAME: a pyproject.toml registering the signal NAME in the "
        "tickstate.signals entry points, NAME/signal.py (a first-bar breakout to replace with "
        "your rule) and NAME.toml, a strategy using it on the demo data. After "
        "`pip install -e DIR/NAME` it validates and replays as written "
        "(docs/writing-a-signal.md).",
    )
    new_signal.add_argument(
        "name", metavar="NAME", help="the signal's name: lower-case letters, digits and _"
    )
    new_signal.add_argument(
        "--dir",
        type=Path,
        default=Path(),
        help="the folder to write the package NAME in (default: the current folder)",
    )
    new_signal.set_defaults(run=_new_signal)
    sim = commands.add_parser(
        "sim",
        help="serve the simulated exchange (Alpaca's twin) on one local port until stopped",
        description="Serve Alpaca's twin on 127.0.0.1: REST (trading, market data, calendar, "
        "clock), the trading stream and the bar stream; the clock waits for the first "
        "bar-stream client, and the exchange stays up after its data ends until Ctrl-C.",
    )
    add_sim_arguments(sim, args_.port)
    if fault_flags:
        add_fault_flags(sim)
    else:
        sim.epilog = "Every SimFaults knob is a flag too: tickstate sim --help lists them."
    sim.set_defaults(run=_sim)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tickstate``; returns the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(fault_flags=words[:1] == ["sim"]).parse_args(words)
    try:
        code: int = args.run(args)
    except OSError as exc:  # a file or folder the user named cannot be used
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tickstate {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return code
