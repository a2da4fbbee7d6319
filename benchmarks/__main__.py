"""``python -m benchmarks``: every figure against its baseline, into results.json and results.md.

Each figure is a ratio against a baseline measured in this same process, or a percentile over
many samples. ``--quick`` uses small sizes (a smoke run, figures not meaningful).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import (
    dispatch,
    executor,
    latency,
    replay,
    scale_run,
    startup,
    sweep,
    verify,
)
from benchmarks._common import Figure, markdown, merge_results, update_readme, write_results
from benchmarks._peer_figures import fig_peers

__all__ = ["main", "run_all"]

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"

FULL: dict[str, Any] = {
    "dispatch_cycles": 1500,
    "scale_symbols": 10_000,
    "scale_baseline_symbols": 200,
    "scale_desk_sizes": [100, 1_000, 5_000, 10_000],
    "scale_close_symbols": 30_000,  # repeats per desk size: at least 3, ~this many symbols
    "scale_close_target_s": 1.0,
    "scale_replay_sizes": [5_000, 20_000, 50_000],
    "scale_replay_target_bars_per_s": 50_000,
    "lock_cycles": 200,
    "in_process_samples": 2000,
    "loopback_samples": 500,
    "replay_days": None,
    "replay_repeats": 3,
    "rounds": 3,
    "profile": True,
    "profile_cycles": 500,
    "verify_depth": 6,
    "executor_symbols": 100,
    "executor_workers": 64,
    "sweep_combos": 12,
    # The whole demo year (250 sessions). A quarter of it was the row's size until a plain
    # replay of it took ~0.16 s (from ~0.9 s when the row was set): a task that small is
    # mostly Ray's dispatch and its files' way back, which is not what a sweep is for.
    "sweep_days": None,
    "sweep_rounds": 5,
    "startup_repeats": 3,
    "startup_days": None,
    "peers_days": None,  # the whole demo year: 250 sessions, 88,898 bars of 5 symbols
    "peers_rounds": 3,
    "peers_process_repeats": 3,
}
QUICK: dict[str, Any] = {
    "dispatch_cycles": 5,
    "scale_symbols": 50,
    "scale_baseline_symbols": 3,
    "scale_desk_sizes": [10, 40],
    "scale_close_symbols": 40,
    "scale_close_target_s": 1.0,
    "scale_replay_sizes": [10, 20],
    "scale_replay_target_bars_per_s": 50_000,
    "lock_cycles": 3,
    "in_process_samples": 5,
    "loopback_samples": 3,
    "replay_days": 2,
    "replay_repeats": 1,
    "rounds": 1,
    "profile": False,
    "profile_cycles": 3,
    "verify_depth": 3,
    "executor_symbols": 10,
    "executor_workers": 4,
    "sweep_combos": 2,
    "sweep_days": 3,
    "sweep_rounds": 1,
    "startup_repeats": 1,
    "startup_days": 1,
    "peers_days": 3,
    "peers_rounds": 1,
    "peers_process_repeats": 1,
}


def fig_dispatch(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """``fire()`` events/s against bare transitions (target >= 0.5x), in CPU and wall time,
    and against a dict FSM."""
    result = dispatch.measure(sizes["dispatch_cycles"], repeats=3)
    target = dispatch.TARGET_RATIO
    cpu, wall = result["cpu_events_per_s"], result["events_per_s"]
    figures = [
        Figure(
            name="fire() events/s vs bare transitions",
            value=cpu["fire"],
            unit="events/s",
            baseline=cpu["bare_transitions"],
            baseline_name="bare transitions",
            ratio=result["cpu_ratio_vs_bare_transitions"],
            target=f">= {target}x bare transitions (CPU)",
            passed=result["cpu_ratio_vs_bare_transitions"] >= target,
            details=result,
            wall_value=wall["fire"],
            wall_baseline=wall["bare_transitions"],
            wall_ratio=result["ratio_vs_bare_transitions"],
        )
    ]
    figures.append(
        Figure(
            name="fire() events/s vs dict FSM",
            value=cpu["fire"],
            unit="events/s",
            baseline=cpu["dict_fsm"],
            baseline_name="dict FSM + lock",
            ratio=result["cpu_ratio_vs_dict_fsm"],
            target="— (the floor, for reference)",
            passed=True,
            wall_value=wall["fire"],
            wall_baseline=wall["dict_fsm"],
            wall_ratio=result["ratio_vs_dict_fsm"],
        )
    )
    where = dispatch.breakdown(sizes["profile_cycles"])
    where["us_per_event"] = result["cpu_us_per_event"]
    where["without_transitions_estimate"] = result["cpu_without_transitions_estimate"]
    where["target_ratio"] = target
    where["clock"] = "CPU"
    return figures, {"fire_breakdown": where}


def fig_scale(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """10,000 symbols on one desk: build time and bytes per symbol against a Machine per
    symbol, one bar close deciding every symbol and its memory; one session replayed over
    50,000 symbols; each with how it grows (``scale_run``)."""
    return scale_run.build_figures(sizes) + scale_run.figures(sizes), {}


def _rounds(
    measure: Callable[[], dict[str, Any]], keys: tuple[str, ...], rounds: int
) -> dict[str, Any]:
    """Run a latency measurement ``rounds`` times; its percentiles are the median round's.

    One stall of the host (this is a shared VM) inflates one round's tail; the median round
    does not move with it. Every round's percentiles stay in the details.
    """
    found = []
    for _ in range(rounds):
        gc.collect()  # each round starts from a clean heap, like the first
        found.append(measure())
    return _median_rounds(found, keys)


#: Lock hold p99 target (µs), two firing threads; fill → stop in process p99 target (µs CPU).
LOCK_HOLD_P99_US = 25.0
FILL_TO_STOP_P99_CPU_US = 150.0


def _gc_pair(
    measure: Callable[[bool], dict[str, Any]], keys: tuple[str, ...], rounds: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``measure`` under the live runner's collector settings and, as the same-run baseline,
    under the default ones, rounds alternating; each the median of its rounds."""
    tuned: list[dict[str, Any]] = []
    default: list[dict[str, Any]] = []
    for _ in range(rounds):
        for live_gc, found in ((True, tuned), (False, default)):
            gc.collect()  # each round starts from a clean heap, like the first
            found.append(measure(live_gc))
    return _median_rounds(tuned, keys), _median_rounds(default, keys)


def _median_rounds(found: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """The first round's fields, each of ``keys``' percentiles the median over rounds."""
    merged = dict(found[0])
    for key in keys:
        cuts = {
            name: round(statistics.median(r[key][name] for r in found), 2)
            for name in ("p50", "p90", "p99", "max")
        }
        merged[key] = {"n": sum(r[key]["n"] for r in found), **cuts}
        merged[f"{key}_rounds"] = [r[key] for r in found]
    return merged


def _clocked(
    name: str,
    unit: str,
    tuned: dict[str, Any],
    default: dict[str, Any],
    wall_key: str,
    cpu_key: str,
    target: float,
) -> list[Figure]:
    """p99 and p50 rows, each in CPU time (the verdict's) with the same run's wall time beside
    it, against the default collector's; the target judges the p99."""
    figures = []
    for cut in ("p99", "p50"):
        value, baseline = tuned[cpu_key][cut], default[cpu_key][cut]
        wall, wall_baseline = tuned[wall_key][cut], default[wall_key][cut]
        aimed = cut == "p99"
        figures.append(
            Figure(
                name=f"{name} {cut}",
                value=value,
                unit=unit,
                baseline=baseline,
                baseline_name="default GC, same run",
                ratio=round(baseline / value, 3) if value else None,
                target=f"p99 <= {target:g} {unit} (CPU)" if aimed else "— (reported)",
                passed=value <= target if aimed else True,
                details={"live_gc": tuned, "default_gc": default} if aimed else {},
                wall_value=wall,
                wall_baseline=wall_baseline,
                wall_ratio=round(wall_baseline / wall, 3) if wall else None,
            )
        )
    return figures


def fig_lock(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """Lock hold p50/p99 under two firing threads (median of rounds), wall and CPU, with the
    live runner's collector settings against the default ones; one thread for reference."""
    tuned, default = _gc_pair(
        lambda live_gc: latency.lock_hold(sizes["lock_cycles"], live_gc=live_gc),
        ("hold_us", "hold_cpu_us"),
        sizes["rounds"],
    )
    alone = latency.lock_hold(sizes["lock_cycles"], threads=1)
    tuned["one_thread"] = {k: alone[k] for k in ("hold_us", "hold_cpu_us")}
    # Both threads at the same machines: decisions race, and the overtaken ones are made again.
    shared = latency.lock_hold(sizes["lock_cycles"], same_symbols=True)
    tuned["same_symbols"] = {
        k: shared[k] for k in ("hold_us", "hold_cpu_us", "redecided", "redecided_share")
    }
    share = latency.trigger_share(max(1, sizes["lock_cycles"] // 2))
    figures = _clocked(
        "lock hold, 2 firing threads,",
        "µs",
        tuned,
        default,
        "hold_us",
        "hold_cpu_us",
        LOCK_HOLD_P99_US,
    )
    return figures, {"trigger_share": share}


def _latency_figures(name: str, result: dict[str, Any], target_us: float) -> list[Figure]:
    """A latency's p99 (judged on wall time: a socket's round trip is time, not work) and p50,
    each with the process's CPU time over the same intervals beside it."""
    cuts, cpu = result["update_to_command_us"], result["update_to_command_cpu_us"]
    return [
        Figure(
            name=f"{name} p99",
            value=cpu["p99"],
            unit="µs",
            target=f"p99 <= {target_us:,.0f} µs (wall)",
            passed=cuts["p99"] <= target_us,
            details=result,
            wall_value=cuts["p99"],
        ),
        Figure(
            name=f"{name} p50",
            value=cpu["p50"],
            unit="µs",
            target="— (reported)",
            passed=True,
            wall_value=cuts["p50"],
        ),
    ]


def fig_in_process(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """Fill received → PlaceStop handed to the paper broker (median of rounds), CPU (the
    target) and wall, with the live runner's collector settings against the default ones."""
    tuned, default = _gc_pair(
        lambda live_gc: latency.in_process(sizes["in_process_samples"], live_gc=live_gc),
        ("update_to_command_us", "update_to_command_cpu_us"),
        sizes["rounds"],
    )
    figures = _clocked(
        "fill → stop at broker, in process,",
        "µs",
        tuned,
        default,
        "update_to_command_us",
        "update_to_command_cpu_us",
        FILL_TO_STOP_P99_CPU_US,
    )
    return figures, {}


def fig_loopback(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """Fill received over the stream → stop handed to the Alpaca adapter (median of rounds)."""
    result = _rounds(
        lambda: latency.loopback(sizes["loopback_samples"]),
        ("update_to_command_us", "update_to_command_cpu_us"),
        sizes["rounds"],
    )
    return _latency_figures("fill → stop at broker, loopback sim", result, 5000), {}


def fig_replay(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """Replay bars/s, 80-20, 10 symbols."""
    result = replay.measure(
        10, repeats=sizes["replay_repeats"], days=sizes["replay_days"], profile=sizes["profile"]
    )
    profile = result.pop("profile", None)
    # An absolute rate says as much about the host as about tickstate: the peers' rows judge
    # replay speed, against backtrader and NautilusTrader in the same run.
    figure = Figure(
        name=f"replay bars/s, 80-20, {result['symbols']} symbols",
        value=result["cpu_bars_per_s"],
        unit="bars/s",
        target="— (reported; the peers' rows judge it, same run)",
        passed=True,
        details=result,
        wall_value=result["bars_per_s"],
    )
    return [figure], ({"replay_profile": profile} if profile else {})


def fig_verify(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """``tickstate verify``: states explored per second, and what deduplication saves."""
    result = verify.measure(sizes["verify_depth"])
    dedup, every_path = result["dedup"], result["without_dedup"]
    depth = result["depth"]
    return [
        Figure(
            name=f"verify states/s, faithful depth {depth}, dedup",
            value=dedup["states_per_s"],
            unit="states/s",
            baseline=every_path["states_per_s"],
            baseline_name="without dedup: a state per path",
            ratio=dedup["states_per_s"] / every_path["states_per_s"],
            target="— (reported: a distinct state costs several transitions)",
            passed=True,
            details=result,
            wall_value=dedup["wall_states_per_s"],
            wall_baseline=every_path["wall_states_per_s"],
            wall_ratio=dedup["wall_states_per_s"] / every_path["wall_states_per_s"],
        ),
        Figure(
            name=f"verify CPU time, faithful depth {depth}, dedup",
            value=dedup["cpu_s"],
            unit="s",
            baseline=every_path["cpu_s"],
            baseline_name=f"without dedup, {every_path['states']:,} states",
            ratio=result["speedup"],
            target=">= 5x (ratio = speed-up)",
            passed=result["speedup"] >= 5,
            wall_value=dedup["wall_s"],
            wall_baseline=every_path["wall_s"],
            wall_ratio=result["wall_speedup"],
        ),
    ], {}


def fig_executor(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """Bar close on 100 symbols at 50 ms latency: p99 bar → command at the broker (<= 3x)."""
    result = executor.measure(
        sizes["executor_symbols"], workers=sizes["executor_workers"], rounds=sizes["rounds"]
    )
    p99 = result["at_broker_parallel_ms"]["p99"]
    serial = result["at_broker_serial_ms"]["p99"]
    cpu, wall = result["runner_cpu_per_command_ms"], result["round_wall_per_command_ms"]
    return [
        Figure(
            name=f"bar → command at broker p99, {result['symbols']} symbols, 50 ms broker",
            value=p99,
            unit="ms",
            baseline=serial,
            baseline_name="serial executor (engine thread)",
            ratio=serial / p99,
            target="<= 3x the latency (150 ms) (ratio = speed-up)",
            passed=result["p99_over_latency"] <= 3.0,
            details=result,
        ),
        Figure(
            name=f"bar close's cost per command, {result['symbols']} symbols, 50 ms broker",
            value=cpu["parallel"],
            unit="ms",
            baseline=cpu["serial"],
            baseline_name="serial executor (engine thread)",
            ratio=cpu["parallel"] / cpu["serial"],
            target="— (reported: the runner's CPU and the round's time; ratio = parallel / serial)",
            passed=True,
            wall_value=wall["parallel"],
            wall_baseline=wall["serial"],
            wall_ratio=wall["parallel"] / wall["serial"],
        ),
    ], {}


def fig_sweep(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """12 replays as a sweep on a local Ray cluster of 2 CPUs vs one after another (>= 1.6x);
    the median of rounds that alternate which runs first."""
    result = sweep.measure(
        sizes["sweep_combos"], cpus=2, days=sizes["sweep_days"], rounds=sizes["sweep_rounds"]
    )
    # The CPU beside the wall time: the tasks' (each worker's threads too) and the driver's,
    # against the sequential replays'. A sweep buys time with a little more work, so its CPU
    # "speed-up" is at most 1x; the target is the wall time a user waits.
    cpu = result["sweep_tasks_cpu_s"] + result["sweep_driver_cpu_s"]
    return [
        Figure(
            name=f"sweep of {result['combinations']} replays on Ray, 2 CPUs",
            value=round(cpu, 3),
            unit="s",
            baseline=result["sequential_cpu_s"],
            baseline_name=f"{result['combinations']} sequential replays",
            ratio=result["sequential_cpu_s"] / cpu,
            target=">= 1.6x wall (ratio = speed-up; results identical)",
            passed=result["speedup"] >= 1.6 and result["identical"],
            details=result,
            wall_value=result["sweep_s"],
            wall_baseline=result["sequential_s"],
            wall_ratio=result["speedup"],
        )
    ], {}


def fig_startup(sizes: dict[str, Any]) -> tuple[list[Figure], dict[str, Any]]:
    """A whole ``tickstate replay`` process in CPU time against its own replay loop (same run),
    both fill models on their demo data; ``tickstate --help`` against a bare interpreter."""
    figures = []
    for model, data in (("twin", "data/intraday_1min"), ("plain", "data/intraday_5min")):
        result = startup.replay_process(
            model, data, repeats=sizes["startup_repeats"], days=sizes["startup_days"]
        )
        ratio = result["cpu_ratio"]["median"]
        figures.append(
            Figure(
                name=f"tickstate replay process CPU vs its loop, {model}, {data}",
                value=result["process_cpu_s"]["median"],
                unit="s",
                baseline=result["loop_cpu_s"]["median"],
                baseline_name="its replay loop, same run",
                ratio=ratio,
                target="<= 1.5x its loop (ratio = process / loop)",
                passed=ratio <= 1.5,
                details=result,
                wall_value=result["process_wall_s"]["median"],
                wall_baseline=result["loop_wall_s"]["median"],
                wall_ratio=result["wall_ratio"]["median"],
            )
        )
    helped = startup.help_process(repeats=max(3, sizes["startup_repeats"]))
    figures.append(
        Figure(
            name="tickstate --help, whole process",
            value=helped["help_cpu_s"]["median"],
            unit="s",
            baseline=helped["python_cpu_s"]["median"],
            baseline_name="python -c pass",
            ratio=helped["help_cpu_s"]["median"] / helped["python_cpu_s"]["median"],
            target="well under 0.5 s (CPU)",
            passed=helped["help_cpu_s"]["median"] < 0.25,
            details=helped,
            wall_value=helped["help_wall_s"]["median"],
            wall_baseline=helped["python_wall_s"]["median"],
            wall_ratio=helped["help_wall_s"]["median"] / helped["python_wall_s"]["median"],
        )
    )
    return figures, {}


BENCHMARKS: dict[str, Callable[[dict[str, Any]], tuple[list[Figure], dict[str, Any]]]] = {
    "dispatch": fig_dispatch,
    "scale": fig_scale,
    "lock": fig_lock,
    "in_process": fig_in_process,
    "loopback": fig_loopback,
    "replay": fig_replay,
    "verify": fig_verify,
    "executor": fig_executor,
    "sweep": fig_sweep,
    "startup": fig_startup,
    "peers": fig_peers,
}


#: Rows an earlier version of a benchmark wrote under names it no longer uses, and the rows that
#: measure the same now (in CPU and wall time): a merge puts these in their place.
RENAMED: dict[str, tuple[str, ...]] = {
    "bytes per symbol": (  # the scale rows beside the build's, in its place
        "bytes per symbol",
        "bar close deciding 10,000 symbols",
        "memory per symbol after a bar close, 10,000 symbols",
        "replay one session, 50,000 symbols, ORB",
        "replay peak memory per symbol, 50,000 symbols",
    ),
    # One row per figure, CPU time with the wall time beside it (it was a row for each).
    "fire() events/s vs bare transitions, CPU": ("fire() events/s vs bare transitions",),
    "fire() events/s vs bare transitions, wall": (),
    "lock hold p99, 2 firing threads": ("lock hold, 2 firing threads, p99",),
    "lock hold p50, 2 firing threads": ("lock hold, 2 firing threads, p50",),
    "fill → stop at broker, in process p99": ("fill → stop at broker, in process, p99",),
    "fill → stop at broker, in process p50": ("fill → stop at broker, in process, p50",),
    **{
        f"{name} {cut}, {clock}": (f"{name} {cut}",) if clock == "CPU" else ()
        for name in ("lock hold, 2 firing threads,", "fill → stop at broker, in process,")
        for cut in ("p99", "p50")
        for clock in ("CPU", "wall")
    },
}


def run_all(
    sizes: dict[str, Any], only: list[str] | None = None, log: Callable[[str], None] = print
) -> tuple[list[Figure], dict[str, Any]]:
    """Run the benchmarks (all, or ``only`` those named); their figures and extra documents."""
    figures: list[Figure] = []
    extra: dict[str, Any] = {}
    for name, bench in BENCHMARKS.items():
        if only and name not in only:
            continue
        log(f"running {name} ...")
        # The previous benchmark's garbage is collected now, not inside this one's samples.
        gc.collect()
        found, more = bench(sizes)
        figures += found
        extra.update(more)
        for f in found:
            log(f"  {f.name}: {f.value:,.2f} {f.unit} ({'pass' if f.passed else 'MISS'})")
    return figures, extra


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark; write ``results.json``, ``results.md`` and the README's table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.* go")
    parser.add_argument(
        "--readme",
        type=Path,
        default=README,
        help="whose performance block to regenerate (full runs of every benchmark only)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with --only: put the new rows into the existing results.json (and the README)"
        " instead of replacing it, for when a full run is not wanted",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="run nothing: regenerate results.md and the README from the existing results.json",
    )
    args = parser.parse_args(argv)
    if args.render:
        document = json.loads((args.out / "results.json").read_text(encoding="utf-8"))
        (args.out / "results.md").write_text(markdown(document), encoding="utf-8")
        update_readme(args.readme, document)
        print(f"rendered {args.out / 'results.md'} and {args.readme}")
        return 0
    for noisy in ("tickstate", "transitions", "websocket", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from strategies import configure_logging

    configure_logging(level="WARNING")
    figures, extra = run_all(QUICK if args.quick else FULL, args.only)
    if args.merge:
        if args.quick or not args.only:
            parser.error("--merge takes the rows of a full-size --only run")
        json_path, md_path = merge_results(
            figures, args.out, sorted(args.only), extra=extra, renamed=RENAMED
        )
        update_readme(args.readme, json.loads(json_path.read_text(encoding="utf-8")))
        print(f"merged into {json_path} and {md_path}; regenerated {args.readme}")
        return 0
    json_path, md_path = write_results(figures, args.out, extra)
    print(f"wrote {json_path} and {md_path}")
    if not args.quick and not args.only:  # a partial or smoke run never replaces the table
        update_readme(args.readme, json.loads(json_path.read_text(encoding="utf-8")))
        print(f"regenerated the performance table in {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
