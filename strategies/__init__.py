"""tickstate's shell: strategies, the engine, the runners, the journal, logging and the CLI.

It wires ``machines`` (the pure lifecycle) to ``brokers`` (I/O); nothing below imports it. Its
rooms, each a subpackage: ``spec`` (strategy files), ``signals`` (what a strategy wants, and the
plugin API), ``engine`` (bars → events → commands), ``journal``, ``run`` (replay and live),
``observe`` (logs and metrics) and ``cli``.

The names below are loaded on first use, so ``import strategies`` (and ``tickstate --help``)
costs the standard library only.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from strategies._exceptions import CalendarError, SpecError, StrategyError

if TYPE_CHECKING:
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

#: Where each lazily loaded public name lives.
_LAZY = {
    "ENTRY_POINT_GROUP": "strategies.signals",
    "Session": "strategies._sessions",
    "StrategySpec": "strategies.spec",
    "TradingCalendar": "strategies._sessions",
    "configure_logging": "strategies.observe",
    "load_strategy": "strategies.spec",
    "log_outcome": "strategies.observe",
    "strategy_schema": "strategies.spec",
}


# The same as ``brokers._lazy``, written out: importing ``brokers`` would cost ``tickstate --help``
# the broker core, and this package's import is the standard library only.
def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strategies' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
