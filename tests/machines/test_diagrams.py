"""The lifecycle's diagrams say what the table says: the overview, the pages, the legend."""

from __future__ import annotations

import re

import pytest

from machines import (
    Diagram,
    DiagramEdge,
    DiagramGroup,
    DiagramNode,
    State,
    _diagrams,
    _lifecycle,
    lifecycle_diagrams,
    overview_diagram,
    wrap_label,
)
from machines._drawing import LABEL_WIDTH
from machines._lifecycle import Go, Moves
from machines._pages import page_diagram

LEGEND_WORDS = ("race", "stale", "duplicate", "foreign", "decline", "anomaly", "unreachable")


def _table_rows() -> list[str]:
    markdown = lifecycle_diagrams()["lifecycle.md"]
    table = markdown[markdown.index("## Totality") :]
    return [line for line in table.splitlines() if line.startswith("| [`")]


def _all_diagrams() -> list[Diagram]:
    return [overview_diagram(), *(page_diagram(state) for state in State)]


class TestOverview:
    def test_it_has_about_a_dozen_edges(self):
        """At most twelve labelled edges, plus the dots that start the diagram and its boxes."""
        edges = overview_diagram().edges
        assert len([edge for edge in edges if edge.lines]) <= 12
        assert all(edge.lines for edge in edges)

    def test_halted_is_reached_by_one_edge_from_the_trading_superstate(self):
        """One edge into halted, from the box holding every other state."""
        diagram = overview_diagram()
        (into,) = [edge for edge in diagram.edges if edge.head == State.HALTED]
        (trading,) = [group for group in diagram.groups if group.id == into.tail]
        members = set(trading.members)
        for group in diagram.groups:
            if group.id in members:
                members |= set(group.members)
        assert {s for s in State if s is not State.HALTED} <= members

    def test_parallel_edges_are_merged(self):
        """No two edges join the same pair."""
        pairs = [(edge.tail, edge.head) for edge in overview_diagram().edges]
        assert len(pairs) == len(set(pairs))

    def test_every_transition_of_the_table_has_its_edge(self, monkeypatch):
        """A transition the overview does not stand for makes drawing it fail, naming it."""
        edited = dict(_lifecycle.DECLARATIONS)
        edited[(State.FLAT, "trail")] = Moves((Go(State.EXITING),))
        monkeypatch.setattr(_lifecycle, "DECLARATIONS", edited)
        with pytest.raises(AssertionError, match="no edge for flat --trail--> exiting"):
            overview_diagram()

    def test_a_label_names_only_what_its_edge_stands_for(self, monkeypatch):
        """An edge's label naming a trigger its transitions lack makes drawing fail."""
        overview = tuple(
            (tail, head, ("exit_rejected [settled]",) if tail == State.EXITING else lines)
            for tail, head, lines in _diagrams._OVERVIEW
        )
        monkeypatch.setattr(_diagrams, "_OVERVIEW", overview)
        with pytest.raises(AssertionError, match="exiting --> flat names 'exit_rejected'"):
            overview_diagram()

    def test_an_edge_into_a_box_names_every_state_it_enters_but_the_first(self, monkeypatch):
        """resume enters trading at flat or at in_position: its label must say in_position."""
        overview = tuple(
            (tail, head, ("resume",) if tail == State.HALTED else lines)
            for tail, head, lines in _diagrams._OVERVIEW
        )
        monkeypatch.setattr(_diagrams, "_OVERVIEW", overview)
        with pytest.raises(AssertionError, match="halted --> trading hides in_position"):
            overview_diagram()

    def test_marks_list_the_symbols_in_each_state(self):
        """A marked state is highlighted and names its symbols, six at most, then a count."""
        names = [f"S{i}" for i in range(8)]
        diagram = overview_diagram({State.IN_POSITION: ["AAPL", "MSFT"], State.FLAT: names})
        nodes = {node.id: node for node in diagram.nodes}
        assert nodes[State.IN_POSITION].kind == "marked"
        assert nodes[State.IN_POSITION].lines == (State.IN_POSITION, "AAPL, MSFT")
        assert " ".join(nodes[State.FLAT].lines).endswith("S4, S5, +2 more")
        assert nodes[State.EXITING].kind == "state"

    def test_the_committed_overview_marks_nothing(self):
        """The generated files show no current state."""
        assert "marked" not in lifecycle_diagrams()["overview.mmd"]
        assert "#fde68a" not in lifecycle_diagrams()["overview.dot"]


class TestPages:
    @pytest.mark.parametrize("state", list(State))
    def test_every_declaration_of_a_state_is_on_its_page(self, state):
        """Each trigger appears in the page's picture and has one row in its table."""
        dot = page_diagram(state).dot().replace("\\n", " ")
        words = set(re.findall(r"[a-z_]+", dot))
        page = lifecycle_diagrams()[f"states/{state}.md"]
        for trigger in _lifecycle.TRIGGERS:
            assert trigger in words, trigger
            assert page.count(f"| `{trigger}` |") == 1, trigger

    @pytest.mark.parametrize("state", list(State))
    def test_a_page_links_the_overview_the_legend_and_every_other_page(self, state):
        """From a page one reaches the overview, the legend and each other state."""
        page = lifecycle_diagrams()[f"states/{state}.md"]
        assert "(../lifecycle.md)" in page
        assert "(../lifecycle.md#legend)" in page
        assert f"![every declaration of {state}]({state}.svg)" in page
        for other in State:
            if other is not state:
                assert f"({other}.md)" in page

    def test_an_anomaly_box_leads_to_halted_by_the_policy_row(self):
        """The anomaly boxes' edges to halted are labelled with the policy's own trigger."""
        edges = page_diagram(State.IN_POSITION).edges
        policy = {edge.tail: edge.lines[0] for edge in edges if edge.head == State.HALTED}
        assert policy["anomaly"] == "anomaly"
        assert policy["anomaly_flatten"] == "anomaly_flatten"


class TestLegendAndTable:
    def test_the_table_has_one_row_per_pair(self):
        """The totality table lists every (state, trigger) pair once."""
        rows = _table_rows()
        assert len(rows) == len(_lifecycle.DECLARATIONS) == len(State) * len(_lifecycle.TRIGGERS)

    def test_the_legend_explains_every_kind_the_table_uses(self):
        """Each kind in the table's kind column has a row in the legend, in a trader's words."""
        markdown = lifecycle_diagrams()["lifecycle.md"]
        legend = markdown[markdown.index("## Legend") : markdown.index("## Totality")]
        kinds = {row.split(" | ")[2] for row in _table_rows()}
        for kind in kinds:
            assert f"| {kind} | " in legend, kind
        for word in LEGEND_WORDS:
            assert word in legend, word

    def test_races_are_told_apart(self):
        """Ignored pairs are stale, duplicate or foreign races in the table."""
        markdown = lifecycle_diagrams()["lifecycle.md"]
        for word in ("stale", "duplicate", "foreign"):
            assert f"| race: {word} |" in markdown

    def test_guards_appear_by_name_never_by_address(self):
        """No generated file holds an object's repr."""
        for text in lifecycle_diagrams().values():
            assert " at 0x" not in text

    def test_rendering_is_deterministic(self):
        """Two renderings are byte-identical."""
        assert lifecycle_diagrams() == lifecycle_diagrams()


class TestDrawing:
    def test_every_label_line_fits_the_width(self):
        """No line of any node or edge label of the lifecycle's diagrams passes LABEL_WIDTH."""
        for diagram in _all_diagrams():
            for lines in [n.label for n in diagram.nodes] + [e.lines for e in diagram.edges]:
                assert all(len(line) <= LABEL_WIDTH for line in lines), (diagram.name, lines)

    def test_wrap_breaks_after_a_separator(self):
        """Words are joined up to the width; a line that breaks keeps its separator."""
        assert wrap_label(["entry_filled", "entry_cancelled"], width=20) == (
            "entry_filled,",
            "entry_cancelled",
        )
        assert wrap_label(["a", "b"], width=20, sep=" & ") == ("a & b",)

    def test_an_edge_into_a_group_enters_its_first_member(self):
        """In DOT the edge ends at the group's start dot, clipped at its border."""
        diagram = Diagram(
            name="d",
            nodes=(DiagramNode("a"), DiagramNode("b")),
            groups=(DiagramGroup("g", ("b",), initial="b"),),
            edges=(DiagramEdge("a", "g", ("go",)),),
        )
        assert '"a" -> "g__start" [label="go", lhead="cluster_g"];' in diagram.dot()
        assert "    a --> g: go\n" in diagram.mermaid()
        assert "        [*] --> b\n" in diagram.mermaid()

    def test_a_diagram_refuses_an_edge_to_nowhere(self):
        """Naming an unknown node is an error when the diagram is built."""
        with pytest.raises(ValueError, match="unknown 'c'"):
            Diagram(name="d", nodes=(DiagramNode("a"),), edges=(DiagramEdge("a", "c"),))

    def test_a_flowchart_draws_labels_as_nodes(self):
        """Mermaid's flowchart flavour puts each label on a node of its own."""
        diagram = Diagram(
            name="d",
            nodes=(DiagramNode("a"), DiagramNode("b")),
            edges=(DiagramEdge("a", "b", ("go",)),),
            mermaid_kind="flow",
        )
        assert '    n_a --- e0["go"]:::label --> n_b' in diagram.mermaid()
