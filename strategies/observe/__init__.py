"""Observability: structlog configured once, outcomes as log lines with stable names, metrics.

Event names are stable: ``transition``, ``race_detected``, ``anomaly_detected``,
``signal_declined``, ``command_failed``, ``reconciled``, ``stream_reconnected``, ...
"""

from strategies.observe._logging import MarketTime, configure_logging
from strategies.observe._metrics import MetricsServer, RunMetrics
from strategies.observe._outcome_log import log_fired, log_outcome

__all__ = [
    "MarketTime",
    "MetricsServer",
    "RunMetrics",
    "configure_logging",
    "log_fired",
    "log_outcome",
]
