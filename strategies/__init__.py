"""tickstate's shell: strategies, the engine, the runners, the journal, logging and the CLI.

It wires ``machines`` (the pure lifecycle) to ``brokers`` (I/O); nothing below imports it.
"""

from strategies._lifecycle_log import log_outcome
from strategies._logging import configure_logging

__all__ = ["configure_logging", "log_outcome"]
