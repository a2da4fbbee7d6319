"""The engine: bars → signals → machine events → commands → broker → result events → machine.

One engine serves replay and live; only the clock and the broker differ. Each machine outcome
goes through one pipeline: the journal makes it durable, the observers see it, then its
commands run. Broker updates become machine events in ``order_event``; machine commands become
broker requests in ``execute``; fills become round-trip trades in ``TradeRecorder``.
"""

from strategies.engine._engine import (
    Engine,
    FailedCommand,
    Fired,
    JournalSink,
    Observer,
    SessionPlan,
    SessionTimes,
    placed_id,
)
from strategies.engine._execute import OrderIds, execute
from strategies.engine._incidents import Incidents
from strategies.engine._trades import (
    SymbolSummary,
    Trade,
    TradeRecorder,
    summarise,
    summary_json,
    trades_csv,
)
from strategies.engine._translate import order_event

__all__ = [
    "Engine",
    "FailedCommand",
    "Fired",
    "Incidents",
    "JournalSink",
    "Observer",
    "OrderIds",
    "SessionPlan",
    "SessionTimes",
    "SymbolSummary",
    "Trade",
    "TradeRecorder",
    "execute",
    "order_event",
    "placed_id",
    "summarise",
    "summary_json",
    "trades_csv",
]
