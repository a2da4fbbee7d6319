"""The signal registry and the signals' declared phases: built-ins and plugins alike."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from strategies.signals import STAY, PhaseTable, PhaseTableError, signal_kind, signal_names
from strategies.signals._eighty_twenty import PHASES as EIGHTY_TWENTY_PHASES
from strategies.signals._eighty_twenty import (
    EightyTwenty,
    EightyTwentyCue,
    EightyTwentyParams,
    EightyTwentyPhase,
)
from strategies.signals._opening_range import PHASES as ORB_PHASES
from strategies.signals._opening_range import OpeningRange, OpeningRangeParams
from strategies.spec import SignalTable


class _GapFadeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gap_pct: Decimal


class _GapPhase(Enum):
    WAITING = "waiting"
    DONE = "done"


class _GapCue(StrEnum):
    FADED = "faded"


@dataclass
class GapFade:
    """A fake third-party signal: built as (params, symbol), with its own Params and phases."""

    Params: ClassVar[type[BaseModel]] = _GapFadeParams
    phases: ClassVar[PhaseTable[Any, Any]] = PhaseTable.declare(
        "gap_fade",
        _GapPhase,
        _GapCue,
        initial=_GapPhase.WAITING,
        rows=(("faded", (_GapPhase.WAITING,), _GapPhase.DONE), ("faded", (_GapPhase.DONE,), STAY)),
    )
    params: Any
    symbol: str


class TestRegistry:
    def test_the_built_ins_are_registered_like_any_plugin(self):
        """Both built-ins come from the tickstate.signals entry points of tickstate itself."""
        assert {"eighty_twenty", "opening_range_breakout"} <= set(signal_names())
        eighty = signal_kind("eighty_twenty")
        assert eighty.origin == "strategies.signals._eighty_twenty:EightyTwenty"
        assert (eighty.build, eighty.params, eighty.phases) == (
            EightyTwenty,
            EightyTwentyParams,
            EIGHTY_TWENTY_PHASES,
        )
        orb = signal_kind("opening_range_breakout")
        assert (orb.build, orb.params, orb.phases) == (OpeningRange, OpeningRangeParams, ORB_PHASES)

    def test_a_validated_table_builds_the_signal_with_its_params(self):
        """[signal] of 80-20 → EightyTwenty for the symbol, with its Params model."""
        table = SignalTable.model_validate({"kind": "eighty_twenty", "trigger_ticks": 5})
        signal = table.build("AAPL")
        assert isinstance(signal, EightyTwenty)
        assert (signal.params, signal.symbol) == (EightyTwentyParams(trigger_ticks=5), "AAPL")

    def test_a_plugin_gets_its_validated_params_and_declares_its_phases(self, register_signal):
        """A registered plugin is built as target(params, symbol), params its Params model."""
        register_signal("gap_fade", f"{__name__}:GapFade")
        table = SignalTable.model_validate({"kind": "gap_fade", "gap_pct": "1.5"})
        assert table.build("MSFT") == GapFade(
            params=_GapFadeParams(gap_pct=Decimal("1.5")), symbol="MSFT"
        )
        assert signal_kind("gap_fade").phases is GapFade.phases

    def test_a_plugin_whose_phases_are_not_a_table_is_refused(self, register_signal):
        """``phases`` must be a PhaseTable, so it can be drawn and checked like the others."""

        register_signal("odd", f"{__name__}:_OddPhases")
        with pytest.raises(TypeError, match="not a PhaseTable"):
            signal_kind("odd")


class _OddPhases:
    phases = ("waiting", "done")


class TestPhaseTables:
    @pytest.mark.parametrize("table", [EIGHTY_TWENTY_PHASES, ORB_PHASES], ids=lambda t: t.name)
    def test_every_phase_and_cue_is_declared(self, table):
        """Each built-in's table is total: a move or an explicit stay for every (phase, cue)."""
        assert set(table.moves) == {(p, c) for p in table.phases for c in table.cues}
        assert table.initial in table.phases

    @pytest.mark.parametrize("table", [EIGHTY_TWENTY_PHASES, ORB_PHASES], ids=lambda t: t.name)
    def test_every_phase_can_be_reached_from_the_first(self, table):
        """No phase is declared and then never entered."""
        reached, frontier = {table.initial}, [table.initial]
        while frontier:
            phase = frontier.pop()
            for cue in table.cues:
                nxt = table.next(phase, cue)
                if nxt not in reached:
                    reached.add(nxt)
                    frontier.append(nxt)
        assert reached == set(table.phases)

    def test_eighty_twenty_reads_as_its_rules(self):
        """waiting → armed → entered → rearming → armed; a declined entry ends the day."""
        t = EIGHTY_TWENTY_PHASES
        day = t.next(t.initial, EightyTwentyCue.SETUP)
        assert day is EightyTwentyPhase.WAITING
        armed = t.next(day, EightyTwentyCue.TRIGGERED)
        assert armed is EightyTwentyPhase.ARMED
        assert t.next(armed, EightyTwentyCue.ENTRY_DECLINED) is EightyTwentyPhase.DONE
        entered = t.next(armed, EightyTwentyCue.ENTRY_TAKEN)
        rearming = t.next(entered, EightyTwentyCue.ATTEMPT_OVER)
        assert (entered, rearming) == (EightyTwentyPhase.ENTERED, EightyTwentyPhase.REARMING)
        assert t.next(rearming, EightyTwentyCue.TRIGGERED) is EightyTwentyPhase.ARMED

    def test_the_tables_are_drawn_as_mermaid(self):
        """One edge per phase change, labelled with the cues that make it; a cue that leads to
        one phase from every phase is drawn from the start."""
        text = ORB_PHASES.mermaid()
        assert text.startswith("stateDiagram-v2\n    direction LR\n    [*] --> forming: session\n")
        assert "    forming --> ready: range_set\n" in text
        assert "    ready --> done: entry_declined,<br/>entries_closed\n" in text

    def test_a_table_with_a_gap_cannot_be_built(self):
        """Leaving a pair out is an error at import, naming the pair."""
        with pytest.raises(PhaseTableError, match=r"undeclared \(phase, cue\) pairs: \[\('DONE'"):
            PhaseTable.declare(
                "gap",
                _GapPhase,
                _GapCue,
                initial=_GapPhase.WAITING,
                rows=(("faded", (_GapPhase.WAITING,), _GapPhase.DONE),),
            )

    def test_a_pair_declared_twice_cannot_be_built(self):
        """Two rows for one pair is an error, naming it."""
        with pytest.raises(PhaseTableError, match=r"\(WAITING, faded\) is declared twice"):
            PhaseTable.declare(
                "twice",
                _GapPhase,
                _GapCue,
                initial=_GapPhase.WAITING,
                rows=(
                    ("faded", (_GapPhase.WAITING, _GapPhase.DONE), STAY),
                    ("faded", (_GapPhase.WAITING,), _GapPhase.DONE),
                ),
            )

    def test_an_unknown_cue_cannot_be_built(self):
        """A row naming a cue the table does not have is refused."""
        with pytest.raises(PhaseTableError, match="unknown cue 'fadded'"):
            PhaseTable.declare(
                "typo", _GapPhase, _GapCue, initial=_GapPhase.WAITING, rows=(("fadded", (), STAY),)
            )
