"""The public surface of ``brokers`` is pinned: a change to it is a decision, not an accident.

So are its walls: which room may import which, and that the core loads no I/O library.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import brokers
import brokers.alpaca
import brokers.sim

#: What only the rooms may load: ``import brokers`` for a ``Bar`` must not pay for them.
IO_LIBRARIES = ("aiohttp", "msgpack", "requests", "tenacity", "urllib3", "websocket")

EXPECTED = [
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


def _sorted(names: list[str]) -> list[str]:
    """Sorted as ruff's RUF022 sorts ``__all__``: CONSTANTS, then Classes, then functions."""
    return sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))


def test_all_is_exactly_the_pinned_surface():
    """brokers.__all__ lists exactly the pinned names, sorted."""
    assert brokers.__all__ == EXPECTED == _sorted(EXPECTED)


def test_every_public_name_resolves():
    """Each exported name exists on the package (the rooms' names are loaded on the way)."""
    for name in brokers.__all__:
        assert hasattr(brokers, name), name


def test_an_unknown_name_is_an_attribute_error():
    """The lazy loader knows only the rooms' public names."""
    with pytest.raises(AttributeError, match="has no attribute 'Side'"):
        brokers.Side  # noqa: B018  (renamed OrderSide: gone, not aliased)


def test_dir_lists_every_public_name_before_and_after_loading():
    """dir(brokers) shows the whole surface whether the rooms are loaded or not, and asking for
    it loads nothing."""
    assert set(brokers.__all__) <= set(dir(brokers))
    code = "import brokers\nassert set(brokers.__all__) <= set(dir(brokers))"
    assert _loaded_after(code) == {"io": [], "rooms": []}


@pytest.mark.parametrize("room", [brokers.alpaca, brokers.sim], ids=["alpaca", "sim"])
def test_each_room_exports_a_sorted_surface_the_package_re_exports(room):
    """A room's __all__ is sorted, part of brokers.__all__, and the very same objects."""
    assert room.__all__ == _sorted(room.__all__)
    assert set(room.__all__) <= set(brokers.__all__)
    for name in room.__all__:
        assert getattr(brokers, name) is getattr(room, name), name


def _loaded_after(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; which I/O libraries and rooms it loaded."""
    probe = (
        f"import sys\n{code}\nimport json\n"
        f"print(json.dumps({{'io': sorted(m for m in {IO_LIBRARIES!r} if m in sys.modules),"
        f" 'rooms': sorted(m for m in ('brokers.alpaca', 'brokers.sim') if m in sys.modules)}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "code", ["import brokers", "from brokers import Bar, PaperBroker, ManualClock"]
)
def test_the_core_loads_no_http_or_websocket_library(code: str) -> None:
    """``import brokers`` and the core names load neither room nor any I/O library."""
    assert _loaded_after(code) == {"io": [], "rooms": []}


def test_a_room_name_loads_its_room_on_first_use() -> None:
    """``from brokers import AlpacaBroker`` loads the Alpaca room (and its libraries) only."""
    loaded = _loaded_after("from brokers import AlpacaBroker, AlpacaTradeStream")
    assert loaded["rooms"] == ["brokers.alpaca"]
    assert {"requests", "tenacity", "websocket"} <= set(loaded["io"])
    assert "aiohttp" not in loaded["io"]


@pytest.mark.parametrize(
    ("code", "room"),
    [("from brokers import late_prints", "brokers.sim"), ("from brokers import AlpacaSettings", "brokers.alpaca")],
)
def test_a_pure_name_of_a_room_loads_no_io_library(code: str, room: str) -> None:
    """A room loads each name's own module on first use: the twin's late prints (a replay's)
    and the adapter's settings cost no HTTP, WebSocket or server library."""
    assert _loaded_after(code) == {"io": [], "rooms": [room]}


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
    """brokers/ (subpackages included) imports neither machines nor strategies (docs/design.md §1)."""
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
        "brokers.alpaca._wire_market",
        "brokers.alpaca._wire_streams",
        "brokers.alpaca._settings",
    }
    for path in (PACKAGE / "sim").glob("*.py"):
        taken = {name for name in _imports(path) if _room(name) == "alpaca"}
        assert taken <= allowed, (path.name, taken - allowed)


def test_only_the_sim_reads_the_exchange_calendar():
    """exchange_calendars belongs to the simulated exchange's calendar module alone: no core or
    Alpaca module imports it, and importing the exchange does not load it (first use does)."""
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "exchange_calendars" in {name.split(".")[0] for name in _imports(path)}
    )
    assert readers == ["sim/_calendar.py"]
    probe = "import sys\nimport brokers.sim\nprint('exchange_calendars' in sys.modules, 'pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["False", "False"]
