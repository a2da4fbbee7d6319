"""Breadth-first, exhaustive exploration of a world up to a depth, with visited-state dedup.

Every state reachable in at most ``depth`` steps is visited once (by its canonical key: the
machine's fingerprint and the venue's side); every step out of it is taken and checked.
Breadth-first, so the first counterexample found for a property is a shortest one. A step that
violates a property is reported, and the state it leads to is not explored further.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from machines import Outcome, OutcomeKind
from strategies.verify._checks import Finding, check_state, check_transition
from strategies.verify._steps import apply_step, next_steps
from strategies.verify._world import BrokerMode, Step, VerifySetup, World

__all__ = ["Counterexample", "Progress", "Result", "explore", "path_to"]


@dataclass(frozen=True, slots=True)
class Counterexample:
    """The shortest step sequence found that breaks (or, for a note, reaches) a property."""

    invariant: str
    detail: str
    steps: tuple[Step, ...]
    note: bool = False


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an exploration got: handed to a progress callback, and kept in the result."""

    level: int
    states: int
    transitions: int
    seconds: float


@dataclass(slots=True)
class Result:
    """What an exploration found."""

    mode: BrokerMode
    depth: int
    states: int = 0
    transitions: int = 0
    seconds: float = 0.0
    violations: list[Counterexample] = field(default_factory=list)
    violating_steps: int = 0
    #: Declared-policy findings by (property, detail): how often, and the first example.
    notes: dict[tuple[str, str], tuple[int, Counterexample]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        """One line: mode, depth, states, transitions, seconds, violations, notes."""
        return (
            f"verify {self.mode}: depth {self.depth}, {self.states:,} states, "
            f"{self.transitions:,} transitions, {self.seconds:.1f} s, "
            f"{len(self.violations)} violations ({self.violating_steps:,} violating steps), "
            f"{len(self.notes)} notes"
        )


def explore(
    setup: VerifySetup,
    mode: BrokerMode,
    depth: int,
    *,
    dedup: bool = True,
    in_flight: int = 2,
    progress: Callable[[Progress], None] | None = None,
    every: int = 5000,
) -> Result:
    """Visit every state within ``depth`` steps of a fresh world; check every step."""
    clock = time.process_time
    start = clock()
    result = Result(mode=mode, depth=depth)
    root = World(setup, mode, in_flight)
    # parents[i] = (parent index, the step into i): enough to rebuild any path.
    parents: list[tuple[int, Step | None]] = [(-1, None)]
    seen: dict[object, int] = {root.key(): 0} if dedup else {}
    frontier: list[tuple[int, World]] = [(0, root)]
    first_bad: set[str] = set()
    for level in range(depth):
        following: list[tuple[int, World]] = []
        last = level == depth - 1
        for index, world in frontier:
            for step in next_steps(world):
                applied = apply_step(world, step)
                if applied is None:
                    continue
                result.transitions += 1
                if progress is not None and result.transitions % every == 0:
                    progress(Progress(level + 1, len(parents), result.transitions, clock() - start))
                findings = check_transition(world, step, applied)
                if dedup and step.kind in _VENUE_UNTOUCHED and _changes_nothing(applied.outcomes):
                    # The venue untouched and every event ignored or declined: the state it
                    # starts from, already seen (the transition checks prove nothing changed).
                    if findings:
                        _record(result, findings, parents, index, step, first_bad)
                    continue
                key = applied.world.key() if dedup else None
                if dedup and key in seen:
                    # Its state checks ran when it was first reached.
                    if findings:
                        _record(result, findings, parents, index, step, first_bad)
                    continue
                findings += check_state(applied.world)
                if findings and _record(result, findings, parents, index, step, first_bad):
                    continue  # a violation: the state it reaches is not explored further
                if dedup:
                    seen[key] = len(parents)
                parents.append((index, step))
                if not last:
                    following.append((len(parents) - 1, applied.world))
        frontier = following
        if progress is not None:
            progress(Progress(level + 1, len(parents), result.transitions, clock() - start))
        if not frontier:
            break
    result.states = len(parents)
    result.seconds = clock() - start
    return result


#: Steps that fire an event and change nothing on the venue's side.
_VENUE_UNTOUCHED = frozenset({"strategy", "duplicate", "foreign"})
_NOTHING = frozenset({OutcomeKind.IGNORED, OutcomeKind.DECLINED})


def _changes_nothing(outcomes: tuple[Outcome, ...]) -> bool:
    return all(outcome.kind in _NOTHING for outcome in outcomes)


def _record(
    result: Result,
    findings: list[Finding],
    parents: list[tuple[int, Step | None]],
    index: int,
    step: Step,
    first_bad: set[str],
) -> bool:
    """Keep the first counterexample of each property; True when a finding is a violation."""
    bad = False
    for finding in findings:
        if finding.note:
            key = (finding.invariant, finding.detail)
            count, example = result.notes.get(key, (0, None))
            if example is None:
                example = Counterexample(
                    finding.invariant, finding.detail, (*path_to(parents, index), step), True
                )
            result.notes[key] = (count + 1, example)
            continue
        bad = True
        if finding.invariant not in first_bad:
            first_bad.add(finding.invariant)
            result.violations.append(
                Counterexample(finding.invariant, finding.detail, (*path_to(parents, index), step))
            )
    if bad:
        result.violating_steps += 1
    return bad


def path_to(parents: list[tuple[int, Step | None]], index: int) -> tuple[Step, ...]:
    """The steps from the root to state ``index``."""
    steps: list[Step] = []
    while index > 0:
        index, step = parents[index]
        assert step is not None
        steps.append(step)
    return tuple(reversed(steps))
