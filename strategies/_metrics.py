"""Prometheus metrics of a live run (DESIGN §6), served on 127.0.0.1 by ``tickstate run
--metrics-port``.

Every metric lives in the run's own ``CollectorRegistry`` (never the process-wide default), so
two runs in one process, or two tests, never share a count.

| metric                                | kind      | labels                    |
|---------------------------------------|-----------|---------------------------|
| ``tickstate_transitions_total``       | counter   | strategy, symbol          |
| ``tickstate_races_total``             | counter   | strategy, symbol, reason  |
| ``tickstate_anomalies_total``         | counter   | strategy, symbol, reason  |
| ``tickstate_stream_reconnects_total`` | counter   | strategy, stream          |
| ``tickstate_lock_hold_seconds``       | histogram | —                         |
| ``tickstate_event_to_command_seconds``| histogram | —                         |

Lock hold is measured without reaching into the machines: from just before the engine calls
``Desk.fire`` to the moment the machine calls its listener, which it does right after releasing
the symbol's lock (``SymbolMachine.fire``). That span holds the whole locked decision plus the
lock release, so it is an upper bound on the time the lock was held — tight, because the listener
chain starts with this module's own, before any logging. Without the listener (a desk built
without it) the bound falls back to the whole ``fire()`` call.

Event to command: from the moment the runner's inbox receives a trade update (on the stream's
thread) to the moment the engine hands each command that update led to to the broker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from time import perf_counter
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from brokers import StreamCounters
from machines import Command, Outcome, OutcomeKind

__all__ = ["MetricsServer", "RunMetrics"]

# Seconds: from single microseconds (a fire) to seconds (a command behind a slow socket).
_LATENCY_BUCKETS = (
    5e-6,
    1e-5,
    2.5e-5,
    5e-5,
    1e-4,
    2.5e-4,
    5e-4,
    1e-3,
    2.5e-3,
    5e-3,
    1e-2,
    2.5e-2,
    5e-2,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


class _HasCounters(Protocol):
    @property
    def counters(self) -> StreamCounters: ...


class _StreamReconnects(Collector):
    """Reads each stream's own reconnect count at scrape time (the stream keeps the count)."""

    def __init__(self, strategy: str) -> None:
        self._strategy = strategy
        self._streams: dict[str, _HasCounters] = {}

    def watch(self, name: str, stream: object) -> None:
        if isinstance(getattr(stream, "counters", None), StreamCounters):
            self._streams[name] = stream  # type: ignore[assignment]

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "tickstate_stream_reconnects",
            "Stream reconnections after the first connection.",
            labels=["strategy", "stream"],
        )
        for name, stream in sorted(self._streams.items()):
            family.add_metric([self._strategy, name], stream.counters.reconnects)
        yield family


class RunMetrics:
    """The counters and histograms of one run, in their own registry.

    Wiring (``run_live`` does it): ``listener(inner)`` wraps the desk's listener; the engine's
    ``probe`` is this object (``firing``/``fired``/``sending``); the runner calls
    ``update_applying``/``update_applied`` around each trade update and ``watch_stream`` for its
    two streams.
    """

    def __init__(self, strategy: str, registry: CollectorRegistry | None = None) -> None:
        self.strategy = strategy
        self.registry = registry if registry is not None else CollectorRegistry()
        self.transitions = Counter(
            "tickstate_transitions",
            "Accepted lifecycle transitions.",
            ["strategy", "symbol"],
            registry=self.registry,
        )
        self.races = Counter(
            "tickstate_races",
            "Stale or duplicate events ignored by a machine (race_detected).",
            ["strategy", "symbol", "reason"],
            registry=self.registry,
        )
        self.anomalies = Counter(
            "tickstate_anomalies",
            "Impossible events: the symbol was halted (anomaly_detected).",
            ["strategy", "symbol", "reason"],
            registry=self.registry,
        )
        self.lock_hold = Histogram(
            "tickstate_lock_hold_seconds",
            "Upper bound on a symbol lock's hold: engine calls fire() -> machine calls listener.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.event_to_command = Histogram(
            "tickstate_event_to_command_seconds",
            "Trade update received by the runner -> a resulting command handed to the broker.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._reconnects = _StreamReconnects(strategy)
        self.registry.register(self._reconnects)
        self._fire_started: tuple[int, float] | None = None
        self._received: float | None = None

    # --- the desk's listener ---------------------------------------------------------------

    def listener(self, inner: Callable[[Outcome], None] | None = None) -> Callable[[Outcome], None]:
        """A desk listener that counts (first: it also ends the lock-hold span), then calls
        ``inner`` (logging)."""

        def listen(outcome: Outcome) -> None:
            self._lock_released()
            self.observe(outcome)
            if inner is not None:
                inner(outcome)

        return listen

    def observe(self, outcome: Outcome) -> None:
        """Count one machine outcome."""
        snapshot = outcome.snapshot
        kind = outcome.kind
        if kind is OutcomeKind.ACCEPTED:
            self.transitions.labels(snapshot.strategy, snapshot.symbol).inc()
        elif kind is OutcomeKind.IGNORED:
            self.races.labels(snapshot.strategy, snapshot.symbol, outcome.reason or "").inc()
        elif kind is OutcomeKind.ANOMALY:
            self.anomalies.labels(snapshot.strategy, snapshot.symbol, outcome.reason or "").inc()

    # --- the engine's probe (engine thread) ------------------------------------------------

    def firing(self) -> None:
        """The engine is about to call ``Desk.fire``."""
        self._fire_started = (threading.get_ident(), perf_counter())

    def _lock_released(self) -> None:
        started = self._fire_started
        if started is not None and started[0] == threading.get_ident():
            self._fire_started = None
            self.lock_hold.observe(perf_counter() - started[1])

    def fired(self) -> None:
        """``Desk.fire`` returned (only counts if the listener did not end the span)."""
        self._lock_released()

    def sending(self, command: Command) -> None:
        """The engine is about to hand ``command`` to the broker."""
        received = self._received
        if received is not None:
            self.event_to_command.observe(perf_counter() - received)

    # --- the runner ------------------------------------------------------------------------

    def update_applying(self, received: float) -> None:
        """The engine thread starts applying a trade update received at ``received``
        (``time.perf_counter``)."""
        self._received = received

    def update_applied(self) -> None:
        """The trade update and everything it led to has been applied."""
        self._received = None

    def watch_stream(self, name: str, stream: object) -> None:
        """Report ``stream``'s reconnects (streams without ``counters`` are skipped)."""
        self._reconnects.watch(name, stream)

    def serve(self, port: int) -> MetricsServer:
        """Serve the registry on 127.0.0.1:``port`` (0: any free port) until ``stop()``."""
        return MetricsServer(self.registry, port)


class MetricsServer:
    """The HTTP endpoint of a registry on loopback; ``stop()`` ends it."""

    def __init__(self, registry: CollectorRegistry, port: int) -> None:
        self._server, self._thread = start_http_server(port, addr="127.0.0.1", registry=registry)
        self._thread.name = "metrics"
        self.port: int = self._server.server_port

    @property
    def url(self) -> str:
        """Where the metrics are scraped."""
        return f"http://127.0.0.1:{self.port}/metrics"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
