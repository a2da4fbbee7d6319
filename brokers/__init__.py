"""tickstate's brokers: protocol, typed values and errors, the matching core and paper broker.

Imports neither ``machines`` nor ``strategies``. The simulated exchange and the Alpaca adapter
build on the same types and matching core.
"""

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
    RateLimitedError,
    RequestRejectedError,
    TransportError,
    UnavailableError,
    UnchangedOrderError,
    VenueError,
)
from brokers._matching import FillRatio, MatchingEngine
from brokers._paper import PaperBroker
from brokers._protocol import (
    BarHandler,
    BarStream,
    Broker,
    ConnectHandler,
    TradeUpdateHandler,
    TradeUpdateStream,
)
from brokers._types import (
    TERMINAL_STATUSES,
    Account,
    Bar,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    ReplaceRequest,
    Side,
    TimeInForce,
    TradeUpdate,
)

__all__ = [
    "TERMINAL_STATUSES",
    "Account",
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
    "ManualClock",
    "MatchingEngine",
    "NotCancelableError",
    "NotFoundError",
    "NotReplaceableError",
    "Order",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PaperBroker",
    "Position",
    "RateLimitedError",
    "ReplaceRequest",
    "RequestRejectedError",
    "Side",
    "SystemClock",
    "TimeInForce",
    "TradeUpdate",
    "TradeUpdateHandler",
    "TradeUpdateStream",
    "TransportError",
    "UnavailableError",
    "UnchangedOrderError",
    "VenueError",
    "VirtualClock",
]
