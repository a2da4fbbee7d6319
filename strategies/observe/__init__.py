"""Observability: structlog configured once, outcomes as log lines with stable names, metrics.

Event names are stable: ``transition``, ``race_detected``, ``anomaly_detected``,
``signal_declined``, ``command_failed``, ``reconciled``, ``stream_reconnected``, ...

The metrics (Prometheus) load on first use: a replay logs, it serves no metrics.
"""

from typing import TYPE_CHECKING

from brokers._lazy import lazy_names
from strategies.observe._logging import MarketTime, configure_logging
from strategies.observe._outcome_log import log_fired, log_outcome

if TYPE_CHECKING:
    from strategies.observe._metrics import MetricsServer, RunMetrics

__all__ = [
    "MarketTime",
    "MetricsServer",
    "RunMetrics",
    "configure_logging",
    "log_fired",
    "log_outcome",
]

_METRICS = "strategies.observe._metrics"
_load, __dir__ = lazy_names(__name__, {"MetricsServer": _METRICS, "RunMetrics": _METRICS}, __all__)
if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise take any name as valid
    __getattr__ = _load
