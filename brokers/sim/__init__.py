"""The simulated exchange room: Alpaca's twin on 127.0.0.1 — REST, both streams, fault knobs.

It shares the paper broker's matching core and speaks the Alpaca wire, so it imports the pure
wire modules ``brokers.alpaca._wire*`` (and ``AlpacaSettings``, which ``client_settings`` hands
to clients); the core and ``brokers.alpaca`` never import it.

Each name is imported on first use (PEP 562): ``late_prints``, which a replay needs, loads
no ``aiohttp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokers._lazy import lazy_names

if TYPE_CHECKING:  # the real names for type checkers; at run time ``__getattr__`` imports them
    from brokers.sim._exchange import SimExchange
    from brokers.sim._faults import SimFaults
    from brokers.sim._lockstep import LockStep, Moment, MomentBar
    from brokers.sim._timeline import late_prints

__all__ = [
    "LockStep",
    "Moment",
    "MomentBar",
    "SimExchange",
    "SimFaults",
    "late_prints",
]

#: Where each public name lives.
_LAZY = {
    "LockStep": "brokers.sim._lockstep",
    "Moment": "brokers.sim._lockstep",
    "MomentBar": "brokers.sim._lockstep",
    "SimExchange": "brokers.sim._exchange",
    "SimFaults": "brokers.sim._faults",
    "late_prints": "brokers.sim._timeline",
}


_load, __dir__ = lazy_names(__name__, _LAZY, __all__)
if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise take any name as valid
    __getattr__ = _load
