"""Layering (docs/design.md §1) across the whole tree: nothing reaches up a layer or a room, no cycles.

Layers: ``machines`` (stdlib and ``transitions`` only) and ``brokers`` (never ``machines`` or
``strategies``) at the bottom, ``strategies`` above both. Inside ``brokers`` the core imports
neither subpackage and ``alpaca`` never imports ``sim``. Inside ``strategies`` the rooms stand in
floors, and a module imports only its own floor or those below it::

    shared (_exceptions, _sessions, _fields) < signals < spec < verify < engine < journal
    < observe < run < cli

(``verify``, the model checker, reads strategy files and drives the machine; only the CLI uses
it.)

Imports are read from the source (function-level ones too, ``TYPE_CHECKING`` ones too).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("machines", "brokers", "strategies")
STRATEGY_FLOORS = ("", "signals", "spec", "verify", "engine", "journal", "observe", "run", "cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
}


def imports(path: Path) -> set[str]:
    """Every module a file imports, absolute (``from x import y`` yields ``x`` and ``x.y``)."""
    found: set[str] = set()
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def project_imports(path: Path) -> set[str]:
    """The project's modules that ``path`` imports (names that are modules of the tree)."""
    return {name for name in imports(path) if name in MODULES}


def floor_of(module: str) -> int:
    parts = module.split(".")
    room = parts[1] if len(parts) > 1 and not parts[1].startswith("_") else ""
    return STRATEGY_FLOORS.index(room)


def room_of_brokers(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("alpaca", "sim") else "core"


class TestLayers:
    def test_the_walk_sees_every_room(self):
        """Modules of every strategies room and of both broker subpackages are found."""
        rooms = {m.split(".")[1] for m in MODULES if m.startswith("strategies.") and m.count(".")}
        assert set(STRATEGY_FLOORS[1:]) <= rooms

    @pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("machines")))
    def test_machines_imports_only_stdlib_transitions_and_itself(self, module):
        """The pure core: no other layer, no third-party library but ``transitions``."""
        allowed = set(sys.stdlib_module_names) | {"__future__", "transitions", "machines"}
        roots = {name.partition(".")[0] for name in imports(MODULES[module])}
        assert roots - allowed == set()

    @pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("brokers")))
    def test_brokers_never_reach_up(self, module):
        """brokers imports neither machines nor strategies; the core neither subpackage;
        the Alpaca adapter and wire never the simulated exchange."""
        found = project_imports(MODULES[module])
        assert {m for m in found if m.startswith(("machines", "strategies"))} == set()
        room = room_of_brokers(module)
        rooms = {room_of_brokers(m) for m in found if m.startswith("brokers")}
        allowed = {"core": {"core"}, "alpaca": {"core", "alpaca"}, "sim": {"core", "alpaca", "sim"}}
        if module == "brokers":  # the package's face names every public type (lazily)
            return
        assert rooms <= allowed[room]

    @pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("strategies")))
    def test_strategies_rooms_import_only_their_floor_or_below(self, module):
        """A room never imports a room above it (the CLI is the top floor)."""
        if module == "strategies":  # the package's face re-exports a few rooms' names
            return
        mine = floor_of(module)
        above = sorted(
            m for m in project_imports(MODULES[module]) if m.startswith("strategies.")
            and floor_of(m) > mine
        )
        assert above == []


    def test_the_walk_sees_function_level_and_relative_imports(self, tmp_path, monkeypatch):
        """An import hidden inside a function, or written relative, is still found."""
        package = tmp_path / "machines"
        package.mkdir()
        module = package / "_m.py"
        module.write_text("def f():\n    import structlog\n    from . import _x\n")
        monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
        assert imports(module) == {"structlog", "machines", "machines._x"}


class TestNames:
    def test_no_class_name_is_defined_twice(self):
        """One name, one class, across the three packages: ``Side`` is the machine's, ``OrderSide``
        the broker's; ``OrderStatus`` the venue's, ``TrackStatus`` the machine's."""
        where: dict[str, list[str]] = defaultdict(list)
        for module, path in MODULES.items():
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ClassDef):
                    where[node.name].append(module)
        assert {name: found for name, found in where.items() if len(found) > 1} == {}


class TestCycles:
    def test_no_module_imports_itself_round_a_loop(self):
        """The module graph of the three packages has no cycle."""
        graph: dict[str, set[str]] = defaultdict(set)
        for module, path in MODULES.items():
            for target in project_imports(path):
                if target != module and not module.startswith(target + "."):
                    graph[module].add(target)
        state: dict[str, int] = {}
        loops: list[list[str]] = []

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            for nxt in sorted(graph[node]):
                if state.get(nxt) == 1:
                    loops.append([*trail[trail.index(nxt) :], nxt])
                elif nxt not in state:
                    visit(nxt, [*trail, nxt])
            state[node] = 2

        for module in sorted(MODULES):
            if module not in state:
                visit(module, [module])
        assert loops == []
