"""``tickstate run``: read the strategy and, for a simulated venue, the recorded bars it replays
(only the dates it needs, each session with half an hour of extended hours around it), then run
it live with its journal, logs, live table and metrics; every mistake is one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strategies._exceptions import SpecError
from strategies.cli._codes import EXIT_FAULT, EXIT_OK, EXIT_UNREACHED, EXIT_USAGE

if TYPE_CHECKING:
    from brokers import Bar
    from strategies.cli._tables import LiveTable
    from strategies.run import LiveRunner
    from strategies.spec import StrategySpec

__all__ = ["dates_to_read", "run_command", "seed_of"]


def run_command(args: argparse.Namespace) -> int:
    """``tickstate run``: the strategy live on its venue; the exit code. On a terminal the
    live screen shows from the first moment (a start-up line while the data loads)."""
    from strategies.cli._tables import LiveTable

    screen = LiveTable() if sys.stdout.isatty() else None
    try:
        if screen is not None:
            screen.starting(f"reading {args.config} …")
            screen.__enter__()
        return _run(args, screen)
    except KeyboardInterrupt:  # Ctrl-C before the run took the signal over: nothing was sent
        if screen is not None:
            screen.close()
        print("tickstate run: stopped by user before the run started", file=sys.stderr)
        return EXIT_OK
    finally:
        if screen is not None:
            screen.close()


def _run(args: argparse.Namespace, screen: LiveTable | None) -> int:
    from strategies._exceptions import DataError, EngineFaultError, JournalError
    from strategies.cli import _data_lines as said
    from strategies.cli._tables import print_summary
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
    if args.report is not None:
        from strategies.cli._args import missing_report_library

        if (no_library := missing_report_library()) is not None:
            print(f"tickstate run: {no_library}", file=sys.stderr)
            return EXIT_USAGE
    bars: list[Bar] = []
    earlier: list[Bar] = []  # what the simulated exchange's historical API serves
    if spec.broker.kind == "sim":
        data = args.data or default_data(spec, Path(args.config))
        if data is None:
            print(f"{args.config}: broker.data: no recorded bars; pass --data", file=sys.stderr)
            return EXIT_USAGE
        if screen is not None:
            names = ", ".join(spec.symbols[:5])  # 2,000 instruments are no start-up line
            if len(spec.symbols) > 5:
                names += f" and {len(spec.symbols) - 5:,} more"
            screen.starting(f"loading 1-minute bars of {names} from {data} …", name=spec.name)
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
        moved = None if args.start is None else said.moved_start("run", data, args.start, first_day)
        missing = said.no_bars_for("run", spec, data, bars, _symbols_in(data, spec))
        for warning in (moved, missing):
            if warning is not None:
                print(warning, file=sys.stderr)
    from brokers import SystemClock
    from strategies.cli._output import Output, new_run_id, summary_record
    from strategies.observe import MarketTime

    output = Output.choose(table=args.table)
    stamp = SystemClock().now().strftime("%Y%m%d-%H%M%S")
    run_id = new_run_id(spec.name, stamp)
    loss_limit = args.daily_loss_limit or spec.daily_loss_limit
    settings = RunSettings(
        poll_interval=args.poll_interval,
        flatten_on_exit=not args.no_flatten,
        daily_loss_limit=loss_limit,
        command_workers=args.command_workers,
    )
    journal = args.journal
    if journal is None:
        # A fresh simulated exchange knows none of an earlier run's orders: a fresh journal,
        # named as the run's log. Against Alpaca the journal persists, so a restart resumes
        # where it stopped.
        name = run_id if spec.broker.kind == "sim" else spec.name
        journal = Path("runs") / f"{name}.sqlite"
    journal.parent.mkdir(parents=True, exist_ok=True)
    # One log file per run, named by its id, beside its journal (runs/ by default); off a
    # terminal (and without --table) its lines are on stdout too, JSON lines as they come.
    log_path = journal.parent / f"{run_id}.log"
    log_file = log_path.open("a", encoding="utf-8")
    market_time = MarketTime()
    configure_logging(
        renderer="json",
        streams=(log_file,) if output.machine is None else (log_file, output.machine),
        run_id=run_id,
        market_time=market_time,
    )
    zone = spec.session.hours().timezone
    runners: list[LiveRunner] = []
    if screen is not None:
        venue = "the simulated exchange" if spec.broker.kind == "sim" else spec.broker.kind
        screen.starting(f"starting {venue}, reading the look-back …", name=spec.name)

    def on_runner(runner: LiveRunner) -> None:
        runners.append(runner)
        if screen is not None:
            from strategies.cli._screen import Timeline

            timeline = Timeline((b.start for b in bars), zone, step=runner.feed_interval)
            screen.attach(runner, zone=zone, timeline=timeline if bars else None)

    from strategies.observe import log_fired
    from strategies.run import StopTrail

    trail = StopTrail()  # the stop's steps, for --report's charts

    metrics = server = None
    if args.metrics_port is not None:
        import structlog

        from strategies.observe import RunMetrics

        metrics = RunMetrics(spec.name)
        try:
            server = metrics.serve(args.metrics_port)
        except OSError as exc:  # the port is taken (or not ours to bind)
            configure_logging(renderer="json", stream=output.machine or sys.stderr, level="WARNING")
            log_file.close()
            from strategies.cli._sim import bind_problem

            where = f"--metrics-port {args.metrics_port}"
            print(f"tickstate run: {bind_problem(where, exc)}", file=sys.stderr)
            return EXIT_USAGE
        structlog.get_logger("tickstate.cli").info("metrics_serving", url=server.url)
        if output.machine is None:
            output.say(f"metrics: {server.url}")
    try:
        result = run_live(
            spec,
            bars=bars,
            history_bars=earlier,
            settings=settings,
            speed=args.speed,
            observers=(log_fired, trail) if args.report is not None else (log_fired,),
            on_runner=on_runner,
            journal_path=journal,
            config_path=Path(args.config),
            metrics=metrics,
            realtime=args.realtime,
            seed=args.seed,
            run_id=run_id,
            market_time=market_time,
        )
    except EngineFaultError as exc:  # a bug, not the user's: the run shut down first
        print(f"tickstate run: {exc}; see {log_path}", file=sys.stderr)
        return EXIT_FAULT
    except HistoryError as exc:  # the venue refused (the user's keys) or could not be reached
        print(f"tickstate run: {exc}", file=sys.stderr)
        return EXIT_UNREACHED if exc.unreachable else EXIT_USAGE
    except (ValueError, JournalError) as exc:  # keys, a bad journal
        print(f"tickstate run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if screen is not None:  # its last frame before the summary
            screen.close()
        if server is not None:
            server.stop()
        # Later lines (a test's next command in this process) must not meet a closed file.
        configure_logging(renderer="json", stream=output.machine or sys.stderr, level="WARNING")
        log_file.close()
    trades = result.engine.recorder.trades
    stopped = " (stopped by user)" if any(r.stop_requested for r in runners) else ""
    print_summary(
        result.summaries,
        title=f"{spec.name}: {len(trades)} trades, live{stopped}",
        stream=output.human,
        total=result.total,
        facts=result.facts,
    )
    exchange = "" if result.exchange_orders is None else f", {result.exchange_orders} orders"
    output.say(f"{result.bars} bars, {result.reconciliations} reconciliations{exchange}")
    warnings = result.warnings()
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    written = None if args.out is None else result.write(spec.name, args.out)
    if written is not None:
        output.say("wrote {} and {}".format(*written))
    report = None
    if args.report is not None:
        report = _report(spec, args.report, result, bars, earlier, trail)
        output.say(f"report: {report}")
    output.say(f"journal: {journal} (tickstate status {journal})")
    output.say(f"logs: {log_path}")
    output.emit(
        summary_record(
            command="run",
            strategy=spec.name,
            summaries=result.summaries,
            run_id=run_id,
            bars=result.bars,
            reconciliations=result.reconciliations,
            exchange_orders=result.exchange_orders,
            journal=str(journal),
            log=str(log_path),
            written=[
                str(path) for path in (*(written or ()), report) if path is not None
            ]
            or None,
            warnings=warnings,
        )
    )
    return EXIT_OK


def _report(
    spec: StrategySpec, path: Path, result: Any, bars: list[Bar], earlier: list[Bar], trail: Any
) -> Path:
    """The run's HTML report: the bars the exchange served, as the strategy's bars (none from
    a real broker: its report has the curves and tables, and no candles)."""
    from strategies.engine import summary_json
    from strategies.run import daily_history, draw_report, strategy_bars

    shown = strategy_bars(spec, bars) if bars else []
    trades = result.engine.recorder.trades
    return draw_report(
        path,
        spec,
        bars=shown,
        trades=trades,
        stops=trail.steps,
        summary_text=summary_json(spec.name, result.summaries, result.bars),
        bar_interval=timedelta(minutes=spec.bar_minutes),
        history=daily_history(spec, earlier) if earlier else None,
        title=f"{spec.name}: {len(trades)} trades, live",
    )


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


def _symbols_in(data: Path, spec: StrategySpec) -> set[str]:
    """The symbols of ``data`` spelt as the strategy's but for case (for the hint of a
    lower-case symbol: the files of a folder are named by symbol)."""
    wanted = {symbol.upper() for symbol in spec.symbols}
    if data.is_dir():
        found = {path.name.split(".", 1)[0] for path in data.iterdir()}
        return {name for name in found if name.upper() in wanted}
    return set()


def _no_session_to_replay(
    spec: StrategySpec, data: Path, start: date | None, earlier: list[Bar]
) -> str:
    """Why a simulated run has nothing to replay, in one line."""
    from strategies.cli import _data_lines as said
    from strategies.run import load_bars

    everything: list[Bar] = []
    if start is not None:
        everything = earlier or load_bars(data, symbols=spec.symbols)  # only around --start
        after = said.start_after("run", data, start, everything, spec)
        if after is not None:
            return after
    present = {bar.symbol for bar in everything} | _symbols_in(data, spec)
    if not everything and not data.is_dir():  # a file: what it holds, for the case hint
        present |= {bar.symbol for bar in load_bars(data)}
    return said.no_bars(spec, data, present)
