"""The README stays true: its diagram is the generated one, CI runs its test command verbatim."""

import re
from pathlib import Path

from machines import lifecycle_diagrams

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)


def test_readme_diagram_is_the_generated_mermaid():
    """The README's Mermaid block equals diagrams/lifecycle.mmd as the code generates it."""
    block = re.search(r"```mermaid\n(.*?)```", README, flags=re.S)
    assert block is not None
    assert block.group(1) == lifecycle_diagrams()["lifecycle.mmd"]


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
