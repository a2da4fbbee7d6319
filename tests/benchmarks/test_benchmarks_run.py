"""Every benchmark runs with tiny sizes and yields its fields (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import dispatch, latency, replay, scale
from benchmarks.__main__ import QUICK, run_all
from benchmarks._common import write_results


def test_dispatch_runs_fire_and_both_baselines_on_the_same_work() -> None:
    result = dispatch.measure(cycles=3, repeats=1)
    assert result["events"] == 3 * result["events_per_cycle"]
    assert set(result["events_per_s"]) == {"fire", "bare_transitions", "dict_fsm"}
    assert result["ratio_vs_bare_transitions"] > 0


def test_the_dispatch_cycle_is_realistic_and_never_anomalous() -> None:
    steps = dispatch.trace(dispatch.events(2))
    assert steps[-1][1] == "flat"
    assert {"entry_pending", "in_position", "stop_replacing", "exiting"} <= {s for _, s, _ in steps}


def test_fire_profile_names_frames() -> None:
    frames = dispatch.profile_fire(cycles=2, top=5)
    assert len(frames) == 5
    assert all("frame" in f and "own_s" in f for f in frames)


def test_scale_measures_build_time_and_bytes() -> None:
    result = scale.measure(scale._build_ours, 20)
    assert result["symbols"] == 20
    assert result["build_s"] > 0
    assert result["bytes_per_symbol"] > 0


def test_lock_hold_samples_every_fire_of_both_threads() -> None:
    result = latency.lock_hold(cycles=2, symbols_per_thread=2)
    assert result["events"] == 2 * 2 * 2 * 20
    assert {"p50", "p99"} <= set(result["hold_us"])


def test_in_process_latency_samples_each_fill() -> None:
    result = latency.in_process(samples=3, warmup=1)
    assert result["samples"] == 3
    assert result["update_to_command_us"]["p99"] > 0


def test_loopback_latency_samples_each_fill() -> None:
    result = latency.loopback(samples=2, warmup=1)
    assert result["samples"] == 2
    assert result["update_to_command_us"]["p50"] > 0


def test_replay_builds_ten_symbols_from_five() -> None:
    bars, spec = replay.bars_and_spec(10, days=1)
    assert len(spec.symbols) == 10
    assert {b.symbol for b in bars} == set(spec.symbols)
    result = replay.measure(10, repeats=1, days=1)
    assert result["bars"] == len(bars)
    assert result["bars_per_s"] > 0


def test_the_entry_point_writes_json_and_markdown(tmp_path: Path) -> None:
    figures, extra = run_all(QUICK, only=["scale", "in_process"], log=lambda _: None)
    json_path, md_path = write_results(figures, tmp_path, extra)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["machine"]["cores"] >= 1
    for figure in document["figures"]:
        assert {"name", "value", "baseline", "ratio", "target", "pass"} <= set(figure)
    assert "| figure | value | baseline | ratio | target | pass |" in md_path.read_text()
