"""Every generated diagram, laid out by Graphviz, reads cleanly: how crossings and overlaps count.

Each DOT file ``tickstate diagram`` writes is laid out with ``dot -Tjson`` and measured by
``tests/diagram_layout.py``: each edge's Bézier spline is flattened into a polyline (24 segments
a piece) and two different edges cross where a segment of one properly intersects a segment of
the other, outside every node's box (edges meeting at a node do not cross there); a label
overlaps when its text box meets another label, a node, or another edge's polyline. The
overview has no crossing, every page at most two, no label overlaps anything, and no line of
a label is longer than ``LABEL_WIDTH`` (28 characters: where Mermaid would re-flow it, about
2 inches of Graphviz's 9-10 pt text — the old 140-character labels made the picture 5.8:1).
``python -m tests.diagram_layout`` prints the figures.
"""

from __future__ import annotations

import pytest

from machines import State
from machines._drawing import LABEL_WIDTH
from tests.diagram_layout import count_crossings, count_label_overlaps, generated_dots, layout

DOTS = generated_dots()
PAGES = sorted(name for name in DOTS if name != "overview.dot")


class TestTheCounter:
    def test_an_x_is_one_crossing_and_a_shared_end_none(self):
        """Two diagonals cross once; two edges leaving the same node's box do not cross."""
        x = [[(0.0, 0.0), (10.0, 10.0)], [(0.0, 10.0), (10.0, 0.0)]]
        assert count_crossings(x, []) == 1
        assert count_crossings(x, [(4.0, 4.0, 6.0, 6.0)]) == 0  # the crossing is inside a node
        parallel = [[(0.0, 0.0), (10.0, 0.0)], [(0.0, 1.0), (10.0, 1.0)]]
        assert count_crossings(parallel, []) == 0

    def test_a_polyline_crossing_twice_counts_twice(self):
        """A zigzag through a straight edge crosses it at each pass."""
        zigzag = [(0.0, -1.0), (4.0, 1.0), (8.0, -1.0)]
        assert count_crossings([zigzag, [(-1.0, 0.0), (9.0, 0.0)]], []) == 2

    def test_a_label_on_another_edge_overlaps(self):
        """A label box crossed by another edge's segment is an overlap; its own edge is not."""
        label = (4.0, 4.0, 6.0, 6.0)
        through = [(0.0, 5.0), (10.0, 5.0)]
        assert count_label_overlaps([None, label], [through, through], []) == 1
        assert count_label_overlaps([label], [through], []) == 0


@pytest.mark.usefixtures("graphviz")
class TestLayouts:
    def test_the_overview_has_no_crossing(self):
        """The README's picture: zero edge crossings, no overlapping label."""
        measured = layout(DOTS["overview.dot"])
        assert measured.crossings == 0
        assert measured.label_overlaps == 0

    @pytest.mark.parametrize("name", PAGES)
    def test_every_page_has_at_most_two_crossings(self, name):
        """Each state's and each signal's diagram: at most two crossings, no overlapping label."""
        measured = layout(DOTS[name])
        assert measured.crossings <= 2
        assert measured.label_overlaps == 0

    @pytest.mark.parametrize("name", sorted(DOTS))
    def test_no_label_line_is_longer_than_the_bound(self, name):
        """Every line of every node and edge label, as Graphviz received it, fits LABEL_WIDTH."""
        assert layout(DOTS[name]).longest_line <= LABEL_WIDTH

    def test_the_overview_reads_top_down_along_the_happy_path(self):
        """flat, entry_pending, in_position, exiting from top to bottom; halted below them all."""
        centres = layout(DOTS["overview.dot"]).centres
        path = (State.FLAT, State.ENTRY_PENDING, State.IN_POSITION, State.EXITING, State.HALTED)
        heights = [centres[state][1] for state in path]
        assert heights == sorted(heights, reverse=True)
        assert centres[State.ENTRY_CANCELLING][1] < centres[State.ENTRY_PENDING][1]
        assert centres[State.STOP_REPLACING][1] < centres[State.IN_POSITION][1]

    def test_the_overview_is_not_a_strip(self):
        """Neither side of the overview is more than twice the other (the old one was 5.8:1)."""
        assert layout(DOTS["overview.dot"]).aspect <= 2
