"""Logging is configured here, once, by the CLI: structlog, JSON for machines, console for people.

Every line carries ``tid`` (the thread id) and ``thread`` (its name), a UTC timestamp and the
level; a run's lines also carry its ``run_id`` and ``market_ts``, the market time of the bar or
clock moment the run is at (``MarketTime``: the run's clock, read when the line is written, in
the exchange's zone; null until the run has a clock). A last-line-of-defence processor masks
any field whose name says it holds a secret.

A line may go to several streams at once (``streams``): a run writes its log file and, off a
terminal, stdout too.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, MutableMapping, Sequence
from datetime import tzinfo
from typing import Any, Literal, TextIO

import structlog

from brokers import Clock

__all__ = [
    "MarketTime",
    "Renderer",
    "add_thread",
    "configure_logging",
    "mask_secrets",
]

Renderer = Literal["json", "console"]

_SECRET_WORDS = ("secret", "password", "token", "api_key", "key_id", "authorization", "webhook")


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


class MarketTime:
    """The market time of a run, for its log lines: the run's clock once ``follow`` was told it.

    Read from whatever thread logs; ``follow`` swaps one reference (atomic), so no lock. Every
    thread sees the engine's clock, so a stream thread's line says where the market was when it
    wrote it, not when its message was sent.
    """

    __slots__ = ("_clock", "_zone")

    def __init__(self) -> None:
        self._clock: Clock | None = None
        self._zone: tzinfo | None = None

    def follow(self, clock: Clock, zone: tzinfo | None = None) -> None:
        """From now on, stamp ``clock``'s time (in ``zone``, the exchange's, when given)."""
        self._zone = zone
        self._clock = clock

    def __call__(self) -> str | None:
        clock = self._clock
        if clock is None:
            return None
        now = clock.now()
        zone = self._zone
        return (now if zone is None else now.astimezone(zone)).isoformat()


class _RunStamp:
    """Processor: ``run_id`` and ``market_ts`` on every line (a caller's own value wins)."""

    __slots__ = ("_market_time", "_run_id")

    def __init__(self, run_id: str | None, market_time: Callable[[], str | None] | None) -> None:
        self._run_id = run_id
        self._market_time = market_time

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if self._run_id is not None:
            event_dict.setdefault("run_id", self._run_id)
        if self._market_time is not None and "market_ts" not in event_dict:
            try:
                event_dict["market_ts"] = self._market_time()
            except Exception:  # a log line is never lost to its stamp
                event_dict["market_ts"] = None
        return event_dict


class _Tee:
    """A file-like object writing each line to every stream (structlog's ``PrintLogger`` writes
    one message and flushes under its own lock, so lines never interleave)."""

    __slots__ = ("__weakref__", "_streams")  # structlog keys its write lock by a weakref

    def __init__(self, streams: Sequence[TextIO]) -> None:
        self._streams = tuple(streams)

    def write(self, text: str) -> int:
        for stream in self._streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self._streams:
            stream.flush()


def configure_logging(
    *,
    renderer: Renderer = "console",
    stream: TextIO | None = None,
    level: str = "INFO",
    streams: Sequence[TextIO] = (),
    run_id: str | None = None,
    market_time: Callable[[], str | None] | None = None,
) -> None:
    """Configure structlog for the whole process; the CLI calls this once at start-up.

    Lines go to ``stream`` (stderr by default), or to every one of ``streams`` when given; with
    ``run_id`` and ``market_time`` each line carries ``run_id`` and ``market_ts``.
    """
    threshold = logging.getLevelNamesMapping()[level.upper()]
    targets: list[TextIO] = list(streams) or [stream or sys.stderr]
    final: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=targets[0].isatty())
    )
    stamp: list[Any] = (
        [] if run_id is None and market_time is None else [_RunStamp(run_id, market_time)]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *stamp,
            add_thread,
            mask_secrets,
            structlog.processors.format_exc_info,
            final,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(
            file=targets[0] if len(targets) == 1 else _Tee(targets)  # type: ignore[arg-type]
        ),
        cache_logger_on_first_use=False,
    )
    logging.getLogger("transitions").setLevel(logging.WARNING)
