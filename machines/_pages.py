"""One page per state: everything the table declares for it, as a small diagram and its rows.

The diagram puts the state on the left and, to its right, where each declaration leads: an edge
to another state per transition (triggers, then guards in brackets, then ``/`` effects), and a
box per kind of declaration that does not move — what acts in place, the races ignored, what is
declined, the anomalies by policy (each box's edge to ``halted`` is the policy row the machine
fires), and the pairs that cannot occur. The rows below it are the table's own, in its words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from machines import _lifecycle
from machines._drawing import LABEL_WIDTH, Diagram, DiagramEdge, DiagramNode, wrap_label
from machines._lifecycle import ANOMALY_TRIGGERS, Anomaly, Declaration, Decline, Go, Ignore, Moves
from machines._state import State

__all__ = ["describe", "kind_of", "page_diagram", "page_markdown", "race_kind"]

#: The races the table ignores, by the word their reason starts with.
RACE_KINDS = ("stale", "duplicate", "foreign")
_POLICY = {False: ANOMALY_TRIGGERS[0], True: ANOMALY_TRIGGERS[1]}


def race_kind(ignore: Ignore) -> str:
    """``stale``, ``duplicate`` or ``foreign``: what makes this event a race (``race`` if none)."""
    word = ignore.reason.split("_", 1)[0]
    return word if word in RACE_KINDS else "race"


def kind_of(trigger: str, declaration: Declaration) -> str:
    """The legend's word for one table cell."""
    if trigger in ANOMALY_TRIGGERS:
        return "anomaly policy"
    if isinstance(declaration, Ignore):
        return f"race: {race_kind(declaration)}"
    if isinstance(declaration, Decline):
        return "decline"
    if isinstance(declaration, Anomaly):
        return "unreachable" if declaration is _lifecycle.UNREACHABLE else "anomaly"
    return "transition"


def _names(functions: Iterable[Callable[..., object]]) -> list[str]:
    return [f.__name__ for f in functions]


def describe(declaration: Declaration) -> str:
    """What happens, in one line of Markdown (guards in brackets, effects in parentheses)."""
    if isinstance(declaration, Ignore):
        return f"`race_detected`: {declaration.reason}"
    if isinstance(declaration, Decline):
        return f"`signal_declined`: {declaration.reason or 'the failing guard'}"
    if isinstance(declaration, Anomaly):
        policy = "halt and flatten" if declaration.flatten else "halt"
        return f"`anomaly_detected`: {declaration.reason} → {policy}"
    parts = []
    for go in declaration.goes:
        guards = f"[{' & '.join(_names(go.guards))}] " if go.guards else ""
        effects = ", ".join(_names(go.effects))
        parts.append(f"{guards}→ {go.dest or 'stay'}" + (f" ({effects})" if effects else ""))
    if declaration.otherwise is not None:
        other = declaration.otherwise
        parts.append(f"else {kind_of('', other)} — {describe(other)}")
    return "; ".join(parts)


Part = tuple[tuple[Callable[..., object], ...], list[str]]  # guards, the triggers they guard


def _label(
    parts: Iterable[Part], effects: Iterable[Callable[..., object]] = (), width: int = LABEL_WIDTH
) -> tuple[str, ...]:
    """A transition's label: each alternative's triggers and ``[guards]``, then ``/ effects``.

    Alternatives after the first start with ``or``; everything is wrapped to ``width``, a
    guard joining its triggers' last line when it fits there.
    """
    lines: list[str] = []
    for i, (guards, triggers) in enumerate(parts):
        part = list(wrap_label([("or " if i else "") + triggers[0], *triggers[1:]], width))
        if guards:
            bracket = list(wrap_label(_names(guards), width=width - 2, sep=" & "))
            bracket[0] = "[" + bracket[0]
            bracket[-1] += "]"
            if len(bracket) == 1 and len(part[-1]) + 1 + len(bracket[0]) <= width:
                part[-1] += " " + bracket.pop()
            part += bracket
        lines += part
    names = _names(effects)
    if names:
        lines += wrap_label(["/ " + names[0], *names[1:]], width)
    return tuple(lines)


class _Page:
    """Collects one state's declarations into edges and boxes."""

    def __init__(self, state: State) -> None:
        self.state = state
        # (destination, effects) → guards → triggers: one edge per destination and effects
        self.moves: dict[tuple[State, tuple[object, ...]], dict[tuple[Any, ...], list[str]]] = {}
        # (guards, effects) → triggers: one entry of the box of what acts in place
        self.stays: dict[tuple[tuple[Any, ...], tuple[object, ...]], list[str]] = {}
        self.effects: dict[tuple[object, ...], tuple[Callable[..., object], ...]] = {}
        self.boxes: dict[str, list[str]] = {}  # triggers by box
        self.otherwise: dict[str, list[str]] = {}  # the box's triggers when no guard held
        self.policy: dict[bool, Go] = {}

    def add(self, trigger: str, declaration: Declaration, otherwise: bool = False) -> None:
        if trigger in ANOMALY_TRIGGERS and isinstance(declaration, Moves):
            go = declaration.goes[0]
            if go.dest is not None and go.dest != self.state:  # the policy halts: an edge
                self.policy[trigger == ANOMALY_TRIGGERS[1]] = go
                return
        into = self.otherwise if otherwise else self.boxes
        if isinstance(declaration, Moves):
            for go in declaration.goes:
                self.effects[go.effects] = go.effects
                if go.dest is None or go.dest == self.state:
                    self.stays.setdefault((go.guards, go.effects), []).append(trigger)
                else:
                    parts = self.moves.setdefault((go.dest, go.effects), {})
                    parts.setdefault(go.guards, []).append(trigger)
            if declaration.otherwise is not None:
                self.add(trigger, declaration.otherwise, otherwise=True)
        elif isinstance(declaration, Ignore):
            into.setdefault("ignored", []).append(trigger)
        elif isinstance(declaration, Decline):
            into.setdefault("declined", []).append(trigger)
        elif declaration is _lifecycle.UNREACHABLE:
            into.setdefault("unreachable", []).append(trigger)
        else:
            into.setdefault(_POLICY[declaration.flatten], []).append(trigger)

    def box(self, name: str, title: str) -> tuple[str, ...]:
        """A box's lines: its title, its triggers, then those it gets when no guard held."""
        lines = [title, *wrap_label(self.boxes.get(name, ()))]
        if name in self.otherwise:
            lines += ["when no guard held:", *wrap_label(self.otherwise[name])]
        return tuple(lines)


_BOX_TITLES = {
    "ignored": "ignored (a race):",
    "declined": "declined (a rule):",
    "unreachable": "unreachable (a bug):",
}


def page_diagram(state: State) -> Diagram:
    """The diagram of ``state``'s page: every declaration of its row of the table.

    What does not move sits left of the state (in the order of the table's kinds), where it
    moves sits right of it: first the anomaly boxes and ``halted``, where they lead, then the
    other states in the table's order.
    """
    page = _Page(state)
    for trigger in _lifecycle.TRIGGERS:
        page.add(trigger, _lifecycle.DECLARATIONS[(state, trigger)])
    nodes = [DiagramNode(state, kind="here")]
    edges = []
    if page.stays:
        lines = [f"stays {state}:"]
        for (guards, effects), triggers in page.stays.items():
            entry = _label([(guards, triggers)], page.effects[effects], LABEL_WIDTH - 2)
            lines += ["• " + entry[0], *("  " + line for line in entry[1:])]
        nodes.append(DiagramNode("stays", tuple(lines), kind="box"))
        edges.append(DiagramEdge(state, "stays", before=True))
    for box in ("ignored", "declined", "unreachable"):
        if box in page.boxes or box in page.otherwise:
            nodes.append(DiagramNode(box, page.box(box, _BOX_TITLES[box]), kind="box"))
            edges.append(DiagramEdge(state, box, before=True))
    targets: list[State] = []
    for flatten, policy in _POLICY.items():
        if policy not in page.boxes and policy not in page.otherwise:
            continue
        go = page.policy.get(flatten)  # None: the policy keeps the state (see "stays")
        if go is None or go.dest is None:
            title = f"anomaly (stays {state}):"
        else:
            title = "anomaly → halt & flatten:" if flatten else "anomaly → halt:"
        nodes.append(DiagramNode(policy, page.box(policy, title), kind="alarm"))
        edges.append(DiagramEdge(state, policy))
        if go is not None and go.dest is not None:
            targets += [go.dest] if go.dest not in targets else []
            edges.append(DiagramEdge(policy, go.dest, _label([(go.guards, [policy])], go.effects)))
    order = [State.HALTED, *(s for s in State if s is not State.HALTED)]
    moves = sorted(page.moves.items(), key=lambda item: order.index(item[0][0]))
    targets = list(dict.fromkeys([*targets, *(dest for (dest, _), _ in moves)]))
    edges += [
        DiagramEdge(state, dest, _label(parts.items(), page.effects[effects]))
        for (dest, effects), parts in moves
    ]
    nodes += [DiagramNode(dest) for dest in targets]
    return Diagram(
        name=str(state),
        nodes=tuple(nodes),
        edges=tuple(edges),
        direction="LR",
        mermaid_kind="flow",
    )


def page_markdown(state: State, meaning: str) -> str:
    """The Markdown page of ``state``: its meaning, its picture, its rows of the table."""
    lines = [
        f"# `{state}`",
        "",
        f"{meaning}.",
        "",
        "Generated by `tickstate diagram` from `machines/_lifecycle.py`; do not edit by hand.",
        "",
        f"![every declaration of {state}]({state}.svg)",
        "",
        "Transitions are edges to the state they lead to: triggers, then guards in brackets, then",
        "effects after `/`. The boxes list what does not move the symbol; a red box's edge to",
        '`halted` is the anomaly policy; "when no guard held" is a declaration\'s `otherwise`.',
        "",
        "[Overview](../lifecycle.md) · [legend](../lifecycle.md#legend) · other states: "
        + " · ".join(f"[{s}]({s}.md)" for s in State if s is not state),
        "",
        "| trigger | kind | what happens |",
        "|---|---|---|",
    ]
    for trigger in _lifecycle.TRIGGERS:
        declaration = _lifecycle.DECLARATIONS[(state, trigger)]
        text = describe(declaration).replace("|", r"\|")
        lines.append(f"| `{trigger}` | {kind_of(trigger, declaration)} | {text} |")
    lines += [
        "",
        "<details><summary>The same diagram in Mermaid</summary>",
        "",
        "```mermaid",
        page_diagram(state).mermaid().rstrip("\n"),
        "```",
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"
