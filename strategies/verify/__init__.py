"""``tickstate verify``: a bounded, exhaustive model check of the real machine against a venue.

From a fresh ``SymbolMachine`` (a strategy's rules, or defaults) every sequence of up to
``depth`` steps is taken breadth-first — strategy events, the venue executing, filling,
cancelling or expiring orders, the stream delivering (late, per order), reconciliations; a
``hostile`` venue also duplicates, re-delivers, reorders and loses — and after every step the
machine's invariants (docs/design.md §2) and the venue's (no reversal, one entry and one stop live,
covered once at rest, wind-downs that finish, alarms where the machine gives up) are checked.
Visited states are deduplicated by the machine's fingerprint and the venue's side, so the first
counterexample of a property is a shortest one.
"""

from strategies.verify._checks import Finding, check_state, check_transition
from strategies.verify._explore import Counterexample, Progress, Result, explore
from strategies.verify._report import emit_tests, report_lines
from strategies.verify._steps import apply_step, next_steps
from strategies.verify._trace import Trace, TracedStep, describe_outcome, replay
from strategies.verify._world import (
    FOREIGN_ID,
    BrokerMode,
    Step,
    VenueOrder,
    VenueStatus,
    VerifySetup,
    World,
)

__all__ = [
    "FOREIGN_ID",
    "BrokerMode",
    "Counterexample",
    "Finding",
    "Progress",
    "Result",
    "Step",
    "Trace",
    "TracedStep",
    "VenueOrder",
    "VenueStatus",
    "VerifySetup",
    "World",
    "apply_step",
    "check_state",
    "check_transition",
    "describe_outcome",
    "emit_tests",
    "explore",
    "next_steps",
    "replay",
    "report_lines",
]
