"""The README stays true: its picture is the generated overview, its links lead somewhere, CI
runs its test command verbatim."""

import re
from pathlib import Path

from machines import State, lifecycle_diagrams
from machines._diagrams import MEANINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)


def test_readme_picture_is_the_generated_overview():
    """The README's one Mermaid block equals diagrams/overview.mmd as the code generates it."""
    blocks = re.findall(r"```mermaid\n(.*?)```", README, flags=re.S)
    assert blocks == [lifecycle_diagrams()["overview.mmd"]]


def test_readme_links_every_state_page_and_the_legend():
    """Below the picture: a page per state, the legend of the totality table, the signals."""
    for state in State:
        assert f"(diagrams/states/{state}.md)" in README
    assert "(diagrams/lifecycle.md#legend)" in README
    assert "(diagrams/signals/README.md)" in README


def test_readme_states_table_is_the_generated_meanings():
    """The README's state table says what the pages say, row for row."""
    for state, meaning in MEANINGS.items():
        assert f"| [`{state}`](diagrams/states/{state}.md) | {meaning} |" in README


def test_every_relative_link_of_the_readme_and_diagrams_resolves():
    """Links in README.md and in every page under diagrams/ name files that exist."""
    pages = [ROOT / "README.md", *sorted((ROOT / "diagrams").rglob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: {target}"


def test_quick_start_has_exactly_two_commands():
    """The quick start is two one-line commands: the main job and the tests."""
    blocks = _shell_blocks()
    assert len(blocks) == 2
    assert all("\n" not in block for block in blocks)


def test_ci_runs_the_readme_test_command_verbatim():
    """.ci/run calls the exact test command the README gives."""
    test_command = _shell_blocks()[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci


def test_the_machine_example_runs_as_written(capsys):
    """The README's Python example runs, and its assertions hold."""
    (block,) = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    exec(compile(block, "README.md", "exec"), {})
    assert '"event": "transition"' in capsys.readouterr().err
