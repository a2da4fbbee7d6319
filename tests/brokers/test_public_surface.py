"""The public surface of ``brokers`` is pinned: a change to it is a decision, not an accident."""

import brokers

EXPECTED = [
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


def test_all_is_exactly_the_pinned_surface():
    """brokers.__all__ lists exactly the pinned names."""
    assert sorted(brokers.__all__) == sorted(EXPECTED)


def test_every_public_name_resolves():
    """Each exported name exists on the package."""
    for name in brokers.__all__:
        assert hasattr(brokers, name), name


def test_brokers_never_imports_the_layers_above():
    """brokers/ imports neither machines nor strategies (DESIGN §1)."""
    import ast
    from pathlib import Path

    for path in Path(brokers.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"machines", "strategies"}, (path.name, name)
