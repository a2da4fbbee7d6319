"""tickstate's brokers: protocol, typed values and errors, the matching core and paper broker.

Imports neither ``machines`` nor ``strategies``. The core (the modules here) loads only the
standard library; its two rooms load their I/O libraries and are imported on first use of one of
their names (PEP 562), so ``from brokers import Bar, PaperBroker`` costs no HTTP or WebSocket
import, while ``from brokers import AlpacaBroker, SimExchange`` works as ever:

- ``brokers.alpaca`` — Alpaca's wire format and the adapter (``requests``, ``websocket-client``);
- ``brokers.sim`` — the simulated exchange (``aiohttp``, ``msgpack``), which speaks that wire.

Both build on the same types and matching core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers._clock import Clock, ManualClock, SystemClock, VirtualClock
from brokers._exceptions import (
    AuthenticationError,
    BrokerError,
    BrokerTimeoutError,
    DuplicateClientOrderIdError,
    InsufficientFundsError,
    InvalidOrderError,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    PatternDayTraderError,
    RateLimitedError,
    RequestRejectedError,
    TransportError,
    UnavailableError,
    UnchangedOrderError,
    VenueError,
    WashTradeError,
)
from brokers._lazy import lazy_names
from brokers._matching import FillRatio, MatchingEngine
from brokers._paper import PaperBroker
from brokers._protocol import (
    BarHandler,
    BarStream,
    Broker,
    ConnectHandler,
    TradeUpdateHandler,
    TradeUpdateStream,
    absence_is_evidence,
)
from brokers._types import (
    TERMINAL_STATUSES,
    Account,
    Asset,
    Bar,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    ReplaceRequest,
    TimeInForce,
    TradeUpdate,
    UpdateKind,
)
from brokers._venue import ALPACA_PAPER, PLAIN, PartialFills, VenueRules, collar_limit

if TYPE_CHECKING:  # the real types for type checkers; at run time ``_load`` imports them
    from brokers.alpaca import (
        AlpacaBarStream,
        AlpacaBroker,
        AlpacaMarketData,
        AlpacaSettings,
        AlpacaTradeStream,
        ReconnectPolicy,
        RestCounters,
        RetryPolicy,
        StreamCounters,
        WebSocketFactory,
    )
    from brokers.sim import LockStep, Moment, MomentBar, SimExchange, SimFaults, late_prints

#: The public names that live in a room, and the room: imported when first asked for.
_ROOMS = {
    "AlpacaBarStream": "brokers.alpaca",
    "AlpacaBroker": "brokers.alpaca",
    "AlpacaMarketData": "brokers.alpaca",
    "AlpacaSettings": "brokers.alpaca",
    "AlpacaTradeStream": "brokers.alpaca",
    "ReconnectPolicy": "brokers.alpaca",
    "RestCounters": "brokers.alpaca",
    "RetryPolicy": "brokers.alpaca",
    "StreamCounters": "brokers.alpaca",
    "WebSocketFactory": "brokers.alpaca",
    "LockStep": "brokers.sim",
    "Moment": "brokers.sim",
    "MomentBar": "brokers.sim",
    "SimExchange": "brokers.sim",
    "SimFaults": "brokers.sim",
    "late_prints": "brokers.sim",
}

__all__ = [
    "ALPACA_PAPER",
    "PLAIN",
    "TERMINAL_STATUSES",
    "Account",
    "AlpacaBarStream",
    "AlpacaBroker",
    "AlpacaMarketData",
    "AlpacaSettings",
    "AlpacaTradeStream",
    "Asset",
    "AuthenticationError",
    "Bar",
    "BarHandler",
    "BarStream",
    "Broker",
    "BrokerError",
    "BrokerTimeoutError",
    "Clock",
    "ConnectHandler",
    "DuplicateClientOrderIdError",
    "FillRatio",
    "InsufficientFundsError",
    "InvalidOrderError",
    "LockStep",
    "ManualClock",
    "MatchingEngine",
    "Moment",
    "MomentBar",
    "NotCancelableError",
    "NotFoundError",
    "NotReplaceableError",
    "Order",
    "OrderRequest",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PaperBroker",
    "PartialFills",
    "PatternDayTraderError",
    "Position",
    "RateLimitedError",
    "ReconnectPolicy",
    "ReplaceRequest",
    "RequestRejectedError",
    "RestCounters",
    "RetryPolicy",
    "SimExchange",
    "SimFaults",
    "StreamCounters",
    "SystemClock",
    "TimeInForce",
    "TradeUpdate",
    "TradeUpdateHandler",
    "TradeUpdateStream",
    "TransportError",
    "UnavailableError",
    "UnchangedOrderError",
    "UpdateKind",
    "VenueError",
    "VenueRules",
    "VirtualClock",
    "WashTradeError",
    "WebSocketFactory",
    "absence_is_evidence",
    "collar_limit",
    "late_prints",
]


_load, __dir__ = lazy_names(__name__, _ROOMS, __all__)
if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise take any name as valid
    __getattr__ = _load
