"""The strategy's orders at the venue, read in batches so any number of instruments works.

``GET /v2/orders?symbols=...`` names its symbols in the query string: 2,000 instruments would
overflow it. The runner asks for ``BATCH`` symbols at a time (one request each, at most ``limit``
orders each), and only for its own client-id prefix: orders someone else placed are left out
before they are parsed (``Broker.list_orders``).
"""

from __future__ import annotations

from collections.abc import Sequence

from brokers import Broker, Order

__all__ = ["BATCH", "list_own_orders"]

#: Symbols per request: a query string well under any server's limit (~1,000 characters).
BATCH = 100


def list_own_orders(
    broker: Broker, symbols: Sequence[str], *, prefix: str, limit: int = 500
) -> dict[str, Order]:
    """Every order of ``symbols`` whose client order id starts with ``prefix``, by that id."""
    found: dict[str, Order] = {}
    for start in range(0, len(symbols), BATCH):
        batch = list(symbols[start : start + BATCH])
        for order in broker.list_orders(
            status="all", limit=limit, symbols=batch, client_id_prefix=prefix
        ):
            found[order.client_order_id] = order
    return found
