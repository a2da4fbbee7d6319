"""Every benchmark runs with tiny sizes and yields its fields (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import against, dispatch, latency, replay, scale, scale_run, verify
from benchmarks.__main__ import QUICK, run_all
from benchmarks._common import (
    README_BEGIN,
    README_END,
    Figure,
    how_scale_grows,
    markdown,
    merge_results,
    readme_section,
    update_readme,
    where_startup_goes,
    write_results,
)
from machines import State


def test_dispatch_runs_fire_and_both_baselines_on_the_same_work() -> None:
    result = dispatch.measure(cycles=3, repeats=1)
    assert result["events"] == 3 * result["events_per_cycle"]
    assert set(result["events_per_s"]) == {"fire", "bare_transitions", "dict_fsm"}
    assert result["ratio_vs_bare_transitions"] > 0
    assert result["cpu_ratio_vs_bare_transitions"] > 0


def test_the_dispatch_cycle_is_realistic_and_never_anomalous() -> None:
    steps = dispatch.trace(dispatch.events(2))
    assert steps[-1][1] == State.FLAT
    assert {State.ENTRY_PENDING, State.IN_POSITION, State.STOP_REPLACING, State.EXITING} <= {
        s for _, s, _ in steps
    }


def test_fire_profile_names_frames() -> None:
    frames = dispatch.profile_fire(cycles=2, top=5)
    assert len(frames) == 5
    assert all("frame" in f and "own_s" in f for f in frames)


def test_scale_measures_build_time_and_bytes() -> None:
    result = scale.measure(scale._build_ours, 20)
    assert result["symbols"] == 20
    assert result["build_s"] > 0
    assert result["build_cpu_s"] >= 0
    assert result["bytes_per_symbol"] > 0


def test_a_bar_close_decides_every_symbol_of_the_desk() -> None:
    """The timed moment is the one where every symbol's opening range completes: one entry each;
    both clocks, whole and per symbol."""
    result = scale_run.bar_close(12, repeats=2)
    assert result["entries"] == result["symbols"] == 12
    assert len(result["cpu_s_runs"]) == len(result["wall_s_runs"]) == 2
    assert result["cpu_s"] > 0
    assert result["wall_s"] > 0
    assert result["cpu_us_per_symbol"] == pytest.approx(result["cpu_s"] / 12 * 1e6, rel=1e-3)


def test_desk_memory_grows_with_the_bar_close() -> None:
    result = scale_run.desk_memory(12)
    assert result["after_bar_close_bytes"] > result["after_first_bar_bytes"] > 0
    assert result["peak_bytes"] >= result["after_bar_close_bytes"]


def test_a_session_replay_is_deterministic_and_trades() -> None:
    """The synthetic session is seeded: the same symbols give the same trades, byte for byte."""
    first = scale_run.replay_session(8, memory=True)
    again = scale_run.replay_session(8, memory=False)
    assert first["bars"] == 8 * 78
    assert first["trades"] > 0
    assert first["trades_sha256_16"] == again["trades_sha256_16"]
    assert first["bars_per_s_cpu"] > 0
    assert first["bars_per_s_wall"] > 0
    assert first["peak_bytes_per_symbol"] > 0


def test_the_hot_path_rows_are_one_row_each_in_cpu_with_the_wall_beside() -> None:
    """fire(), the lock hold and fill → stop: one row per figure, its value, baseline and
    ratio in CPU time (the verdict's), the same run's wall time beside them."""
    figures, _ = run_all(QUICK, only=["dispatch", "lock", "in_process"], log=lambda _: None)
    names = [f.name for f in figures]
    for name in (
        "fire() events/s vs bare transitions",
        "fire() events/s vs dict FSM",
        "lock hold, 2 firing threads, p99",
        "lock hold, 2 firing threads, p50",
        "fill → stop at broker, in process, p99",
        "fill → stop at broker, in process, p50",
    ):
        (figure,) = [f for f in figures if f.name == name]
        assert figure.wall_value is not None, name
        assert figure.wall_baseline is not None, name
        assert figure.wall_ratio is not None, name
    assert not [n for n in names if n.endswith((", CPU", ", wall"))]


def test_the_scale_rows_carry_cpu_and_wall_with_baselines_and_growth() -> None:
    """At the quick sizes: every timed scale row in both clocks (CPU, and the same run's wall
    beside it), each with its same-run baseline, ratio and verdict; every size's growth
    against the smallest in the details."""
    figures, _ = run_all(QUICK, only=["scale"], log=lambda _: None)
    names = [f.name for f in figures]
    timed = ["build 50 symbol machines", "bar close deciding 40 symbols", "replay one session"]
    for stem in timed:
        (figure,) = [f for f in figures if f.name.startswith(stem)]
        assert figure.wall_value is not None, stem
        assert figure.wall_baseline is not None, stem
        assert figure.wall_ratio is not None, stem
    assert any(n.startswith("memory per symbol after a bar close") for n in names)
    assert any(n.startswith("replay peak memory per symbol") for n in names)
    for figure in figures:
        assert figure.target
        assert isinstance(figure.passed, bool)
        if figure.name != "bytes per symbol":
            assert figure.baseline is not None, figure.name
            assert figure.ratio is not None, figure.name
    by_name = {f.name: f for f in figures}
    close = by_name["bar close deciding 40 symbols"]
    sizes = close.details["sizes"]
    assert [row["symbols"] for row in sizes] == QUICK["scale_desk_sizes"]
    assert sizes[0]["cpu_us_per_symbol_vs_smallest"] == 1.0
    assert close.ratio == pytest.approx(sizes[-1]["cpu_us_per_symbol_vs_smallest"], rel=0.01)
    replayed = next(f for f in figures if f.name.startswith("replay one session"))
    assert [row["symbols"] for row in replayed.details["sizes"]] == QUICK["scale_replay_sizes"]
    grows = how_scale_grows({"figures": [f.as_json() for f in figures]})
    assert grows.startswith("How scale grows")
    assert grows.count("\n| 10 |") == 2  # the smallest desk and the smallest session
    assert grows.count("\n| 40 |") == grows.count("\n| 20 |") == 1


def test_lock_hold_samples_every_fire_of_both_threads() -> None:
    result = latency.lock_hold(cycles=2, symbols_per_thread=2)
    assert result["events"] == 2 * 2 * 2 * 20
    assert {"p50", "p99"} <= set(result["hold_us"])
    assert result["hold_cpu_us"]["n"] == result["hold_us"]["n"]  # CPU time of every hold too


def test_lock_hold_at_the_same_symbols_counts_the_decisions_taken_again() -> None:
    import machines._machine

    real = machines._machine._decide
    result = latency.lock_hold(cycles=2, symbols_per_thread=2, same_symbols=True)
    assert machines._machine._decide is real  # the counting wrapper is gone after the run
    assert result["events"] == 2 * 2 * 2 * 20  # both threads fired every event of both streams
    assert 0 <= result["redecided"] <= result["events"]
    # A hold for every fire, and one more for each decision overtaken (and made again).
    assert result["holds"] == result["hold_cpu_us"]["n"] >= result["events"]
    assert result["redecided_share"] == round(result["redecided"] / result["events"], 4)


_IN_GIT = (Path(__file__).resolve().parents[2] / ".git").exists()


@pytest.mark.skipif(not _IN_GIT, reason="needs the repository's git history")
def test_against_a_revision_fires_the_same_cycle_on_both_and_compares_decisions() -> None:
    result = against.measure("HEAD", cycles=3, rounds=2)
    assert result["decisions_identical"] is True
    assert result["events"] == 3 * 20
    assert set(result["cpu_us_per_event"]) == {"revision", "working_tree"}
    assert [len(v) for v in result["cpu_us_rounds"].values()] == [2, 2]


@pytest.mark.skipif(not _IN_GIT, reason="needs the repository's git history")
def test_against_names_a_revision_that_is_not_a_commit() -> None:
    with pytest.raises(SystemExit, match="'no-such-revision' is not a commit"):
        against.measure("no-such-revision", cycles=1, rounds=1)


def test_an_event_rebuilt_from_the_same_vocabulary_is_equal() -> None:
    import machines

    for event in dispatch.cycle(dispatch._FIRST_DAY):
        assert against.rebuilt(event, machines) == event


def test_the_trigger_share_experiment_puts_transitions_back() -> None:
    """Both paths fire every event; the shared definition's events are transitions' again."""
    from machines._machine import _EVENTS, LIFECYCLE

    result = latency.trigger_share(cycles=1, symbols=2, repeats=1)
    assert result["transitions"]["hold_cpu_us"]["n"] == result["same_rows"]["hold_cpu_us"]["n"]
    assert all(_EVENTS[name] is event for name, event in LIFECYCLE.events.items())


def test_in_process_latency_samples_each_fill() -> None:
    result = latency.in_process(samples=3, warmup=1)
    assert result["samples"] == 3
    assert result["update_to_command_us"]["p99"] > 0
    assert result["update_to_command_cpu_us"]["n"] == 3  # and the CPU time of each


def test_loopback_latency_samples_each_fill() -> None:
    """Ten round trips against the twin (with Alpaca's rules, whose seeded split fills met the
    sixth exit: the loop waited for a whole fill that never came), each in both clocks."""
    result = latency.loopback(samples=8, warmup=2)
    assert result["samples"] == 8
    assert result["update_to_command_us"]["p50"] > 0
    assert result["update_to_command_cpu_us"]["n"] == 8


def test_replay_builds_ten_symbols_from_five() -> None:
    bars, spec = replay.bars_and_spec(10, days=1)
    assert len(spec.symbols) == 10
    assert {b.symbol for b in bars} == set(spec.symbols)
    result = replay.measure(10, repeats=1, days=1)
    assert result["bars"] == len(bars)
    assert result["bars_per_s"] > 0
    assert result["cpu_bars_per_s"] > 0


def test_verify_explores_the_same_depth_with_and_without_dedup() -> None:
    result = verify.measure(depth=3)
    assert result["dedup"]["states"] < result["without_dedup"]["states"]
    assert result["without_dedup"]["states"] == result["without_dedup"]["transitions"] + 1
    assert result["dedup"]["violations"] == result["without_dedup"]["violations"] == 0
    assert result["dedup"]["states_per_s"] > 0


def test_the_verify_and_start_up_rows_carry_cpu_and_wall() -> None:
    """Every timed row of verify and start-up in both clocks: CPU (the verdict's), the same
    run's wall time beside it, each against its same-run baseline."""
    figures, _ = run_all(QUICK, only=["verify", "startup"], log=lambda _: None)
    assert len(figures) == 5
    for figure in figures:
        assert figure.wall_value is not None, figure.name
        assert figure.wall_baseline is not None, figure.name
        assert figure.wall_ratio is not None, figure.name
        assert figure.unit != "s CPU", figure.name  # the clock is said beside each value


def test_merging_rows_keeps_the_others_and_says_when(tmp_path: Path) -> None:
    figures, extra = run_all(QUICK, only=["scale"], log=lambda _: None)
    write_results(figures, tmp_path, extra)
    fresh, _ = run_all(QUICK, only=["verify"], log=lambda _: None)
    json_path, md_path = merge_results(fresh, tmp_path, ["verify"])
    document = json.loads(json_path.read_text(encoding="utf-8"))
    names = [f["name"] for f in document["figures"]]
    assert names == [f.name for f in figures] + [f.name for f in fresh]
    assert document["merged"][0]["benchmarks"] == ["verify"]
    assert "--only verify --merge" in md_path.read_text(encoding="utf-8")
    merge_results(fresh, tmp_path, ["verify"])  # again: replaced, not added twice
    again = json.loads(json_path.read_text(encoding="utf-8"))
    assert [f["name"] for f in again["figures"]] == names
    assert len(again["merged"]) == 1


def test_a_renamed_row_gives_way_to_its_successors_in_its_place(tmp_path: Path) -> None:
    """A merge puts the rows that now measure a renamed figure where it was, not at the end."""
    figures, extra = run_all(QUICK, only=["scale"], log=lambda _: None)
    write_results(figures, tmp_path, extra)
    old = figures[0].name
    first, second = (
        Figure(name=f"{old}, {clock}", value=1.0, unit="s", target="—", passed=True)
        for clock in ("CPU", "wall")
    )
    json_path, _ = merge_results(
        [first, second], tmp_path, ["scale"], renamed={old: (first.name, second.name)}
    )
    names = [f["name"] for f in json.loads(json_path.read_text(encoding="utf-8"))["figures"]]
    assert names == [first.name, second.name, *(f.name for f in figures[1:])]


def test_a_renamed_row_stays_until_its_successors_are_measured(tmp_path: Path) -> None:
    """Merging another benchmark keeps a renamed row whose successors it did not measure (a
    merge of start-up lost the scale's "bytes per symbol"); a row renamed to nothing goes."""
    figures, extra = run_all(QUICK, only=["scale"], log=lambda _: None)
    write_results(figures, tmp_path, extra)
    kept, retired = figures[0].name, figures[1].name
    other = Figure(name="another row", value=1.0, unit="s", target="—", passed=True)
    json_path, _ = merge_results(
        [other], tmp_path, ["other"], renamed={kept: (kept, "not measured now"), retired: ()}
    )
    names = [f["name"] for f in json.loads(json_path.read_text(encoding="utf-8"))["figures"]]
    assert names == [kept, *(f.name for f in figures[2:]), other.name]


def test_the_entry_point_writes_json_and_markdown(tmp_path: Path) -> None:
    figures, extra = run_all(QUICK, only=["scale", "in_process"], log=lambda _: None)
    json_path, md_path = write_results(figures, tmp_path, extra)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["machine"]["cores"] >= 1
    for figure in document["figures"]:
        assert {"name", "value", "baseline", "ratio", "target", "pass"} <= set(figure)
    assert "| figure | value | baseline | ratio | target | pass |" in md_path.read_text()


ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_performance_block_is_rendered_from_results_json() -> None:
    document = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_section(document) in readme, "run: python -m benchmarks --render"
    assert (ROOT / "benchmarks" / "results.md").read_text(encoding="utf-8") == markdown(document)


def test_results_json_holds_every_figure_with_baseline_and_verdict() -> None:
    document = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    names = " ".join(f["name"] for f in document["figures"])
    for wanted in (
        "fire()",
        "build",
        "bytes per symbol",
        "lock hold",
        "in process",
        "loopback",
        "verify states/s",
    ):
        assert wanted in names
    assert "replay bars/s" in names
    for figure in document["figures"]:
        assert isinstance(figure["pass"], bool)
        assert figure["target"]
    assert document["fire_breakdown"]["top_frames"]


def test_update_readme_replaces_only_the_generated_block(tmp_path: Path) -> None:
    figures, extra = run_all(QUICK, only=["dispatch"], log=lambda _: None)
    json_path, _ = write_results(figures, tmp_path, extra)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{README_BEGIN}\nold table\n{README_END}\nafter\n")
    update_readme(readme, document)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# x\n\nbefore\n")
    assert text.endswith("\nafter\n")
    assert "old table" not in text
    assert "fire() events/s vs bare transitions" in text
    assert "Where the time goes in `fire()`" in text


def test_update_readme_without_markers_names_the_file(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no block\n")
    with pytest.raises(ValueError, match=r"README\.md: no"):
        update_readme(readme, {})


def test_the_executor_row_measures_both_executors_against_the_same_twin() -> None:
    """Ten symbols, four workers: a sample per symbol and round for each executor."""
    from benchmarks import executor

    result = executor.measure(symbols=10, workers=4, rounds=1)
    assert result["at_broker_serial_ms"]["n"] == result["at_broker_parallel_ms"]["n"] == 10
    assert result["latency_ms"] == 50.0
    assert result["p99_over_latency"] > 0
    for clock in ("runner_cpu_per_command_ms", "round_wall_per_command_ms"):
        assert result[clock]["serial"] > 0, clock  # the cost row's two clocks
        assert result[clock]["parallel"] > 0, clock


def test_the_loopback_rows_show_cpu_beside_the_wall_they_are_judged_on(monkeypatch) -> None:
    """A socket's round trip is judged on the time it takes (the target says wall); the same
    run's CPU over the same intervals is the row's value, as in every two-clock row."""
    import benchmarks.__main__ as entry

    monkeypatch.setattr(
        entry.latency,
        "loopback",
        lambda samples: {
            "samples": 1,
            "update_to_command_us": {"n": 1, "p50": 300.0, "p90": 400.0, "p99": 500.0, "max": 1},
            "update_to_command_cpu_us": {"n": 1, "p50": 30.0, "p90": 40.0, "p99": 50.0, "max": 1},
        },
    )
    figures, _ = entry.fig_loopback({"loopback_samples": 1, "rounds": 1})
    assert [(f.value, f.wall_value, f.passed) for f in figures] == [
        (50.0, 500.0, True),
        (30.0, 300.0, True),
    ]
    assert "(wall)" in figures[0].target


def test_startup_times_a_replay_process_against_its_own_loop() -> None:
    """The start-up row runs ``tickstate replay`` as a child and reads its loop's own figures."""
    from benchmarks import startup

    result = startup.replay_process("plain", "data/intraday_5min", repeats=1, days=1)
    assert result["bars"] > 0
    assert result["process_cpu_s"]["min"] > result["loop_cpu_s"]["min"] > 0
    assert result["cpu_ratio"]["median"] > 1
    # The phases partition the process: each step the command took, the loop among them.
    phases = result["phases"]
    assert phases["replay loop"]["cpu_s"] == round(result["loop_cpu_s"]["min"], 3)
    for step in ("imports", "strategy file", "reading the bar files"):
        assert phases[step]["cpu_s"] > 0, step
    spent = sum(phase["cpu_s"] for phase in phases.values())
    assert abs(spent - result["process_cpu_s"]["min"]) < 0.002 * len(phases)


def test_the_start_up_note_shows_each_phase_and_what_the_target_leaves() -> None:
    """Both models' phases side by side, the plain model's order; the twin, which builds the
    strategy's bars in its loop, says so; the remainder beside the loop and the 1.5x budget."""

    def row(model: str, phases: dict[str, float], total: float) -> dict[str, object]:
        spent = {name: {"cpu_s": cpu, "wall_s": cpu} for name, cpu in phases.items()}
        return {
            "name": f"tickstate replay process CPU vs its loop, {model}, data/x",
            "value": total,
            "details": {"phases": spent},
        }

    plain = {"imports": 0.2, "building the strategy's bars": 0.1, "replay loop": 0.4}
    twin = {"imports": 0.2, "replay loop": 6.0}
    text = where_startup_goes({"figures": [row("twin", twin, 8.0), row("plain", plain, 1.0)]})
    lines = text.splitlines()
    shown = [
        line.split(" | ")[0].removeprefix("| ")
        for line in lines
        if line.startswith("| ") and not line.startswith("| phase")
    ]
    assert shown == ["imports", "building the strategy's bars", "replay loop"]
    assert "| building the strategy's bars | in its loop | — | 0.100 / 0.100 | 10% |" in lines
    assert "Twin: 2.00 s besides a 6.00 s loop, where 1.5x of the loop leaves 3.00 s" in text
    assert "Plain: 0.60 s besides a 0.40 s loop, where 1.5x of the loop leaves 0.20 s" in text
