"""Bar close → command at the broker: the serial executor against ``SymbolExecutor``.

A bar closes on 100 symbols and each needs a command (a protective-style stop far from the price,
so nothing fills). The broker is the twin over loopback with its latency knob: every
``POST /v2/orders`` is answered 50 ms after it was carried out (``SimFaults.rest_delay``). The
serial executor sends the 100 one after another (what the engine thread does without an
executor); ``SymbolExecutor`` sends them on a bounded pool, in order per symbol, paced by the
venue's rate-limit headers. Each sample is the time from the bar (the moment the commands are
handed over) until the command is at the broker: the moment the twin carried it out, read from
the order's ``submitted_at`` on the twin's own clock, which the twin's process pairs with its
``time.monotonic()`` (one system-wide clock on Linux, so the runner's process can compare). The
twin then waits the latency before answering; the time until the answer is kept beside it
(``answered_*``), with "answered less the latency" (``answered_less_latency_*``): that one also
counts the runner parsing 100 answers that arrive at once under one GIL, after the command was
at the broker. The twin runs in its own process (a venue's CPU is not the runner's). Both
executors are measured in the same run, against the same twin.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from time import monotonic, process_time
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


def _serve(names: list[str], settings: Any, asks: Any) -> None:
    """The twin, in a child process: serve, and answer each ask on ``settings`` with its clock
    paired with ``time.monotonic()``, until the ask is None."""
    sim = SimExchange(
        _bars(names),
        speed=1.0,
        rate_limit=100_000,
        cash=Decimal(100_000_000),
        faults=SimFaults(rest_delay=LATENCY, rest_delay_routes=("POST /v2/orders",)),
    ).start()
    try:
        settings.put(sim.client_settings())
        while asks.get() is not None:
            settings.put((sim.clock.now(), monotonic()))
    finally:
        sim.stop()


def measure(symbols: int = 100, workers: int = 64, rounds: int = 3) -> dict[str, Any]:
    """p50/p90/p99 (ms) bar → answered, serial and parallel, with their ratio to the latency."""
    names = [f"S{n:03d}" for n in range(symbols)]
    # The venue in its own process, as a real one is: its CPU is not the runner's.
    context = multiprocessing.get_context("spawn")
    settings: Any = context.Queue()
    asks: Any = context.Queue()
    venue = context.Process(target=_serve, args=(names, settings, asks), daemon=True)
    venue.start()
    broker = AlpacaBroker(settings.get(timeout=60), connections=workers)
    now = datetime(2012, 11, 15, 15, 1, tzinfo=UTC)
    serial: list[float] = []
    parallel: list[float] = []
    at_serial: list[float] = []
    at_parallel: list[float] = []
    cpu = {"serial": 0.0, "parallel": 0.0}  # the runner's CPU (every thread) over the rounds
    wall = {"serial": 0.0, "parallel": 0.0}  # and the rounds' own duration, beside it

    def at_broker(tag: str, start: float) -> list[float]:
        """Seconds from ``start`` until the twin carried out each command of round ``tag``; the
        round's stops are then cancelled, untimed, before the next bar: a desk of 100 symbols
        has about 100 working orders, not 100 more every round (the twin's buying power counts
        them all)."""
        asks.put(True)
        venue_now, venue_monotonic = settings.get(timeout=60)
        orders = [broker.get_order_by_client_id(c.client_order_id) for c in _commands(names, tag)]
        times = [
            venue_monotonic - (venue_now - order.submitted_at) / timedelta(seconds=1) - start
            for order in orders
        ]
        for order in orders:
            broker.cancel_order(order.id)
        return times

    try:
        # A first round unrecorded: the pool's connections open, as a running runner's are.
        for r in range(-1, rounds):
            if r == 0:
                for samples in (serial, parallel, at_serial, at_parallel):
                    samples.clear()
                cpu = dict.fromkeys(cpu, 0.0)
                wall = dict.fromkeys(wall, 0.0)
            ids = OrderIds()
            start, began = monotonic(), process_time()
            for command in _commands(names, f"s{r}"):
                execute(command, broker, ids, now, stop_tif=TimeInForce.DAY)
                serial.append(monotonic() - start)
            cpu["serial"] += process_time() - began
            wall["serial"] += monotonic() - start
            at_serial += at_broker(f"s{r}", start)
            executor = SymbolExecutor(
                workers, pace=pace_by_rate_limit(broker, reserve=workers), name="bench"
            )
            ids = OrderIds()
            done: list[float] = []
            start, began = monotonic(), process_time()
            for command in _commands(names, f"p{r}"):

                def job(
                    command: PlaceEntry = command,
                    ids: OrderIds = ids,
                    done: list[float] = done,
                    start: float = start,
                ) -> None:
                    execute(command, broker, ids, now, stop_tif=TimeInForce.DAY)
                    done.append(monotonic() - start)

                executor.submit(command.symbol, job)
            executor.wait_idle()
            cpu["parallel"] += process_time() - began
            wall["parallel"] += monotonic() - start
            executor.close()
            parallel += done
            at_parallel += at_broker(f"p{r}", start)
    finally:
        broker.close()
        asks.put(None)
        venue.join(timeout=10)
    latency_ms = LATENCY * 1e3
    p99 = percentiles(at_parallel, 1e3)["p99"]
    return {
        "symbols": symbols,
        "workers": workers,
        "latency_ms": latency_ms,
        "answered_serial_ms": percentiles(serial, 1e3),
        "answered_parallel_ms": percentiles(parallel, 1e3),
        "answered_less_latency_serial_ms": percentiles([t - LATENCY for t in serial], 1e3),
        "answered_less_latency_parallel_ms": percentiles([t - LATENCY for t in parallel], 1e3),
        "at_broker_serial_ms": percentiles(at_serial, 1e3),
        "at_broker_parallel_ms": percentiles(at_parallel, 1e3),
        "runner_cpu_per_command_ms": {
            name: round(seconds / (symbols * max(rounds, 1)) * 1e3, 3)
            for name, seconds in cpu.items()
        },
        "round_wall_per_command_ms": {
            name: round(seconds / (symbols * max(rounds, 1)) * 1e3, 3)
            for name, seconds in wall.items()
        },
        "p99_over_latency": p99 / latency_ms,
        "serial_p99_over_latency": percentiles(at_serial, 1e3)["p99"] / latency_ms,
    }
