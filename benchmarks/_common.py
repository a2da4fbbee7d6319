"""What every benchmark shares: figures, percentiles, the machine description, the report files."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "Figure",
    "how_scale_grows",
    "machine_description",
    "markdown",
    "merge_results",
    "peers_note",
    "percentiles",
    "readme_section",
    "table",
    "update_readme",
    "where_fire_time_goes",
    "where_startup_goes",
    "write_results",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """One measured figure, its baseline from the same run (if any) and its target."""

    name: str
    value: float
    unit: str
    target: str  # human-readable, e.g. ">= 0.8x bare transitions"
    passed: bool
    baseline: float | None = None
    baseline_name: str | None = None
    ratio: float | None = None  # value / baseline (or baseline / value for costs; see details)
    details: dict[str, Any] = field(default_factory=dict)
    # A figure measured in both clocks: ``value``/``baseline``/``ratio`` are CPU time (what a
    # shared, noisy host does not move), these the same run's wall time, shown beside them.
    wall_value: float | None = None
    wall_baseline: float | None = None
    wall_ratio: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The figure as a JSON object (``pass`` rather than ``passed``)."""
        document = asdict(self)
        document["pass"] = document.pop("passed")
        return document


def percentiles(samples: list[float], scale: float = 1e6) -> dict[str, float]:
    """p50/p90/p99/max of ``samples`` (seconds), scaled (default: microseconds)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(s * scale for s in samples)
    if len(ordered) == 1:
        only = round(ordered[0], 2)
        return {"n": 1, "p50": only, "p90": only, "p99": only, "max": only}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p90": round(cuts[89], 2),
        "p99": round(cuts[98], 2),
        "max": round(ordered[-1], 2),
    }


def machine_description() -> dict[str, Any]:
    """CPU model (from /proc/cpuinfo), cores, Python version, OS."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
    }


def _cell(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _run_line(document: dict[str, Any]) -> str:
    when = datetime.fromisoformat(document["date"])
    machine = document["machine"]
    line = (
        f"Run {when:%Y-%m-%d %H:%M} UTC on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['python']} ({machine['os']}). Regenerate with `python -m benchmarks`."
    )
    for merged in document.get("merged", []):
        at = datetime.fromisoformat(merged["date"])
        names = ", ".join(f"“{name}”" for name in merged["figures"])
        # Absolute figures move with the processor: name it when it is not the run's.
        cpu = merged["machine"]["cpu"]
        on = "" if cpu == machine["cpu"] else f"{cpu}, "
        line += (
            f" Measured later ({at:%Y-%m-%d %H:%M} UTC, {on}{merged['machine']['cores']} cores,"
            f" `python -m benchmarks --only {' '.join(merged['benchmarks'])} --merge`): {names}."
        )
    return line


def table(document: dict[str, Any]) -> str:
    """The figures of a ``results.json`` document as a Markdown table."""
    lines = [
        "| figure | value | baseline | ratio | target | pass |",
        "|---|---:|---|---:|---|:-:|",
    ]
    for f in document["figures"]:
        value = f"{_cell(f['value'])} {f['unit']}"
        baseline = f"{_cell(f['baseline'])} ({f['baseline_name']})" if f["baseline"] else "—"
        ratio = f"{f['ratio']:.2f}x" if f["ratio"] is not None else "—"
        if f.get("wall_value") is not None:  # both clocks: CPU first, the same run's wall after
            value = f"{value} CPU; {_cell(f['wall_value'])} wall"
            if f["baseline"]:
                baseline = (
                    f"{_cell(f['baseline'])} CPU; {_cell(f['wall_baseline'])} wall"
                    f" ({f['baseline_name']})"
                )
            if f["ratio"] is not None and f.get("wall_ratio") is not None:
                ratio = f"{f['ratio']:.2f}x CPU; {f['wall_ratio']:.2f}x wall"
        lines.append(
            f"| {f['name']} | {value} | {baseline} | {ratio} "
            f"| {f['target']} | {'pass' if f['pass'] else '**miss**'} |"
        )
    return "\n".join(lines) + "\n"


def where_fire_time_goes(document: dict[str, Any]) -> str:
    """The profile note: ``fire()``'s time by layer, its top frames, what leaving costs."""
    found = document.get("fire_breakdown")
    if not found:
        return ""
    layers = ", ".join(f"{name} {pct}%" for name, pct in found["own_time_pct"].items())
    frames = "\n".join(
        f"| `{f['frame']}` | {f['calls']:,} | {f['own_pct']}% |" for f in found["top_frames"]
    )
    estimate = found["without_transitions_estimate"]
    us = found["us_per_event"]
    target = found.get("target_ratio", 0.8)
    share = found["own_time_pct"]["transitions' trigger path"]
    profiled = us["bare_transitions"] / (us["fire"] * (1 - share / 100))
    return (
        "Where the time goes in `fire()` (cProfile own time by layer; the profiler inflates "
        f"small calls, so shares are approximate): {layers}.\n\n"
        "| top frame by own time | calls | own |\n|---|---:|---:|\n"
        f"{frames}\n\n"
        f"Per event ({found.get('clock', 'wall')}): `fire()` {us['fire']} µs, bare `transitions` "
        f"{us['bare_transitions']} µs, dict FSM {us['dict_fsm']} µs; {target}x needs `fire()` "
        f"within ~{estimate['own_work_budget_for_target_us']} µs. What leaving `transitions` "
        f"would give: swapping the trigger path (costed as the bare baseline) for a table lookup "
        f"leaves ~{estimate['us_per_event']} µs per event, "
        f"{estimate['ratio_vs_bare_transitions']}x; dropping the profiler's whole {share}% share "
        f"leaves {profiled:.2f}x.\n"
    )


def _details(document: dict[str, Any], name_start: str) -> dict[str, Any]:
    """The details of the first figure whose name starts with ``name_start`` ({} if none)."""
    for f in document["figures"]:
        if f["name"].startswith(name_start) and f.get("details"):
            return dict(f["details"])
    return {}


def _default_close(close: dict[str, Any]) -> str:
    """A bar close's seconds under the interpreter's collector defaults (CPU / wall), or —
    for a row measured before they were reported beside the live settings."""
    default = close.get("default_collector")
    if default is None:
        return "—"
    return f"{default['cpu_s']:.3f} / {default['wall_s']:.3f}"


def how_scale_grows(document: dict[str, Any]) -> str:
    """The scale rows' sizes: each size's cost per symbol (per bar) and memory, CPU and wall,
    and each against the smallest size (growth, from the rows' details)."""
    builds = _details(document, "build ").get("desk_sizes", [])
    closes = _details(document, "bar close deciding").get("sizes", [])
    memories = _details(document, "memory per symbol after a bar close").get("sizes", [])
    replays = _details(document, "replay one session").get("sizes", [])
    if not (closes and memories and replays and builds):
        return ""
    desk = "\n".join(
        f"| {c['symbols']:,} | {b['build_cpu_us_per_symbol']:.1f} / {b['build_us_per_symbol']:.1f}"
        f" | {c['cpu_s']:.3f} / {c['wall_s']:.3f} | {c['cpu_us_per_symbol']:.0f} /"
        f" {c['wall_us_per_symbol']:.0f} | {c['cpu_us_per_symbol_vs_smallest']:.2f}x /"
        f" {c['wall_us_per_symbol_vs_smallest']:.2f}x | {_default_close(c)}"
        f" | {m['after_first_bar_bytes_per_symbol']:,}"
        f" → {m['after_bar_close_bytes_per_symbol']:,} |"
        for b, c, m in zip(builds, closes, memories, strict=True)
    )
    session = "\n".join(
        f"| {r['symbols']:,} | {r['bars']:,} | {r['trades']:,} | {r['replay_cpu_s']:.1f} /"
        f" {r['replay_wall_s']:.1f} | {r['bars_per_s_cpu']:,} / {r['bars_per_s_wall']:,}"
        f" | {r['cpu_us_per_bar']:.1f} / {r['wall_us_per_bar']:.1f}"
        f" | {r['cpu_us_per_bar_vs_smallest']:.2f}x / {r['wall_us_per_bar_vs_smallest']:.2f}x"
        f" | {r['peak_bytes_per_symbol']:,} |"
        for r in replays
    )
    return (
        "How scale grows (CPU / wall; a desk: build, then the bar close where every symbol's "
        "opening range completes and each decides an entry, under the live runner's collector "
        "settings, and under the interpreter's defaults beside it; a session: 78 five-minute "
        "bars a symbol, opening-range breakout, synthetic seeded bars):\n\n"
        "| desk symbols | build µs/symbol | bar close s | µs/symbol | vs smallest "
        "| bar close s, default collector | B/symbol, first bar → bar close |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{desk}\n\n"
        "| session symbols | bars | trades | replay s | bars/s | µs/bar | vs smallest "
        "| peak B/symbol |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{session}\n"
    )


def what_transitions_costs(document: dict[str, Any]) -> str:
    """The note on transitions' trigger path: ``fire()`` and its lock hold with it and with a
    stand-in that runs the same rows, guards and effects (``latency.trigger_share``)."""
    found = document.get("trigger_share")
    if not found:
        return ""
    ours, rows = found["transitions"], found["same_rows"]
    return (
        "\nWhat `transitions`' trigger path costs inside `fire()` (one thread, CPU; "
        "`latency.trigger_share`): "
        f"{ours['fire_cpu_us_per_event']} µs per event and lock hold p50/p99 "
        f"{ours['hold_cpu_us']['p50']}/{ours['hold_cpu_us']['p99']} µs with it; "
        f"{rows['fire_cpu_us_per_event']} µs and {rows['hold_cpu_us']['p50']}/"
        f"{rows['hold_cpu_us']['p99']} µs with a stand-in that runs the same rows, guards and "
        "effects in the same order (an experiment, never the production path).\n"
    )


def peers_note(document: dict[str, Any]) -> str:
    """The peers' rows explained: whose trades matched tickstate's, and where the replay loop's
    time goes (``benchmarks/peers.py``; empty without its rows)."""
    lines = []
    frames: list[dict[str, Any]] = []
    for f in document["figures"]:
        details = f.get("details") or {}
        for peer, shown in (("backtrader", "backtrader"), ("nautilus", "NautilusTrader")):
            check = (details.get(peer) or {}).get("trades_check")
            if not check:
                continue
            explained = ", ".join(f"{n} {reason}" for reason, n in check["explained"].items() if n)
            rest = f", the rest differing only by {explained}" if explained else ""
            lines.append(
                f"- {f['name']}: {shown} took {check['peer_trades']:,} trades to tickstate's "
                f"{check['tickstate_trades']:,}; {check['identical']:,} identical (entry and exit,"
                f" bar and price){rest}; {check['unexplained']} unexplained."
            )
        frames = frames or details.get("tickstate_profile") or []
        if "trades" in details and "tickstate_loop_cpu_s" in details:
            loop = details["tickstate_loop_cpu_s"]["median"]
            lines.append(
                f"- {f['name']}: {details['trades']['tickstate']:,} trades each; of tickstate's "
                f"{f['value']:.2f} s CPU its replay loop is {loop:.2f} s, the rest start-up "
                f"(imports, the strategy file, the calendar, loading the bars)."
            )
    if not lines:
        return ""
    text = (
        "The peers (`benchmarks/peers.py`: the same bars, the same strategy, the same run; "
        "`gap_at_trigger`: a stop the bar opened through, filled at its trigger rather than the "
        "open; `square_off_at_last_close`: the square-off filled at the close before the "
        "deadline rather than the next open):\n\n" + "\n".join(lines) + "\n"
    )
    if frames:
        rows = "\n".join(
            f"| `{r['frame']}` | {r['calls']:,} | {r['own_pct']}% |" for r in frames[:8]
        )
        text += (
            "\nWhere tickstate's replay loop spends its time on the opening-bar stop entry "
            "(cProfile own time; the profiler inflates small calls):\n\n"
            "| top frame by own time | calls | own |\n|---|---:|---:|\n" + rows + "\n"
        )
    return text


def where_startup_goes(document: dict[str, Any]) -> str:
    """The start-up rows' phases: where each ``tickstate replay`` process's time went (CPU /
    wall, from ``benchmarks/startup.py``'s probe), and what the target leaves beside the loop."""
    models = []
    for f in document["figures"]:
        if f["name"].startswith("tickstate replay process CPU vs its loop, "):
            phases = (f.get("details") or {}).get("phases")
            if phases:
                models.append((f["name"].rsplit(", ", 2)[-2:], f["value"], phases))
    if not models:
        return ""
    names = list(max((p for _, _, p in models), key=len))  # the twin builds no bars apart
    head = " | ".join(f"{model}, `{data}`: CPU / wall s | share" for (model, data), _, _ in models)
    rows = "\n".join(
        f"| {name} | "
        + " | ".join(
            f"{p[name]['cpu_s']:.3f} / {p[name]['wall_s']:.3f} | {p[name]['cpu_s'] / total:.0%}"
            if name in p
            else "in its loop | —"
            for _, total, p in models
        )
        + " |"
        for name in names
    )
    libraries = _details(document, "tickstate --help")
    imported = None  # the libraries' imports alone, beyond a bare interpreter's start
    floor = ""
    if "libraries_cpu_s" in libraries:
        bare = libraries["python_cpu_s"]["median"]
        imported = libraries["libraries_cpu_s"]["median"] - bare
        floor = (
            f" A fresh interpreter importing only the libraries a replay is built on "
            f"(`{libraries['libraries']}`) spends {imported:.2f} s CPU beyond `python -c pass`"
            f" ({bare:.3f} s)."
        )
    lines = []
    for (model, _), total, p in models:
        loop = p["replay loop"]["cpu_s"]
        line = (
            f"{model.capitalize()}: {total - loop:.2f} s besides a {loop:.2f} s loop, where "
            f"1.5x of the loop leaves {loop / 2:.2f} s"
        )
        if imported is not None:
            fixed = p["interpreter start and exit"]["cpu_s"] + imported
            line += f", and the interpreter with those libraries' imports alone takes {fixed:.2f} s"
        lines.append(line)
    return (
        "Where a `tickstate replay` process's time goes (`benchmarks/startup.py`: the functions "
        "the command calls, timed in the measured processes; medians; the interpreter's share "
        "is its start and its exit, which frees every bar):\n\n"
        f"| phase | {head} |\n|---|"
        + "---:|---:|" * len(models)
        + f"\n{rows}\n\n"
        + floor.lstrip()
        + (" " if floor else "")
        + ". ".join(lines)
        + ".\n"
    )


def _body(document: dict[str, Any]) -> str:
    """The run line, the table and the notes (what both reports show): where ``fire()``'s time
    goes, the peers, how scale grows."""
    fire = where_fire_time_goes(document) + what_transitions_costs(document)
    found = (fire, peers_note(document), where_startup_goes(document), how_scale_grows(document))
    notes = [n for n in found if n]
    return f"{_run_line(document)}\n\n{table(document)}" + "".join(f"\n{n}" for n in notes)


def markdown(document: dict[str, Any]) -> str:
    """``results.md``: the run line, the table and the profile note."""
    return f"# tickstate benchmarks\n\n{_body(document)}"


README_BEGIN = "<!-- benchmarks:begin (generated by python -m benchmarks; do not edit) -->"
README_END = "<!-- benchmarks:end -->"


def readme_section(document: dict[str, Any]) -> str:
    """The README's generated performance block, markers included."""
    return f"{README_BEGIN}\n{_body(document)}{README_END}"


def update_readme(readme: Path, document: dict[str, Any]) -> None:
    """Replace the generated block of ``readme`` with one rendered from ``document``."""
    text = readme.read_text(encoding="utf-8")
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f"{readme}: no '{README_BEGIN}' ... '{README_END}' block")
    readme.write_text(
        text[:begin] + readme_section(document) + text[end + len(README_END) :], encoding="utf-8"
    )


def merge_results(
    figures: list[Figure],
    out_dir: Path,
    benchmarks: list[str],
    extra: dict[str, Any] | None = None,
    renamed: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[Path, Path]:
    """Put ``figures`` into the existing ``results.json`` (replacing rows of the same name, a
    row ``renamed`` by the rows now measuring it, in its place, once they are measured; a row
    renamed to nothing is retired; and adding the others) without
    rerunning the rest, and ``extra`` documents (the profile) over its own; the document says
    when they were measured."""
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    document: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    fresh = {f.name: f.as_json() for f in figures}
    rows = []
    for row in document["figures"]:
        successors = (renamed or {}).get(row["name"])
        if successors is None:
            rows.append(fresh.pop(row["name"], row))
        elif any(name in fresh for name in successors):
            rows += [fresh.pop(name) for name in successors if name in fresh]
        elif successors:  # its benchmark was not run this time: the row stays as measured
            rows.append(row)
    document["figures"] = rows + list(fresh.values())
    document.update(extra or {})
    document["all_pass"] = all(row["pass"] for row in document["figures"])
    merged = [m for m in document.get("merged", []) if m["benchmarks"] != benchmarks]
    merged.append(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_description(),
            "benchmarks": benchmarks,
            "figures": [f.name for f in figures],
        }
    )
    document["merged"] = merged
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(document), encoding="utf-8")
    return json_path, md_path


def write_results(
    figures: list[Figure], out_dir: Path, extra: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.md`` into ``out_dir``; returns their paths."""
    document: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "figures": [f.as_json() for f in figures],
        "all_pass": all(f.passed for f in figures),
    }
    if extra:
        document.update(extra)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(document), encoding="utf-8")
    return json_path, md_path
