"""``tickstate run``: read the strategy and, for a simulated venue, the recorded bars it replays
(only the dates it needs, each session with half an hour of extended hours around it), then run
it live with its journal, logs, live table and metrics; every mistake is one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from strategies._exceptions import SpecError
from strategies.cli._codes import EXIT_FAULT, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from brokers import Bar
    from strategies.spec import StrategySpec

__all__ = ["dates_to_read", "run_command", "seed_of"]


def run_command(args: argparse.Namespace) -> int:
    """``tickstate run``: the strategy live on its venue; the exit code."""
    from strategies._exceptions import DataError, EngineFaultError, JournalError
    from strategies.cli._tables import LiveTable, print_summary
    from strategies.observe import configure_logging
    from strategies.run import (
        HistoryError,
        RunSettings,
        around_the_sessions,
        default_data,
        load_bars,
        run_live,
        split_sessions,
    )
    from strategies.spec import load_strategy

    try:
        spec = load_strategy(args.config)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    bars: list[Bar] = []
    earlier: list[Bar] = []  # what the simulated exchange's historical API serves
    if spec.broker.kind == "sim":
        data = args.data or default_data(spec, Path(args.config))
        if data is None:
            print(f"{args.config}: broker.data: no recorded bars; pass --data", file=sys.stderr)
            return EXIT_USAGE
        try:
            recorded = load_bars(data, symbols=spec.symbols, dates=dates_to_read(spec, args))
            earlier, bars = split_sessions(recorded, spec, args.days, args.start)
            bars = around_the_sessions(spec, bars)
        except DataError as exc:
            print(exc, file=sys.stderr)
            return EXIT_USAGE
        if not bars:
            print(_no_session_to_replay(spec, data, args.start, earlier), file=sys.stderr)
            return EXIT_USAGE
        zone = spec.session.hours().timezone
        first_day = bars[0].start.astimezone(zone).date()
        if args.start is not None and first_day != args.start:
            print(
                f"tickstate run: --start {args.start} has no session in {data}; "
                f"starting at {first_day}",
                file=sys.stderr,
            )
        missing = sorted(set(spec.symbols) - {bar.symbol for bar in bars})
        if missing:
            print(f"tickstate run: no bars for {', '.join(missing)} in {data}", file=sys.stderr)
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
            history_bars=earlier,
            settings=settings,
            speed=args.speed,
            observers=(log_fired,),
            on_bar=on_bar,
            on_runner=on_runner,
            journal_path=journal,
            config_path=Path(args.config),
            metrics=metrics,
            realtime=args.realtime,
            seed=args.seed,
        )
    except EngineFaultError as exc:  # a bug, not the user's: the run shut down first
        where = f"; see {log_path}" if tty else ""
        print(f"tickstate run: {exc}{where}", file=sys.stderr)
        return EXIT_FAULT
    except (ValueError, JournalError, HistoryError) as exc:  # keys, a bad journal, no history
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
    for warning in result.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    if args.out is not None:
        print("wrote {} and {}".format(*result.write(spec.name, args.out)))
    print(f"journal: {journal} (tickstate status {journal})")
    if tty:
        print(f"logs: {log_path}")
    return EXIT_OK


def seed_of(spec: StrategySpec) -> int:
    """The simulated exchange's seed the file names (0 unless it is a simulated one)."""
    return int(getattr(spec.broker, "seed", 0))


def dates_to_read(spec: StrategySpec, args: argparse.Namespace) -> tuple[date, date] | None:
    """The dates of recorded bars a simulated run (or a replay) needs: its sessions from
    ``--start`` and the look-back its signal reads before them (in calendar days, with room for
    holidays and timezones); everything without ``--start``, whose first session the data
    decides."""
    from strategies.run import history_sessions

    start: date | None = args.start
    if start is None:
        return None
    before = history_sessions(spec) * 7 // 5 + 10
    after = args.days * 7 // 5 + 7
    return start - timedelta(days=before), start + timedelta(days=after)


def _no_session_to_replay(
    spec: StrategySpec, data: Path, start: date | None, earlier: list[Bar]
) -> str:
    """Why a simulated run has nothing to replay, in one line."""
    from strategies.run import load_bars

    if start is not None:
        everything = earlier or load_bars(data, symbols=spec.symbols)  # only around --start
        if everything:
            last = max(bar.start for bar in everything).astimezone(spec.session.hours().timezone)
            if last.date() < start:
                return (
                    f"tickstate run: --start {start} is after the last session in {data} "
                    f"({last.date()})"
                )
    return f"{data}: no bars for {', '.join(spec.symbols)}"
