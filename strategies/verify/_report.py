"""What ``tickstate verify`` prints, and the pytest regressions ``--emit-test`` writes.

Every violation is printed as its shortest step sequence with each step's outcomes; every note
(a finding the lifecycle table declares as policy) as one line with how often it was reached.
An emitted regression replays the sequence and asserts that no property breaks along it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from machines import LIFECYCLE_TABLE, Anomaly, Declaration, Moves, Rules
from strategies.verify._explore import Counterexample, Result
from strategies.verify._trace import describe_step, replay
from strategies.verify._world import Step, VerifySetup

__all__ = ["emit_tests", "report_lines"]


def report_lines(result: Result, setup: VerifySetup, in_flight: int) -> list[str]:
    """The violations with their sequences, the notes, then the summary line."""
    lines: list[str] = []
    for example in result.violations:
        lines.append(f"VIOLATION {example.invariant}: {example.detail}")
        lines.append(f"  shortest sequence ({len(example.steps)} steps):")
        trace = replay(setup, result.mode, example.steps, in_flight)
        for number, traced in enumerate(trace.steps, 1):
            lines += describe_step(number, traced)
        lines.append("")
    for (invariant, detail), (count, example) in sorted(result.notes.items()):
        why = _declared_as(invariant, detail)
        lines.append(
            f"note {invariant}: {detail} — {why}; reached {count:,} times, first after "
            f"{len(example.steps)} steps"
        )
    lines.append(result.summary())
    return lines


def _declared_as(invariant: str, detail: str) -> str:
    """Which declaration of the table makes a note policy rather than a violation."""
    if invariant == "anomaly":
        reason, _, state = detail.partition(" in ")
        policies = {
            "halt and flatten" if anomaly.flatten else "halt and raise the operator alarm"
            for (where, _trigger), declaration in LIFECYCLE_TABLE.items()
            if where == state
            for anomaly in (_anomaly_of(declaration),)
            if anomaly is not None and anomaly.reason == reason
        }
        return "declared anomaly: " + (" or ".join(sorted(policies)) or "halt")
    if invariant == "no_reversal" and "venue sized past" in detail:
        return "declared anomaly overfill or fill_after_terminal: halt and flatten the excess"
    if invariant == "no_reversal":
        return "declared anomaly both_legs_filled: halt and flatten the excess"
    if invariant == "protected_at_rest" and "larger than the position" in detail:
        return "declared anomaly overfill, should it fill past the position: halt, close the rest"
    if invariant in ("in_position_protected", "halted_covered_or_alarm"):
        return "declared: Rules.stop_waits_for_entry (the stop follows the cancel of the remainder)"
    return "declared: the operator alarm is raised"


def _anomaly_of(declaration: Declaration) -> Anomaly | None:
    if isinstance(declaration, Anomaly):
        return declaration
    otherwise = declaration.otherwise if isinstance(declaration, Moves) else None
    return otherwise if isinstance(otherwise, Anomaly) else None


def emit_tests(
    result: Result, setup: VerifySetup, in_flight: int, folder: Path, *, notes: bool = False
) -> list[Path]:
    """Write one pytest module per violation (and per note kind, with ``notes``)."""
    folder.mkdir(parents=True, exist_ok=True)
    examples = list(result.violations)
    if notes:
        examples += [example for _count, example in result.notes.values()]
    written = []
    taken: set[str] = set()
    for example in examples:
        name = _name(result.mode, example, taken)
        path = folder / f"test_{name}.py"
        path.write_text(_module(result.mode, setup, in_flight, example, name), encoding="utf-8")
        written.append(path)
    return written


def _name(mode: str, example: Counterexample, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", f"verify_{mode}_{example.invariant}".lower()).strip("_")
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


_MODULE = '''"""Regression emitted by ``tickstate verify --broker {mode}``: {invariant}.

Found as: {detail}

The shortest sequence that broke it, replayed against the real machine and the venue model;
no property may break along it (after a fix the sequence may end early: a step that can no
longer happen ends it).
"""

{imports}

SETUP = VerifySetup(
{setup}
)
STEPS = (
{steps}
)


def test_{name}() -> None:
    """{invariant} holds along the sequence that once broke it."""
    trace = replay(SETUP, {mode!r}, STEPS, in_flight={in_flight})
    assert trace.violations == [], trace.report()
'''


def _module(
    mode: str, setup: VerifySetup, in_flight: int, example: Counterexample, name: str
) -> str:
    fields = [
        f"    {f.name}={_source_of(getattr(setup, f.name))},"
        for f in dataclasses.fields(setup)
    ]
    text = "\n".join(fields)
    machines_names = sorted(n for n in ("FixedTick", "PriceBands", "Rules") if f"{n}(" in text)
    imports = [
        *(["import datetime"] if "datetime." in text else []),
        *(["from decimal import Decimal"] if "Decimal(" in text else []),
        "",
        *([f"from machines import {', '.join(machines_names)}"] if machines_names else []),
        "from strategies.verify import Step, VerifySetup, replay",
    ]
    steps = "\n".join(f"    # {step.label}\n    {_source(step)}," for step in example.steps)
    return _MODULE.format(
        mode=mode,
        invariant=example.invariant,
        detail=example.detail.replace('"""', "'''"),
        imports="\n".join(imports).lstrip("\n"),
        setup=text,
        steps=steps,
        name=name,
        in_flight=in_flight,
    )


def _source_of(value: object) -> str:
    """A setup field as source; rules one field a line, so lines stay short."""
    if isinstance(value, Rules):
        inner = ",\n".join(
            f"        {f.name}={getattr(value, f.name)!r}"
            for f in dataclasses.fields(value)
            if f.init
        )
        return f"Rules(\n{inner},\n    )"
    return repr(value)


def _source(step: Step) -> str:
    """``Step(...)`` as short source: positional, trailing defaults left out."""
    values = [step.kind, step.what, step.cid, step.arg]
    while values and not values[-1]:
        values.pop()
    args = [repr(v) for v in values]
    if not step.now:
        args.append("now=False")
    return f"Step({', '.join(args)})"
