"""Loopback: how long a submit takes to come back as a ``new`` trade update, over real sockets.

Run: ``python -m benchmarks.loopback [--orders 1000] [--warmup 50]``. It starts the simulated
exchange in process on 127.0.0.1 (ephemeral port), connects ``AlpacaBroker`` and
``AlpacaTradeStream`` to it, then submits orders one at a time (buy stops far above the market,
so none fills) and, for each, measures with ``time.perf_counter``:

- ``submit_to_new``: from just before ``submit_order`` until the stream's thread receives the
  order's ``new`` event (the round trip the runner waits on);
- ``submit_rest``: until ``submit_order`` returns (the REST round trip alone).

The warm-up orders are not counted. Prints one JSON object (milliseconds) on stdout; logs
go to stderr.
"""

from __future__ import annotations

import argparse
import json
import platform
import queue
import statistics
import time
from decimal import Decimal
from typing import Any

from brokers import (
    AlpacaBroker,
    AlpacaTradeStream,
    OrderRequest,
    OrderSide,
    OrderType,
    ReconnectPolicy,
    SimExchange,
    TimeInForce,
    TradeUpdate,
    UpdateKind,
)
from strategies import configure_logging

__all__ = ["main", "measure"]

_WAIT = 10.0


def _summary(samples_s: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples_s)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "median": round(statistics.median(ms), 3),
        "p90": round(cuts[89], 3),
        "p99": round(cuts[98], 3),
        "mean": round(statistics.fmean(ms), 3),
        "min": round(ms[0], 3),
        "max": round(ms[-1], 3),
    }


def measure(orders: int = 1000, warmup: int = 50) -> dict[str, Any]:
    """Submit ``warmup + orders`` orders; the round-trip figures of the last ``orders``."""
    received: queue.Queue[tuple[str, UpdateKind, float]] = queue.Queue()

    def on_update(update: TradeUpdate) -> None:
        received.put((update.order.client_order_id, update.kind, time.perf_counter()))

    connected: queue.Queue[None] = queue.Queue()
    total = warmup + orders
    with SimExchange(rate_limit=10 * total + 100, cash=Decimal(10) ** 9) as sim:
        settings = sim.client_settings(ReconnectPolicy(stop_timeout=5.0))
        broker = AlpacaBroker(settings)
        stream = AlpacaTradeStream(settings)
        stream.start(on_update, lambda: connected.put(None))
        try:
            connected.get(timeout=_WAIT)
            round_trips: list[float] = []
            rest_only: list[float] = []
            for i in range(total):
                client_order_id = f"bench-{i}"
                request = OrderRequest(
                    symbol="AAPL",
                    qty=Decimal(1),
                    side=OrderSide.BUY,
                    type=OrderType.STOP,
                    time_in_force=TimeInForce.GTC,
                    stop_price=Decimal(100000),
                    client_order_id=client_order_id,
                )
                start = time.perf_counter()
                broker.submit_order(request)
                answered = time.perf_counter()
                while True:
                    cid, kind, at = received.get(timeout=_WAIT)
                    if cid == client_order_id and kind is UpdateKind.NEW:
                        break
                if i >= warmup:
                    round_trips.append(at - start)
                    rest_only.append(answered - start)
            counters = stream.counters
        finally:
            stream.stop()
            broker.close()
    return {
        "benchmark": "loopback_submit_to_new",
        "orders": orders,
        "warmup": warmup,
        "unit": "ms",
        "submit_to_new": _summary(round_trips),
        "submit_rest": _summary(rest_only),
        "stream": {"duplicates": counters.duplicates, "reconnects": counters.reconnects},
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loopback", description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")  # stream logs to stderr, warnings only: stdout is JSON
    if args.orders < 100:
        parser.error("--orders must be at least 100 for a p99")
    print(json.dumps(measure(args.orders, args.warmup), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
