"""``tickstate sweep``: one replay per combination of a grid on Ray, a results table ranked by a
metric (CSV and HTML, with a heatmap for two parameters), and an optional walk-forward.

Everything a user can get wrong — a grid key or value the strategy schema refuses, a metric the
summary lacks, a walk-forward the data cannot hold, Ray missing — is one line and exit 2,
checked before Ray starts where it can be.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strategies.cli import _args as args_
from strategies.cli._codes import EXIT_FAULT, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from strategies.run._sweep import Combination, SweepOutcome
    from strategies.run._sweep_table import ResultRow

__all__ = ["add_sweep_arguments", "run_sweep_command"]

_DEFAULT_METRICS = ("net_pnl", "pnl")  # net once the summary has costs, else gross


def add_sweep_arguments(sweep: argparse.ArgumentParser) -> None:
    """``tickstate sweep``'s arguments."""
    sweep.add_argument("config", metavar="CONFIG", help="a strategy file (TOML)")
    sweep.add_argument("--data", type=Path, required=True, help="a bar CSV file or a folder")
    sweep.add_argument(
        "--grid",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="a strategy-file key (dotted: signal.zone, max_attempts) and the values to try; "
        "repeat for more keys (every combination runs)",
    )
    sweep.add_argument(
        "--metric",
        default=None,
        help="the summary total to rank by (default: net_pnl if the summary has it, else pnl)",
    )
    sweep.add_argument(
        "--address",
        default=None,
        help="join this Ray cluster (ray://host:10001, or auto); default: a local cluster",
    )
    sweep.add_argument(
        "--cpus", type=args_.count, default=None, help="the local cluster's CPUs (default: all)"
    )
    sweep.add_argument(
        "--out", type=Path, default=None, help="output folder (default: runs/sweep-NAME)"
    )
    sweep.add_argument(
        "--walk-forward",
        type=_walk_forward,
        default=None,
        metavar="IN,OUT",
        help="folds of IN in-sample sessions, each followed by OUT out-of-sample sessions "
        "(rolling forward by OUT): the best combination in sample is replayed out of sample",
    )
    sweep.add_argument(
        "--model", choices=("twin", "plain"), default="twin", help="as tickstate replay --model"
    )
    sweep.add_argument("--seed", type=int, default=None, help="as tickstate replay --seed")
    sweep.add_argument(
        "--no-report", action="store_true", help="skip each combination's HTML report"
    )


def _walk_forward(text: str) -> tuple[int, int]:
    parts = text.split(",")
    try:
        first, second = (args_.count(part) for part in parts) if len(parts) == 2 else (0, 0)
    except argparse.ArgumentTypeError:
        first = second = 0
    if first < 1 or second < 1:
        raise argparse.ArgumentTypeError(
            f"must be two whole numbers IN,OUT of sessions, such as 60,20, got {text!r}"
        )
    return first, second


def run_sweep_command(args: argparse.Namespace) -> int:
    """``tickstate sweep``; the exit code."""
    import importlib.util

    from rich.progress import Progress

    from strategies._exceptions import DataError, SpecError
    from strategies.cli._run import seed_of
    from strategies.run import load_bars
    from strategies.run._sweep import SweepError, SweepTask, combinations, folds, parse_grid
    from strategies.spec import load_strategy

    config = Path(args.config)
    try:
        axes = parse_grid(args.grid)
        spec = load_strategy(config)
        data = tomllib.loads(config.read_text(encoding="utf-8"), parse_float=Decimal)
        combos = combinations(data, axes, file=str(config), base_dir=config.parent)
        bars = load_bars(args.data, symbols=spec.symbols)
        zone = spec.session.hours().timezone
        sessions = sorted({bar.start.astimezone(zone).date() for bar in bars})
        plan = None if args.walk_forward is None else folds(sessions, *args.walk_forward)
    except SweepError as exc:
        print(f"tickstate sweep: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SpecError, DataError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if not bars:
        print(f"{args.data}: no bars for {', '.join(spec.symbols)}", file=sys.stderr)
        return EXIT_USAGE
    if importlib.util.find_spec("ray") is None:
        print("tickstate sweep: needs Ray: pip install 'tickstate[sweep]'", file=sys.stderr)
        return EXIT_USAGE
    if not args.no_report and (missing := args_.missing_report_library()) is not None:
        print(f"tickstate sweep: {missing} (or pass --no-report)", file=sys.stderr)
        return EXIT_USAGE
    seed = seed_of(spec) if args.seed is None else args.seed
    out: Path = args.out or Path("runs") / f"sweep-{spec.name}"

    def task(key: str, combo: Combination, report: bool = not args.no_report) -> SweepTask:
        return SweepTask(key=key, data=combo.data, file=str(config), base_dir=config.parent,
                         model=args.model, seed=seed, report=report)  # fmt: skip

    from strategies.run._sweep import ray_session, run_tasks, window

    total = len(combos) * (1 if plan is None else len(plan)) + (0 if plan is None else len(plan))
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        bar = progress.add_task(f"sweeping {spec.name} on Ray", total=total)

        def advance(outcome: SweepOutcome) -> None:
            progress.advance(bar)

        try:
            with ray_session(args.address, args.cpus):
                if plan is None:
                    tasks = [task(combo.name, combo) for combo in combos]
                    outcomes = run_tasks([(tasks, bars, None)], progress=advance)
                    rows = _write_results(out, combos, outcomes, "")
                    metric = _metric(args.metric, rows)
                    folds_table: list[dict[str, str]] = []
                else:
                    rows, metric, folds_table = _walk(
                        plan, combos, bars, spec, task, out, args.metric, advance, window
                    )
        except SweepError as exc:
            print(f"tickstate sweep: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except ConnectionError as exc:  # no cluster at --address
            where = f"--address {args.address}" if args.address else "Ray"
            line = (str(exc).strip().splitlines() or ["cannot connect"])[0]
            print(f"tickstate sweep: {where}: {line}", file=sys.stderr)
            return EXIT_USAGE
        except Exception as exc:  # a Ray task that raised, or a cluster that cannot be reached
            first = str(exc).strip().splitlines() or [type(exc).__name__]
            print(f"tickstate sweep: {type(exc).__name__}: {first[-1]}", file=sys.stderr)
            return EXIT_FAULT
    from strategies.run._sweep_table import rank, results_csv, results_html, write

    title = f"{spec.name}: sweep of {len(combos)} combinations"
    csv_path = write(out / "results.csv", results_csv(rows, metric))
    html_path = write(
        out / "results.html", results_html(title, rows, axes, metric, walk_forward=folds_table)
    )
    if folds_table:
        write(out / "walk_forward.csv", _csv(folds_table))
    _print_top(rank(rows, metric), metric)
    print(f"wrote {csv_path} and {html_path}")
    return EXIT_OK


def _metric(asked: str | None, rows: list[ResultRow]) -> str:
    """The metric to rank by: ``asked`` if the summaries have it, else the default."""
    from strategies.run._sweep import SweepError

    names = {name for row in rows for name in row.total}
    if asked is None:
        return next((m for m in _DEFAULT_METRICS if m in names), "pnl")
    if asked not in names:
        known = ", ".join(sorted(names))
        raise SweepError(f"--metric {asked}: not in the summary's total (one of: {known})")
    return asked


def _write_results(
    out: Path, combos: list[Combination], outcomes: list[SweepOutcome], prefix: str
) -> list[ResultRow]:
    """Each combination's files under ``out/prefix``; its row for the results table."""
    from strategies.run._sweep_table import ResultRow, write

    rows = []
    for combo, outcome in zip(combos, outcomes, strict=True):
        folder = out / prefix / combo.name
        write(folder / "trades.csv", outcome.trades_csv)
        write(folder / "summary.json", outcome.summary_json)
        report = None
        if outcome.report_html is not None:
            write(folder / "report.html", outcome.report_html)
            report = f"{prefix}{combo.name}/report.html"
        rows.append(ResultRow(name=f"{prefix}{combo.name}", params=combo.params,
                              total=outcome.summary.get("total", {}), report=report))  # fmt: skip
    return rows


def _walk(
    plan: Any, combos: Any, bars: Any, spec: Any, task: Any, out: Path, asked: str | None,
    advance: Any, window: Any,
) -> tuple[list[ResultRow], str, list[dict[str, str]]]:  # fmt: skip
    """Every combination in sample per fold, then each fold's best out of sample."""
    from strategies.run._sweep import metric_of, run_tasks
    from strategies.run._sweep_table import rank

    batches = []
    for fold in plan:
        inside, history = window(bars, fold.in_sample, spec)
        keys = [f"fold-{fold.number}/in/{c.name}" for c in combos]
        batches.append(([task(k, c, False) for k, c in zip(keys, combos, strict=True)],
                        inside, history))  # fmt: skip
    outcomes = run_tasks(batches, progress=advance)
    rows: list[ResultRow] = []
    best = []
    metric = None
    for index, fold in enumerate(plan):
        mine = outcomes[index * len(combos) : (index + 1) * len(combos)]
        fold_rows = _write_results(out, combos, mine, f"fold-{fold.number}/in/")
        metric = metric or _metric(asked, fold_rows)
        top = rank(fold_rows, metric)[0]
        rows += fold_rows
        best.append((fold, combos[fold_rows.index(top)], top))
    assert metric is not None
    oos = []
    for fold, combo, _top in best:
        after, history = window(bars, fold.out_of_sample, spec)
        oos.append(([task(f"fold-{fold.number}/out", combo)], after, history))
    tested = run_tasks(oos, progress=advance)
    table = []
    for (fold, combo, top), outcome in zip(best, tested, strict=True):
        _write_results(out, [combo], [outcome], f"fold-{fold.number}/out/")
        table.append({
            "fold": str(fold.number),
            "in sample": f"{fold.in_sample[0]} to {fold.in_sample[-1]}",
            "out of sample": f"{fold.out_of_sample[0]} to {fold.out_of_sample[-1]}",
            "best": ", ".join(f"{k}={v}" for k, v in combo.params),
            f"{metric} in": str(metric_of({"total": top.total}, metric)),
            f"{metric} out": str(metric_of(outcome.summary, metric)),
        })  # fmt: skip
    return rows, metric, table


def _csv(rows: list[dict[str, str]]) -> str:
    import csv
    import io

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def _print_top(rows: list[ResultRow], metric: str) -> None:
    """The best five, one line each."""
    for place, row in enumerate(rows[:5], 1):
        params = ", ".join(f"{k}={v}" for k, v in row.params)
        print(f"{place}. {row.name}: {params}: {metric} {row.total.get(metric, '')}")
