"""The Alpaca room: the wire format (pure, no I/O) and the adapter on ``requests`` and
``websocket-client`` (I/O behind the HTTP session and WebSocket factory it is handed): the
broker, both streams, and the historical market data.

Builds on the core (``brokers._types``, ``_protocol``, ``_exceptions``, ``_clock``) and never
imports ``brokers.sim``; the simulated exchange imports this room's wire modules, not the other
way round.
"""

from brokers.alpaca._market import AlpacaMarketData
from brokers.alpaca._rest import AlpacaBroker, RestCounters
from brokers.alpaca._settings import AlpacaSettings, ReconnectPolicy, RetryPolicy
from brokers.alpaca._streams import (
    AlpacaBarStream,
    AlpacaTradeStream,
    StreamCounters,
    WebSocketFactory,
)

__all__ = [
    "AlpacaBarStream",
    "AlpacaBroker",
    "AlpacaMarketData",
    "AlpacaSettings",
    "AlpacaTradeStream",
    "ReconnectPolicy",
    "RestCounters",
    "RetryPolicy",
    "StreamCounters",
    "WebSocketFactory",
]
