"""The runner's side of lock-step: hold each moment's bars until the moment is whole, then ack.

The simulated exchange in lock-step (``brokers.LockStep``) posts a ``Moment`` once it sent what
the moment brings; the post reaches the engine thread through the runner's inbox, like
everything else. ``LockStepGate`` keeps the moment's bars (``bars``, ``updatedBars``) aside as
they come off the inbox, counts the trade updates the engine applied, and says the moment is
*whole* once every bar the exchange listed is here and every trade update it has sent so far
was applied (those the run's own REST calls caused too) — so the fills of a bar always come
before the bar, as in a replay. The runner then sets its clock to the moment, applies the
bars, fires what the clock says, and acks from the engine thread: every command it ran in
answer has had its REST call return.

A run *in doubt* (a delivery failed, an order the broker did not list, a reconciliation asked
for) acks a moment only once a reconciliation pass begun after it was applied: in real time the
pass a failure asks for comes seconds into the same minute, while a lock-step exchange, free to
run on, could reach the close before the poller's next pass (a square-off whose cancelled stop's
failed replacement was judged after 16:00, its exit left unfilled).

Nothing waits forever. A moment not whole ``timeout`` real seconds after it was posted goes on
without what is missing (a dropped socket lost it): ``lockstep_timeout``, counted, with what was
missing; the trade updates it waited for are forgiven, so one loss costs one timeout. A trade
update the exchange dropped (a fault) was never sent, so it was never waited for.

``LateOrders`` is the free-running run's watch: a broker (the ``Broker`` protocol, delegating)
that notes ``order_late`` when an order reaches the venue after the start of the bar it was
meant for (the one after the last bar the runner applied) — it then trades a bar later than a
replay or a lock-step run would have it trade.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from typing import TYPE_CHECKING

from brokers import (
    Account,
    Bar,
    Broker,
    Clock,
    ManualClock,
    Order,
    OrderRequest,
    Position,
    ReplaceRequest,
)
from strategies.engine import _incidents as incident
from strategies.engine._incidents import Incidents

if TYPE_CHECKING:
    from brokers import LockStep, Moment

__all__ = ["LateOrders", "LockStepGate", "Posted", "Updated"]


@dataclass(frozen=True, slots=True)
class Posted:
    """Inbox item: the exchange posted a moment (``brokers.LockStep``)."""

    moment: Moment


@dataclass(frozen=True, slots=True)
class Updated:
    """Inbox item: a minute bar sent again with its late trades (``updatedBars``)."""

    bar: Bar


@dataclass(slots=True)
class LockStepGate:
    """Which moment the runner is in, what it holds for it, and whether it is whole."""

    lockstep: LockStep
    timeout: float
    incidents: Incidents
    moments: list[Moment] = field(default_factory=list)
    held: list[Bar | Updated] = field(default_factory=list)
    applied_updates: int = 0
    forgiven: int = 0  # trade updates sent but lost in flight (counted at a timeout)
    timeouts: int = 0
    _posted_at: float = 0.0
    # A moment applied in doubt, held for a pass numbered above ``_after_pass``, since when.
    _unacked: Moment | None = None
    _after_pass: int = 0
    _held_at: float = 0.0

    @classmethod
    def of(
        cls, lockstep: LockStep | None, timeout: float, incidents: Incidents
    ) -> LockStepGate | None:
        """The gate of a run in lock-step (None: the exchange's clock runs free)."""
        return None if lockstep is None else cls(lockstep, timeout, incidents)

    def listen(self, put: Callable[[Posted], None]) -> None:
        """Have every moment the exchange posts ``put`` into the inbox, as a ``Posted``."""
        self.lockstep.listen(lambda moment: put(Posted(moment)))

    def offer(self, item: object) -> bool:
        """An item off the inbox: a moment's post or a bar is the gate's (True), kept until
        its moment is whole; anything else is the runner's to apply now."""
        if isinstance(item, Posted):
            if not self.moments:
                self._posted_at = perf_counter()
            self.moments.append(item.moment)
        elif isinstance(item, Bar | Updated):
            self.held.append(item)
        else:
            return False
        return True

    def ack(self, moment: Moment, *, after_pass: int | None = None) -> None:
        """The runner applied ``moment`` and every REST call it made for it returned; in doubt
        (``after_pass``: the number of the last reconciliation pass begun), the ack waits for
        a pass numbered higher to be applied (``reconciled``) or for the timeout."""
        if after_pass is None:
            self.lockstep.ack(moment.seq)
            return
        self._unacked, self._after_pass, self._held_at = moment, after_pass, perf_counter()

    def reconciled(self, number: int) -> None:
        """The runner applied reconciliation pass ``number``: a moment held for it goes on."""
        if self._unacked is not None and number > self._after_pass:
            self._release()

    def release_overdue(self) -> None:
        """A moment held for a pass ``timeout`` real seconds goes on without it (the poller's
        passes fail): ``lockstep_timeout``, counted."""
        if self._unacked is None or perf_counter() < self._held_at + self.timeout:
            return
        self.timeouts += 1
        self.incidents.note(
            incident.LOCKSTEP_TIMEOUT,
            at=self._unacked.at.isoformat(),
            missing_bars=0,
            missing_updates=0,
            missing_reconciliation=1,
        )
        self._release()

    def _release(self) -> None:
        moment, self._unacked = self._unacked, None
        if moment is not None:
            self.lockstep.ack(moment.seq)

    def close(self) -> None:
        """The run ends: the exchange waits for no more acks."""
        self.lockstep.close()

    def update_applied(self) -> None:
        """The engine applied one trade update."""
        self.applied_updates += 1

    def left(self) -> float:
        """Real seconds until the current moment times out."""
        return max(0.0, self._posted_at + self.timeout - perf_counter())

    def _missing(self, moment: Moment) -> tuple[int, int]:
        here = {(_channel(item), _bar(item).symbol, _bar(item).start) for item in self.held}
        bars = sum(1 for b in moment.bars if (b.channel, b.symbol, b.start) not in here)
        sent = max(moment.updates_sent, self.lockstep.sent())
        updates = sent - self.applied_updates - self.forgiven
        return bars, max(0, updates)

    def take(self, clock: Clock) -> tuple[Moment, list[Bar | Updated]] | None:
        """The current moment and its bars (in the exchange's order) once it is whole or timed
        out, the run's ``clock`` (a ``ManualClock``) set to it; None while it waits."""
        if not self.moments or self._unacked is not None:
            return None
        moment = self.moments[0]
        bars, updates = self._missing(moment)
        if bars or updates:
            if perf_counter() < self._posted_at + self.timeout:
                return None
            self.timeouts += 1
            self.forgiven += updates
            self.incidents.note(
                incident.LOCKSTEP_TIMEOUT,
                at=moment.at.isoformat(),
                missing_bars=bars,
                missing_updates=updates,
            )
        self.moments.pop(0)
        self._posted_at = perf_counter()
        if isinstance(clock, ManualClock):
            clock.set(moment.at)
        held, self.held = self.held, []
        held.sort(key=_exchange_order)
        return moment, held


def _bar(item: Bar | Updated) -> Bar:
    return item.bar if isinstance(item, Updated) else item


def _channel(item: Bar | Updated) -> str:
    return "updatedBars" if isinstance(item, Updated) else "bars"


def _exchange_order(item: Bar | Updated) -> tuple[int, datetime, str]:
    """A moment's bars as the exchange plays them: minute bars, then late prints; by symbol."""
    bar = _bar(item)
    return (isinstance(item, Updated), bar.start, bar.symbol)


class LateOrders:
    """A broker that notes ``order_late`` for an order that reached the venue too late."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self.incidents: Incidents | None = None  # the engine's, once it is built
        self.meant_for: datetime | None = None  # the start of the bar orders now are meant for
        self.late = 0

    def _check(self, order: Order) -> Order:
        meant_for = self.meant_for
        if meant_for is not None and order.submitted_at > meant_for:
            self.late += 1
            if self.incidents is None:
                return order
            self.incidents.note(
                incident.ORDER_LATE,
                symbol=order.symbol,
                client_order_id=order.client_order_id,
                meant_for=meant_for.isoformat(),
                reached=order.submitted_at.isoformat(),
            )
        return order

    def submit_order(self, request: OrderRequest) -> Order:
        """Submit, and check when it reached the venue."""
        return self._check(self._broker.submit_order(request))

    def cancel_order(self, order_id: str) -> None:
        """Cancel."""
        self._broker.cancel_order(order_id)

    def replace_order(self, order_id: str, request: ReplaceRequest) -> Order:
        """Replace, and check when the replacement reached the venue."""
        return self._check(self._broker.replace_order(order_id, request))

    def get_order(self, order_id: str) -> Order:
        """One order by venue id."""
        return self._broker.get_order(order_id)

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        """One order by client order id."""
        return self._broker.get_order_by_client_id(client_order_id)

    def find_order_by_client_id(self, client_order_id: str) -> Order | None:
        """One order by client order id, or None."""
        return self._broker.find_order_by_client_id(client_order_id)

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        symbols: Sequence[str] | None = None,
        client_id_prefix: str | None = None,
    ) -> list[Order]:
        """Orders by status (only those whose client order id starts with the prefix)."""
        return self._broker.list_orders(
            status=status, limit=limit, symbols=symbols, client_id_prefix=client_id_prefix
        )

    def list_positions(self) -> list[Position]:
        """Every open position."""
        return self._broker.list_positions()

    def close_position(self, symbol: str) -> Order:
        """Flatten ``symbol``, and check when the order reached the venue."""
        return self._check(self._broker.close_position(symbol))

    def get_account(self) -> Account:
        """The account."""
        return self._broker.get_account()
