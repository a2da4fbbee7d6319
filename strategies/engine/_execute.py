"""Machine commands become broker requests; what the broker refuses comes back as events.

``execute`` runs one command against any ``Broker``, outside every machine lock. A submit or
replace the venue refuses becomes an ``OrderRejected`` for the order the machine expected, so the
machine learns of it the way it learns of everything: through ``fire``. Transport errors are not
handled here: the live executor wraps this with retries and the client-order-id recovery recipe.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from brokers import (
    Broker,
    NotCancelableError,
    NotFoundError,
    OrderRequest,
    OrderType,
    ReplaceRequest,
    RequestRejectedError,
    TimeInForce,
)
from brokers import OrderSide as BrokerSide
from machines import (
    CancelOrder,
    ClosePosition,
    Command,
    OrderEvent,
    OrderRejected,
    PlaceEntry,
    PlaceStop,
    ReplaceStop,
    Side,
)

__all__ = ["FailedCommand", "OrderIds", "execute", "placed_id"]


@dataclass(slots=True)
class OrderIds:
    """Venue ids learnt for client order ids, both ways."""

    venue_of: dict[str, str] = field(default_factory=dict)
    client_of: dict[str, str] = field(default_factory=dict)

    def learn(self, client_order_id: str, venue_id: str) -> None:
        """Remember that ``client_order_id`` is ``venue_id`` at the broker."""
        self.venue_of[client_order_id] = venue_id
        self.client_of[venue_id] = client_order_id

    def venue_id(self, broker: Broker, client_order_id: str) -> str:
        """The venue id of a client order id, asking the broker if it is not known yet."""
        known = self.venue_of.get(client_order_id)
        if known is None:
            known = broker.get_order_by_client_id(client_order_id).id
            self.learn(client_order_id, known)
        return known


def _side(side: Side) -> BrokerSide:
    return BrokerSide.BUY if side is Side.BUY else BrokerSide.SELL


def _request(
    command: PlaceEntry | PlaceStop | ClosePosition, stop_tif: TimeInForce
) -> OrderRequest:
    if isinstance(command, ClosePosition):
        return OrderRequest(
            symbol=command.symbol,
            qty=command.qty,
            side=_side(command.side),
            type=OrderType.MARKET,
            time_in_force=TimeInForce.DAY,
            client_order_id=command.client_order_id,
        )
    return OrderRequest(
        symbol=command.symbol,
        qty=command.qty,
        side=_side(command.side),
        type=OrderType.STOP,
        # Entries are for today only; a protective stop may be asked to outlive the session, so
        # that a runner down at the close leaves its position protected (the square-off cancels
        # it on a normal day).
        time_in_force=stop_tif if isinstance(command, PlaceStop) else TimeInForce.DAY,
        stop_price=command.stop_price,
        client_order_id=command.client_order_id,
    )


def execute(
    command: Command,
    broker: Broker,
    ids: OrderIds,
    now: datetime,
    *,
    stop_tif: TimeInForce = TimeInForce.DAY,
) -> list[OrderEvent]:
    """Carry out one command; returns the events the machine must learn from the answer.

    ``stop_tif`` is the time in force of protective stops (``PlaceStop``); a replacement keeps
    the one of the order it replaces.
    """
    if isinstance(command, PlaceEntry | PlaceStop | ClosePosition):
        try:
            order = broker.submit_order(_request(command, stop_tif))
        except RequestRejectedError as exc:
            return [
                OrderRejected(client_order_id=command.client_order_id, at=now, reason=exc.message)
            ]
        ids.learn(order.client_order_id, order.id)
        return []
    if isinstance(command, ReplaceStop):
        try:
            venue_id = ids.venue_id(broker, command.client_order_id)
            order = broker.replace_order(
                venue_id,
                ReplaceRequest(
                    qty=command.qty,
                    stop_price=command.stop_price,
                    client_order_id=command.new_client_order_id,
                ),
            )
        except RequestRejectedError as exc:
            reason = exc.message
            return [
                OrderRejected(client_order_id=command.new_client_order_id, at=now, reason=reason)
            ]
        ids.learn(order.client_order_id, order.id)
        return []
    assert isinstance(command, CancelOrder)
    # Already terminal (its final update came or is on its way), or never placed: nothing to do.
    with contextlib.suppress(NotCancelableError, NotFoundError):
        broker.cancel_order(ids.venue_id(broker, command.client_order_id))
    return []


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedCommand:
    """A command whose delivery failed after the adapter's retries: its outcome is unknown."""

    command: Command
    symbol: str
    transition_seq: int | None  # the journaled transition that decided it
    failed_at: datetime  # the first failure (engine clock)
    attempts: int = 1  # sends so far, the first included

    @property
    def placed_id(self) -> str:
        """The client order id of the order it creates, or of the order it cancels."""
        return placed_id(self.command)


def placed_id(command: Command) -> str:
    """The client order id of the order ``command`` creates (a replace: the new one), or of the
    order it cancels."""
    return getattr(command, "new_client_order_id", None) or command.client_order_id
