"""tickstate's shell: strategies, the engine, the runners, the journal, logging and the CLI.

It wires ``machines`` (the pure lifecycle) to ``brokers`` (I/O); nothing below imports it. Its
rooms, each a subpackage: ``spec`` (strategy files), ``signals`` (what a strategy wants, and the
plugin API), ``engine`` (bars → events → commands), ``journal``, ``run`` (replay and live),
``observe`` (logs and metrics) and ``cli``.
"""

from strategies._exceptions import CalendarError, SpecError, StrategyError
from strategies._sessions import Session, TradingCalendar
from strategies.observe import configure_logging, log_outcome
from strategies.signals import ENTRY_POINT_GROUP
from strategies.spec import StrategySpec, load_strategy, strategy_schema

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
