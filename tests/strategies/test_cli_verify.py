"""`tickstate verify`: the summary line, exit codes, one line for bad input, emitted tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from strategies.cli import main
from strategies.verify import Counterexample, Result, Step, VerifySetup, emit_tests

ROOT = Path(__file__).resolve().parents[2]
BAD = Path(__file__).parent / "specs" / "bad"
BUY = "verify-SYM-20261123-1-buy"


class TestVerify:
    def test_a_clean_run_prints_notes_and_the_summary_and_exits_zero(self, capsys):
        """Depth 5, faithful: declared policies as notes, then one summary line; exit 0."""
        assert main(["verify", "--depth", "5"]) == 0
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert lines[-1].startswith("verify faithful: depth 5, ")
        notes = sum(line.startswith("note ") for line in lines)
        assert notes > 0
        assert lines[-1].endswith(f"0 violations (0 violating steps), {notes} notes")
        assert "VIOLATION" not in out
        assert err == ""  # progress only on a terminal

    def test_a_hostile_run_from_a_strategy_file(self, capsys):
        """The example's rules against a hostile venue, a few steps deep."""
        code = main(["verify", "--broker", "hostile", "--depth", "3",
                     "--strategy", str(ROOT / "examples" / "opening_range.toml")])  # fmt: skip
        assert code == 0
        assert capsys.readouterr().out.splitlines()[-1].startswith("verify hostile: depth 3, ")

    @pytest.mark.parametrize(
        ("args", "problem"),
        [
            (["--depth", "0"], "--depth must be a whole number of steps, 1 or more, got '0'"),
            (["--depth", "-3"], "--depth must be a whole number of steps, 1 or more, got '-3'"),
            (["--depth", "ten"], "--depth must be a whole number of steps, 1 or more, got 'ten'"),
            (["--broker", "kind"], "--broker must be faithful or hostile, got 'kind'"),
            (["--in-flight", "-1"], "--in-flight must be a whole number, 0 or more, got '-1'"),
        ],
    )
    def test_bad_options_are_one_line_and_exit_two(self, args, problem, capsys):
        """A mistake in the options: one line on stderr, nothing explored, exit 2."""
        assert main(["verify", *args]) == 2
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"tickstate verify: {problem}\n")

    @pytest.mark.parametrize("path", sorted(BAD.glob("*.toml"))[:3], ids=lambda p: p.stem)
    def test_a_bad_strategy_file_is_one_line_and_exit_two(self, path, capsys):
        """The strategy file's own one-line error, exit 2, no traceback."""
        assert main(["verify", "--strategy", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"{path}: ")
        assert err.count("\n") == 1

    def test_a_missing_strategy_file_has_no_traceback(self):
        """Through the real entry point: exit 2, one line."""
        done = subprocess.run(
            [sys.executable, "-m", "strategies.cli", "verify", "--strategy", "nowhere.toml"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1


class TestEmittedTests:
    def test_an_emitted_regression_runs_and_passes_where_nothing_breaks(self, tmp_path):
        """A counterexample written as a pytest module: it replays the steps and passes once
        the sequence breaks nothing (here: it never did)."""
        steps = (Step("strategy", "entry_long"), Step("execute", "PlaceEntry", BUY, "accepted"),
                 Step("fill", "", BUY, "1", now=False))  # fmt: skip
        result = Result(mode="faithful", depth=3)
        result.violations.append(Counterexample("no_reversal", "an example", steps))
        (path,) = emit_tests(result, VerifySetup(), 2, tmp_path)
        assert path.name == "test_verify_faithful_no_reversal.py"
        text = path.read_text(encoding="utf-8")
        assert "Step('fill', '', 'verify-SYM-20261123-1-buy', '1', now=False)," in text
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        lint = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E,F,I",
             "--line-length", "100",
             str(path)], cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert lint.returncode == 0, lint.stdout

    def test_names_never_collide(self, tmp_path):
        """Two counterexamples of one property get two modules."""
        result = Result(mode="hostile", depth=2)
        step = (Step("strategy", "entry_long"),)
        result.violations += [Counterexample("x", "a", step), Counterexample("x", "b", step)]
        paths = emit_tests(result, VerifySetup(), 2, tmp_path)
        assert [p.name for p in paths] == ["test_verify_hostile_x.py", "test_verify_hostile_x_2.py"]
