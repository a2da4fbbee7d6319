"""The lifecycle's diagrams, generated from its table: the overview, a page per state, the legend.

Rendering is pure and deterministic (no addresses, no current state unless asked to mark one),
so the committed files in ``diagrams/`` can be compared byte for byte with what the code
generates. Writing them, and running Graphviz for SVG and PNG, is the CLI's job.

The overview is a chosen view, not a dump: superstates (``_GROUPS``) and about a dozen edges
(``_OVERVIEW``) with short labels. It is checked against the table every time it is drawn:
together its edges must stand for every state-changing transition of the table, each exactly
once, and a label may name only triggers, guards and states of the transitions its edge stands
for. A table edit the overview does not account for fails the drawing, naming the transition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from machines import _lifecycle
from machines._drawing import Diagram, DiagramEdge, DiagramGroup, DiagramNode, wrap_label
from machines._lifecycle import Go, Moves
from machines._pages import RACE_KINDS, describe, kind_of, page_diagram, page_markdown
from machines._state import State

__all__ = ["MEANINGS", "lifecycle_diagrams", "overview_diagram", "render_markdown"]

FLAT, PENDING, CANCELLING = State.FLAT, State.ENTRY_PENDING, State.ENTRY_CANCELLING
IN, REPLACING, EXITING, HALTED = (
    State.IN_POSITION,
    State.STOP_REPLACING,
    State.EXITING,
    State.HALTED,
)

#: What each state means, for a trader (the pages and the README say it in these words).
MEANINGS: Mapping[State, str] = {
    FLAT: "No position, no working entry",
    PENDING: "An entry (one leg, or a one-cancels-other pair) is decided; its ids are fixed",
    CANCELLING: "The entry timed out; its cancel is in flight (it may still fill)",
    IN: "A position is open and its protective stop is working or being placed",
    REPLACING: "A replace of the stop (trail or resize) is in flight; one at a time, the latest"
    " wish wins",
    EXITING: "Cancel every working order, then close what remains with one market order",
    HALTED: "An anomaly or a kill switch stopped the symbol: only cancels and flattening",
}

# Superstates of the overview: an edge from one stands for the same edge from the states in it
# that declare it; an edge into one enters its first state (``initial``).
_GROUPS = (
    DiagramGroup("trading", (FLAT, "entry", "position", EXITING), initial=FLAT),
    DiagramGroup("entry", (PENDING, CANCELLING), initial=PENDING),
    DiagramGroup("position", (IN, REPLACING), initial=IN),
)
# The overview's edges in reading order: (from, to, label lines). Checked by ``_check``.
_OVERVIEW: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (FLAT, "entry", ("entry_signal",)),
    (PENDING, CANCELLING, ("entry_timeout",)),
    ("entry", "position", ("entry_filled",)),
    ("entry", FLAT, ("entry_rejected,", "entry_cancelled [settled]")),
    ("entry", EXITING, ("exit_signal, square_off",)),
    (IN, REPLACING, ("trail [tighter], resize",)),
    (REPLACING, IN, ("stop_replaced,", "replacement_rejected")),
    ("position", FLAT, ("stop_filled [settled]",)),
    ("position", EXITING, ("exit_signal, square_off,", "stop_filled [not settled]")),
    (EXITING, FLAT, ("[settled]",)),
    ("trading", HALTED, ("halt, anomaly",)),
    (HALTED, "trading", ("resume [settled] → flat", "[protected] → in_position")),
)
_NAME = re.compile(r"[a-z]+(?:_[a-z]+)+")


def _members(id_: str) -> set[State]:
    """The states a node or group of the overview stands for."""
    group = next((g for g in _GROUPS if g.id == id_), None)
    if group is None:
        return {State(id_)}
    return set().union(*(_members(member) for member in group.members))


def _initial(id_: str) -> State:
    group = next((g for g in _GROUPS if g.id == id_), None)
    if group is None:
        return State(id_)
    assert group.initial is not None
    return _initial(group.initial)


def _check() -> None:
    """Raise ``AssertionError`` unless ``_OVERVIEW`` stands for exactly the table's moves."""
    covered: dict[int, list[tuple[State, str, Go]]] = {i: [] for i in range(len(_OVERVIEW))}
    for (state, trigger), declaration in _lifecycle.DECLARATIONS.items():
        if not isinstance(declaration, Moves):
            continue
        for go in declaration.goes:
            if go.dest is None or go.dest == state:
                continue
            edges = [
                i
                for i, (tail, head, _) in enumerate(_OVERVIEW)
                if state in _members(tail) and go.dest in _members(head)
            ]
            if len(edges) != 1:
                how = "no" if not edges else f"{len(edges)}"
                raise AssertionError(
                    f"the overview has {how} edge for {state} --{trigger}--> {go.dest}"
                )
            covered[edges[0]].append((state, trigger, go))
    for i, (tail, head, lines) in enumerate(_OVERVIEW):
        moves = covered[i]
        if not moves:
            raise AssertionError(f"the overview's edge {tail} --> {head} stands for no transition")
        known = {t for _, t, _ in moves} | {g.__name__ for _, _, go in moves for g in go.guards}
        dests = {go.dest for _, _, go in moves}
        known |= {str(dest) for dest in dests}
        for name in _NAME.findall(" ".join(lines)):
            if name not in known:
                raise AssertionError(f"the overview's edge {tail} --> {head} names {name!r}")
        for dest in dests - {_initial(head)}:
            if str(dest) not in " ".join(lines):
                raise AssertionError(f"the overview's edge {tail} --> {head} hides {dest}")


def overview_diagram(marks: Mapping[State, Sequence[str]] | None = None) -> Diagram:
    """The overview; ``marks`` lists who is in each state (``tickstate status --diagram``).

    A marked state is highlighted and lists its names (the first six, then how many more).
    """
    _check()
    nodes = []
    for state in _lifecycle.STATES:
        names = list((marks or {}).get(state, ()))
        if names:
            shown = names[:6] + ([f"+{len(names) - 6} more"] if len(names) > 6 else [])
            nodes.append(DiagramNode(state, (str(state), *wrap_label(shown)), kind="marked"))
        else:
            nodes.append(DiagramNode(state))
    edges = tuple(DiagramEdge(tail, head, lines) for tail, head, lines in _OVERVIEW)
    return Diagram(
        name="overview",
        nodes=tuple(nodes),
        edges=edges,
        groups=_GROUPS,
        initial="trading",
        rank_spacing=70,  # at Mermaid's 50 px, flat's two labels to and from entry touch
    )


_LEGEND = (
    (
        "transition",
        "The event does what it says: the symbol moves to the state named (or stays, doing the"
        " work in parentheses) when every guard in brackets holds; candidates are tried in"
        " order. Logged as `transition`.",
    ),
    (
        "race: stale",
        "News about something already over: a cancel confirmed after the order filled, the"
        " timeout of an entry that already filled, yesterday's day rollover. Normal on a live"
        " feed. Nothing changes; `race_detected` is logged and counted.",
    ),
    (
        "race: duplicate",
        "The same news twice: the stream and the poller both report a fill, or the broker"
        " resends an update. Applying it again would double a position, so nothing changes;"
        " `race_detected` is counted.",
    ),
    (
        "race: foreign",
        "News about an order this machine never placed (one entered by hand, another"
        " strategy's) that does not touch our position. Not ours to act on; counted.",
    ),
    (
        "decline",
        "The strategy asked and a rule said no: no attempts left today, outside the entry"
        " window, a trailing stop that would loosen, an exit with nothing to exit. Nothing"
        " changes; logged as `signal_declined`.",
    ),
    (
        "anomaly",
        "Something that should never happen: the broker's position differs from ours, a fill"
        " for an order we never sent, a stop cancelled behind our back. The broker's facts are"
        " recorded, `anomaly_detected` is logged, and the policy halts the symbol (and"
        " flattens it where the row says so). A person decides what comes next.",
    ),
    (
        "anomaly policy",
        "The rows the machine fires itself after an anomaly: `anomaly` halts, `anomaly_flatten`"
        " halts and closes the position. Once halted it never flattens on its own: the books"
        " are in doubt.",
    ),
    (
        "unreachable",
        "A pair the sorting of order events cannot produce (a stop fill while flat: flat has"
        " no stop). If one ever appears it is a bug, handled as an anomaly: halt.",
    ),
)


def render_markdown() -> str:
    """``diagrams/lifecycle.md``: the overview, the pages, the legend and the totality table."""
    assert {kind.split(": ")[-1] for kind, _ in _LEGEND} >= set(RACE_KINDS)
    lines = [
        "# The symbol lifecycle",
        "",
        "Generated by `tickstate diagram` from `machines/_lifecycle.py`; do not edit by hand.",
        "`tickstate diagram --check` fails when a file here differs from what the code generates.",
        "",
        "![overview](overview.svg)",
        "",
        "The overview merges what each state's page draws in full: a box is a superstate, an",
        "edge from a box stands for the same edge from the states in it that declare it, an",
        "edge into a box enters its first state. Guards in brackets decide between",
        "destinations; the rules that can decline a request are on the pages.",
        "",
        "| state | meaning |",
        "|---|---|",
        *(f"| [`{s}`](states/{s}.md) | {MEANINGS[s]} |" for s in _lifecycle.STATES),
        "",
        "Each registered signal's own phases: [signals](signals/README.md).",
        "",
        "## Legend",
        "",
        "Every (state, trigger) pair of the table below is exactly one of these kinds.",
        "",
        "| kind | what it means for a trader |",
        "|---|---|",
        *(f"| {kind} | {text} |" for kind, text in _LEGEND),
        "",
        "Order events become triggers by the role of the order they name (`entry_*`, `stop_*`,",
        "`replacement_*` for a stop's replacement, `exit_*`); one that changes nothing is a",
        "duplicate, one naming a finished order is stale, one naming an order never placed is",
        "foreign (a fill of one is an anomaly).",
        "",
        "## Totality: every (state, trigger) pair",
        "",
        "Guards are in brackets, effects in parentheses; candidates are tried in order.",
        "",
        "| state | trigger | kind | what happens |",
        "|---|---|---|---|",
    ]
    for state in _lifecycle.STATES:
        for trigger in _lifecycle.TRIGGERS:
            declaration = _lifecycle.DECLARATIONS[(state, trigger)]
            text = describe(declaration).replace("|", r"\|")
            kind = kind_of(trigger, declaration)
            lines.append(f"| [`{state}`](states/{state}.md) | `{trigger}` | {kind} | {text} |")
    return "\n".join(lines) + "\n"


def lifecycle_diagrams() -> dict[str, str]:
    """Every generated text file of ``diagrams/`` about the lifecycle, by relative path."""
    overview = overview_diagram()
    files = {
        "overview.mmd": overview.mermaid(),
        "overview.dot": overview.dot(),
        "lifecycle.md": render_markdown(),
    }
    for state in _lifecycle.STATES:
        page = page_diagram(state)
        files[f"states/{state}.dot"] = page.dot()
        files[f"states/{state}.md"] = page_markdown(state, MEANINGS[state])
    return files
