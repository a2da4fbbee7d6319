"""The command line's value types: each checks one flag's value and says what it wants in one line
(``argparse`` prints it as ``tickstate CMD: argument --FLAG: ...`` and exits 2).

argparse rather than click or typer: it is in the standard library, and ``tickstate --help``
must load nothing else (``tests/test_import_cost.py``); typed ranges are these few functions.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
from datetime import date
from decimal import Decimal, InvalidOperation

from strategies._policy import MAX_COMMAND_WORKERS, MAX_SPEED, MIN_SPEED

__all__ = [
    "count",
    "missing_report_library",
    "money",
    "port",
    "seconds",
    "session_date",
    "share",
    "speed",
    "workers",
]


def money(text: str) -> Decimal:
    """A positive amount of money, exact."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive amount such as 500.00, got {text!r}")
    return value


def port(text: str) -> int:
    """A TCP port (0: any free one)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535, got {text!r}")
    return value


def count(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def workers(text: str) -> int:
    """A number of command workers, 0 (the engine thread) to ``MAX_COMMAND_WORKERS``."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_COMMAND_WORKERS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number 0-{MAX_COMMAND_WORKERS} (0: the engine thread), got {text!r}"
        )
    return value


def share(text: str) -> float:
    """A share in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1, got {text!r}")
    return value


def speed(text: str) -> float:
    """A replay speed a run can keep up with (as a strategy file's ``[broker] speed``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not MIN_SPEED <= value <= MAX_SPEED:  # nan and inf fail too
        raise argparse.ArgumentTypeError(
            f"must be a speed from {MIN_SPEED:g} to {MAX_SPEED:,.0f} times real time, got {text!r}"
        )
    return value


def seconds(text: str) -> float:
    """A positive, finite number of seconds, at least a tenth of one (a tighter loop only
    floods the broker: ``--poll-interval 0`` made 4,722 reconciliations a minute)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0.1):
        raise argparse.ArgumentTypeError(f"must be at least 0.1 seconds, got {text!r}")
    return value


def session_date(text: str) -> date:
    """A calendar date, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date as YYYY-MM-DD, got {text!r}") from None


def missing_report_library() -> str | None:
    """Why ``--report`` cannot draw (plotly, whose wheel ships the page's plotly.js), or None."""
    if importlib.util.find_spec("plotly") is None:
        return "--report needs plotly: pip install 'tickstate[report]'"
    return None
