"""The engine: bars → signals → machine events → commands → broker → result events → machine.

One engine serves replay and live; only the clock and the broker differ. Each machine outcome
goes through one pipeline: the journal makes it durable, the observers see it, then its
commands run. Deadlines (entry cutoff, square-off) run on the clock (``on_clock``), capped
before an early close; a feed's finer bars become the strategy's in ``BarAggregator``. Broker
updates become machine events in ``order_events``; machine commands become broker requests in
``execute``; fills become round-trip trades in ``TradeRecorder``.
"""

from strategies.engine._aggregate import BarAggregator, aggregate_bars, interval_of
from strategies.engine._costs import CostModel
from strategies.engine._engine import Engine, Fired, JournalSink, Observer
from strategies.engine._execute import FailedCommand, OrderIds, execute, placed_id
from strategies.engine._incidents import Incidents
from strategies.engine._summary import RunFacts, SymbolSummary, summarise, summary_json, total_of
from strategies.engine._timers import Deadlines, SessionPlan, SessionTimes
from strategies.engine._trades import Trade, TradeRecorder, trades_csv
from strategies.engine._translate import order_event, order_events

__all__ = [
    "BarAggregator",
    "CostModel",
    "Deadlines",
    "Engine",
    "FailedCommand",
    "Fired",
    "Incidents",
    "JournalSink",
    "Observer",
    "OrderIds",
    "RunFacts",
    "SessionPlan",
    "SessionTimes",
    "SymbolSummary",
    "Trade",
    "TradeRecorder",
    "aggregate_bars",
    "execute",
    "interval_of",
    "order_event",
    "order_events",
    "placed_id",
    "summarise",
    "summary_json",
    "total_of",
    "trades_csv",
]
