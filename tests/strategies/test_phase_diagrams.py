"""Each registered signal's phases are drawn beside the lifecycle, plugins included."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any, ClassVar

import pytest

from machines._drawing import LABEL_WIDTH
from strategies.signals import STAY, PhaseTable, signal_diagrams, signal_kind
from strategies.signals._eighty_twenty import PHASES as EIGHTY_TWENTY
from strategies.signals._opening_range import PHASES as ORB

BUILT_INS = {"eighty_twenty": EIGHTY_TWENTY, "opening_range_breakout": ORB}


class _Phase(Enum):
    WAITING = "waiting"
    FADING = "fading"
    DONE = "done"


class _Cue(StrEnum):
    GAPPED = "gapped"
    CLOSED = "closed"


class GapFade:
    """A fake plugin with phases of its own."""

    phases: ClassVar[PhaseTable[Any, Any]] = PhaseTable.declare(
        "gap_fade",
        _Phase,
        _Cue,
        initial=_Phase.WAITING,
        rows=(
            ("gapped", (_Phase.WAITING,), _Phase.FADING),
            ("gapped", (_Phase.FADING, _Phase.DONE), STAY),
            ("closed", tuple(_Phase), _Phase.DONE),
        ),
    )

    def __init__(self, params: Any, symbol: str) -> None:
        self.params, self.symbol = params, symbol


class Plain:
    """A fake plugin that declares no phases."""

    def __init__(self, params: Any, symbol: str) -> None:
        self.params, self.symbol = params, symbol


class TestSignalDiagrams:
    def test_every_built_in_has_a_page_and_a_picture(self):
        """Both built-ins get a DOT file and a page, and the index links them."""
        files = signal_diagrams()
        for name in BUILT_INS:
            assert f"signals/{name}.dot" in files
            assert f"({name}.md)" in files["signals/README.md"]
            assert f"![the phases of {name}]({name}.svg)" in files[f"signals/{name}.md"]

    def test_a_plugin_is_drawn_like_a_built_in(self, register_signal):
        """A registered plugin with phases gets its page; one without is listed as such."""
        register_signal("gap_fade", f"{__name__}:GapFade")
        register_signal("plain", f"{__name__}:Plain")
        files = signal_diagrams()
        assert "signals/gap_fade.dot" in files
        assert f"Registered as `{__name__}:GapFade`" in files["signals/gap_fade.md"]
        assert f"| `plain` | `{__name__}:Plain` | none declared |" in files["signals/README.md"]
        assert "signals/plain.dot" not in files

    @pytest.mark.parametrize("name", sorted(BUILT_INS))
    def test_every_phase_change_is_drawn(self, name):
        """Each (from, to) of the table is an edge, or its cues lead there from every phase."""
        table = BUILT_INS[name]
        diagram = table.diagram()
        drawn = {(edge.tail, edge.head): edge.lines for edge in diagram.edges}
        for source, dest, cues in table.edges():
            every = all(all(table.next(p, c) is dest for p in table.phases) for c in cues)
            pair = (source.name.lower(), dest.name.lower())
            assert pair in drawn or every, pair

    def test_a_cue_from_every_phase_is_drawn_once_from_the_start(self):
        """80-20's setup and no_setup lead to one phase from any phase: drawn from the dot."""
        edges = EIGHTY_TWENTY.diagram().edges
        from_start = {edge.head: edge.lines for edge in edges if edge.tail == "start"}
        assert from_start == {"waiting": ("setup",), "idle": ("no_setup",)}
        assert not [e for e in edges if e.tail != "start" and "setup" in e.lines]

    @pytest.mark.parametrize("name", sorted(BUILT_INS))
    def test_the_page_has_the_whole_table(self, name):
        """One grid row per phase, one column per cue."""
        table = BUILT_INS[name]
        page = signal_diagrams()[f"signals/{name}.md"]
        rows = [line for line in page.splitlines() if line.startswith("| `")]
        assert len(rows) == len(table.phases)
        assert all(row.count(" | ") == len(table.cues) for row in rows)
        assert signal_kind(name).origin in page

    def test_labels_fit_the_width(self):
        """No label line of a phase diagram passes LABEL_WIDTH."""
        for table in BUILT_INS.values():
            for edge in table.diagram().edges:
                assert all(len(line) <= LABEL_WIDTH for line in edge.lines)
