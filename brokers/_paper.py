"""The paper broker: the matching core in-process, deterministic, fed bar by bar.

It serves replay and unit tests. It is not thread-safe: one thread (the engine's) calls it;
trade updates are delivered synchronously to the subscribers, in order::

    >>> from datetime import UTC, datetime
    >>> from brokers import ManualClock, PaperBroker
    >>> broker = PaperBroker(clock=ManualClock(datetime(2026, 11, 23, 14, 30, tzinfo=UTC)))
    >>> broker.get_account().status
    'ACTIVE'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal

from brokers._clock import Clock
from brokers._exceptions import NotFoundError
from brokers._matching import FillRatio, MatchingEngine
from brokers._protocol import TradeUpdateHandler
from brokers._types import (
    Account,
    Asset,
    Bar,
    Order,
    OrderRequest,
    Position,
    ReplaceRequest,
    TradeUpdate,
)
from brokers._venue import PLAIN, VenueRules

__all__ = ["PaperBroker"]


class PaperBroker:
    """A broker that fills against bars in-process (``rules``: ``PLAIN`` by default; a replay
    that models the simulated exchange passes ``ALPACA_PAPER`` and the twin's ``PartialFills``);
    its account holds ``cash``, with buying power of ``margin`` times its equity."""

    def __init__(
        self,
        *,
        clock: Clock,
        cash: Decimal = Decimal("1000000"),
        margin: Decimal = Decimal(4),
        seed: int = 0,
        fill_ratio: FillRatio | None = None,
        rules: VenueRules = PLAIN,
        assets: Mapping[str, Asset] | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self._clock = clock
        self.engine = (
            MatchingEngine(
                cash=cash,
                margin_multiplier=margin,
                seed=seed,
                fill_ratio=fill_ratio,
                rules=rules,
                assets=assets,
            )
            if zone is None
            else MatchingEngine(
                cash=cash,
                margin_multiplier=margin,
                seed=seed,
                fill_ratio=fill_ratio,
                rules=rules,
                assets=assets,
                zone=zone,
            )
        )
        self._subscribers: list[TradeUpdateHandler] = []

    def subscribe(self, handler: TradeUpdateHandler) -> None:
        """Deliver every trade update to ``handler``, synchronously."""
        self._subscribers.append(handler)

    def _publish(self, updates: list[TradeUpdate]) -> None:
        for update in updates:
            for handler in self._subscribers:
                handler(update)

    # --- the Broker protocol ---------------------------------------------------------------

    def submit_order(self, request: OrderRequest) -> Order:
        """Place an order; its ``NEW`` update is published before this returns."""
        order, updates = self.engine.submit(request, self._clock.now())
        self._publish(updates)
        return order

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order; its ``CANCELED`` update is published before this returns."""
        self._publish(self.engine.cancel(order_id, self._clock.now()))

    def replace_order(self, order_id: str, request: ReplaceRequest) -> Order:
        """Replace an order; ``REPLACED`` and ``NEW`` are published before this returns."""
        order, updates = self.engine.replace(order_id, request, self._clock.now())
        self._publish(updates)
        return order

    def get_order(self, order_id: str) -> Order:
        """One order by venue id."""
        return self.engine.get_order(order_id)

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        """One order by client order id."""
        return self.engine.get_order_by_client_id(client_order_id)

    def find_order_by_client_id(self, client_order_id: str) -> Order | None:
        """One order by client order id, or None when there is none."""
        try:
            return self.engine.get_order_by_client_id(client_order_id)
        except NotFoundError:
            return None

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        symbols: Sequence[str] | None = None,
        client_id_prefix: str | None = None,
    ) -> list[Order]:
        """Orders by status, newest first (only ours: see ``Broker.list_orders``)."""
        found = self.engine.list_orders(status=status, limit=limit, symbols=symbols)
        if client_id_prefix is None:
            return found
        return [o for o in found if o.client_order_id.startswith(client_id_prefix)]

    def list_positions(self) -> list[Position]:
        """Every open position."""
        return self.engine.positions()

    def close_position(self, symbol: str) -> Order:
        """Flatten ``symbol`` with a market order."""
        order, updates = self.engine.close_position(symbol, self._clock.now())
        self._publish(updates)
        return order

    def get_account(self) -> Account:
        """The account."""
        return self.engine.account()

    # --- driving it ------------------------------------------------------------------------

    def feed_bar(
        self,
        bar: Bar,
        *,
        cutoff: datetime | None = None,
        only: Collection[str] | None = None,
        inside: bool = False,
    ) -> list[TradeUpdate]:
        """Match working orders against ``bar`` and publish the fills (see ``MatchingEngine``)."""
        if self.engine.idle_bar(bar):  # most bars: no clock read, no matching
            return []
        updates = self.engine.on_bar(
            bar, self._clock.now(), cutoff=cutoff, only=only, inside=inside
        )
        if updates:  # most bars fill nothing
            self._publish(updates)
        return updates

    def close_session(self) -> list[TradeUpdate]:
        """Expire every DAY order and publish the expirations."""
        updates = self.engine.expire_day_orders(self._clock.now())
        self._publish(updates)
        return updates
