"""tickstate's shell: strategies, the engine, the runners, the journal, logging and the CLI.

It wires ``machines`` (the pure lifecycle) to ``brokers`` (I/O); nothing below imports it.
"""

from strategies._exceptions import CalendarError, SpecError, StrategyError
from strategies._lifecycle_log import log_outcome
from strategies._logging import configure_logging
from strategies._plugins import ENTRY_POINT_GROUP
from strategies._sessions import Session, TradingCalendar
from strategies._spec import StrategySpec, load_strategy, strategy_schema

__all__ = [
    "ENTRY_POINT_GROUP",
    "CalendarError",
    "Session",
    "SpecError",
    "StrategyError",
    "StrategySpec",
    "TradingCalendar",
    "configure_logging",
    "load_strategy",
    "log_outcome",
    "strategy_schema",
]
