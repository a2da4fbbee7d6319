"""The public surface of ``brokers`` is pinned: a change to it is a decision, not an accident."""

import ast
from pathlib import Path

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
    "OrderSide",
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


PACKAGE = Path(brokers.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module a file imports, by absolute name (the package uses no relative imports)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, (path, node.module)
            names.add(node.module)
    return names


def _room(name: str) -> str | None:
    """``alpaca`` or ``sim`` for a module of that subpackage, None for anything else."""
    parts = name.split(".")
    return (
        parts[1]
        if parts[0] == "brokers" and len(parts) > 1 and not parts[1].startswith("_")
        else None
    )


def test_brokers_never_imports_the_layers_above():
    """brokers/ (subpackages included) imports neither machines nor strategies (DESIGN §1)."""
    for path in PACKAGE.rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] not in {"machines", "strategies"}, (path.name, name)


def test_the_core_imports_neither_room():
    """The core modules (brokers/_*.py) import neither brokers.alpaca nor brokers.sim."""
    for path in PACKAGE.glob("_*.py"):
        if path.name == "__init__.py":
            continue  # the public surface, which re-exports the rooms
        assert {_room(name) for name in _imports(path)} <= {None}, path.name


def test_alpaca_never_imports_the_sim():
    """brokers.alpaca builds on the core only; the simulated exchange is its client, not its part."""
    for path in (PACKAGE / "alpaca").glob("*.py"):
        assert {_room(name) for name in _imports(path)} <= {None, "alpaca"}, path.name


def test_the_sim_takes_only_the_wire_and_the_settings_from_alpaca():
    """brokers.sim speaks the Alpaca wire (pure modules) and hands out AlpacaSettings, no more."""
    allowed = {
        "brokers.alpaca._wire",
        "brokers.alpaca._wire_errors",
        "brokers.alpaca._wire_streams",
        "brokers.alpaca._settings",
    }
    for path in (PACKAGE / "sim").glob("*.py"):
        taken = {name for name in _imports(path) if _room(name) == "alpaca"}
        assert taken <= allowed, (path.name, taken - allowed)
