"""What every benchmark shares: figures, percentiles, the machine description, the report files."""

from __future__ import annotations

import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Figure", "machine_description", "percentiles", "write_results"]


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


def markdown(figures: list[Figure], when: datetime, machine: dict[str, Any]) -> str:
    """The results table, with the date and the machine."""
    lines = [
        "# tickstate benchmarks",
        "",
        f"Run {when:%Y-%m-%d %H:%M} UTC on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['python']} ({machine['os']}). Regenerate with `python -m benchmarks`.",
        "",
        "| figure | value | baseline | ratio | target | pass |",
        "|---|---:|---|---:|---|:-:|",
    ]
    for f in figures:
        baseline = f"{_cell(f.baseline)} ({f.baseline_name})" if f.baseline is not None else "—"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "—"
        lines.append(
            f"| {f.name} | {_cell(f.value)} {f.unit} | {baseline} | {ratio} | {f.target} "
            f"| {'pass' if f.passed else '**miss**'} |"
        )
    return "\n".join(lines) + "\n"


def write_results(
    figures: list[Figure], out_dir: Path, extra: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.md`` into ``out_dir``; returns their paths."""
    when = datetime.now(UTC)
    machine = machine_description()
    document: dict[str, Any] = {
        "date": when.isoformat(timespec="seconds"),
        "machine": machine,
        "figures": [f.as_json() for f in figures],
        "all_pass": all(f.passed for f in figures),
    }
    if extra:
        document.update(extra)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(figures, when, machine), encoding="utf-8")
    return json_path, md_path
