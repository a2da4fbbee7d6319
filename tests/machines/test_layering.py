"""Layering (DESIGN §1): ``machines`` imports the standard library, ``transitions`` and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import machines

PACKAGE = Path(machines.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
ALLOWED = set(sys.stdlib_module_names) | {"__future__", "transitions", "machines"}
FORBIDDEN = {"brokers", "strategies", "structlog", "pydantic", "requests", "websocket"}


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every import in a module (relative imports are ``machines``)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add("machines" if node.level else (node.module or "").partition(".")[0])
    return roots


class TestLayering:
    def test_the_package_has_modules_to_check(self):
        """The walk sees the package's modules (a wrong path would make it vacuous)."""
        names = {p.name for p in MODULES}
        assert {"__init__.py", "_lifecycle.py", "_machine.py"} <= names

    @pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
    def test_module_imports_only_stdlib_transitions_and_machines(self, path):
        """No module of ``machines`` reaches into another layer or a third-party library."""
        roots = imported_roots(path)
        assert roots - ALLOWED == set()
        assert roots & FORBIDDEN == set()

    def test_import_walk_sees_function_level_imports(self, tmp_path):
        """An import hidden inside a function is still found."""
        module = tmp_path / "m.py"
        module.write_text("def f():\n    import structlog\n    from brokers import x\n")
        assert imported_roots(module) == {"structlog", "brokers"}
