"""A state diagram as one small value, written out as Graphviz DOT and as Mermaid text.

Every picture under ``diagrams/`` — the lifecycle's overview, each state's page, each signal's
phases — is a ``Diagram``: nodes (states, and boxes that list what does not move), groups
(superstates, each entered at its ``initial`` member) and labelled edges between nodes or
groups. An edge that starts at a group stands for the same edge from its members; one that ends
at a group enters it at its ``initial`` member.

Writing is pure and deterministic: the same diagram gives the same bytes, with nothing of the
machine that drew it (no addresses, no current state unless a node is marked on purpose).
Labels are lines the caller has already kept short (``wrap_label``); neither writer re-flows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "LABEL_WIDTH",
    "Diagram",
    "DiagramEdge",
    "DiagramGroup",
    "DiagramNode",
    "NodeKind",
    "wrap_label",
]

#: The longest line of any label, in characters. Mermaid re-flows a label line wider than 200 px
#: (with mermaid-cli 11, 30 characters of snake_case wrapped and 27 did not), which would then
#: read differently from the DOT rendering; in Graphviz's 9-10 pt labels 28 characters are
#: about 2 inches, so two labels side by side still fit a README's column.
LABEL_WIDTH = 28

#: How a node is drawn: a state, the state a page is about, a state with symbols in it, a box
#: listing what stays, a box listing anomalies, or a start (Mermaid's ``[*]``: a dot).
NodeKind = Literal["state", "here", "marked", "box", "alarm", "start"]

_POINT = 'shape=point, style=filled, fillcolor="#1e293b", color="#1e293b", label=""'

_DOT_STYLE: dict[str, str] = {
    "state": 'shape=box, style="rounded,filled", fillcolor="#f1f5f9", color="#334155"',
    "here": 'shape=box, style="rounded,filled,bold", fillcolor="#dbeafe", color="#1d4ed8"',
    "marked": 'shape=box, style="rounded,filled,bold", fillcolor="#fde68a", color="#b45309"',
    "box": 'shape=box, style="filled,dashed", fillcolor="#ffffff", color="#94a3b8", fontsize=9',
    "alarm": 'shape=box, style="filled", fillcolor="#fef2f2", color="#b91c1c", fontsize=9',
    "start": _POINT + ", width=0.12",
}
_MERMAID_STYLE: dict[str, str] = {
    "here": "fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px",
    "marked": "fill:#fde68a,stroke:#b45309,stroke-width:2px",
    "box": "fill:#ffffff,stroke:#94a3b8,stroke-dasharray:4 3,text-align:left",
    "alarm": "fill:#fef2f2,stroke:#b91c1c,text-align:left",
    "start": "fill:#1e293b,stroke:#1e293b",
}
_MERMAID_LABEL = "fill:none,stroke:none,font-size:12px"


def wrap_label(words: Iterable[str], width: int = LABEL_WIDTH, sep: str = ", ") -> tuple[str, ...]:
    """Join ``words`` with ``sep`` into lines of at most ``width`` characters where possible.

    A line breaks after a separator (``"a,"`` then ``"b"``), never inside a word; a word longer
    than ``width`` stands on a line of its own.
    """
    items = list(words)
    tail = sep.rstrip()  # what ends a line that breaks
    lines: list[str] = []
    current = ""
    for i, word in enumerate(items):
        more = len(tail) if i < len(items) - 1 else 0
        if not current:
            current = word
        elif len(current) + len(sep) + len(word) + more <= width:
            current = f"{current}{sep}{word}"
        else:
            lines.append(current + tail)
            current = word
    if current:
        lines.append(current)
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class DiagramNode:
    """A state or a box; ``lines`` are its label (default: ``id``). In a box, a line that ends
    in ``:`` is a heading (Graphviz draws it bold)."""

    id: str
    lines: tuple[str, ...] = ()
    kind: NodeKind = "state"

    @property
    def label(self) -> tuple[str, ...]:
        return self.lines or (self.id,)


@dataclass(frozen=True, slots=True)
class DiagramGroup:
    """A superstate: ``members`` are node or group ids; an edge ending here enters ``initial``."""

    id: str
    members: tuple[str, ...]
    initial: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """An arrow from ``tail`` to ``head`` (node or group ids), labelled by ``lines``.

    ``before`` places the head before the tail in the reading direction (left of it, left to
    right): Graphviz lays the edge out reversed and draws the arrow the right way. Mermaid
    ignores it.
    """

    tail: str
    head: str
    lines: tuple[str, ...] = ()
    before: bool = False


@dataclass(frozen=True, slots=True)
class Diagram:
    """Nodes, groups and edges, drawn left to right (``"LR"``) or top to bottom (``"TB"``)."""

    name: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]
    groups: tuple[DiagramGroup, ...] = ()
    initial: str | None = None  # where the diagram starts: a node or a group
    direction: Literal["LR", "TB"] = "TB"
    #: Mermaid's gap between ranks in px (its default is 50), set where its labels crowd.
    rank_spacing: int | None = None
    #: ``"state"``: a Mermaid ``stateDiagram-v2``, superstates as composite states. ``"flow"``:
    #: a ``flowchart`` whose edge labels are nodes of their own, which Mermaid then lays out
    #: like nodes — with many labelled edges from one state, its state diagram stacks the
    #: labels on top of each other near that state. No groups.
    mermaid_kind: Literal["state", "flow"] = "state"
    _parent: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes] + [g.id for g in self.groups]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: a node or group id is used twice")
        parent: dict[str, str] = {}
        for group in self.groups:
            for member in group.members:
                if member not in ids or member in parent:
                    raise ValueError(
                        f"{self.name}: {member!r} of {group.id!r} is unknown or shared"
                    )
                parent[member] = group.id
            if group.initial is not None and group.initial not in group.members:
                raise ValueError(f"{self.name}: {group.id!r} starts at a non-member")
        for edge in self.edges:
            for end in (edge.tail, edge.head):
                if end not in ids:
                    raise ValueError(f"{self.name}: an edge names unknown {end!r}")
        if self.mermaid_kind == "flow" and self.groups:
            raise ValueError(f"{self.name}: a flowchart is drawn without groups")
        object.__setattr__(self, "_parent", parent)

    # --- structure ------------------------------------------------------------------------
    def _group(self, gid: str) -> DiagramGroup | None:
        return next((g for g in self.groups if g.id == gid), None)

    def _ancestors(self, id_: str) -> list[str]:
        chain = []
        while id_ in self._parent:
            id_ = self._parent[id_]
            chain.append(id_)
        return chain

    def _scope(self, edge: DiagramEdge) -> str | None:
        """The innermost group holding both ends (an end that is a group counts as inside its
        parent), or ``None`` for the top level: where Mermaid wants the edge written."""
        tail = self._ancestors(edge.tail)
        head = set(self._ancestors(edge.head))
        return next((g for g in tail if g in head), None)

    def _entry_node(self, id_: str) -> str:
        """The DOT node an edge ending at ``id_`` attaches to: a group's start point."""
        group = self._group(id_)
        if group is None:
            return _dot_id(id_)
        if group.initial is not None:
            return _dot_id(f"{group.id}__start")
        return self._exit_node(group.members[0])

    def _exit_node(self, id_: str) -> str:
        """The DOT node an edge starting at ``id_`` leaves from: a group's last member."""
        group = self._group(id_)
        return _dot_id(id_) if group is None else self._exit_node(group.members[-1])

    # --- Graphviz -------------------------------------------------------------------------
    def dot(self) -> str:
        """The diagram as Graphviz DOT text."""
        lines = [
            f"digraph {_dot_id(self.name)} {{",
            f"    graph [rankdir={self.direction}, compound=true, newrank=true, nodesep=0.35,"
            ' ranksep=0.4, fontname="Helvetica", fontsize=11, labeljust=l];',
            '    node [fontname="Helvetica", fontsize=11, ' + _DOT_STYLE["state"] + "];",
            '    edge [fontname="Helvetica", fontsize=9, color="#334155", arrowsize=0.7];',
        ]
        if self.initial is not None:
            lines.append(f'    "__start" [{_POINT}, width=0.12];')
        lines += self._dot_members(None, "    ")
        if self.initial is not None:
            lines.append("    " + self._dot_start("__start", self.initial))
        lines += [self._dot_edge(edge, "    ") for edge in self.edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _dot_members(self, gid: str | None, indent: str) -> Iterator[str]:
        for node in self.nodes:
            if self._parent.get(node.id) == gid:
                yield f"{indent}{_dot_id(node.id)} [{_dot_node_attrs(node)}];"
        for group in self.groups:
            if self._parent.get(group.id) != gid:
                continue
            yield f"{indent}subgraph {_dot_id('cluster_' + group.id)} {{"
            inner = indent + "    "
            yield (
                f'{inner}graph [label="{_dot_text(group.label or group.id)}", style="rounded",'
                ' color="#64748b", fontcolor="#334155"];'
            )
            if group.initial is not None:
                yield f"{inner}{_dot_id(group.id + '__start')} [{_POINT}, width=0.09];"
            yield from self._dot_members(group.id, inner)
            if group.initial is not None:
                yield inner + self._dot_start(group.id + "__start", group.initial)
                if self._group(group.initial) is None:  # the dot beside its state, not above
                    start, first = _dot_id(group.id + "__start"), _dot_id(group.initial)
                    yield f"{inner}{{rank=same; {start}; {first};}}"
            yield f"{indent}}}"

    def _dot_start(self, start: str, initial: str) -> str:
        compound = _dot_compound(self, None, initial)
        return f"{_dot_id(start)} -> {self._entry_node(initial)}{compound};"

    def _dot_edge(self, edge: DiagramEdge, indent: str) -> str:
        tail = self._exit_node(edge.tail)
        head = self._entry_node(edge.head)
        attrs = _dot_compound(self, edge.tail, edge.head)
        if edge.lines:
            label = f'label="{_dot_text(chr(10).join(edge.lines))}"'
            attrs = f" [{label}{', ' + attrs[2:-1] if attrs else ''}]"
        if edge.before:
            attrs = f" [dir=back{', ' + attrs[2:-1] if attrs else ''}]"
            tail, head = head, tail
        return f"{indent}{tail} -> {head}{attrs};"

    # --- Mermaid --------------------------------------------------------------------------
    def mermaid(self) -> str:
        """The diagram as Mermaid text (GitHub renders it), of ``mermaid_kind``."""
        if self.mermaid_kind == "flow":
            return self._flowchart()
        lines = ["stateDiagram-v2"]
        if self.rank_spacing is not None:
            config = ["---", "config:", "  state:", f"    rankSpacing: {self.rank_spacing}", "---"]
            lines[:0] = config
        if self.direction == "LR":
            lines.append("    direction LR")
        kinds = sorted({node.kind for node in self.nodes} & set(_MERMAID_STYLE) - {"start"})
        lines += [f"    classDef {kind} {_MERMAID_STYLE[kind]}" for kind in kinds]
        if self.initial is not None:
            lines.append(f"    [*] --> {self.initial}")
        lines += self._mermaid_scope(None, "    ")
        for kind in kinds:
            ids = [node.id for node in self.nodes if node.kind == kind]
            lines.append(f"    class {', '.join(ids)} {kind}")
        return "\n".join(lines) + "\n"

    def _flowchart(self) -> str:
        lines = [f"flowchart {self.direction}"]
        kinds = sorted({node.kind for node in self.nodes} & set(_MERMAID_STYLE))
        lines += [f"    classDef {kind} {_MERMAID_STYLE[kind]}" for kind in kinds]
        if any(edge.lines for edge in self.edges):
            lines.append(f"    classDef label {_MERMAID_LABEL}")
        for node in self.nodes:
            text = _mermaid_text(node.label)
            if node.kind == "start":
                shape = "(( ))"
            else:
                shape = f'["{text}"]' if node.kind in ("box", "alarm") else f'("{text}")'
            klass = f":::{node.kind}" if node.kind in _MERMAID_STYLE else ""
            lines.append(f"    n_{node.id}{shape}{klass}")
        for i, edge in enumerate(self.edges):
            tail, head = f"n_{edge.tail}", f"n_{edge.head}"
            if edge.lines:
                label = f'e{i}["{_mermaid_text(edge.lines)}"]:::label'
                lines.append(f"    {tail} --- {label} --> {head}")
            else:
                lines.append(f"    {tail} --> {head}")
        return "\n".join(lines) + "\n"

    def _mermaid_scope(self, gid: str | None, indent: str) -> Iterator[str]:
        starts = {node.id for node in self.nodes if node.kind == "start"}
        for node in self.nodes:
            if (
                self._parent.get(node.id) == gid
                and node.label != (node.id,)
                and node.id not in starts
            ):
                yield f'{indent}state "{_mermaid_text(node.label)}" as {node.id}'
        for group in self.groups:
            if self._parent.get(group.id) != gid:
                continue
            title = "" if group.label in (None, group.id) else f'"{group.label}" as '
            yield f"{indent}state {title}{group.id} {{"
            inner = indent + "    "
            if group.initial is not None:
                yield f"{inner}[*] --> {group.initial}"
            for node in self.nodes:  # a bare mention places a plain state in its group
                if self._parent.get(node.id) == group.id and node.label == (node.id,):
                    yield f"{inner}{node.id}"
            yield from self._mermaid_scope(group.id, inner)
            yield f"{indent}}}"
        for edge in self.edges:
            if self._scope(edge) == gid:
                label = f": {_mermaid_text(edge.lines)}" if edge.lines else ""
                tail = "[*]" if edge.tail in starts else edge.tail
                yield f"{indent}{tail} --> {edge.head}{label}"


def _dot_id(name: str) -> str:
    return f'"{_dot_text(name)}"'


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _dot_node_attrs(node: DiagramNode) -> str:
    if node.kind == "start":
        return _DOT_STYLE["start"]
    if node.kind in ("box", "alarm"):
        # A list reads left-aligned, its headings (lines ending in ":") in bold.
        html = "".join(
            (f"<B>{_html(line)}</B>" if line.endswith(":") else _html(line)) + '<BR ALIGN="LEFT"/>'
            for line in node.label
        )
        return f"label=<{html}>, {_DOT_STYLE[node.kind]}"
    return f'label="{_dot_text(chr(10).join(node.label))}", {_DOT_STYLE[node.kind]}'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dot_compound(diagram: Diagram, tail: str | None, head: str) -> str:
    parts = []
    if tail is not None and diagram._group(tail) is not None:
        parts.append(f'ltail="cluster_{tail}"')
    if diagram._group(head) is not None:
        parts.append(f'lhead="cluster_{head}"')
    return f" [{', '.join(parts)}]" if parts else ""


def _mermaid_text(lines: tuple[str, ...]) -> str:
    # ``;`` ends a statement and ``#`` starts an entity in Mermaid: neither may reach a label.
    return "<br/>".join(line.replace(";", ",").replace("#", "") for line in lines)
