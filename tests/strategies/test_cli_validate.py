"""`tickstate validate` and `tickstate schema`: exit codes, one line on stderr, a usable schema."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from strategies.cli import main
from strategies.spec import StrategySpec, load_strategy, strategy_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))
BAD = Path(__file__).parent / "specs" / "bad"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strategies.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


class TestValidate:
    @pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
    def test_valid_file_prints_ok_and_exits_zero(self, path, capsys):
        """A valid strategy: `ok: FILE (strategy NAME, N instruments)` on stdout, exit 0."""
        spec = load_strategy(path)
        assert main(["validate", str(path)]) == 0
        out, err = capsys.readouterr()
        first, *notes = out.splitlines()
        assert first == f"ok: {path} (strategy {spec.name}, {len(spec.instruments)} instruments)"
        assert all(line.startswith(f"note: {path}: ") for line in notes)
        assert err == ""

    def test_times_after_an_early_close_in_the_data_are_noted(self, tmp_path, capsys):
        """The data holds 2012-11-23 (13:00 close) and 2012-11-26: one note names the early
        close and what the square-off becomes that day; exit 0 all the same."""
        data = tmp_path / "bars.csv"
        data.write_text(
            "symbol,start,open,high,low,close,volume\n"
            "AAPL,2012-11-23T15:00:00Z,10,10,10,10,1\n"
            "AAPL,2012-11-26T15:00:00Z,10,10,10,10,1\n",
            encoding="utf-8",
        )
        path = ROOT / "examples" / "eighty_twenty.toml"
        assert main(["validate", str(path), "--data", str(data)]) == 0
        _ok, *notes = capsys.readouterr().out.splitlines()
        assert notes == [
            f"note: {path}: square_off 15:15 falls after the 13:00 close of 2012-11-23 in {data}:"
            " those sessions square off at 12:55 (and take no entry after it)"
        ]

    @pytest.mark.parametrize("path", sorted(BAD.glob("*.toml")), ids=lambda p: p.stem)
    def test_invalid_file_prints_one_line_and_exits_two(self, path, capsys):
        """A malformed strategy: one line on stderr naming the file, nothing on stdout, exit 2."""
        assert main(["validate", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"{path}: ")
        assert err.count("\n") == 1

    def test_missing_file_is_exit_two_without_traceback(self, tmp_path, capsys):
        """A file that does not exist is a user's mistake, not a crash."""
        assert main(["validate", str(tmp_path / "none.toml")]) == 2
        assert capsys.readouterr().err == (
            f"{tmp_path / 'none.toml'}: cannot read the file: No such file or directory\n"
        )

    def test_console_process_shows_no_traceback(self):
        """Run as a process on a bad file: exit 2, exactly one stderr line, no 'Traceback'."""
        done = _run("validate", "tests/strategies/specs/bad/zone_too_wide.toml")
        assert done.returncode == 2
        assert done.stderr == (
            "tests/strategies/specs/bad/zone_too_wide.toml: signal.zone: "
            "must be > 0 and < 0.5, got 0.6\n"
        )
        assert "Traceback" not in done.stderr

    def test_console_process_on_a_syntax_error_names_line_and_column(self):
        """A TOML syntax error gives its line and column, one line, exit 2."""
        done = _run("validate", "tests/strategies/specs/bad/toml_syntax_error.toml")
        assert done.returncode == 2
        assert "line 4, column 16: invalid TOML" in done.stderr
        assert done.stderr.count("\n") == 1


@pytest.fixture(scope="module")
def schema() -> dict:
    """The schema as the console command prints it."""
    done = _run("schema")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class TestSchema:
    def test_schema_is_json_for_a_table_that_forbids_unknown_keys(self, schema):
        """`tickstate schema` prints JSON: an object schema with additionalProperties false."""
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert {"name", "signal", "instruments", "session", "sizing"} <= set(schema["required"])

    @pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
    def test_examples_validate_against_the_schema(self, schema, path):
        """Each example, read as plain TOML, satisfies the printed JSON Schema."""
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        jsonschema = pytest.importorskip("jsonschema")
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)

    def test_schema_rejects_an_unknown_signal_parameter(self, schema):
        """An editor using the schema flags a misspelled parameter too."""
        jsonschema = pytest.importorskip("jsonschema")
        data = tomllib.loads((ROOT / "examples" / "eighty_twenty.toml").read_text(encoding="utf-8"))
        data["signal"]["trigger_tick"] = 10
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)

    def test_schema_carries_every_registered_signals_params(self, register_signal):
        """A plugin's Params appear in the schema beside the built-ins', each under its kind."""
        register_signal("gap_fade", "tests.strategies.test_spec:GapFade")
        schema = strategy_schema()
        alternatives = schema["$defs"]["SignalTable"]["oneOf"]
        by_kind = {a["properties"]["kind"]["const"]: a for a in alternatives}
        assert {"eighty_twenty", "gap_fade", "opening_range_breakout"} <= set(by_kind)
        assert "gap_pct" in by_kind["gap_fade"]["properties"]
        assert by_kind["gap_fade"]["required"] == ["kind", "gap_pct"]
        jsonschema = pytest.importorskip("jsonschema")
        data = tomllib.loads((ROOT / "examples" / "eighty_twenty.toml").read_text(encoding="utf-8"))
        data["signal"] = {"kind": "gap_fade", "gap_pct": 1.5}
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
        data["signal"]["gap_pc"] = 1
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)

    @pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
    def test_examples_round_trip_through_pydantic(self, path):
        """A spec dumped to JSON validates back to an equal spec."""
        spec = load_strategy(path)
        assert StrategySpec.model_validate_json(spec.model_dump_json()) == spec
