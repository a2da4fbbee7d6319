"""`tickstate diagram` writes the generated diagrams; `--check` fails when a file drifts."""

import subprocess
import sys
from pathlib import Path

import pytest

from machines import State, _diagrams, _lifecycle, lifecycle_diagrams
from strategies.cli import main

ROOT = Path(__file__).resolve().parents[2]


class TestDiagramCheck:
    def test_committed_diagrams_match_the_code(self):
        """The diagrams committed under diagrams/ are exactly what the table generates."""
        assert main(["diagram", "--check", "--dir", str(ROOT / "diagrams")]) == 0

    def test_check_passes_right_after_writing(self, tmp_path):
        """Writing then checking the same folder succeeds."""
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        assert main(["diagram", "--check", "--dir", str(tmp_path)]) == 0
        assert sorted(p.name for p in tmp_path.glob("lifecycle.*")) >= sorted(lifecycle_diagrams())

    def test_editing_the_table_without_regenerating_fails_naming_the_files(
        self, tmp_path, monkeypatch, capsys
    ):
        """A table edit that was not regenerated makes --check exit 1 and name each stale file."""
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        edited = dict(_lifecycle.DECLARATIONS)
        edited[(State.EXITING, "trail")] = _lifecycle.Decline("edited_by_hand")
        monkeypatch.setattr(_diagrams, "DECLARATIONS", edited)
        capsys.readouterr()
        assert main(["diagram", "--check", "--dir", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert f"{tmp_path / 'lifecycle.md'}: differs from what the code generates" in err
        assert len(err.strip().splitlines()) == 1  # the edge set did not change: only the table

    def test_a_missing_file_fails_the_check(self, tmp_path, capsys):
        """A diagram that was never generated is named as missing."""
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        (tmp_path / "lifecycle.mmd").unlink()
        assert main(["diagram", "--check", "--dir", str(tmp_path)]) == 1
        assert f"{tmp_path / 'lifecycle.mmd'}: missing" in capsys.readouterr().err

    def test_console_script_check_exits_zero_in_the_repository(self):
        """The installed `tickstate diagram --check` agrees, run as a process from the repo root."""
        done = subprocess.run(
            [sys.executable, "-m", "strategies.cli", "diagram", "--check"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    def test_unknown_command_is_a_usage_error_without_traceback(self, capsys):
        """A mistyped command exits 2 with argparse's one-line error."""
        with pytest.raises(SystemExit) as exc:
            main(["diagrams"])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "invalid choice: 'diagrams'" in err
        assert "Traceback" not in err


class TestDiagramContent:
    def test_mermaid_names_guards_on_edges(self):
        """Guard names appear on the Mermaid edges, by name, never as object addresses."""
        mermaid = lifecycle_diagrams()["lifecycle.mmd"]
        assert (
            "flat --> entry_pending: entry_signal [day_open & entry_window_open & attempts_left]"
            in mermaid
        )
        assert " at 0x" not in mermaid

    def test_markdown_lists_every_state_trigger_pair(self):
        """The Markdown table has one row per declared (state, trigger) pair."""
        markdown = lifecycle_diagrams()["lifecycle.md"]
        rows = [line for line in markdown.splitlines() if line.startswith("| `")]
        assert (
            len(rows)
            == len(_lifecycle.DECLARATIONS)
            == len(_lifecycle.STATES) * len(_lifecycle.TRIGGERS)
        )
        assert "```mermaid" in markdown

    def test_rendering_is_deterministic(self):
        """Two renderings are byte-identical."""
        assert lifecycle_diagrams() == lifecycle_diagrams()
