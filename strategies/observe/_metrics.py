"""Prometheus metrics of a live run (docs/design.md §6), served on 127.0.0.1 by ``tickstate run
--metrics-port``.

Every metric lives in the run's own ``CollectorRegistry`` (never the process-wide default), so
two runs in one process, or two tests, never share a count.

| metric                                | kind      | labels                    |
|---------------------------------------|-----------|---------------------------|
| ``tickstate_transitions_total``       | counter   | strategy, symbol          |
| ``tickstate_races_total``             | counter   | strategy, symbol, reason  |
| ``tickstate_anomalies_total``         | counter   | strategy, symbol, reason  |
| ``tickstate_stream_reconnects_total`` | counter   | strategy, stream          |
| ``tickstate_incidents_total``         | counter   | strategy, symbol, event   |
| ``tickstate_lock_hold_seconds``       | histogram | —                         |
| ``tickstate_event_to_command_seconds``| histogram | —                         |
| ``tickstate_position``                | gauge     | strategy, symbol          |
| ``tickstate_open_pnl``                | gauge     | strategy, symbol          |
| ``tickstate_realised_pnl``            | gauge     | strategy, symbol          |
| ``tickstate_working_orders``          | gauge     | strategy, symbol          |
| ``tickstate_last_price``              | gauge     | strategy, symbol          |
| ``tickstate_state``                   | state set | strategy, symbol, state   |

The gauges are set on the engine thread: from each outcome's snapshot (position, working
orders, state), the trade recorder (realised PnL: closed trades; open PnL: the open trade's
average entry against the last price) and each minute bar the runner receives (last price, open
PnL). They are exact ``Decimal`` until here; Prometheus samples are floats, so the conversion
happens at this boundary and nowhere else. ``tickstate_state`` has one sample per state, 1 for
the symbol's current one (``tickstate_state{symbol="AAPL",tickstate_state="in_position"} 1``).

Lock hold is measured without reaching into the machines (they read no clock): the engine
times each ``Desk.fire`` call (``Fired.seconds``), which spans the whole decision, made before
the lock, and the publish under it, so it is an upper bound on the time the symbol's lock was
held (the hold itself is the publish: a few microseconds, ``benchmarks/latency.py``).

Event to command: from the moment the runner's inbox receives a trade update (on the stream's
thread) to the moment the engine hands the commands that update led to on for execution (the
journal has made them durable; the first is sent next).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from time import perf_counter
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from brokers import StreamCounters
from machines import OutcomeKind, Snapshot, State
from strategies.engine._engine import Fired

if TYPE_CHECKING:
    from strategies.engine._engine import Engine

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

    Wiring (``run_live`` does it): the object is one of the engine's observers; the runner calls
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
            "Upper bound on a symbol lock's hold: the engine's timing of each Desk.fire call.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.event_to_command = Histogram(
            "tickstate_event_to_command_seconds",
            "Trade update received by the runner -> a resulting command handed to the broker.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.incidents = Counter(
            "tickstate_incidents",
            "The runner's incidents by their stable name (command_redriven, signal_error, ...).",
            ["strategy", "symbol", "event"],
            registry=self.registry,
        )
        self._reconnects = _StreamReconnects(strategy)
        self.registry.register(self._reconnects)
        self._received: float | None = None
        per_symbol = ["strategy", "symbol"]
        self.position = Gauge(
            "tickstate_position",
            "Signed position in shares (negative: short), as the machine holds it.",
            per_symbol,
            registry=self.registry,
        )
        self.open_pnl = Gauge(
            "tickstate_open_pnl",
            "Open PnL: the position against its average entry at the last price.",
            per_symbol,
            registry=self.registry,
        )
        self.realised_pnl = Gauge(
            "tickstate_realised_pnl",
            "Realised PnL of the run's closed trades.",
            per_symbol,
            registry=self.registry,
        )
        self.working_orders = Gauge(
            "tickstate_working_orders",
            "Orders the machine has working (sent, not done).",
            per_symbol,
            registry=self.registry,
        )
        self.last_price = Gauge(
            "tickstate_last_price",
            "Close of the last minute bar received.",
            per_symbol,
            registry=self.registry,
        )
        self.state = Enum(
            "tickstate_state",
            "The symbol's lifecycle state (1 for the current one).",
            per_symbol,
            states=[state.value for state in State],
            registry=self.registry,
        )
        self._engine: Engine | None = None
        self._last: dict[str, Decimal] = {}

    # --- the engine's observer (engine thread) ---------------------------------------------

    def __call__(self, fired: Fired) -> None:
        """Count one decision and time it: lock hold, and event to command when it has any."""
        outcome = fired.outcome
        self.lock_hold.observe(fired.seconds)
        snapshot = outcome.snapshot
        kind = outcome.kind
        if kind is OutcomeKind.ACCEPTED:
            self.transitions.labels(snapshot.strategy, snapshot.symbol).inc()
        elif kind is OutcomeKind.IGNORED:
            self.races.labels(snapshot.strategy, snapshot.symbol, outcome.reason or "").inc()
        elif kind is OutcomeKind.ANOMALY:
            self.anomalies.labels(snapshot.strategy, snapshot.symbol, outcome.reason or "").inc()
        received = self._received
        if received is not None and outcome.commands:
            self.event_to_command.observe(perf_counter() - received)
        if self._engine is not None:
            self._book(snapshot)

    def _book(self, snapshot: Snapshot) -> None:
        """The per-symbol gauges as ``snapshot`` and the trade recorder leave them."""
        symbol = snapshot.symbol
        labels = (snapshot.strategy, symbol)
        self.position.labels(*labels).set(float(snapshot.position))
        self.working_orders.labels(*labels).set(len(snapshot.working_orders))
        self.state.labels(*labels).state(snapshot.state.value)
        self._pnl(symbol)

    def _pnl(self, symbol: str) -> None:
        engine = self._engine
        if engine is None:
            return
        recorder = engine.recorder
        realised = sum((t.pnl for t in recorder.trades if t.symbol == symbol), Decimal(0))
        self.realised_pnl.labels(self.strategy, symbol).set(float(realised))
        held = recorder.open_entry(symbol)
        last = self._last.get(symbol)
        opened = Decimal(0) if held is None or last is None else held[0] * (last - held[1])
        self.open_pnl.labels(self.strategy, symbol).set(float(opened))

    # --- the runner ------------------------------------------------------------------------

    def watch_engine(self, engine: Engine) -> None:
        """Keep per-symbol gauges of ``engine``'s machines and trades, starting with what they
        hold now (a restart's rebuilt books); call on the engine thread."""
        self._engine = engine
        for snapshot in engine.desk.snapshots():  # the others appear with their first outcome
            self._book(snapshot)

    def saw_price(self, symbol: str, price: Decimal) -> None:
        """A minute bar's close for ``symbol`` (engine thread): last price and open PnL."""
        self._last[symbol] = price
        self.last_price.labels(self.strategy, symbol).set(float(price))
        self._pnl(symbol)

    def incident(self, name: str, symbol: str | None) -> None:
        """Count one of the runner's incidents (an ``Incidents`` listener)."""
        self.incidents.labels(self.strategy, symbol or "", name).inc()

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
