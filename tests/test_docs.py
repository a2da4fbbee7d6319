"""The docs stay true: the strategy-file reference is the schema's, every doc the code cites
exists, every link in docs/ resolves, and the README's command table names every flag."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from strategies.cli import build_parser
from strategies.cli._schema_doc import schema_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SKIP = {".venv", ".git", "build", "tickstate.egg-info"}
#: How the code cited the design before it was in the repo (spelt in two pieces, so that this
#: file does not cite it).
OLD_DESIGN = "DESIGN" + " §"
#: A cited doc under docs/, or under the old reference/ (which does not exist here).
CITED = re.compile(r"(?<![\w/])((?:docs|reference)/[\w.-]+\.md)")


def _sources() -> list[Path]:
    return sorted(
        p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts[:-1])
    )


def test_the_strategy_file_reference_is_generated_from_the_schema():
    """docs/strategy-file.md is what ``tickstate schema --markdown`` prints: regenerate it with
    ``tickstate schema --markdown > docs/strategy-file.md`` when a model changes."""
    assert (ROOT / "docs" / "strategy-file.md").read_text(encoding="utf-8") == schema_markdown()


def test_every_doc_the_code_cites_exists():
    """A Markdown file under docs/ (or the old reference/) named in any Python file exists."""
    missing = [
        f"{path.relative_to(ROOT)}: {cited}"
        for path in _sources()
        for cited in CITED.findall(path.read_text(encoding="utf-8"))
        if not (ROOT / cited).is_file()
    ]
    assert missing == []


def test_every_design_section_the_code_cites_exists():
    """``docs/design.md §N`` names a heading ``## N.`` of the design; the old spelling
    (``OLD_DESIGN``: a document outside the repo) is cited nowhere."""
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\.", design, flags=re.M))
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        assert OLD_DESIGN not in text, path.relative_to(ROOT)
        for number in re.findall(r"docs/design\.md §(\d+)", text):
            assert number in sections, f"{path.relative_to(ROOT)}: §{number}"


def test_every_relative_link_in_docs_resolves():
    """Links in docs/*.md name files that exist."""
    for page in sorted((ROOT / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: {target}"


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(fault_flags=True)
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _row(prefix: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith(f"| `{prefix}")]
    assert len(rows) == 1, f"the README's command table has no single row for {prefix}"
    return rows[0]


@pytest.mark.parametrize("name", sorted(_commands()))
def test_the_readme_command_table_names_every_flag(name):
    """Each subcommand has a row in the README's table naming each of its flags and arguments
    as ``tickstate NAME --help`` lists them."""
    row = _row(f"tickstate {name}")
    for action in _commands()[name]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for word in action.option_strings or [action.metavar or action.dest.upper()]:
            assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", row), f"{name}: {word}"


def test_the_readme_table_names_the_top_level_flags():
    """``tickstate --version`` has its row too."""
    assert "--version" in _row("tickstate --version")


def test_the_main_job_installs_plainly_and_the_tests_install_dev():
    """A user running the main job needs no test tools: ``pip install -e .``; the test command
    installs the ``dev`` extra."""
    main_job, tests = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert "pip install -q -e . &&" in main_job
    assert "[dev]" not in main_job
    assert 'pip install -q -e ".[dev]"' in tests
