"""Broker trade updates become machine order events: the one place the two vocabularies meet.

Data flows one way — wire message → typed broker update → machine event. A ``replaced`` update
names the new order by its venue id; the machine wants its client order id, which the caller
looks up (it learnt it from the replace answer or the new order's own ``new`` update). When it
cannot, the update is dropped: the new order's ``new`` update tells the machine the same.

A ``replaced`` update also carries what the old order filled before it was replaced: the venue
shrinks the replacement by it, and the partial fill's own update may have been lost or may come
after the replacement (``order_events`` feeds it first, as a fill the machine may know already).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from brokers import TradeUpdate, UpdateKind
from machines import (
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
)

__all__ = ["order_event", "order_events"]


def order_event(
    update: TradeUpdate, client_id_of: Callable[[str], str | None]
) -> OrderEvent | None:
    """The machine event an update stands for, or None for updates the machine does not need.

    The machine learns what became of an order, not the steps on the way: ``pending_*``,
    ``done_for_day`` and the rejected cancel or replace notices carry nothing it acts on (a
    replace that lost to a fill shows as that fill and the new order's rejection; a cancel the
    venue refused leaves the order open, and reconciliation asks again).
    """
    order = update.order
    cid, at = order.client_order_id, update.timestamp
    event = update.kind
    if event is UpdateKind.NEW:
        return OrderAccepted(client_order_id=cid, at=at)
    if event in (UpdateKind.FILL, UpdateKind.PARTIAL_FILL):
        if order.filled_avg_price is None or not order.filled_qty > 0:
            return None
        return OrderFilled(
            client_order_id=cid,
            at=at,
            filled_qty=order.filled_qty,
            avg_fill_price=order.filled_avg_price,
            # the venue's ``fill`` ends the order, at the venue's size (a replacement it shrank)
            done=event is UpdateKind.FILL,
        )
    if event in (UpdateKind.CANCELED, UpdateKind.EXPIRED):
        kind = OrderCancelled if event is UpdateKind.CANCELED else OrderExpired
        filled = order.filled_qty if order.filled_avg_price is not None else Decimal(0)
        return kind(
            client_order_id=cid, at=at, filled_qty=filled, avg_fill_price=order.filled_avg_price
        )
    if event is UpdateKind.REJECTED:
        return OrderRejected(client_order_id=cid, at=at)
    if event is UpdateKind.REPLACED and order.replaced_by is not None:
        new_cid = client_id_of(order.replaced_by)
        if new_cid is None:
            return None
        return OrderReplaced(client_order_id=cid, new_client_order_id=new_cid, at=at)
    return None


def order_events(
    update: TradeUpdate, client_id_of: Callable[[str], str | None]
) -> tuple[OrderEvent, ...]:
    """The machine events an update stands for, in order: ``order_event``'s, after it — for a
    ``replaced`` update — the fills the old order had (cumulative; a repeat is a duplicate).

    Without it a lost partial fill of a stop being replaced was never learnt: the replacement
    came smaller, filled "in full", and the machine closed what it thought was left, going
    short (the chaos run seed 14, partial fills on).
    """
    order = update.order
    fills: tuple[OrderEvent, ...] = ()
    if (
        update.kind is UpdateKind.REPLACED
        and order.filled_qty > 0
        and order.filled_avg_price is not None
    ):
        fills = (
            OrderFilled(
                client_order_id=order.client_order_id,
                at=update.timestamp,
                filled_qty=order.filled_qty,
                avg_fill_price=order.filled_avg_price,
                done=False,
            ),
        )
    event = order_event(update, client_id_of)
    return fills if event is None else (*fills, event)
