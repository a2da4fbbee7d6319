"""The matching core shared by the paper broker and the simulated exchange: orders in, fills out.

Deterministic and single-threaded: the caller serialises access (the paper broker runs in the
engine's thread, the simulated exchange on its event loop) and passes the time in. Ids are
UUID v4 drawn from a seeded generator, so the same inputs give the same ids.

Fill model (DESIGN §4), per bar, for orders submitted at or before the bar's cutoff:

- market: at the bar's open;
- buy stop: at the open if the bar opens at or above the stop, else at the stop if the high
  reaches it; sell stop mirrored;
- buy limit: at the open if it opens at or below the limit, else at the limit if the low reaches
  it; sell limit mirrored.

Orders placed after the bar opened (matched on that bar only when the caller asks: ``on_bar``
with ``inside=True``) never fill at the open, which came before they existed: a stop or limit
placed inside a bar fills at its own price when the rest of the bar reaches it.

When one bar could fill several orders of a symbol and bar data cannot tell which came first,
stops are matched before limits and markets, oldest first: the conservative reading for a
position that holds both a protective stop and a target.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from brokers._exceptions import (
    DuplicateClientOrderIdError,
    InsufficientFundsError,
    InvalidOrderError,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    UnchangedOrderError,
)
from brokers._types import (
    Account,
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

__all__ = ["FillRatio", "MatchingEngine"]

MAX_CLIENT_ORDER_ID = 48
_ZERO = Decimal(0)
_ASSET_NAMESPACE = uuid.UUID("6f1c4b5e-2a7d-4c1e-9b1a-7f3e5d2c9a10")
_MATCH_ORDER = {OrderType.STOP: 0, OrderType.STOP_LIMIT: 0, OrderType.LIMIT: 1, OrderType.MARKET: 2}

#: How much of an order's remaining quantity fills on a bar (1 = all of it); a fault knob.
FillRatio = Callable[[Order, Bar], Decimal]


class MatchingEngine:
    """Orders, positions and cash of one account, matched against bars."""

    def __init__(
        self,
        *,
        cash: Decimal = Decimal("1000000"),
        seed: int = 0,
        margin_multiplier: Decimal = Decimal(4),
        fill_ratio: FillRatio | None = None,
    ) -> None:
        self._rng = random.Random(seed)
        self._cash = cash
        self._margin = margin_multiplier
        self._fill_ratio = fill_ratio
        self._orders: dict[str, Order] = {}  # every order ever, in submission order
        self._by_client_id: dict[str, str] = {}
        # The open orders of each symbol, in submission order (an index into ``_orders``: an
        # order is stored open first and never reopens, so this keeps its relative order).
        self._open: dict[str, dict[str, Order]] = {}
        self._all_open: dict[str, Order] = {}  # every symbol's, in submission order (same reason)
        self._positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol → (qty, avg price)
        self._last_price: dict[str, Decimal] = {}
        self.account_id = self.new_id()

    # --- ids -------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A UUID v4 from the seeded generator."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    @staticmethod
    def asset_id(symbol: str) -> str:
        """A stable asset UUID per symbol."""
        return str(uuid.uuid5(_ASSET_NAMESPACE, symbol))

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

    def position(self, symbol: str) -> Position:
        """The open position in ``symbol``."""
        held = self._positions.get(symbol)
        if held is None or held[0] == 0:
            raise NotFoundError("position does not exist")
        qty, avg = held
        return Position(
            symbol=symbol,
            qty=qty,
            avg_entry_price=avg,
            asset_id=self.asset_id(symbol),
            current_price=self._last_price.get(symbol),
        )

    def positions(self) -> list[Position]:
        """Every open position, by symbol."""
        return [self.position(s) for s in sorted(self._positions) if self._positions[s][0] != 0]

    def account(self) -> Account:
        """Cash, equity and buying power."""
        equity = self._cash + sum(
            (
                qty * self._last_price.get(symbol, avg)
                for symbol, (qty, avg) in self._positions.items()
            ),
            _ZERO,
        )
        return Account(
            id=self.account_id,
            account_number="SIM" + self.account_id[:8].upper(),
            cash=self._cash,
            equity=equity,
            buying_power=max(_ZERO, equity * self._margin - self._exposure()),
        )

    def _exposure(self) -> Decimal:
        return sum(
            (abs(qty) * self._last_price.get(s, avg) for s, (qty, avg) in self._positions.items()),
            _ZERO,
        )

    # --- requests --------------------------------------------------------------------------

    def submit(self, request: OrderRequest, now: datetime) -> tuple[Order, list[TradeUpdate]]:
        """Accept a new order; returns it as the REST answer shows it, and its ``NEW`` update."""
        self._validate(request)
        client_order_id = request.client_order_id or self.new_id()
        if client_order_id in self._by_client_id:
            raise DuplicateClientOrderIdError("client_order_id must be unique")
        self._check_available(request.symbol, request.side, request.qty, ignoring=None)
        self._check_buying_power(request)
        accepted = Order(
            id=self.new_id(),
            client_order_id=client_order_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            qty=request.qty,
            status=OrderStatus.ACCEPTED,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            asset_id=self.asset_id(request.symbol),
            stop_price=request.stop_price,
            limit_price=request.limit_price,
            extended_hours=request.extended_hours,
        )
        live = replace(accepted, status=OrderStatus.NEW)
        self._store(live)
        return accepted, [TradeUpdate(kind=UpdateKind.NEW, order=live, timestamp=now)]

    def cancel(self, order_id: str, now: datetime) -> list[TradeUpdate]:
        """Cancel a working order; its ``CANCELED`` update."""
        order = self.get_order(order_id)
        if not order.is_open:
            raise NotCancelableError(f'order is already in "{order.status.value}" state')
        canceled = replace(order, status=OrderStatus.CANCELED, canceled_at=now, updated_at=now)
        self._store(canceled)
        return [TradeUpdate(kind=UpdateKind.CANCELED, order=canceled, timestamp=now)]

    def replace(
        self, order_id: str, changes: ReplaceRequest, now: datetime
    ) -> tuple[Order, list[TradeUpdate]]:
        """Replace a working order by a new one; the old becomes ``replaced``."""
        old = self.get_order(order_id)
        if not old.is_open:
            raise NotReplaceableError("unable to replace order, order is not open")
        qty = changes.qty if changes.qty is not None else old.remaining_qty
        stop = changes.stop_price if changes.stop_price is not None else old.stop_price
        limit = changes.limit_price if changes.limit_price is not None else old.limit_price
        tif = changes.time_in_force or old.time_in_force
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
        self._validate(request)
        client_order_id = changes.client_order_id or self.new_id()
        if client_order_id in self._by_client_id:
            raise DuplicateClientOrderIdError("client_order_id must be unique")
        self._check_available(old.symbol, old.side, qty, ignoring=old.id)
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
        replaced = replace(
            old, status=OrderStatus.REPLACED, replaced_by=new.id, replaced_at=now, updated_at=now
        )
        self._store(replaced)
        self._store(new)
        return new, [
            TradeUpdate(kind=UpdateKind.REPLACED, order=replaced, timestamp=now),
            TradeUpdate(kind=UpdateKind.NEW, order=new, timestamp=now),
        ]

    def close_position(self, symbol: str, now: datetime) -> tuple[Order, list[TradeUpdate]]:
        """Flatten ``symbol`` with a market order."""
        held = self.position(symbol)
        side = OrderSide.SELL if held.qty > 0 else OrderSide.BUY
        request = OrderRequest(symbol=symbol, qty=abs(held.qty), side=side, type=OrderType.MARKET)
        return self.submit(request, now)

    def expire_day_orders(self, now: datetime) -> list[TradeUpdate]:
        """The session closed: every working DAY order expires."""
        updates = []
        # The open orders only, in the order a walk over every order ever placed would meet them:
        # that walk made each session close cost more than the one before.
        for order in list(self._all_open.values()):
            if order.time_in_force is TimeInForce.DAY:
                expired = replace(order, status=OrderStatus.EXPIRED, expired_at=now, updated_at=now)
                self._store(expired)
                updates.append(TradeUpdate(kind=UpdateKind.EXPIRED, order=expired, timestamp=now))
        return updates

    # --- matching --------------------------------------------------------------------------

    def idle_bar(self, bar: Bar) -> bool:
        """Whether ``bar.symbol`` has no open order, so ``bar`` can fill nothing; if so, its close
        is taken as the last price, as ``on_bar`` would."""
        if self._open.get(bar.symbol):
            return False
        self._last_price[bar.symbol] = bar.close
        return True

    def on_bar(
        self,
        bar: Bar,
        now: datetime,
        *,
        cutoff: datetime | None = None,
        only: Collection[str] | None = None,
        inside: bool = False,
    ) -> list[TradeUpdate]:
        """Match the working orders of ``bar.symbol`` submitted at or before ``cutoff``.

        ``cutoff`` defaults to the bar's start: an order placed after a bar opened is matched
        from the next bar on, unless the caller asks otherwise (a replay re-matching a stop
        placed on the fill bar, to take the worst case). ``only`` limits matching to those client
        order ids; ``inside`` says they were placed after the bar opened, so none fills at the
        open.
        """
        book = self._open.get(bar.symbol)
        if not book:  # nothing works in this symbol (most bars): only the last price moves
            self._last_price[bar.symbol] = bar.close
            return []
        limit = cutoff if cutoff is not None else bar.start
        working = [
            o
            for o in book.values()
            if o.submitted_at <= limit and (only is None or o.client_order_id in only)
        ]
        working.sort(key=lambda o: _MATCH_ORDER[o.type])
        updates = []
        for order in working:
            current = self._orders[order.id]  # an earlier fill may have changed nothing here
            price = _fill_price(current, bar, placed_inside=inside)
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
        self._last_price[bar.symbol] = bar.close
        return updates

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
            status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
            filled_at=now if done else order.filled_at,
            updated_at=now,
        )
        self._store(updated)
        position_qty = self._apply_position(order.symbol, order.side, qty, price)
        return TradeUpdate(
            kind=UpdateKind.FILL if done else UpdateKind.PARTIAL_FILL,
            order=updated,
            timestamp=now,
            execution_id=self.new_id(),
            price=price,
            qty=qty,
            position_qty=position_qty,
        )

    def _apply_position(
        self, symbol: str, side: OrderSide, qty: Decimal, price: Decimal
    ) -> Decimal:
        held, avg = self._positions.get(symbol, (_ZERO, _ZERO))
        signed = qty if side is OrderSide.BUY else -qty
        self._cash -= signed * price
        new = held + signed
        if held == 0 or (held > 0) == (signed > 0):
            avg = (abs(held) * avg + qty * price) / abs(new)  # opening or adding
        elif new != 0 and (new > 0) != (held > 0):
            avg = price  # flipped through zero: the rest opened at this price
        self._positions[symbol] = (new, avg if new != 0 else _ZERO)
        return new

    # --- checks ----------------------------------------------------------------------------

    def _store(self, order: Order) -> None:
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

    @staticmethod
    def _validate(request: OrderRequest) -> None:
        def bad(message: str) -> InvalidOrderError:
            return InvalidOrderError(message)

        if not request.symbol:
            raise bad("symbol is required")
        if not request.qty > 0:
            raise bad("qty must be > 0")
        if (
            request.client_order_id is not None
            and len(request.client_order_id) > MAX_CLIENT_ORDER_ID
        ):
            raise bad("client_order_id must be no more than 48 characters")
        if request.time_in_force not in (TimeInForce.DAY, TimeInForce.GTC):
            raise bad(f"time_in_force {request.time_in_force.value} is not supported here")
        needs_stop = request.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        needs_limit = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if request.type is OrderType.STOP_LIMIT:
            raise bad("order type stop_limit is not supported here")
        if needs_stop != (request.stop_price is not None):
            raise bad("stop_price is required for stop orders only")
        if needs_limit != (request.limit_price is not None):
            raise bad("limit_price is required for limit orders only")
        for price in (request.stop_price, request.limit_price):
            if price is not None and not price > 0:
                raise bad("prices must be > 0")

    def _check_available(
        self, symbol: str, side: OrderSide, qty: Decimal, *, ignoring: str | None
    ) -> None:
        """A closing order may not exceed the position less what other orders already hold."""
        held = self._positions.get(symbol, (_ZERO, _ZERO))[0]
        closing = (held > 0 and side is OrderSide.SELL) or (held < 0 and side is OrderSide.BUY)
        if not closing:
            return
        reserved = sum(
            (
                o.remaining_qty
                for o in self._open.get(symbol, {}).values()
                if o.side is side and o.id != ignoring
            ),
            _ZERO,
        )
        available = abs(held) - reserved
        if qty > available:
            raise InsufficientFundsError(
                f"insufficient qty available for order (requested: {qty}, available: {available})"
            )

    def _check_buying_power(self, request: OrderRequest) -> None:
        reference = (
            request.stop_price or request.limit_price or self._last_price.get(request.symbol)
        )
        if reference is None:
            return
        held = self._positions.get(request.symbol, (_ZERO, _ZERO))[0]
        reduces = (held > 0 and request.side is OrderSide.SELL) or (
            held < 0 and request.side is OrderSide.BUY
        )
        if not reduces and request.qty * reference > self.account().buying_power:
            raise InsufficientFundsError("insufficient buying power")


def _fill_price(order: Order, bar: Bar, *, placed_inside: bool = False) -> Decimal | None:
    """The price ``order`` fills at on ``bar``, or None if the bar does not reach it.

    ``placed_inside``: the order was placed after the bar opened, so the open cannot fill it.
    """
    if order.type is OrderType.MARKET:
        return bar.open
    gap = not placed_inside
    if order.type is OrderType.STOP:
        stop = order.stop_price
        assert stop is not None
        if order.side is OrderSide.BUY:
            return bar.open if gap and bar.open >= stop else (stop if bar.high >= stop else None)
        return bar.open if gap and bar.open <= stop else (stop if bar.low <= stop else None)
    if order.type is OrderType.LIMIT:
        limit = order.limit_price
        assert limit is not None
        if order.side is OrderSide.BUY:
            return bar.open if gap and bar.open <= limit else (limit if bar.low <= limit else None)
        return bar.open if gap and bar.open >= limit else (limit if bar.high >= limit else None)
    return None
