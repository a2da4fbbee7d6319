"""Signals: what a strategy wants, bar by bar — and the public API for writing one.

A plugin needs nothing beyond this module (and the events and snapshot it trades in, from
``machines``): the ``Signal`` protocol, the ``SessionContext`` it starts each day with, the
``PhaseTable`` its phases are declared in, the ``AttemptWatch`` bookkeeping the built-ins share,
and the field types strategy files use (exact decimals, clock times, counts); a
``PhaseTable``'s ``diagram()`` draws it the way ``tickstate diagram`` does. Register it in the
entry-point group ``tickstate.signals`` (see ``signal_kind``): the built-ins are registered there
the same way.
"""

from strategies._fields import FROZEN, ClockTime, Count, Money, Ratio
from strategies.signals._attempts import AttemptWatch, entries_closed
from strategies.signals._phase_diagrams import signal_diagrams
from strategies.signals._phases import STAY, PhaseTable, PhaseTableError
from strategies.signals._protocol import DailyBar, SessionContext, Signal, StrategyTimes
from strategies.signals._registry import (
    ENTRY_POINT_GROUP,
    SignalKind,
    signal_kind,
    signal_names,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "FROZEN",
    "STAY",
    "AttemptWatch",
    "ClockTime",
    "Count",
    "DailyBar",
    "Money",
    "PhaseTable",
    "PhaseTableError",
    "Ratio",
    "SessionContext",
    "Signal",
    "SignalKind",
    "StrategyTimes",
    "entries_closed",
    "signal_diagrams",
    "signal_kind",
    "signal_names",
]
