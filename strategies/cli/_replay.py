"""``tickstate replay``: recorded bars through a strategy on the in-process paper broker; a
mistake is one line and exit 2, what is legal but suspicious one ``warning:`` line."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import typing
from pathlib import Path

from strategies._exceptions import SpecError
from strategies.cli._args import missing_report_library
from strategies.cli._codes import EXIT_OK, EXIT_USAGE

__all__ = ["replay_command"]


def replay_command(args: argparse.Namespace) -> int:
    """``tickstate replay``: the exit code."""
    from rich.progress import Progress

    from brokers import SystemClock
    from strategies._exceptions import DataError
    from strategies.cli import _data_lines as said
    from strategies.cli._output import Output, new_run_id, summary_record
    from strategies.cli._run import dates_to_read, seed_of
    from strategies.cli._tables import print_summary
    from strategies.observe import MarketTime, configure_logging
    from strategies.run import (
        around_the_sessions,
        daily_history,
        load_bars,
        run_replay,
        split_sessions,
    )
    from strategies.spec import load_strategy

    history = None
    warnings: list[str] = []
    try:
        spec = load_strategy(args.config)
        # Only the strategy's symbols, and with --start only its sessions and their look-back:
        # the other rows of the files are never parsed. Which symbols the data does hold is
        # read only when one of the strategy's is missing (for the line that says so).
        dates = dates_to_read(spec, args)
        bars = load_bars(args.data, symbols=spec.symbols, dates=dates)
        if not bars and dates is not None:  # none in those dates: all of them, to say why
            bars = load_bars(args.data, symbols=spec.symbols)
        present = {bar.symbol for bar in bars}
        if present != set(spec.symbols):
            present = {bar.symbol for bar in load_bars(args.data, dates=dates)}
        if bars and args.start is not None:  # the sessions `tickstate run --start --days` replays
            earlier, bars = split_sessions(bars, spec, args.days, args.start)
            if not bars:
                after = said.start_after("replay", args.data, args.start, earlier, spec)
                print(after or said.no_bars(spec, args.data, present), file=sys.stderr)
                return EXIT_USAGE
            first_day = bars[0].start.astimezone(spec.session.hours().timezone).date()
            moved = said.moved_start("replay", args.data, args.start, first_day)
            warnings += [moved] if moved else []
            bars, history = around_the_sessions(spec, bars), daily_history(spec, earlier)
    except (SpecError, DataError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if not bars:
        print(said.no_bars(spec, args.data, present), file=sys.stderr)
        return EXIT_USAGE
    missing = said.no_bars_for("replay", spec, args.data, bars, present)
    warnings += [missing] if missing else []
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        print(
            "tickstate replay: --plot needs matplotlib: pip install 'tickstate[plot]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.report is not None and (missing := missing_report_library()) is not None:
        print(f"tickstate replay: {missing}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or Path("runs") / f"replay-{spec.name}"
    output = Output.choose(table=args.table)
    run_id = new_run_id(f"replay-{spec.name}", SystemClock().now().strftime("%Y%m%d-%H%M%S"))
    # Off a terminal stdout is JSON lines only: the replay's few log lines, then its summary;
    # on one, only warnings reach people, readable, on stderr beside the progress bar.
    market_time = MarketTime()  # the replay's clock, once it has one: each line's market_ts
    if output.machine is not None:
        configure_logging(
            renderer="json", stream=output.machine, run_id=run_id, market_time=market_time
        )
    else:
        configure_logging(
            renderer="console",
            stream=sys.stderr,
            level="WARNING",
            run_id=run_id,
            market_time=market_time,
        )
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(f"replaying {spec.name}", total=len(bars))

        def drawing(what: str, total: int) -> typing.Callable[[], None]:
            progress.update(task, visible=False)
            drawn = progress.add_task(what, total=total)
            return lambda: progress.advance(drawn)

        try:
            result = run_replay(
                spec,
                bars,
                out_dir=out,
                progress=lambda n: progress.advance(task, n),
                on_total=lambda n: progress.update(task, total=n),
                plot_dir=args.plot,
                report_path=args.report,
                drawing=drawing,
                model=args.model,
                history=history,
                market_time=market_time,
                seed=seed_of(spec) if args.seed is None else args.seed,
            )
        except DataError as exc:
            print(f"{args.data}: {exc.problem}", file=sys.stderr)
            return EXIT_USAGE
    for warning in warnings:  # once the replay stands: an error stays the one line
        print(warning, file=sys.stderr)
    print_summary(
        result.summaries,
        title=f"{spec.name}: {len(result.trades)} trades",
        total=result.total,
        facts=result.facts,
        stream=output.human,
    )
    output.say(f"wrote {result.trades_path} and {result.summary_path}")
    if args.report is not None:
        output.say(f"report: {args.report}")
    output.say(
        f"{result.bars} bars in {result.seconds:.2f} s ({result.bars_per_second:,.0f} bars/s)"
    )
    output.emit(
        summary_record(
            command="replay",
            strategy=spec.name,
            summaries=result.summaries,
            run_id=run_id,
            bars=result.bars,
            written=[
                str(path)
                for path in (result.trades_path, result.summary_path, args.report)
                if path is not None
            ],
        )
    )
    return EXIT_OK
