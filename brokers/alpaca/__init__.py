"""The Alpaca room: the wire format (pure, no I/O) and the adapter on ``requests`` and
``websocket-client`` (I/O behind the HTTP session and WebSocket factory it is handed): the
broker, both streams, and the historical market data.

Builds on the core (``brokers._types``, ``_protocol``, ``_exceptions``, ``_clock``) and never
imports ``brokers.sim``; the simulated exchange imports this room's wire modules, not the other
way round.

Each name is imported on first use (PEP 562): ``AlpacaSettings``, which the simulated
exchange hands to clients, loads no ``requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers._lazy import lazy_names

if TYPE_CHECKING:  # the real names for type checkers; at run time ``__getattr__`` imports them
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

#: Where each public name lives.
_LAZY = {
    "AlpacaBarStream": "brokers.alpaca._streams",
    "AlpacaBroker": "brokers.alpaca._rest",
    "AlpacaMarketData": "brokers.alpaca._market",
    "AlpacaSettings": "brokers.alpaca._settings",
    "AlpacaTradeStream": "brokers.alpaca._streams",
    "ReconnectPolicy": "brokers.alpaca._settings",
    "RestCounters": "brokers.alpaca._rest",
    "RetryPolicy": "brokers.alpaca._settings",
    "StreamCounters": "brokers.alpaca._streams",
    "WebSocketFactory": "brokers.alpaca._streams",
}


_load, __dir__ = lazy_names(__name__, _LAZY, __all__)
if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise take any name as valid
    __getattr__ = _load
