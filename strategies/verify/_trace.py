"""Replaying a step sequence: what each step did, and every property it broke on the way.

A counterexample is a sequence of named steps; ``replay`` takes them again from a fresh world
and checks every property after each, as the exploration did. A step that can no longer happen
(after a fix, the venue may hold a smaller order than the step fills) cuts the replay short:
the sequence is then impossible from that step on, which is what a regression test wants.
"""

from __future__ import annotations

from dataclasses import dataclass

from machines import (
    CancelOrder,
    ClosePosition,
    Command,
    Outcome,
    OutcomeKind,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
)
from strategies.verify._checks import Finding, check_state, check_transition
from strategies.verify._steps import apply_step
from strategies.verify._world import BrokerMode, Step, VerifySetup, World, short_id

__all__ = ["Trace", "TracedStep", "describe_outcome", "replay"]


@dataclass(frozen=True, slots=True)
class TracedStep:
    """One step of a replay: the machine's outcomes and the properties it broke."""

    step: Step
    outcomes: tuple[Outcome, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Trace:
    """A replayed sequence; ``cut`` is the number of the first step that could not happen."""

    steps: tuple[TracedStep, ...]
    cut: int | None

    @property
    def violations(self) -> list[Finding]:
        return [f for s in self.steps for f in s.findings if not f.note]

    def report(self) -> str:
        """Every step with its outcomes, for a failing test's message."""
        lines = []
        for number, traced in enumerate(self.steps, 1):
            lines += describe_step(number, traced)
        if self.cut is not None:
            lines.append(f"  step {self.cut} can no longer happen: the sequence ends there")
        return "\n".join(lines)


def replay(
    setup: VerifySetup, mode: BrokerMode, steps: tuple[Step, ...], in_flight: int = 2
) -> Trace:
    """Take ``steps`` from a fresh world, checking every property after each."""
    world = World(setup, mode, in_flight)
    traced: list[TracedStep] = []
    for number, step in enumerate(steps, 1):
        applied = apply_step(world, step)
        if applied is None:
            return Trace(tuple(traced), number)
        findings = check_transition(world, step, applied)
        if applied.raised is None:
            findings += check_state(applied.world)
        traced.append(TracedStep(step, applied.outcomes, tuple(findings)))
        world = applied.world
    return Trace(tuple(traced), None)


def describe_step(number: int, traced: TracedStep) -> list[str]:
    """``3. fill 1-buy 2 -> entry_filled: entry_pending -> in_position; PlaceStop ...``."""
    lines = [f"  {number:>2}. {traced.step.label}"]
    for outcome in traced.outcomes:
        lines.append(f"        {describe_outcome(outcome)}")
    for finding in traced.findings:
        tag = "note" if finding.note else "VIOLATED"
        lines.append(f"        {tag} {finding.invariant}: {finding.detail}")
    return lines


def describe_outcome(outcome: Outcome) -> str:
    """One outcome in a line: trigger, kind, move, commands."""
    move = (
        f"{outcome.state_from} -> {outcome.state_to}"
        if outcome.state_from != outcome.state_to
        else f"stays {outcome.state_to}"
    )
    kind = outcome.kind.value
    if outcome.kind is not OutcomeKind.ACCEPTED and outcome.reason:
        kind += f" ({outcome.reason})"
    text = f"-> {outcome.trigger}: {kind}, {move}"
    if outcome.commands:
        text += "; " + ", ".join(_command(c) for c in outcome.commands)
    return text


def _command(command: Command) -> str:
    name = type(command).__name__
    cid = short_id(command.client_order_id)
    if isinstance(command, PlaceEntry | PlaceStop):
        return f"{name} {cid} {command.side} {command.qty} @ {command.stop_price}"
    if isinstance(command, ReplaceStop):
        return (
            f"{name} {cid} -> {short_id(command.new_client_order_id)} @ {command.stop_price}"
            f" for {command.qty}"
        )
    if isinstance(command, ClosePosition):
        return f"{name} {cid} {command.side} {command.qty}"
    assert isinstance(command, CancelOrder)
    return f"{name} {cid}"
