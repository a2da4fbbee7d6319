"""tickstate's brokers: protocol, typed values and errors, the matching core and paper broker.

Imports neither ``machines`` nor ``strategies``. The simulated exchange (``SimExchange``) and
the Alpaca adapter build on the same types and matching core.
"""

from brokers._alpaca import AlpacaBroker, RestCounters, absence_is_evidence
from brokers._alpaca_settings import AlpacaSettings, ReconnectPolicy, RetryPolicy
from brokers._alpaca_streams import (
    AlpacaBarStream,
    AlpacaTradeStream,
    StreamCounters,
    WebSocketFactory,
)
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
from brokers._sim import SimExchange
from brokers._sim_faults import SimFaults
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
    "AlpacaBarStream",
    "AlpacaBroker",
    "AlpacaSettings",
    "AlpacaTradeStream",
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
    "ReconnectPolicy",
    "ReplaceRequest",
    "RequestRejectedError",
    "RestCounters",
    "RetryPolicy",
    "Side",
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
    "VenueError",
    "VirtualClock",
    "WebSocketFactory",
    "absence_is_evidence",
]
