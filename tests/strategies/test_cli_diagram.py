"""`tickstate diagram` writes diagrams/ and draws its pictures; `--check` fails on any drift."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from machines import State, _diagrams, _lifecycle
from strategies.cli import _diagram, main
from strategies.cli._diagram import MANIFEST, generated_files, read_manifest

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "diagrams"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the committed diagrams/, to break on purpose."""
    out = tmp_path / "diagrams"
    shutil.copytree(COMMITTED, out)
    return out


def _check(out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["diagram", "--check", "--dir", str(out)])
    prefix = "tickstate diagram --check: "
    lines = capsys.readouterr().err.splitlines()
    assert all(line.startswith(prefix) for line in lines)
    return code, [line.removeprefix(prefix) for line in lines]


class TestCheck:
    def test_committed_diagrams_match_the_code(self):
        """diagrams/ is exactly what the code generates, every picture drawn from it."""
        assert main(["diagram", "--check", "--dir", str(COMMITTED)]) == 0

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

    def test_editing_the_table_names_every_file_it_makes_stale(self, copy, monkeypatch, capsys):
        """A table edit not regenerated: the table, the state's page, its DOT and pictures."""
        edited = dict(_lifecycle.DECLARATIONS)
        edited[(State.EXITING, "trail")] = _lifecycle.Ignore("stale_trail")  # was declined
        monkeypatch.setattr(_lifecycle, "DECLARATIONS", edited)
        code, lines = _check(copy, capsys)
        assert code == 1
        rerun = "run 'tickstate diagram'"
        page = copy / "states" / State.EXITING
        assert sorted(lines) == sorted(
            [
                f"{copy / 'lifecycle.md'}: differs from what the code generates; {rerun}",
                f"{page}.md: differs from what the code generates; {rerun}",
                f"{page}.dot: differs from what the code generates; {rerun}",
                f"{page}.png: drawn from an older states/{State.EXITING}.dot; {rerun}",
                f"{page}.svg: drawn from an older states/{State.EXITING}.dot; {rerun}",
            ]
        )

    def test_a_changed_overview_makes_the_mermaid_screenshot_stale(self, copy, monkeypatch, capsys):
        """The screenshot was drawn from overview.mmd: a new overview names it, and its script."""
        overview = tuple(
            (tail, head, ("[settled] at last",) if tail == State.EXITING else lines)
            for tail, head, lines in _diagrams._OVERVIEW
        )
        monkeypatch.setattr(_diagrams, "_OVERVIEW", overview)
        code, lines = _check(copy, capsys)
        assert code == 1
        shot = copy / "screenshots" / "overview-mermaid.png"
        assert (
            f"{shot}: drawn from an older overview.mmd; run scripts/screenshot_mermaid.py" in lines
        )
        assert (
            f"{copy / 'overview.svg'}: drawn from an older overview.dot; run 'tickstate diagram'"
            in lines
        )

    def test_a_reworded_reason_changes_only_the_tables(self, copy, monkeypatch, capsys):
        """The pictures list triggers, not reasons: a new reason makes only the tables stale."""
        edited = dict(_lifecycle.DECLARATIONS)
        edited[(State.EXITING, "trail")] = _lifecycle.Decline("edited_by_hand")
        monkeypatch.setattr(_lifecycle, "DECLARATIONS", edited)
        code, lines = _check(copy, capsys)
        assert code == 1
        assert [line.split(": ")[0] for line in lines] == [
            str(copy / "lifecycle.md"),
            f"{copy / 'states' / State.EXITING}.md",
        ]

    def test_a_missing_file_fails_the_check(self, copy, capsys):
        """A page that was never generated is named as missing."""
        (copy / "states" / f"{State.FLAT}.md").unlink()
        code, lines = _check(copy, capsys)
        assert code == 1
        assert lines == [f"{copy / 'states' / State.FLAT}.md: missing; run 'tickstate diagram'"]

    def test_a_picture_edited_by_hand_fails_the_check(self, copy, capsys):
        """A picture whose bytes are not the ones recorded when it was drawn is named."""
        with (copy / "overview.png").open("ab") as png:
            png.write(b"\0")
        code, lines = _check(copy, capsys)
        assert code == 1
        assert lines == [
            f"{copy / 'overview.png'}: edited since it was drawn; run 'tickstate diagram'"
        ]

    def test_a_file_the_code_does_not_generate_fails_the_check(self, copy, capsys):
        """A page left over from a renamed state is named, to be removed."""
        (copy / "states" / "renamed.md").write_text("old\n", encoding="utf-8")
        code, lines = _check(copy, capsys)
        assert code == 1
        assert lines == [f"{copy / 'states' / 'renamed.md'}: not generated by the code; remove it"]

    def test_an_unreadable_plugin_is_one_line(self, register_signal, capsys):
        """A registered signal that cannot be loaded stops the command with one line, exit 2."""
        register_signal("broken", "no_such_module_here:Signal")
        assert main(["diagram", "--check", "--dir", str(COMMITTED)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tickstate diagram: ")
        assert err.count("\n") == 1


class TestWrite:
    @pytest.mark.usefixtures("graphviz")
    def test_check_passes_right_after_writing(self, tmp_path, capsys):
        """Writing an empty folder draws every picture; checking it then succeeds."""
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        dots = [name for name in generated_files() if name.endswith(".dot")]
        assert out.count("drew ") == 2 * len(dots)
        assert set(read_manifest(tmp_path)) == {
            f"{name.removesuffix('.dot')}.{fmt}" for name in dots for fmt in ("svg", "png")
        }
        assert main(["diagram", "--check", "--dir", str(tmp_path)]) == 0

    @pytest.mark.usefixtures("graphviz")
    def test_writing_again_changes_nothing(self, tmp_path, capsys):
        """A second run finds everything fresh: it writes and draws nothing."""
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        manifest = (tmp_path / MANIFEST).read_bytes()
        capsys.readouterr()
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        assert capsys.readouterr().out == f"{tmp_path}: up to date\n"
        assert (tmp_path / MANIFEST).read_bytes() == manifest

    @pytest.mark.usefixtures("graphviz")
    def test_writing_keeps_the_screenshot_and_its_record(self, copy, capsys):
        """Redrawing never touches what another tool drew, nor forgets it."""
        shot = "screenshots/overview-mermaid.png"
        before = read_manifest(copy)[shot]
        (copy / "overview.svg").unlink()
        assert main(["diagram", "--dir", str(copy)]) == 0
        assert capsys.readouterr().out == f"drew {copy / 'overview.svg'}\n"
        assert read_manifest(copy)[shot] == before
        assert main(["diagram", "--check", "--dir", str(copy)]) == 0

    def test_without_graphviz_the_text_is_written_and_the_pictures_named(
        self, tmp_path, monkeypatch, capsys
    ):
        """No dot: the text files are written, it says so, and --check names each picture."""
        monkeypatch.setattr(_diagram.shutil, "which", lambda name: None)
        assert main(["diagram", "--dir", str(tmp_path)]) == 0
        assert "skipped the pictures: the Graphviz 'dot' binary is not installed" in (
            capsys.readouterr().out
        )
        code, lines = _check(tmp_path, capsys)
        assert code == 1
        assert f"{tmp_path / 'overview.svg'}: missing; run 'tickstate diagram'" in lines
        assert all(": missing;" in line for line in lines)


def test_unknown_command_is_a_usage_error_without_traceback(capsys):
    """A mistyped command exits 2 with argparse's one-line error."""
    with pytest.raises(SystemExit) as exc:
        main(["diagrams"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'diagrams'" in err
    assert "Traceback" not in err
