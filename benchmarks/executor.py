"""Bar close → command at the broker: the serial executor against ``SymbolExecutor``.

A bar closes on 100 symbols and each needs a command (a protective-style stop far from the price,
so nothing fills). The broker is the twin over loopback with its latency knob: every
``POST /v2/orders`` is answered 50 ms after it was carried out (``SimFaults.rest_delay``). The
serial executor sends the 100 one after another (what the engine thread does without an
executor); ``SymbolExecutor`` sends them on a bounded pool, in order per symbol, paced by the
venue's rate-limit headers. Each sample is the time from the bar (the moment the commands are
handed over) until the broker answered that symbol's command; the twin carries a request out
and then waits the latency before answering, so "at the broker" is that time less 50 ms. The
twin runs in its own process (a venue's CPU is not the runner's). Both executors are measured
in the same run, against the same twin.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from decimal import Decimal
from time import perf_counter
from typing import Any

from benchmarks._common import percentiles
from brokers import AlpacaBroker, Bar, SimExchange, SimFaults, TimeInForce
from machines import PlaceEntry, Side
from strategies.engine import OrderIds, execute
from strategies.engine._executor import SymbolExecutor, pace_by_rate_limit

__all__ = ["measure"]

LATENCY = 0.05


def _bars(symbols: list[str]) -> list[Bar]:
    at = datetime(2012, 11, 15, 15, 0, tzinfo=UTC)
    price = Decimal("50.00")
    return [
        Bar(
            symbol=s,
            start=at,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=Decimal(100),
            trade_count=1,
            vwap=None,
        )
        for s in symbols
    ]


def _commands(symbols: list[str], tag: str) -> list[PlaceEntry]:
    return [
        PlaceEntry(
            client_order_id=f"bench-{s}-20121115-1-buy-{tag}",
            symbol=s,
            side=Side.BUY,
            qty=Decimal(1),
            stop_price=Decimal("90.00"),
        )
        for s in symbols
    ]


def _serve(names: list[str], settings: Any, stop: Any) -> None:
    """The twin, in a child process: serve until ``stop`` is set."""
    sim = SimExchange(
        _bars(names),
        speed=1.0,
        rate_limit=100_000,
        cash=Decimal(100_000_000),
        faults=SimFaults(rest_delay=LATENCY, rest_delay_routes=("POST /v2/orders",)),
    ).start()
    try:
        settings.put(sim.client_settings())
        stop.wait()
    finally:
        sim.stop()


def measure(symbols: int = 100, workers: int = 64, rounds: int = 3) -> dict[str, Any]:
    """p50/p90/p99 (ms) bar → answered, serial and parallel, with their ratio to the latency."""
    names = [f"S{n:03d}" for n in range(symbols)]
    # The venue in its own process, as a real one is: its CPU is not the runner's.
    context = multiprocessing.get_context("spawn")
    settings: Any = context.Queue()
    stop = context.Event()
    venue = context.Process(target=_serve, args=(names, settings, stop), daemon=True)
    venue.start()
    broker = AlpacaBroker(settings.get(timeout=60), connections=workers)
    now = datetime(2012, 11, 15, 15, 1, tzinfo=UTC)
    serial: list[float] = []
    parallel: list[float] = []
    try:
        # A first round unrecorded: the pool's connections open, as a running runner's are.
        for r in range(-1, rounds):
            if r == 0:
                serial.clear()
                parallel.clear()
            ids = OrderIds()
            start = perf_counter()
            for command in _commands(names, f"s{r}"):
                execute(command, broker, ids, now, stop_tif=TimeInForce.DAY)
                serial.append(perf_counter() - start)
            executor = SymbolExecutor(
                workers, pace=pace_by_rate_limit(broker, reserve=workers), name="bench"
            )
            ids = OrderIds()
            done: list[float] = []
            start = perf_counter()
            for command in _commands(names, f"p{r}"):

                def job(
                    command: PlaceEntry = command,
                    ids: OrderIds = ids,
                    done: list[float] = done,
                    start: float = start,
                ) -> None:
                    execute(command, broker, ids, now, stop_tif=TimeInForce.DAY)
                    done.append(perf_counter() - start)

                executor.submit(command.symbol, job)
            executor.wait_idle()
            executor.close()
            parallel += done
    finally:
        broker.close()
        stop.set()
        venue.join(timeout=10)
    # At the broker: the venue carried the request out, then waited the latency to answer.
    at_serial = percentiles([t - LATENCY for t in serial], 1e3)
    at_parallel = percentiles([t - LATENCY for t in parallel], 1e3)
    latency_ms = LATENCY * 1e3
    return {
        "symbols": symbols,
        "workers": workers,
        "latency_ms": latency_ms,
        "answered_serial_ms": percentiles(serial, 1e3),
        "answered_parallel_ms": percentiles(parallel, 1e3),
        "at_broker_serial_ms": at_serial,
        "at_broker_parallel_ms": at_parallel,
        "p99_over_latency": at_parallel["p99"] / latency_ms,
        "serial_p99_over_latency": at_serial["p99"] / latency_ms,
    }
