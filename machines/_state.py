"""The states of a symbol's lifecycle: one typed name each, owned here and nowhere else.

A ``State`` is a ``StrEnum`` whose values are the names journals have always recorded, so a
state compares equal to its name and an older journal reads back unchanged::

    >>> State.IN_POSITION == "in_position"
    True

Code above ``machines`` never spells a state: it uses ``State`` or, better, asks a snapshot
(``snapshot.is_flat``, ``snapshot.manages_position``, ...).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["HOLDING", "TRADING", "State"]


class State(StrEnum):
    """Where one (strategy, symbol) stands in its lifecycle."""

    FLAT = "flat"  # no position, no working entry
    ENTRY_PENDING = "entry_pending"  # an entry (one leg or a one-cancels-other pair) is decided
    ENTRY_CANCELLING = "entry_cancelling"  # the entry timed out; its cancel is in flight
    IN_POSITION = "in_position"  # a position is open; its protective stop works or is placed
    STOP_REPLACING = "stop_replacing"  # a replace of the stop (trail or resize) is in flight
    EXITING = "exiting"  # cancel every working order, then close what remains
    HALTED = "halted"  # an anomaly or a kill switch stopped the symbol: only cancels, flattening


#: Every state but halted: where an anomaly's policy can still take a symbol.
TRADING = tuple(s for s in State if s is not State.HALTED)
#: Every state but flat: where some order of the symbol may still be working.
HOLDING = tuple(s for s in State if s is not State.FLAT)
