"""Reconciliation: what the broker's REST state says the machines have missed, as pure decisions.

The poller fetches orders and positions; ``reconcile`` compares them with the machines'
snapshots and returns what to do. It never invents a fill: an order's REST state is a fact
(cumulative quantities, terminal statuses) and is fed to the machine as the event the stream
would have carried; positions are only compared.

| broker (REST)                                  | machine          | resolution            |
|------------------------------------------------|------------------|-----------------------|
| order progressed (more filled, terminal, live) | knows it, behind | feed its state        |
| order as the machine knows it                  | knows it         | nothing               |
| not found, young (< grace)                     | placed it        | wait (lesson 6)       |
| not found, older than grace                    | placed it        | halt the symbol       |
| open order with our prefix, entry role         | never decided it | cancel it (orphan)    |
| open order with our prefix, stop or exit role  | never decided it | halt the symbol       |
| open order, not in the (older) snapshots       | decided it since | nothing (next pass)   |
| open, no cancel pending                        | asked to cancel  | cancel it again       |
| net position                                   | differs          | machine anomaly: halt |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from brokers import Order, OrderStatus, TradeUpdate, UpdateKind, absence_is_evidence
from machines import ClientOrderId, Event, HaltRequested, OrderRole, Snapshot, TrackStatus
from strategies.engine._translate import order_event

__all__ = ["Reconciliation", "reconcile"]

_KIND_OF_STATUS = {
    OrderStatus.NEW: UpdateKind.NEW,
    OrderStatus.ACCEPTED: UpdateKind.NEW,
    OrderStatus.PARTIALLY_FILLED: UpdateKind.PARTIAL_FILL,
    OrderStatus.FILLED: UpdateKind.FILL,
    OrderStatus.CANCELED: UpdateKind.CANCELED,
    OrderStatus.EXPIRED: UpdateKind.EXPIRED,
    OrderStatus.REJECTED: UpdateKind.REJECTED,
    OrderStatus.REPLACED: UpdateKind.REPLACED,
}


@dataclass(slots=True)
class Reconciliation:
    """The decisions of one reconciliation pass."""

    events: list[tuple[str, Event]] = field(default_factory=list)  # (symbol, event), in order
    cancel_orphans: list[Order] = field(default_factory=list)
    cancel_again: list[Order] = field(default_factory=list)  # a cancel refused or lost
    positions: dict[str, Decimal] = field(default_factory=dict)  # symbol → broker's net qty
    missing: dict[str, datetime] = field(default_factory=dict)  # client id → first missed


def _progressed(known_status: TrackStatus, known_filled: Decimal, order: Order) -> bool:
    if order.filled_qty > known_filled:
        return True
    if order.status in (
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
        OrderStatus.FILLED,
    ):
        return True
    return known_status is TrackStatus.SENT and order.status in (
        OrderStatus.NEW,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
    )


def reconcile(
    *,
    strategy: str,
    snapshots: Iterable[Snapshot],
    orders: Mapping[str, Order],
    positions: Mapping[str, Decimal],
    client_id_of: Callable[[str], str | None],
    now: datetime,
    missing_since: Mapping[str, datetime],
    grace_seconds: float,
    decided: Callable[[str], bool] = lambda _client_order_id: False,
) -> Reconciliation:
    """What the broker's orders (by client id) and net positions mean for the machines.

    ``snapshots`` may be older than ``orders``: an order the machines decided after their
    snapshots were taken is not an orphan, which ``decided`` (asked after the orders were
    read) tells.
    """
    result = Reconciliation()
    known: set[str] = set()
    for snapshot in snapshots:
        symbol = snapshot.symbol
        result.positions[symbol] = positions.get(symbol, Decimal(0))
        for track in snapshot.working_orders:
            known.add(track.client_order_id)
            order = orders.get(track.client_order_id)
            if order is None:
                first = missing_since.get(track.client_order_id, now)
                result.missing[track.client_order_id] = first
                if absence_is_evidence(first, now, timedelta(seconds=grace_seconds)):
                    reason = f"order_missing_at_broker:{track.client_order_id}"
                    result.events.append((symbol, HaltRequested(at=now, reason=reason)))
                continue
            if (
                track.status is TrackStatus.CANCEL_SENT
                and order.is_open
                and order.status is not OrderStatus.PENDING_CANCEL
                and not _progressed(track.status, track.filled_qty, order)
            ):
                result.cancel_again.append(order)  # the venue refused the cancel, or lost it
                continue
            kind = _KIND_OF_STATUS.get(order.status)
            if kind is None or not _progressed(track.status, track.filled_qty, order):
                continue  # no update kind stands for this status: nothing to feed
            update = TradeUpdate(kind=kind, order=order, timestamp=now)
            event = order_event(update, client_id_of)
            if event is not None:
                result.events.append((symbol, event))
    for symbol, qty in positions.items():  # symbols with no machine yet too (lesson 3)
        result.positions.setdefault(symbol, qty)
    for client_order_id, order in orders.items():
        cid = ClientOrderId.parse(client_order_id)
        if client_order_id in known or not order.is_open or cid is None or cid.strategy != strategy:
            continue
        if decided(client_order_id):
            continue  # placed after the snapshots were taken: the next pass compares it
        if cid.role is OrderRole.ENTRY:
            result.cancel_orphans.append(order)
        else:
            reason = f"unknown_open_order:{client_order_id}"
            result.events.append((order.symbol, HaltRequested(at=now, reason=reason)))
    return result
