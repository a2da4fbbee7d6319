"""The machine's vocabulary is typed and owned by ``machines``: never re-spelled as strings above it.

A state name (``"in_position"``) as a string literal anywhere outside ``machines/`` — in code,
benchmarks, scripts or tests — would break silently when the state is renamed; so would an
order role (``"entry"``, ``"stop"``, ``"exit"``) compared as a string with an order's role or a
piece of a client order id taken apart by hand, or passed as one to the client-order-id
function. (A trade's ``exit_reason`` of ``"stop"`` is a report's word, not a role.) This test
walks every Python file of the repository and names each such literal. (``brokers`` speaks its own vocabulary, Alpaca's order types among it, and never
sees a machine's role: a role comparison there is not the machine's.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from machines import OrderRole, State

ROOT = Path(__file__).resolve().parents[1]
STATE_NAMES = frozenset(state.value for state in State)
ROLE_NAMES = frozenset(role.value for role in OrderRole)
SKIP = {".venv", ".git", "machines", "fixtures", "build"}


def _python_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIP & set(path.relative_to(ROOT).parts[:-1])
        and path.relative_to(ROOT).parts[0] != "machines"
    )


def _strings(node: ast.AST) -> list[ast.Constant]:
    """String constants of an expression, looking into tuples, lists and sets."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [c for element in node.elts for c in _strings(element)]
    return []


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _role_like(node: ast.expr) -> bool:
    """An operand that holds an order's role: ``o.role``, ``role``, ``tag``, ``x.role.value``,
    or a piece of a client order id taken apart by hand (``parts[3]``, ``cid.rsplit(...)``)."""
    if isinstance(node, ast.Attribute):
        return "role" in node.attr or "tag" in node.attr or _role_like(node.value)
    if isinstance(node, ast.Name):
        return "role" in node.id or "tag" in node.id
    if isinstance(node, ast.Subscript):
        return True
    if isinstance(node, ast.Call):
        return _name(node.func) in ("split", "rsplit", "partition", "rpartition")
    return False


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def offences(path: Path, root: Path = ROOT) -> list[str]:
    """Every state-name literal, and every role literal compared or made into an order id."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docs = _docstrings(tree)
    where = path.relative_to(root)
    found: list[str] = []
    for node in ast.walk(tree):
        literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if literal and id(node) not in docs and node.value in STATE_NAMES:
            found.append(f"{where}:{node.lineno}: state name {node.value!r} as a string")
        if where.parts[0] == "brokers" or where.parts[:2] == ("tests", "brokers"):
            continue
        roles: list[ast.Constant] = []
        if isinstance(node, ast.Compare) and any(
            _role_like(operand) for operand in (node.left, *node.comparators)
        ):
            for operand in (node.left, *node.comparators):
                roles += _strings(operand)
        elif isinstance(node, ast.Call) and _name(node.func) in ("client_order_id", "oid"):
            for arg in (*node.args, *(k.value for k in node.keywords)):
                roles += _strings(arg)
        elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
            roles += _strings(node.pattern.value)
        found += [
            f"{where}:{c.lineno}: order role {c.value!r} as a string"
            for c in roles
            if c.value in ROLE_NAMES
        ]
    return found


class TestVocabulary:
    def test_the_walk_sees_the_code_above_the_machine(self):
        """The walk covers strategies, brokers, benchmarks, scripts and tests (not vacuous)."""
        tops = {path.relative_to(ROOT).parts[0] for path in _python_files()}
        assert {"strategies", "brokers", "benchmarks", "scripts", "tests"} <= tops

    @pytest.mark.parametrize(
        "source",
        [
            'if snapshot.state == "in_position": pass',
            'HOLDING = ("in_position", "stop_replacing")',
            'x = o.role.value == "entry"',
            'ok = role in ("buy", "stop")',
            'ok = cid.rsplit("-", 1)[-1] == "stop"',
            'cid = client_order_id("s", "X", day, 1, "stop")',
            'match role:\n    case "exit": pass',
        ],
    )
    def test_each_kind_of_spelling_is_caught(self, source, tmp_path):
        """A state literal anywhere, a role literal compared, matched or made into an id."""
        (tmp_path / "strategies").mkdir()
        path = tmp_path / "strategies" / "m.py"
        path.write_text(source, encoding="utf-8")
        assert offences(path, tmp_path)

    def test_no_state_name_or_role_is_spelled_outside_machines(self):
        """Everything above the machine uses State, OrderRole and the snapshot's predicates."""
        found = [line for path in _python_files() for line in offences(path)]
        assert found == []
