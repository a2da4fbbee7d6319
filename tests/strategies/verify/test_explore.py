"""The exploration: exhaustive to a depth, deduplicated, shortest counterexamples first."""

from __future__ import annotations

import pytest

from machines import Rules, State
from strategies.verify import Finding, VerifySetup, World, explore, replay
from strategies.verify import _explore as explore_module
from strategies.verify._checks import check_state

SETUP = VerifySetup()


class TestExhaustive:
    def test_the_machine_holds_every_property_to_depth_6_faithful(self):
        """No violation in any interleaving of six steps with a faithful venue."""
        result = explore(SETUP, "faithful", 6)
        assert result.ok, result.violations
        assert result.states > 1000

    def test_the_machine_holds_every_property_to_depth_5_hostile(self):
        """Nor with a venue that duplicates, reorders and loses events."""
        result = explore(SETUP, "hostile", 5)
        assert result.ok, result.violations

    def test_both_legs_resting_holds_to_depth_6_hostile(self):
        """The plan of a venue that takes a pair of opposite stops (``one_resting_leg`` off;
        Alpaca's plan, both rules on, is the default CI's gate explores to depth 10 and 8): no
        violation, the stop's wait is reached as a declared window, and a lost cancel of the
        remainder is no stop gone. Depth 7 has five times the states (~35 s of CPU); the
        regression it found is pinned under ``regressions/``."""
        result = explore(VerifySetup(rules=Rules(stop_waits_for_entry=True)), "hostile", 6)
        assert result.ok, result.violations
        notes = {detail for _, detail in result.notes}
        assert "in_position: the stop waits for the cancel of the entry's remainder" in notes
        assert "stop_gone in in_position" not in notes

    def test_declared_policies_are_notes_not_violations(self):
        """Renewals spent, a refused stop halts and flattens, a refused close raises the alarm:
        notes."""
        result = explore(VerifySetup(rules=Rules(max_renewals=0)), "faithful", 5)
        notes = {detail for _, detail in result.notes}
        assert "stop_rejected in in_position" in notes
        assert "halted at rest, not covered (alarm: exit_rejected)" in notes

    def test_a_strategy_files_rules_are_explored(self):
        """The example's rules (its window, its zone, its name in every order id)."""
        from strategies.spec import load_strategy

        setup = VerifySetup.of(load_strategy("examples/eighty_twenty.toml"))
        assert (setup.strategy, setup.symbol) == ("s8020", "AAPL")
        assert explore(setup, "faithful", 4).ok


class TestDedup:
    def test_dedup_visits_fewer_states_and_finds_the_same(self):
        """Without dedup every path is a state; with it each distinct state is seen once."""
        with_dedup = explore(SETUP, "faithful", 4)
        every_path = explore(SETUP, "faithful", 4, dedup=False)
        assert with_dedup.states < every_path.states
        assert every_path.states == every_path.transitions + 1
        assert set(with_dedup.notes) == set(every_path.notes)

    def test_an_exploration_is_deterministic(self):
        """The same depth gives the same counts."""
        one, other = explore(SETUP, "faithful", 4), explore(SETUP, "faithful", 4)
        assert (one.states, one.transitions) == (other.states, other.transitions)


class TestCounterexamples:
    def test_the_first_counterexample_is_a_shortest_one(self, monkeypatch):
        """A property broken by any exiting state: the two-step path (enter, exit) is found,
        though longer paths to an exiting state exist too."""

        def no_exiting(world: World) -> list[Finding]:
            if world.machine.state is State.EXITING:
                return [Finding("no_exiting", "an exit")]
            return check_state(world)

        monkeypatch.setattr(explore_module, "check_state", no_exiting)
        result = explore(SETUP, "faithful", 5)
        (example,) = result.violations
        assert [s.label for s in example.steps] == ["strategy entry_long", "strategy exit"]
        assert result.violating_steps > 1
        assert "1 violations" in result.summary()

    def test_a_counterexample_replays_to_its_violation(self, monkeypatch):
        """Replaying the steps shows each outcome and the broken property."""

        def no_exiting(world: World) -> list[Finding]:
            found = check_state(world)
            if world.machine.state is State.EXITING:
                found.append(Finding("no_exiting", "an exit"))
            return found

        monkeypatch.setattr(explore_module, "check_state", no_exiting)
        (example,) = explore(SETUP, "faithful", 3).violations
        from strategies.verify import _trace

        monkeypatch.setattr(_trace, "check_state", no_exiting)
        trace = replay(SETUP, "faithful", example.steps)
        assert [f.invariant for f in trace.violations] == ["no_exiting"]
        assert "exit_signal: accepted, entry_pending -> exiting" in trace.report()


@pytest.mark.parametrize("depth", [1, 2])
def test_tiny_depths_finish(depth):
    """A depth of one step explores the root's steps only."""
    result = explore(SETUP, "hostile", depth)
    assert result.ok
    assert result.depth == depth
