"""The simulated exchange room: Alpaca's twin on 127.0.0.1 — REST, both streams, fault knobs.

It shares the paper broker's matching core and speaks the Alpaca wire, so it imports the pure
wire modules ``brokers.alpaca._wire*`` (and ``AlpacaSettings``, which ``client_settings`` hands
to clients); the core and ``brokers.alpaca`` never import it.
"""

from brokers.sim._exchange import SimExchange
from brokers.sim._faults import SimFaults
from brokers.sim._lockstep import LockStep, Moment, MomentBar
from brokers.sim._timeline import late_prints

__all__ = ["LockStep", "Moment", "MomentBar", "SimExchange", "SimFaults", "late_prints"]
