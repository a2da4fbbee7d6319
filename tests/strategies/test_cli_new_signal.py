"""``tickstate new-signal`` and ``tickstate --version``: what a new user meets first."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from strategies.cli import main


class TestNewSignal:
    def test_it_writes_a_package_with_its_entry_point_and_a_strategy(self, tmp_path, capsys):
        """The package registers NAME in tickstate.signals and its strategy file uses it."""
        assert main(["new-signal", "gap_up", "--dir", str(tmp_path)]) == 0
        root = tmp_path / "gap_up"
        pyproject = (root / "pyproject.toml").read_text()
        assert '[project.entry-points."tickstate.signals"]' in pyproject
        assert 'gap_up = "gap_up.signal:GapUp"' in pyproject
        assert 'kind = "gap_up"' in (root / "gap_up.toml").read_text()
        assert "class GapUp:" in (root / "gap_up" / "signal.py").read_text()
        out = capsys.readouterr().out
        assert f"pip install -e {root}" in out
        assert f"tickstate validate {root / 'gap_up.toml'}" in out

    @pytest.mark.parametrize(
        ("name", "problem"),
        [
            ("Gap-Up", "'Gap-Up' is not a signal name: lower-case letters, digits and _, starting with a letter (e.g. gap_fade)"),
            ("9lives", "'9lives' is not a signal name: lower-case letters, digits and _, starting with a letter (e.g. gap_fade)"),
            ("class", "'class' is a Python keyword; it cannot name a package"),
            ("json", "'json' is already an importable module; choose another name"),
            ("eighty_twenty", 'a signal "eighty_twenty" is already registered; choose another name'),
            ("x" * 33, f"'{'x' * 33}' is longer than 32 characters"),
        ],
    )
    def test_a_name_that_cannot_be_a_package_is_one_line_and_exit_2(self, name, problem, tmp_path, capsys):
        """Each refused name says why in one line; nothing is written."""
        assert main(["new-signal", name, "--dir", str(tmp_path)]) == 2
        assert capsys.readouterr().err == f"tickstate new-signal: {problem}\n"
        assert list(tmp_path.iterdir()) == []

    def test_an_existing_folder_is_never_overwritten(self, tmp_path, capsys):
        """A second scaffold of the same name refuses, and the first one's files stay."""
        assert main(["new-signal", "gap_up", "--dir", str(tmp_path)]) == 0
        signal = tmp_path / "gap_up" / "gap_up" / "signal.py"
        signal.write_text("# mine\n")
        capsys.readouterr()
        assert main(["new-signal", "gap_up", "--dir", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err == f"tickstate new-signal: {tmp_path / 'gap_up'}: already exists; nothing was written\n"
        assert signal.read_text() == "# mine\n"


def test_version_prints_the_installed_version_and_exits_0(capsys):
    """``tickstate --version`` reads the distribution's metadata."""
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"tickstate {version('tickstate')}\n"
