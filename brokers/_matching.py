"""The matching core shared by the paper broker and the simulated exchange: orders in, fills out.

Deterministic and single-threaded: the caller serialises access (the paper broker runs in the
engine's thread, the simulated exchange on its event loop) and passes the time in. Ids are
UUID v4 drawn from a seeded generator, so the same inputs give the same ids. What the venue
refuses and how it fills is its ``VenueRules`` (``brokers._venue``): Alpaca paper's for the
simulated exchange, ``PLAIN`` for the paper broker of a replay.

Fill model (docs/design.md §4), per bar, for orders submitted at or before the bar's cutoff:

- market: at the bar's open;
- buy stop: at the open if the bar opens at or above the stop, else at the stop if the high
  reaches it; sell stop mirrored;
- stop-limit (a buy stop under Alpaca's collar): elected like a stop; then a limit — at the open
  when the open is within the limit, else at the limit if the bar comes back to it, else it stays
  elected and unfilled (a gap beyond the collar);
- buy limit: at the open if it opens at or below the limit, else at the limit if the low reaches
  it; sell limit mirrored.

Orders placed after the bar opened (matched on that bar only when the caller asks: ``on_bar``
with ``inside=True``) never fill at the open, which came before they existed: a stop or limit
placed inside a bar fills at its own price when the rest of the bar reaches it.

When one bar could fill several orders of a symbol and bar data cannot tell which came first,
stops are matched before limits and markets, oldest first: the conservative reading for a
position that holds both a protective stop and a target.

Cancels and replaces are asynchronous when the rules give them a latency (rows 6-7): the order
is ``pending_cancel`` / ``pending_replace`` until ``settle`` is called at or after its due time,
and a bar matched in between can still fill it — a cancel that loses is answered
``order_cancel_rejected``, a replace that loses rejects its new order (``order_replace_rejected``
for the old one). A bar is matched before the requests due by its end are settled: bar data
cannot say whether the fill or the request came first, and the fill is the reading that can hurt.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from brokers._admission import Admission
from brokers._exceptions import (
    DuplicateClientOrderIdError,
    InvalidOrderError,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    UnchangedOrderError,
)
from brokers._ledger import Ledger
from brokers._types import (
    Account,
    Asset,
    Bar,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    ReplaceRequest,
    TimeInForce,
    TradeUpdate,
    UpdateKind,
)
from brokers._venue import PLAIN, VenueRules, collar_limit, fill_price

__all__ = ["FillRatio", "MatchingEngine"]

_ZERO = Decimal(0)
_ASSET_NAMESPACE = uuid.UUID("6f1c4b5e-2a7d-4c1e-9b1a-7f3e5d2c9a10")
_MATCH_ORDER = {OrderType.STOP: 0, OrderType.STOP_LIMIT: 0, OrderType.LIMIT: 1, OrderType.MARKET: 2}
_NEW_YORK = ZoneInfo("America/New_York")
#: Statuses in which an order waits for a request to land and cannot take another (row 6).
_BUSY = frozenset({OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE})

#: How much of an order's remaining quantity fills on a bar (1 = all of it).
FillRatio = Callable[[Order, Bar], Decimal]


@dataclass(frozen=True, slots=True)
class _Pending:
    """A cancel or replace on its way to the venue: it lands at ``due``."""

    due: datetime
    order_id: str
    replacement: Order | None = None  # a replace: the new order, not yet working
    filled_at_request: Decimal = Decimal(0)  # what the old order had filled when asked


class MatchingEngine:
    """Orders, positions and cash of one account, matched against bars."""

    def __init__(
        self,
        *,
        cash: Decimal = Decimal("1000000"),
        seed: int = 0,
        margin_multiplier: Decimal = Decimal(4),
        fill_ratio: FillRatio | None = None,
        rules: VenueRules = PLAIN,
        assets: Mapping[str, Asset] | None = None,
        zone: tzinfo = _NEW_YORK,
    ) -> None:
        self._rng = random.Random(seed)
        self.rules = rules
        self._fill_ratio = fill_ratio
        self._assets = dict(assets) if assets is not None else None
        self._zone = zone
        self.ledger = Ledger(cash=cash, margin=margin_multiplier)
        self._orders: dict[str, Order] = {}  # every order ever, in submission order
        self._by_client_id: dict[str, str] = {}
        # The open orders of each symbol, in submission order (an index into ``_orders``: an
        # order is stored open first and never reopens, so this keeps its relative order).
        self._open: dict[str, dict[str, Order]] = {}
        self._all_open: dict[str, Order] = {}  # every symbol's, in submission order (same reason)
        self._elected: set[str] = set()  # stop-limits whose stop traded: limits now
        self._pending: list[_Pending] = []  # requests on their way, in the order they were made
        self._admission = Admission(
            rules=rules,
            ledger=self.ledger,
            assets=self._assets,
            book_of=lambda symbol: self._open.get(symbol, {}),
            buying_power=self._buying_power,
        )
        self.account_id = self.new_id()

    # --- ids -------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A UUID v4 from the seeded generator."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    @staticmethod
    def asset_id(symbol: str) -> str:
        """A stable asset UUID per symbol."""
        return _asset_id(symbol)

    # --- reading ---------------------------------------------------------------------------

    def get_order(self, order_id: str) -> Order:
        """The order with this venue id."""
        try:
            return self._orders[order_id]
        except KeyError:
            raise NotFoundError(f"order not found for {order_id}") from None

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        """The order with this client order id."""
        order_id = self._by_client_id.get(client_order_id)
        if order_id is None:
            raise NotFoundError(f"order not found for {client_order_id}")
        return self._orders[order_id]

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        symbols: Iterable[str] | None = None,
        newest_first: bool = True,
    ) -> list[Order]:
        """Orders by status (``open``, ``closed``, ``all``), newest first, at most ``limit``."""
        if status not in ("open", "closed", "all"):
            raise InvalidOrderError(f"invalid status {status!r}")
        wanted = set(symbols) if symbols is not None else None
        found = [
            o
            for o in self._orders.values()
            if (wanted is None or o.symbol in wanted)
            and (status == "all" or (o.is_open == (status == "open")))
        ]
        if newest_first:
            found.reverse()
        return found[: max(0, min(limit, 500))]

    def all_orders(self) -> list[Order]:
        """Every order ever placed, oldest first (for audits)."""
        return list(self._orders.values())

    def assets(self) -> list[Asset]:
        """The instruments the venue lists, by symbol (every one traded so far without a list)."""
        if self._assets is not None:
            return [self._assets[s] for s in sorted(self._assets)]
        seen = sorted({o.symbol for o in self._orders.values()} | set(self.ledger.last_price))
        return [self.asset(s) for s in seen]

    def asset(self, symbol: str) -> Asset:
        """The asset ``symbol``; ``NotFoundError`` when the venue does not list it."""
        if self._assets is None:
            return Asset(symbol=symbol, id=self.asset_id(symbol))
        found = self._assets.get(symbol)
        if found is None:
            raise NotFoundError(f"asset not found for {symbol}")
        return found

    def position(self, symbol: str) -> Position:
        """The open position in ``symbol``."""
        held = self.ledger.held(symbol)
        if held == 0:
            raise NotFoundError("position does not exist")
        return Position(
            symbol=symbol,
            qty=held,
            avg_entry_price=self.ledger.average(symbol),
            asset_id=self.asset_id(symbol),
            current_price=self.ledger.last_price.get(symbol),
            qty_available=abs(held)
            - self._admission.reserved(symbol, _closing_side(held), ignoring=None),
        )

    def positions(self) -> list[Position]:
        """Every open position, by symbol."""
        held = sorted(s for s, h in self.ledger.holdings.items() if h.qty != 0)
        return [self.position(s) for s in held]

    def account(self) -> Account:
        """Cash, equity and buying power (less what open opening orders would use)."""
        ledger = self.ledger
        return Account(
            id=self.account_id,
            account_number="SIM" + self.account_id[:8].upper(),
            cash=ledger.cash,
            equity=ledger.equity(),
            buying_power=self._buying_power(),
            pattern_day_trader=ledger.flagged_pattern_day_trader(),
            daytrade_count=ledger.day_trade_count(),
        )

    def _buying_power(self) -> Decimal:
        # Admission reads only this of the account, once an order: not the whole account.
        ledger = self.ledger
        working = self.rules.open_orders_use_buying_power  # the twin's rule (row 18)
        committed = ledger.committed_to(self._open, self._all_open.values()) if working else _ZERO
        return ledger.buying_power(committed=committed)

    def next_due(self) -> datetime | None:
        """When the next cancel or replace on its way lands (None: nothing is on its way)."""
        return min((p.due for p in self._pending), default=None)

    # --- requests --------------------------------------------------------------------------

    def submit(self, request: OrderRequest, now: datetime) -> tuple[Order, list[TradeUpdate]]:
        """Accept a new order; returns it as the REST answer shows it, and its ``NEW`` update."""
        request = self._admission.as_taken(request)
        self._admission.fields(request)
        client_order_id = request.client_order_id or self.new_id()
        if client_order_id in self._by_client_id:
            raise DuplicateClientOrderIdError("client_order_id must be unique")
        self._admission.new_order(request, self._session(now))
        order_id, asset_id = self.new_id(), self.asset_id(request.symbol)

        def shown(status: OrderStatus) -> Order:
            return Order(
                id=order_id,
                client_order_id=client_order_id,
                symbol=request.symbol,
                side=request.side,
                type=request.type,
                time_in_force=request.time_in_force,
                qty=request.qty,
                status=status,
                created_at=now,
                updated_at=now,
                submitted_at=now,
                asset_id=asset_id,
                stop_price=request.stop_price,
                limit_price=request.limit_price,
                extended_hours=request.extended_hours,
            )

        # The REST answer shows it accepted, the stream's first update working: one order.
        accepted, live = shown(OrderStatus.ACCEPTED), shown(OrderStatus.NEW)
        self._store(live)
        return accepted, [TradeUpdate(kind=UpdateKind.NEW, order=live, timestamp=now)]

    def cancel(self, order_id: str, now: datetime, *, at_once: bool = False) -> list[TradeUpdate]:
        """Ask to cancel a working order: ``CANCELED`` now, or ``PENDING_CANCEL`` until it lands
        (a replace in flight refuses it: ``CANCEL_REJECTED``). ``at_once``: the venue cancels
        it itself, as part of closing every position."""
        order = self.get_order(order_id)
        if order.status is OrderStatus.PENDING_CANCEL:
            raise NotCancelableError(f'order is already in "{order.status.value}" state')
        if not order.is_open:
            raise NotCancelableError(f'order is already in "{order.status.value}" state')
        if order.status is OrderStatus.PENDING_REPLACE:
            return [TradeUpdate(kind=UpdateKind.CANCEL_REJECTED, order=order, timestamp=now)]
        if at_once or self.rules.order_latency == timedelta(0):
            return self._canceled(order, now)
        pending = replace(order, status=OrderStatus.PENDING_CANCEL, updated_at=now)
        if order.status is OrderStatus.PENDING_NEW:  # a replacement not working yet
            self._orders[order.id] = pending
        else:
            self._store(pending)
        self._pending.append(_Pending(now + self.rules.order_latency, order.id))
        return [TradeUpdate(kind=UpdateKind.PENDING_CANCEL, order=pending, timestamp=now)]

    def replace(
        self, order_id: str, changes: ReplaceRequest, now: datetime
    ) -> tuple[Order, list[TradeUpdate]]:
        """Replace a working order by a new one; the old becomes ``replaced`` (at once, or when
        the request lands: ``PENDING_REPLACE`` until then)."""
        old = self.get_order(order_id)
        if not old.is_open:
            raise NotReplaceableError("unable to replace order, order is not open")
        if old.status in _BUSY:
            raise NotReplaceableError(
                f"unable to replace order, order is in {old.status.value} state"
            )
        # A replace that names no size keeps the order's original one, not what it has left
        # (Alpaca-API issue 165: a partly filled order replaced at a new price asks for all of
        # it again, and is refused or overfills): a client must always say the size.
        qty = changes.qty if changes.qty is not None else old.qty
        stop = changes.stop_price if changes.stop_price is not None else old.stop_price
        limit = changes.limit_price if changes.limit_price is not None else old.limit_price
        tif = changes.time_in_force or old.time_in_force
        if (
            old.type is OrderType.STOP_LIMIT
            and changes.stop_price is not None
            and (changes.limit_price is None and self.rules.buy_stop_collar)
        ):
            limit = collar_limit(changes.stop_price)  # the collar follows the stop
        if (qty, stop, limit, tif) == (
            old.remaining_qty,
            old.stop_price,
            old.limit_price,
            old.time_in_force,
        ):
            raise UnchangedOrderError("order parameters are not changed")
        request = OrderRequest(
            symbol=old.symbol,
            qty=qty,
            side=old.side,
            type=old.type,
            time_in_force=tif,
            stop_price=stop,
            limit_price=limit,
            client_order_id=changes.client_order_id,
        )
        self._admission.fields(request)
        client_order_id = changes.client_order_id or self.new_id()
        if client_order_id in self._by_client_id:
            raise DuplicateClientOrderIdError("client_order_id must be unique")
        self._admission.replacement(request, old)
        new = Order(
            id=self.new_id(),
            client_order_id=client_order_id,
            symbol=old.symbol,
            side=old.side,
            type=old.type,
            time_in_force=tif,
            qty=qty,
            status=OrderStatus.NEW,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            asset_id=old.asset_id,
            stop_price=stop,
            limit_price=limit,
            replaces=old.id,
        )
        if self.rules.order_latency == timedelta(0):
            return new, self._replaced(old, new, now)
        waiting = replace(new, status=OrderStatus.PENDING_NEW)
        self._orders[waiting.id] = waiting  # known by id and client id, not working yet
        self._by_client_id[waiting.client_order_id] = waiting.id
        pending = replace(old, status=OrderStatus.PENDING_REPLACE, updated_at=now)
        self._store(pending)
        self._pending.append(
            _Pending(now + self.rules.order_latency, old.id, waiting, old.filled_qty)
        )
        return waiting, [TradeUpdate(kind=UpdateKind.PENDING_REPLACE, order=pending, timestamp=now)]

    def close_position(
        self,
        symbol: str,
        now: datetime,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> tuple[Order, list[TradeUpdate]]:
        """Flatten ``symbol`` (or ``qty`` of it, or ``percentage`` % of it) with a market order."""
        held = self.position(symbol).qty
        amount = abs(held)
        if qty is not None and percentage is not None:
            raise InvalidOrderError("only one of qty or percentage may be given")
        if qty is not None:
            if not _ZERO < qty <= amount:
                raise InvalidOrderError(f"qty must be > 0 and <= {amount}, got {qty}")
            amount = qty
        elif percentage is not None:
            if not _ZERO < percentage <= 100:
                raise InvalidOrderError(f"percentage must be > 0 and <= 100, got {percentage}")
            amount = (amount * percentage / 100).to_integral_value()
        request = OrderRequest(
            symbol=symbol, qty=amount, side=_closing_side(held), type=OrderType.MARKET
        )
        return self.submit(request, now)

    def expire_day_orders(self, now: datetime) -> list[TradeUpdate]:
        """The session closed: every working DAY order expires; a GTC one is done for the day."""
        updates = self.settle(now)
        # The open orders only, in the order a walk over every order ever placed would meet them:
        # that walk made each session close cost more than the one before.
        for order in list(self._all_open.values()):
            if order.time_in_force is TimeInForce.DAY:
                expired = replace(order, status=OrderStatus.EXPIRED, expired_at=now, updated_at=now)
                self._store(expired)
                updates.append(TradeUpdate(kind=UpdateKind.EXPIRED, order=expired, timestamp=now))
            elif order.status is not OrderStatus.DONE_FOR_DAY:
                resting = replace(order, status=OrderStatus.DONE_FOR_DAY, updated_at=now)
                self._store(resting)
                updates.append(
                    TradeUpdate(kind=UpdateKind.DONE_FOR_DAY, order=resting, timestamp=now)
                )
        for pending in self._pending:  # a replace whose old order expired never lands
            if pending.replacement is not None and not self._orders[pending.order_id].is_open:
                stale = self._orders[pending.replacement.id]
                self._orders[stale.id] = replace(
                    stale, status=OrderStatus.EXPIRED, expired_at=now, updated_at=now
                )
        self._pending = [p for p in self._pending if self._orders[p.order_id].is_open]
        return updates

    def settle(self, now: datetime) -> list[TradeUpdate]:
        """Land every cancel and replace due by ``now``, in the order they were made."""
        due = [p for p in self._pending if p.due <= now]
        if not due:
            return []
        self._pending = [p for p in self._pending if p.due > now]
        updates: list[TradeUpdate] = []
        for pending in due:
            order = self._orders[pending.order_id]
            if pending.replacement is None:
                updates += self._land_cancel(order, now)
            else:
                fills = order.filled_qty - pending.filled_at_request
                new = self._orders[pending.replacement.id]
                updates += self._land_replace(order, new, fills, now)
        return updates

    def _land_cancel(self, order: Order, now: datetime) -> list[TradeUpdate]:
        if not order.is_open:  # it filled while the cancel was on its way: too late
            return [TradeUpdate(kind=UpdateKind.CANCEL_REJECTED, order=order, timestamp=now)]
        return self._canceled(order, now)

    def _land_replace(
        self, old: Order, new: Order, fills: Decimal, now: datetime
    ) -> list[TradeUpdate]:
        """Land a replace. The old order may have filled since it was asked for (``fills``): in
        full, the new one is rejected (row 6); in part, the replace applies to what is left, so
        the new one is that much smaller (the documented full-fill case, read continuously; a
        cancel/replace's quantity counts what the chain executed, as venues' FIX semantics do).
        """
        if not old.is_open or new.qty <= fills:  # the old order filled first: new one rejected
            rejected = replace(new, status=OrderStatus.REJECTED, failed_at=now, updated_at=now)
            self._orders[rejected.id] = rejected
            return [
                TradeUpdate(kind=UpdateKind.REJECTED, order=rejected, timestamp=now),
                TradeUpdate(kind=UpdateKind.REPLACE_REJECTED, order=old, timestamp=now),
            ]
        # A cancel of the new order may already be on its way: it keeps waiting for it.
        status = OrderStatus.NEW if new.status is OrderStatus.PENDING_NEW else new.status
        landed = replace(new, status=status, qty=new.qty - fills, updated_at=now)
        return self._replaced(old, landed, now)

    def _canceled(self, order: Order, now: datetime) -> list[TradeUpdate]:
        canceled = replace(order, status=OrderStatus.CANCELED, canceled_at=now, updated_at=now)
        self._store(canceled)
        self._elected.discard(order.id)
        return [TradeUpdate(kind=UpdateKind.CANCELED, order=canceled, timestamp=now)]

    def _replaced(self, old: Order, new: Order, now: datetime) -> list[TradeUpdate]:
        replaced = replace(
            old, status=OrderStatus.REPLACED, replaced_by=new.id, replaced_at=now, updated_at=now
        )
        self._store(replaced)
        self._store(new)
        if old.id in self._elected:  # a replaced stop-limit keeps its election
            self._elected.discard(old.id)
            self._elected.add(new.id)
        return [
            TradeUpdate(kind=UpdateKind.REPLACED, order=replaced, timestamp=now),
            TradeUpdate(kind=UpdateKind.NEW, order=new, timestamp=now),
        ]

    # --- matching --------------------------------------------------------------------------

    def idle_bar(self, bar: Bar) -> bool:
        """Whether ``bar.symbol`` has no open order, so ``bar`` can fill nothing; if so, its close
        is taken as the last price, as ``on_bar`` would."""
        if self._open.get(bar.symbol):
            return False
        self.ledger.mark(bar.symbol, bar.close)
        return True

    def on_bar(
        self,
        bar: Bar,
        now: datetime,
        *,
        cutoff: datetime | None = None,
        only: Collection[str] | None = None,
        inside: bool = False,
        regular: bool = True,
    ) -> list[TradeUpdate]:
        """Match the working orders of ``bar.symbol`` submitted at or before ``cutoff``.

        ``regular`` says whether the bar is of the regular session: outside it only orders
        marked ``extended_hours`` trade (Alpaca holds every other order, a GTC one carried
        overnight included, until the open).

        ``cutoff`` defaults to the bar's start: an order placed after a bar opened is matched
        from the next bar on, unless the caller asks otherwise (a replay re-matching a stop
        placed on the fill bar, to take the worst case). ``only`` limits matching to those client
        order ids; ``inside`` says they were placed after the bar opened, so none fills at the
        open.
        """
        self.ledger.start_session(self._session(bar.start))
        book = self._open.get(bar.symbol)
        if not book:  # nothing works in this symbol (most bars): only the last price moves
            self.ledger.mark(bar.symbol, bar.close)
            return []
        limit = cutoff if cutoff is not None else bar.start
        working = [
            o
            for o in book.values()
            if o.submitted_at <= limit
            and (only is None or o.client_order_id in only)
            and (regular or o.extended_hours)
        ]
        working.sort(key=lambda o: _MATCH_ORDER[o.type])
        updates = []
        for order in working:
            current = self._orders[order.id]  # an earlier fill may have changed nothing here
            if current.status is OrderStatus.DONE_FOR_DAY:
                current = replace(current, status=OrderStatus.NEW)  # a new session: working again
                self._store(current)
            price = self._fill_price(current, bar, placed_inside=inside)
            if price is None:
                continue
            qty = current.remaining_qty
            if self._fill_ratio is not None:
                qty = min(
                    qty, max(_ZERO, (qty * self._fill_ratio(current, bar)).to_integral_value())
                )
                if qty == 0:
                    continue
            updates.append(self._fill(current, qty, price, now))
        self.ledger.mark(bar.symbol, bar.close)
        return updates

    def _fill_price(self, order: Order, bar: Bar, *, placed_inside: bool) -> Decimal | None:
        if order.type is not OrderType.STOP_LIMIT or order.id in self._elected:
            return fill_price(order, bar, placed_inside=placed_inside)
        stop = order.stop_price
        assert stop is not None
        elects = bar.high >= stop if order.side is OrderSide.BUY else bar.low <= stop
        if not elects:
            return None
        self._elected.add(order.id)
        gapped = not placed_inside and (
            bar.open >= stop if order.side is OrderSide.BUY else bar.open <= stop
        )
        if not gapped:
            return stop  # traded up through the stop inside the bar: the stop is within the limit
        return fill_price(replace(order, type=OrderType.LIMIT), bar, placed_inside=False)

    def _fill(self, order: Order, qty: Decimal, price: Decimal, now: datetime) -> TradeUpdate:
        filled = order.filled_qty + qty
        avg = (
            price
            if order.filled_avg_price is None
            else ((order.filled_avg_price * order.filled_qty + price * qty) / filled)
        )
        done = filled >= order.qty
        updated = replace(
            order,
            filled_qty=filled,
            filled_avg_price=avg,
            status=(
                OrderStatus.FILLED
                if done
                else (order.status if order.status in _BUSY else OrderStatus.PARTIALLY_FILLED)
            ),
            filled_at=now if done else order.filled_at,
            updated_at=now,
        )
        self._store(updated)
        if done:
            self._elected.discard(order.id)
        position_qty = self.ledger.record_fill(
            order.symbol, order.side, qty, price, self._session(now)
        )
        return TradeUpdate(
            kind=UpdateKind.FILL if done else UpdateKind.PARTIAL_FILL,
            order=updated,
            timestamp=now,
            execution_id=self.new_id(),
            price=price,
            qty=qty,
            position_qty=position_qty,
        )

    def _session(self, when: datetime) -> date:
        return when.astimezone(self._zone).date()

    # --- checks ----------------------------------------------------------------------------

    def _store(self, order: Order) -> None:
        self.ledger.orders_moved(order.symbol)
        self._orders[order.id] = order
        self._by_client_id[order.client_order_id] = order.id
        book = self._open.get(order.symbol)
        if order.is_open:
            if book is None:
                book = self._open[order.symbol] = {}
            book[order.id] = order
            self._all_open[order.id] = order
        else:
            self._all_open.pop(order.id, None)
            if book is not None:
                book.pop(order.id, None)


def _closing_side(held: Decimal) -> OrderSide:
    return OrderSide.SELL if held > 0 else OrderSide.BUY


# A submit and a position read name the asset; ``uuid5`` is a SHA-1 and a UUID built each time
# (~6 % of a 10,000-symbol bar close). Sized well past any desk: the sim server names what its
# requests name.
@lru_cache(maxsize=65_536)
def _asset_id(symbol: str) -> str:
    return str(uuid.uuid5(_ASSET_NAMESPACE, symbol))
