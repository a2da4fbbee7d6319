"""Reconciliation: what the broker's REST state says the machines have missed, as pure decisions.

The poller fetches orders and positions; ``reconcile`` compares them with the machines'
snapshots and returns what to do. It never invents a fill: an order's REST state is a fact
(cumulative quantities, terminal statuses) and is fed to the machine as the event the stream
would have carried, at the venue's time of the change (``updated_at``), not the poller's;
positions are only compared.

| broker (REST)                                  | machine          | resolution             |
|------------------------------------------------|------------------|------------------------|
| order progressed (more filled, terminal, live) | knows it, behind | feed its state         |
| order as the machine knows it                  | knows it         | nothing                |
| not found, young (< grace)                     | placed it        | wait (lesson 6)        |
| not found, older than grace                    | placed it        | never placed: rejected |
| open order with our prefix, entry role         | never decided it | cancel it (orphan)     |
| open order with our prefix, stop or exit role  | never decided it | halt the symbol        |
| open order, not in the (older) snapshots       | decided it since | nothing (next pass)    |
| open, no cancel pending                        | asked to cancel  | cancel it again        |
| net position                                   | differs          | machine anomaly: halt  |

"Never placed: rejected": past the not-found grace the broker's silence is evidence
(``brokers.absence_is_evidence``), so the machine is told the order never worked — an entry's
attempt ends, a stop or exit is placed afresh under its role's next id, a cancel of it is done —
rather than waiting for ever on an order that does not exist (a square-off stalled on the cancel
of a stop whose submit never arrived).

Two more decisions are taken when a pass is applied, on the engine's thread, because they need
what the engine knows then (``redrive``: the commands whose delivery failed; ``unprotected``:
the positions left without a stop or exit, for the runner's bound).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from brokers import Order, OrderStatus, TradeUpdate, UpdateKind, absence_is_evidence
from machines import (
    ClientOrderId,
    Command,
    Event,
    HaltRequested,
    OrderRejected,
    OrderRole,
    Snapshot,
    TrackStatus,
)
from strategies.engine import FailedCommand
from strategies.engine._translate import order_events

__all__ = ["Reconciliation", "Redrive", "reconcile", "redrive", "unprotected"]

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
#: The reason an order absent past the grace is rejected with (the machine's books keep it).
NOT_AT_BROKER = "not_at_broker"
_PROTECTING = (OrderRole.STOP, OrderRole.EXIT)


@dataclass(slots=True)
class Reconciliation:
    """The decisions of one reconciliation pass, and the broker's orders it read."""

    events: list[tuple[str, Event]] = field(default_factory=list)  # (symbol, event), in order
    cancel_orphans: list[Order] = field(default_factory=list)
    cancel_again: list[Order] = field(default_factory=list)  # a cancel refused or lost
    positions: dict[str, Decimal] = field(default_factory=dict)  # symbol → broker's net qty
    missing: dict[str, datetime] = field(default_factory=dict)  # client id → first missed
    lost: list[tuple[str, str]] = field(default_factory=list)  # (symbol, client id) never placed
    orders: dict[str, Order] = field(default_factory=dict)  # the broker's, by client order id
    # The engine's delivery mark when the list was read (``Engine.delivery_mark``): an order
    # delivered after it may be missing from the list and still be at the broker.
    read_at_delivery: int = 0
    number: int = 0  # the poller's pass (``BrokerReader.begun``); 0: not numbered

    def forget_deliveries_after(self, delivered_after: Callable[[str], bool]) -> None:
        """Drop the verdicts the list cannot carry on orders a command reached the venue for
        after the list was read: "never placed" on a failed submit resent meanwhile (it is at
        the broker, or on its way), and "cancel again" on an order whose cancel was decided
        before the snapshots but sent after the read (the list shows the order before the
        cancel reached it: sending it twice was a false ``command_redriven``). A cancel truly
        lost is still open on the next pass, and asked again then."""
        self.cancel_again = [
            o for o in self.cancel_again if not delivered_after(o.client_order_id)
        ]
        stale = {cid for _symbol, cid in self.lost if delivered_after(cid)}
        if not stale:
            return
        self.lost = [(s, cid) for s, cid in self.lost if cid not in stale]
        self.events = [
            (s, e)
            for s, e in self.events
            if not (
                isinstance(e, OrderRejected)
                and e.reason == NOT_AT_BROKER
                and e.client_order_id in stale
            )
        ]


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


def _replaced_one_ended(client_order_id: str, orders: Mapping[str, Order]) -> bool:
    """Whether ``client_order_id`` is a replacement (``-rN``) whose replaced order the list
    shows ended without being replaced (cancelled, filled, expired): a venue never replaces an
    order that has ended, so the replacement's absence is evidence at once — no grace to wait.

    A replace refused after its retries leaves the machine waiting on the replacement; the
    square-off cancels the old stop and waits for both before it closes the position. Waiting
    out the grace there kept a lock-step run's exit until after the close (the false-alarm
    runs, seed 16, on a loaded host).
    """
    cid = ClientOrderId.parse(client_order_id)
    if cid is None or cid.seq == 0:
        return False
    replaced = orders.get(str(replace(cid, seq=cid.seq - 1)))
    return (
        replaced is not None
        and not replaced.is_open
        and replaced.status is not OrderStatus.REPLACED
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
    result = Reconciliation(orders=dict(orders))
    known: set[str] = set()
    for snapshot in snapshots:
        symbol = snapshot.symbol
        result.positions[symbol] = positions.get(symbol, Decimal(0))
        for track in snapshot.working_orders:
            known.add(track.client_order_id)
            order = orders.get(track.client_order_id)
            if order is None:
                first = missing_since.get(track.client_order_id, now)
                if _replaced_one_ended(track.client_order_id, orders) or absence_is_evidence(
                    first, now, timedelta(seconds=grace_seconds)
                ):
                    lost = OrderRejected(
                        client_order_id=track.client_order_id, at=now, reason=NOT_AT_BROKER
                    )
                    result.events.append((symbol, lost))
                    result.lost.append((symbol, track.client_order_id))
                else:
                    result.missing[track.client_order_id] = first
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
            # At the venue's time of the change, as the stream would have carried it: a fill
            # learnt here first is booked when it happened, not when the poller looked.
            update = TradeUpdate(kind=kind, order=order, timestamp=order.updated_at)
            result.events.extend((symbol, event) for event in order_events(update, client_id_of))
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Redrive:
    """What to do about one failed delivery: send it again, take the broker's order, or drop it."""

    failed: FailedCommand
    action: Literal["resend", "adopt", "drop"]
    order: Order | None = None  # the broker's order, when adopted

    @property
    def command(self) -> Command:
        """The command whose delivery failed."""
        return self.failed.command


def redrive(
    failed: Iterable[FailedCommand],
    snapshots: Mapping[str, Snapshot],
    orders: Mapping[str, Order],
    resend: Callable[[Command], bool],
) -> list[Redrive]:
    """The failed deliveries the machines still wait for, each resent (same client order id: the
    broker refuses a second order with it) or adopted when the broker has it; the rest dropped
    (the machine no longer waits for them, or ``resend`` says the runner does not re-drive that
    kind of command — a failed entry's moment may pass; reconciliation ends it past the grace).
    """
    decided: list[Redrive] = []
    for item in failed:
        cid = item.placed_id
        snapshot = snapshots.get(item.symbol)
        waiting = snapshot is not None and any(
            t.client_order_id == cid and t.status is TrackStatus.SENT
            for t in snapshot.working_orders
        )
        order = orders.get(cid)
        if order is not None:
            decided.append(Redrive(failed=item, action="adopt", order=order))
        elif waiting and resend(item.command):
            decided.append(Redrive(failed=item, action="resend"))
        else:
            decided.append(Redrive(failed=item, action="drop"))
    return decided


def unprotected(
    snapshots: Iterable[Snapshot],
    positions: Mapping[str, Decimal],
    orders: Mapping[str, Order],
    failed: Iterable[str] = (),
) -> set[str]:
    """Symbols whose position the broker holds (as the machine does) with nothing to protect or
    close it: no open stop or exit of ours at the broker, none in flight (a failed delivery is not
    in flight), and no entry remainder being cancelled so that the stop can follow it.

    A symbol whose books disagree with the broker is left out: the position check halts it, and
    flattening what may not be there would be a guess (field lesson 1). An order the list does
    not show is taken as in flight (the list may be older than the machines' books), unless its
    delivery failed.
    """
    failed_ids = set(failed)
    found: set[str] = set()
    for snapshot in snapshots:
        held = positions.get(snapshot.symbol, Decimal(0))
        if held == 0 or snapshot.position != held:
            continue
        covered = False
        for track in snapshot.working_orders:
            cid = track.client_order_id
            if track.role in _PROTECTING:
                order = orders.get(cid)
                # Not listed: in flight, or newer than the list (read before the snapshots) —
                # unless its delivery failed. Listed: it protects while it is open.
                covered = cid not in failed_ids if order is None else order.is_open
            elif track.role is OrderRole.ENTRY:
                covered = track.status is TrackStatus.CANCEL_SENT  # the stop waits for it
            if covered:
                break
        if not covered:
            found.add(snapshot.symbol)
    return found
