"""``tickstate sweep``: grids validated by the schema before anything runs, folds, ranking; and on
a local Ray cluster, twelve combinations whose files equal twelve sequential replays'."""

from __future__ import annotations

import csv
import json
import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from strategies.cli import main
from strategies.run import load_bars, run_replay
from strategies.run._sweep import (
    SweepError,
    combinations,
    folds,
    metric_of,
    parse_grid,
)
from strategies.run._sweep_table import ResultRow, rank, results_csv
from strategies.spec import validate_strategy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "eighty_twenty.toml"
GRID = ["--grid", "signal.trigger_ticks=5,10,15", "--grid", "signal.stop_offset_ticks=1,3",
        "--grid", "max_attempts=1,2"]  # fmt: skip


@pytest.fixture(scope="module")
def january(two_months, tmp_path_factory) -> Path:
    """The same bars, January only (the equality test's twelve replays twice stay short)."""
    out = tmp_path_factory.mktemp("data") / "january.csv"
    rows = two_months.read_text().splitlines()
    out.write_text("\n".join([rows[0], *[r for r in rows[1:] if ",2012-01-" in r]]) + "\n")
    return out


def _sweep(*extra: str) -> list[str]:
    return ["sweep", str(EXAMPLE), *extra]


class TestGrid:
    def test_values_are_read_as_toml(self):
        """``0.2`` is a Decimal as strategy files read it, ``3`` an int, a bare word a string."""
        (axis,) = parse_grid(["signal.zone=0.2,3,close_beyond"])
        assert axis.values == (Decimal("0.2"), 3, "close_beyond")
        assert axis.texts == ("0.2", "3", "close_beyond")

    @pytest.mark.parametrize(
        ("grid", "problem"),
        [
            ("signal.zone", "expected key=v1,v2,..."),
            ("=1,2", "expected key=v1,v2,..."),
            ("signal.zone=0.1,,0.2", "a value is empty"),
        ],
    )
    def test_a_malformed_grid_is_named(self, grid, problem):
        """A grid without a key, an equals sign or a value says which."""
        with pytest.raises(SweepError, match=problem):
            parse_grid([grid])

    def test_every_combination_is_validated_by_the_schema(self):
        """The first combination the schema refuses names its values and the key's problem."""
        data = tomllib.loads(EXAMPLE.read_text(), parse_float=Decimal)
        axes = parse_grid(["signal.trigger_ticks=5,10", "signal.zone=0.2,0.7"])
        with pytest.raises(SweepError) as caught:
            combinations(data, axes, file=str(EXAMPLE), base_dir=EXAMPLE.parent)
        assert str(caught.value).startswith(
            "--grid signal.trigger_ticks=5, signal.zone=0.7: signal.zone:"
        )
        good = combinations(data, parse_grid(["signal.trigger_ticks=5,10", "max_attempts=1,2,3"]),
                            file=str(EXAMPLE), base_dir=EXAMPLE.parent)  # fmt: skip
        assert [c.name for c in good][-1] == "combo-06"
        assert good[-1].data["max_attempts"] == 3
        assert good[-1].data["signal"]["trigger_ticks"] == 10


class TestSweepCommandRefuses:
    @pytest.mark.parametrize(
        ("grid", "line"),
        [
            ("signal.zonee=0.1,0.2", "signal.zonee: unknown key"),
            ("signal.zone=0.1,0.9", "--grid signal.zone=0.9: signal.zone:"),
            ("max_attempts=1,x", "--grid max_attempts=x: max_attempts:"),
            ("instruments=1,2", "--grid instruments: is a table in the strategy file"),
        ],
    )
    def test_a_bad_key_or_value_is_one_line_and_exit_2(self, two_months, capsys, grid, line):
        """Before Ray starts: one line on stderr naming the key (and value), exit 2."""
        assert main(_sweep("--data", str(two_months), "--grid", grid)) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1
        assert err.startswith("tickstate sweep: ")
        assert line in err

    def test_a_walk_forward_longer_than_the_data_is_refused(self, two_months, capsys):
        """Forty sessions cannot hold one fold of 60 + 20."""
        code = main(_sweep("--data", str(two_months), "--grid", "max_attempts=1,2",
                           "--walk-forward", "60,20"))  # fmt: skip
        assert code == 2
        assert "fewer than the 80 one fold needs" in capsys.readouterr().err


class TestFoldsAndRanking:
    def test_folds_roll_forward_by_the_out_of_sample_length(self):
        """Ten sessions, 4 in and 2 out: three folds, each out-of-sample right after its in-sample."""
        days = [date(2012, 1, 2) + timedelta(days=n) for n in range(10)]
        found = folds(days, 4, 2)
        assert [(f.in_sample[0].day, f.out_of_sample[0].day, f.out_of_sample[-1].day)
                for f in found] == [(2, 6, 7), (4, 8, 9), (6, 10, 11)]  # fmt: skip

    def test_metrics_are_read_defensively_and_ranked_best_first(self):
        """Missing or non-numeric figures rank last; drawdowns rank lowest first."""
        assert metric_of({"total": {"pnl": "12.50"}}, "pnl") == Decimal("12.50")
        assert metric_of({"total": {"pnl": "n/a"}}, "pnl") is None
        assert metric_of({}, "sharpe") is None
        rows = [ResultRow(name=f"combo-0{n}", params=(("k", str(n)),), total=total)
                for n, total in enumerate([{"pnl": "1", "max_drawdown": "9"},
                                           {"pnl": "5", "max_drawdown": "3"}, {}], 1)]  # fmt: skip
        assert [r.name for r in rank(rows, "pnl")] == ["combo-02", "combo-01", "combo-03"]
        assert [r.name for r in rank(rows, "max_drawdown")][:2] == ["combo-02", "combo-01"]
        table = list(csv.reader(results_csv(rows, "pnl").splitlines()))
        assert table[0] == ["rank", "combination", "k", "pnl", "max_drawdown", "report"]
        assert table[1][:4] == ["1", "combo-02", "2", "5"]


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray cluster of two CPUs for the module (its start-up is most of the time)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


class TestSweepOnRay:
    def test_twelve_combinations_equal_twelve_sequential_replays(
        self, local_ray, january, tmp_path, capsys
    ):
        """Each combination's trades.csv and summary.json from Ray equal a plain replay's of the
        same overridden file, byte for byte; results are ranked by the metric.

        The bar-level model over a month of two symbols keeps each replay near 0.1 s, so
        the test costs one Ray start-up: what it shows is that distribution changes nothing
        (same function, same inputs), which does not depend on the fill model — the twin's
        own determinism is tests/live/test_lockstep.py's."""
        out = tmp_path / "sweep"
        code = main(_sweep("--data", str(january), *GRID, "--model", "plain",
                           "--no-report", "--out", str(out)))  # fmt: skip
        assert code == 0, capsys.readouterr().err
        data = tomllib.loads(EXAMPLE.read_text(), parse_float=Decimal)
        axes = parse_grid(GRID[1::2])
        combos = combinations(data, axes, file=str(EXAMPLE), base_dir=EXAMPLE.parent)
        assert len(combos) == 12
        bars = load_bars(january)
        distinct = set()
        for combo in combos:
            spec = validate_strategy(combo.data, base_dir=EXAMPLE.parent)
            alone = run_replay(spec, bars, out_dir=tmp_path / "alone" / combo.name, model="plain")
            mine = out / combo.name
            assert (mine / "trades.csv").read_bytes() == alone.trades_path.read_bytes(), combo
            assert (mine / "summary.json").read_bytes() == alone.summary_path.read_bytes()
            distinct.add(alone.trades_path.read_bytes())
        assert len(distinct) > 1  # the grid changes what trades
        table = list(csv.DictReader((out / "results.csv").read_text().splitlines()))
        pnls = [Decimal(row["pnl"]) for row in table]
        assert pnls == sorted(pnls, reverse=True)
        assert len(table) == 12
        assert 'id="heatmap"' not in (out / "results.html").read_text()  # three keys vary

    def test_walk_forward_replays_each_folds_best_out_of_sample(
        self, local_ray, two_months, tmp_path, capsys
    ):
        """Two folds of 20 + 10 sessions (of the data's 40): the best in sample is the one replayed after, and two
        varying keys draw a heatmap; each row links to its report."""
        out = tmp_path / "wf"
        code = main(_sweep("--data", str(two_months), "--grid", "signal.trigger_ticks=5,15",
                           "--grid", "signal.stop_offset_ticks=1,3", "--model", "plain",
                           "--walk-forward", "20,10", "--out", str(out)))  # fmt: skip
        assert code == 0, capsys.readouterr().err
        folds_table = list(csv.DictReader((out / "walk_forward.csv").read_text().splitlines()))
        metric = "net_pnl"  # the default ranking: the net once the summary has costs
        assert [row["fold"] for row in folds_table] == ["1", "2"]
        for row in folds_table:
            fold = out / f"fold-{row['fold']}"
            ins = {p.parent.name: json.loads(p.read_text())["total"][metric]
                   for p in (fold / "in").glob("*/summary.json")}  # fmt: skip
            assert Decimal(row[f"{metric} in"]) == max(map(Decimal, ins.values()))
            (chosen,) = (fold / "out").iterdir()  # the best in sample, under its own name
            assert Decimal(ins[chosen.name]) == max(map(Decimal, ins.values()))
            outside = json.loads((chosen / "summary.json").read_text())
            assert Decimal(row[f"{metric} out"]) == Decimal(outside["total"][metric])
            assert (chosen / "report.html").is_file()
        page = (out / "results.html").read_text()
        assert 'id="heatmap"' in page
        assert "Walk-forward" in page
