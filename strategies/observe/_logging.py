"""Logging is configured here, once, by the CLI: structlog, JSON for machines, console for people.

Every line carries ``tid`` (the thread id) and ``thread`` (its name), a UTC timestamp and the
level. A last-line-of-defence processor masks any field whose name says it holds a secret.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

__all__ = ["Renderer", "add_thread", "configure_logging", "mask_secrets"]

Renderer = Literal["json", "console"]

_SECRET_WORDS = ("secret", "password", "token", "api_key", "key_id", "authorization")


def add_thread(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Stamp the calling thread's id and name on the line."""
    thread = threading.current_thread()
    event_dict.setdefault("tid", threading.get_ident())
    event_dict.setdefault("thread", thread.name)
    return event_dict


def mask_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of any field named like a secret by ``***``."""
    for name in event_dict:
        if any(word in name.lower() for word in _SECRET_WORDS):
            event_dict[name] = "***"
    return event_dict


def configure_logging(
    *, renderer: Renderer = "console", stream: TextIO | None = None, level: str = "INFO"
) -> None:
    """Configure structlog for the whole process; the CLI calls this once at start-up."""
    threshold = logging.getLevelNamesMapping()[level.upper()]
    final: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_thread,
            mask_secrets,
            structlog.processors.format_exc_info,
            final,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.getLogger("transitions").setLevel(logging.WARNING)
