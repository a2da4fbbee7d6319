"""Totality: every (state, trigger) pair of the lifecycle table behaves as it is declared.

For each pair, a fresh machine is driven to the state along each canonical path of
``scenarios.PATHS``; the trigger's factory proposes events, the machine's own classification
says which of them stand for the trigger, and each such event must produce exactly the declared
outcome. A pair no canonical path can produce must be declared ``unreachable``, and an
``unreachable`` pair must stay unproducible even by a brute-force sweep of order events.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from functools import cache

import pytest

import machines as m
from machines import OutcomeKind, State
from machines._lifecycle import (
    ANOMALY_TRIGGERS,
    DECLARATIONS,
    EVENT_TRIGGERS,
    RULES,
    STATES,
    TRIGGERS,
    UNREACHABLE,
    Anomaly,
    Declaration,
    Decline,
    Ignore,
    Moves,
)
from tests.machines.scenarios import FACTORIES, PATHS, Scenario, every_order_event

PAIRS = sorted(
    (pair for pair in DECLARATIONS if pair[1] in EVENT_TRIGGERS),
    key=lambda p: (STATES.index(p[0]), TRIGGERS.index(p[1])),
)
_KIND_OF = {
    Ignore: OutcomeKind.IGNORED,
    Decline: OutcomeKind.DECLINED,
    Anomaly: OutcomeKind.ANOMALY,
}


def _fire(build: Callable[[], Scenario], event: m.Event) -> tuple[m.Snapshot, m.Outcome]:
    scenario = build()
    before = scenario.snapshot
    try:
        outcome = scenario.fire(event)
    except Exception as exc:  # fire() must never raise
        pytest.fail(f"fire({event!r}) raised {exc!r} in {before.state}")
    return before, outcome


def _books(snapshot: m.Snapshot) -> m.Snapshot:
    """The snapshot without its running counters."""
    return dataclasses.replace(snapshot, transitions=0, races=0, anomalies=0)


@cache
def _produced(state: str, variant: str) -> frozenset[str]:
    """Every trigger some order event (or factory candidate) classifies to on that path."""
    build = PATHS[state][variant]
    base = build()
    candidates = every_order_event(base)
    for factory in FACTORIES.values():
        candidates += factory(base)
    return frozenset(_fire(build, event)[1].trigger for event in candidates)


def _check(declaration: Declaration, before: m.Snapshot, outcome: m.Outcome) -> None:
    state = before.state
    if isinstance(declaration, Moves):
        if outcome.kind is OutcomeKind.ACCEPTED:
            dests = {go.dest or state for go in declaration.goes}
            assert outcome.state_to in dests
            assert outcome.snapshot.state == outcome.state_to
            assert outcome.reason is None
            return
        assert declaration.otherwise is not None, "a move without guards must be taken"
        declaration = declaration.otherwise
    assert outcome.kind is _KIND_OF[type(declaration)]
    if declaration.reason is not None:
        assert outcome.reason == declaration.reason
    else:
        assert outcome.reason  # a decline without a reason names the failed guard
    if isinstance(declaration, Anomaly):
        assert outcome.state_to == State.HALTED == outcome.snapshot.state
        assert outcome.snapshot.halt_reason is not None
        assert outcome.snapshot.anomalies == before.anomalies + 1
        return
    assert outcome.commands == ()
    assert outcome.state_to == state
    assert _books(outcome.snapshot) == _books(before)
    if isinstance(declaration, Ignore):
        assert outcome.snapshot.races == before.races + 1


class TestTable:
    def test_every_pair_is_declared_exactly_once(self):
        """Each (state, trigger) appears once in the rules, and the table covers the grid."""
        seen = Counter((state, trigger) for trigger, states, _ in RULES for state in states)
        assert {pair for pair, n in seen.items() if n > 1} == set()
        assert set(seen) == {(s, t) for s in STATES for t in TRIGGERS}
        assert set(DECLARATIONS) == set(seen)

    def test_every_trigger_has_an_event_factory(self):
        """The totality walk can build an event for every trigger an event stands for."""
        assert set(FACTORIES) == set(EVENT_TRIGGERS)
        assert set(TRIGGERS) == set(EVENT_TRIGGERS) | set(ANOMALY_TRIGGERS)

    @pytest.mark.parametrize("trigger", ANOMALY_TRIGGERS)
    def test_the_anomaly_policy_is_rows_of_the_table(self, trigger):
        """The policy's triggers halt every trading state in one guard-free move and keep a
        halted symbol halted; only ``anomaly_flatten`` outside halted starts a wind-down, and
        ``anomaly`` (the policy that does not flatten) raises the operator alarm."""
        for state in STATES:
            declaration = DECLARATIONS[(state, trigger)]
            assert isinstance(declaration, Moves)
            (go,) = declaration.goes
            assert go.guards == ()
            assert (go.dest or state) == State.HALTED
            effects = [effect.__name__ for effect in go.effects]
            if trigger == "anomaly":
                assert effects == ["halt_symbol", "raise_alarm"]
            else:
                flattens = state is not State.HALTED
                assert effects == ["halt_symbol", "begin_wind_down"][: 2 if flattens else 1]

    def test_every_state_has_a_canonical_path(self):
        """Each canonical path ends in the state it is filed under."""
        assert set(PATHS) == set(STATES)
        for state, variants in PATHS.items():
            for name, build in variants.items():
                assert build().state == state, name


class TestTotality:
    @pytest.mark.parametrize(("state", "trigger"), PAIRS, ids=[f"{s}-{t}" for s, t in PAIRS])
    def test_pair_behaves_as_declared(self, state, trigger):
        """Every event classified to the trigger in the state yields the declared outcome."""
        declaration = DECLARATIONS[(state, trigger)]
        produced = 0
        for build in PATHS[state].values():
            for event in FACTORIES[trigger](build()):
                before, outcome = _fire(build, event)
                if outcome.trigger != trigger:
                    continue  # the classification says this candidate stands for another trigger
                produced += 1
                assert outcome.state_from == state
                _check(declaration, before, outcome)
        if declaration == UNREACHABLE:
            assert produced == 0
            for variant in PATHS[state]:
                assert trigger not in _produced(state, variant), variant
        else:
            assert produced, f"no canonical path produces {trigger} in {state}: unreachable?"
