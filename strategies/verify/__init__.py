"""``tickstate verify``: a bounded, exhaustive model check of the real machine against a venue."""

from strategies.verify._checks import Finding, check_state, check_transition
from strategies.verify._explore import Counterexample, Progress, Result, explore
from strategies.verify._world import FOREIGN_ID, BrokerMode, Setup, Step, World, next_steps

__all__ = [
    "FOREIGN_ID",
    "BrokerMode",
    "Counterexample",
    "Finding",
    "Progress",
    "Result",
    "Setup",
    "Step",
    "World",
    "check_state",
    "check_transition",
    "explore",
    "next_steps",
]
