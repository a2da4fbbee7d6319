"""Halts have a declared scope: over a year of opening-range breakouts, no symbol stays halted
past its session because of one anomaly.

The demo year has days when both legs of a symbol's one-cancels-other pair fill inside one bar
(an anomaly: the excess is flattened and the symbol halted). With ``halt_scope = "session"``
(the default) the symbol is flat and settled by the next session and trades again — 1,135
trades over the year; with ``"until_resumed"`` every such symbol waits for an operator for the
rest of the run — 350 trades, the behaviour pinned before halts had a scope.

Both legs fill only where the pair rests as two plain stops — the plan of a venue that takes
them; on Alpaca's (the examples' broker) one leg rests at a time and no bar fills both
(``Rules.one_resting_leg``). So the year here runs the two-stop plan.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from strategies._policy import HaltScope
from strategies.engine import Fired
from strategies.run import build_engine, load_bars, replay_bars
from strategies.spec import StrategySpec, load_strategy

ROOT = Path(__file__).resolve().parents[2]


class _TwoStops(StrategySpec):
    """The example with its pair as two plain stops: a venue without Alpaca's wash-trade rule."""

    def rules(self):
        return {s: dataclasses.replace(r, one_resting_leg=False) for s, r in super().rules().items()}


@pytest.fixture(scope="module")
def year():
    spec = _TwoStops.model_construct(**dict(load_strategy(ROOT / "examples" / "opening_range.toml")))
    wanted = set(spec.symbols)
    bars = [b for b in load_bars(ROOT / "data" / "intraday_5min") if b.symbol in wanted]
    return spec, bars


def _replay(spec, bars):
    halted: dict[str, date] = {}  # symbol -> the session its current halt began
    overstayed: list[tuple[str, date, date]] = []

    def watch(fired: Fired) -> None:
        snapshot = fired.outcome.snapshot
        symbol, day = snapshot.symbol, snapshot.trading_date
        if not snapshot.is_halted:
            halted.pop(symbol, None)
        elif symbol not in halted:
            halted[symbol] = day
        elif day > halted[symbol] and fired.outcome.trigger != "day_rollover":
            overstayed.append((symbol, halted[symbol], day))

    engine, paper, clock = build_engine(spec, bars, observers=(watch,))
    replay_bars(bars, engine=engine, paper=paper, clock=clock)
    return engine, overstayed


def test_no_symbol_stays_halted_past_its_session_over_a_year(year):
    """Every halt of the year ends at the next rollover (``halt_lifted``), and the symbols trade
    on: 1,135 trades, not the 350 of halts that never ended."""
    spec, bars = year
    engine, overstayed = _replay(spec, bars)
    assert overstayed == []
    halts = engine.desk.counters().anomalies
    assert halts > 0  # the year does hold both-legs anomalies
    assert engine.incidents.count("halt_lifted") >= halts - len(spec.symbols)
    assert len(engine.recorder.trades) == 1135


def test_until_resumed_keeps_the_old_behaviour(year):
    """``halt_scope = "until_resumed"``: a halted symbol sits out the rest of the year."""
    spec, bars = year
    spec = spec.model_copy(update={"halt_scope": HaltScope.UNTIL_RESUMED})
    engine, overstayed = _replay(spec, bars)
    assert overstayed
    assert len(engine.recorder.trades) == 350
