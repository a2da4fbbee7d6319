"""tickstate's lifecycle core: one pure, thread-safe finite state machine per symbol.

No I/O, no threads, no clock: events go in through ``SymbolMachine.fire``, commands come out in
the returned ``Outcome`` for the runner to execute after the lock is released.
"""

from machines._commands import (
    CancelOrder,
    ClosePosition,
    Command,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
)
from machines._desk import Desk
from machines._diagrams import lifecycle_diagrams, overview_diagram
from machines._drawing import Diagram, DiagramEdge, DiagramGroup, DiagramNode, wrap_label
from machines._events import (
    BrokerSnapshotTaken,
    DayRolledOver,
    EntryLeg,
    EntrySignalled,
    EntryTimedOut,
    Event,
    ExitSignalled,
    HaltRequested,
    InitialStopRevised,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    ResumeRequested,
    SquareOffReached,
    StrategyEvent,
    TrailProposed,
)
from machines._exceptions import InvalidEventError, InvalidRulesError, LifecycleError
from machines._machine import Outcome, OutcomeKind, SymbolMachine
from machines._order_ids import MAX_CLIENT_ORDER_ID, ClientOrderId, client_order_id
from machines._orders import OrderRole, OrderTrack, Side, TrackStatus
from machines._pricing import (
    NSE_TICKS,
    US_EQUITY_TICK,
    FixedTick,
    PriceBands,
    TickRule,
    ceil_to_tick,
    floor_to_tick,
    is_on_tick,
    round_entry,
    round_stop,
)
from machines._rules import Rules
from machines._snapshot import Counters, Snapshot
from machines._state import State

__all__ = [
    "MAX_CLIENT_ORDER_ID",
    "NSE_TICKS",
    "US_EQUITY_TICK",
    "BrokerSnapshotTaken",
    "CancelOrder",
    "ClientOrderId",
    "ClosePosition",
    "Command",
    "Counters",
    "DayRolledOver",
    "Desk",
    "Diagram",
    "DiagramEdge",
    "DiagramGroup",
    "DiagramNode",
    "EntryLeg",
    "EntrySignalled",
    "EntryTimedOut",
    "Event",
    "ExitSignalled",
    "FixedTick",
    "HaltRequested",
    "InitialStopRevised",
    "InvalidEventError",
    "InvalidRulesError",
    "LifecycleError",
    "OrderAccepted",
    "OrderCancelled",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderReplaced",
    "OrderRole",
    "OrderTrack",
    "Outcome",
    "OutcomeKind",
    "PlaceEntry",
    "PlaceStop",
    "PriceBands",
    "ReplaceStop",
    "ResumeRequested",
    "Rules",
    "Side",
    "Snapshot",
    "SquareOffReached",
    "State",
    "StrategyEvent",
    "SymbolMachine",
    "TickRule",
    "TrackStatus",
    "TrailProposed",
    "ceil_to_tick",
    "client_order_id",
    "floor_to_tick",
    "is_on_tick",
    "lifecycle_diagrams",
    "overview_diagram",
    "round_entry",
    "round_stop",
    "wrap_label",
]
