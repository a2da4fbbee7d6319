"""A signal's phases as data: every (phase, cue) pair declared exactly once, checked when built.

Where a signal's day stands decides which of its rules apply (80-20: waiting for the trigger,
armed, in an attempt, done for the day). ``PhaseTable`` declares those phases and the cues that
move between them, the way ``machines`` declares the lifecycle: rows of
``(cue, source phases, destination)``, where ``STAY`` says the cue changes nothing there::

    >>> from enum import Enum, StrEnum
    >>> class Phase(Enum):
    ...     WAITING = "waiting"
    ...     DONE = "done"
    >>> class Cue(StrEnum):
    ...     CLOSED = "closed"
    >>> table = PhaseTable.declare(
    ...     "demo", Phase, Cue, initial=Phase.WAITING,
    ...     rows=(("closed", (Phase.WAITING,), Phase.DONE), ("closed", (Phase.DONE,), STAY)),
    ... )
    >>> table.next(Phase.WAITING, Cue.CLOSED)
    <Phase.DONE: 'done'>

A table that leaves a pair undeclared, or declares one twice, cannot be built: the error names
the pair, at import. The table is drawn (``diagram``, ``mermaid``) like the lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final, Generic, TypeVar

from machines import Diagram, DiagramEdge, DiagramNode, wrap_label

__all__ = ["STAY", "PhaseTable", "PhaseTableError"]

P = TypeVar("P", bound=Enum)
C = TypeVar("C", bound=StrEnum)


class _Stay:
    """The destination that keeps the phase: the cue changes nothing there."""

    def __repr__(self) -> str:
        return "STAY"


#: A row's destination meaning "the cue changes nothing in these phases".
STAY: Final = _Stay()


class PhaseTableError(ValueError):
    """A phase table is not total, or declares a pair twice, or names an unknown phase or cue."""


@dataclass(frozen=True, slots=True)
class PhaseTable(Generic[P, C]):
    """The phases of one signal and how each cue moves between them (built by ``declare``)."""

    name: str
    phases: tuple[P, ...]
    cues: tuple[C, ...]
    initial: P
    moves: Mapping[tuple[P, C], P]

    @classmethod
    def declare(
        cls,
        name: str,
        phases: type[P],
        cues: type[C],
        *,
        initial: P,
        rows: Iterable[tuple[str, Iterable[P], P | _Stay]],
    ) -> PhaseTable[P, C]:
        """Build the table from rows; refuse one that is not total or declares a pair twice."""
        every_phase, every_cue = tuple(phases), tuple(cues)
        moves: dict[tuple[P, C], P] = {}
        for cue_name, sources, dest in rows:
            try:
                cue = cues(cue_name)
            except ValueError:
                raise PhaseTableError(f"{name}: unknown cue {cue_name!r}") from None
            if not isinstance(dest, _Stay | phases):
                raise PhaseTableError(f"{name}: {cue_name!r} leads to {dest!r}, not a phase")
            for phase in sources:
                if not isinstance(phase, phases):
                    raise PhaseTableError(f"{name}: {phase!r} is not a phase of {phases.__name__}")
                if (phase, cue) in moves:
                    raise PhaseTableError(f"{name}: ({phase.name}, {cue.value}) is declared twice")
                moves[(phase, cue)] = phase if isinstance(dest, _Stay) else dest
        missing = [(p.name, c.value) for p in every_phase for c in every_cue if (p, c) not in moves]
        if missing:
            raise PhaseTableError(f"{name}: undeclared (phase, cue) pairs: {missing}")
        if not isinstance(initial, phases):
            raise PhaseTableError(f"{name}: the initial phase {initial!r} is not a phase")
        return cls(name, every_phase, every_cue, initial, MappingProxyType(moves))

    def next(self, phase: P, cue: C) -> P:
        """Where ``cue`` takes a signal that is in ``phase``."""
        return self.moves[(phase, cue)]

    def edges(self) -> tuple[tuple[P, P, tuple[C, ...]], ...]:
        """Every phase change: (from, to, the cues that make it), in declaration order."""
        grouped: dict[tuple[P, P], list[C]] = {}
        for (source, cue), dest in self.moves.items():
            if dest is not source:
                grouped.setdefault((source, dest), []).append(cue)
        return tuple((source, dest, tuple(cues)) for (source, dest), cues in grouped.items())

    def from_anywhere(self) -> dict[C, P]:
        """The cues that lead to one phase from every phase (a day's start), with that phase."""
        found = {}
        for cue in self.cues:
            dests = {self.moves[(phase, cue)] for phase in self.phases}
            if len(dests) == 1:
                found[cue] = dests.pop()
        return found

    def diagram(self) -> Diagram:
        """The phases drawn as ``tickstate diagram`` draws them: an edge per phase change with
        the cues that make it; a cue that leads to one phase from every phase is drawn once,
        from the start dot, instead of from each phase."""
        anywhere = self.from_anywhere()
        nodes = [DiagramNode(_START, kind="start")]
        nodes += [DiagramNode(_name(phase)) for phase in self.phases]
        edges = []
        into: dict[P, list[str]] = {}
        for cue, dest in anywhere.items():
            into.setdefault(dest, []).append(cue.value)
        if self.initial not in into:
            edges.append(DiagramEdge(_START, _name(self.initial)))
        edges += [DiagramEdge(_START, _name(d), wrap_label(cues)) for d, cues in into.items()]
        for source, dest, cues in self.edges():
            rest = [cue.value for cue in cues if cue not in anywhere]
            if rest:
                edges.append(DiagramEdge(_name(source), _name(dest), wrap_label(rest)))
        return Diagram(name=self.name, nodes=tuple(nodes), edges=tuple(edges), direction="LR")

    def mermaid(self) -> str:
        """The phases as a Mermaid ``stateDiagram-v2``: ``diagram()`` in Mermaid's words."""
        return self.diagram().mermaid()


_START = "start"


def _name(phase: Enum) -> str:
    return phase.name.lower()
