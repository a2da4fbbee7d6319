"""Strategy files: TOML validated into a frozen ``StrategySpec``; every mistake is one line."""

from strategies.spec._broker import AlpacaBrokerSpec, BrokerSpec, SimBrokerSpec
from strategies.spec._costs import CostsSpec
from strategies.spec._notify import NotifySpec, receiver_of
from strategies.spec._signal import SignalTable
from strategies.spec._strategy import (
    EntryWindow,
    Instrument,
    SessionSpec,
    Sizing,
    StrategySpec,
    load_strategy,
    strategy_schema,
    validate_strategy,
)

__all__ = [
    "AlpacaBrokerSpec",
    "BrokerSpec",
    "CostsSpec",
    "EntryWindow",
    "Instrument",
    "NotifySpec",
    "SessionSpec",
    "SignalTable",
    "SimBrokerSpec",
    "Sizing",
    "StrategySpec",
    "load_strategy",
    "receiver_of",
    "strategy_schema",
    "validate_strategy",
]
