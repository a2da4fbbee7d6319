"""The poller's read of the broker: one reconciliation pass's REST calls, then its decisions.

It runs on the ``poller`` thread (``LiveRunner``); what it returns goes through the inbox to
the engine thread, which applies it. Positions are read before and after the orders: only a
symbol whose position did not move meanwhile is compared (a fill between the reads is no
difference).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from brokers import Broker, NotFoundError, Order
from strategies.engine._engine import Engine
from strategies.run._listing import list_own_orders
from strategies.run._reconcile import Reconciliation, reconcile

__all__ = ["BrokerReader"]


class BrokerReader:
    """Reads the broker for one engine's machines, one pass at a time (numbered from 1)."""

    def __init__(self, engine: Engine, broker: Broker, not_found_grace: float) -> None:
        self._engine = engine
        self._broker = broker
        self._grace = not_found_grace
        #: The number of the last pass begun (any thread may read it): a pass numbered higher
        #: read the broker wholly after the moment this was read.
        self.begun = 0

    def read(self, missing_since: dict[str, datetime]) -> Reconciliation:
        """One pass: the broker's positions and orders against the machines' snapshots."""
        self.begun += 1  # written by one thread: the start-up pass runs before the poller starts
        number = self.begun
        engine = self._engine
        mark = engine.delivery_mark  # before the list: what is delivered later may be missing
        before = {p.symbol: p.qty for p in self._broker.list_positions()}
        snapshots = engine.desk.snapshots()
        # In batches of symbols; foreign orders (no prefix) are never parsed.
        prefix = f"{engine.desk.strategy}-"
        orders = list_own_orders(self._broker, list(engine.signals), prefix=prefix)
        for snapshot in snapshots:
            for track in snapshot.working_orders:
                if track.client_order_id not in orders:  # older than the list reaches
                    self._look_up(track.client_order_id, orders)
        after = {p.symbol: p.qty for p in self._broker.list_positions()}
        mine = engine.signals
        stable = {s: q for s, q in after.items() if before.get(s) == q and s in mine}
        stable.update({s: Decimal(0) for s in engine.signals if s not in after and s not in before})
        result = reconcile(
            strategy=engine.desk.strategy,
            snapshots=snapshots,
            orders=orders,
            positions=stable,
            client_id_of=self._client_id_of(orders),
            now=engine.clock.now(),
            missing_since=missing_since,
            grace_seconds=self._grace,
            decided=engine.desk.decided,
        )
        result.read_at_delivery = mark
        result.number = number
        return result

    def _look_up(self, client_order_id: str, orders: dict[str, Order]) -> None:
        try:
            found = self._broker.get_order_by_client_id(client_order_id)
        except NotFoundError:
            return
        orders[found.client_order_id] = found

    def _client_id_of(self, orders: dict[str, Order]) -> Callable[[str], str | None]:
        by_venue = {o.id: o.client_order_id for o in orders.values()}
        client_of = self._engine.ids.client_of

        def client_id_of(venue_id: str) -> str | None:
            return by_venue.get(venue_id) or client_of.get(venue_id)

        return client_id_of
