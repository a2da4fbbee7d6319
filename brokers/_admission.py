"""Whether the venue takes an order: every check of a new or replacing order, by its rules.

The matching core asks ``Admission`` before it books an order, and the answer is the venue's:
a ``BrokerError`` whose type says whose fault it is (``InvalidOrderError`` for a field the venue
refuses, ``WashTradeError``, ``PatternDayTraderError``, ``InsufficientFundsError``), in the order
Alpaca reports them: the fields, the asset, a wash trade, what the position still has available,
the day-trade rule, buying power. It reads the books it is handed and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

from brokers._exceptions import (
    InsufficientFundsError,
    InvalidOrderError,
    PatternDayTraderError,
    WashTradeError,
)
from brokers._ledger import DAY_TRADES_ALLOWED, Ledger
from brokers._types import Asset, Order, OrderRequest, OrderSide, OrderType, TimeInForce
from brokers._venue import VenueRules, collar_limit, off_increment, wash_trade_with

__all__ = ["MAX_CLIENT_ORDER_ID", "Admission"]

MAX_CLIENT_ORDER_ID = 48
_ZERO = Decimal(0)

#: The open orders of one symbol, by venue id.
Book = Mapping[str, Order]


class Admission:
    """The checks of one venue over the books of one account."""

    def __init__(
        self,
        *,
        rules: VenueRules,
        ledger: Ledger,
        assets: Mapping[str, Asset] | None,
        book_of: Callable[[str], Book],
        buying_power: Callable[[], Decimal],
    ) -> None:
        self._rules = rules
        self._ledger = ledger
        self._assets = assets
        self._book_of = book_of
        self._buying_power = buying_power

    def as_taken(self, request: OrderRequest) -> OrderRequest:
        """The order as the venue books it: Alpaca makes a buy stop a stop-limit under its
        collar (row 2)."""
        if (
            self._rules.buy_stop_collar
            and request.type is OrderType.STOP
            and request.side is OrderSide.BUY
            and request.stop_price is not None
        ):
            return replace(
                request, type=OrderType.STOP_LIMIT, limit_price=collar_limit(request.stop_price)
            )
        return request

    def new_order(self, request: OrderRequest, session: date) -> None:
        """Refuse ``request`` (as taken) as the venue would, or return."""
        self.fields(request)
        self._asset(request)
        self._wash_trade(request, ignoring=None)
        self.available(request.symbol, request.side, request.qty, ignoring=None)
        self._day_trade(request.symbol, request.side, session)
        self._enough_buying_power(request)

    def replacement(self, request: OrderRequest, old: Order) -> None:
        """Refuse the order that would replace ``old``, or return."""
        self.fields(request)
        self._wash_trade(request, ignoring=old.id)
        self.available(old.symbol, old.side, request.qty, ignoring=old.id)

    def fields(self, request: OrderRequest) -> None:
        """The fields the venue requires, and prices on its increments (row 20)."""

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
        if request.extended_hours and not (
            request.type is OrderType.LIMIT and request.time_in_force is TimeInForce.DAY
        ):
            raise bad("extended hours order must be DAY limit orders")  # row 8
        needs_stop = request.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        needs_limit = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_stop != (request.stop_price is not None):
            raise bad("stop_price is required for stop orders only")
        if needs_limit != (request.limit_price is not None):
            raise bad("limit_price is required for limit orders only")
        prices = (("stop_price", request.stop_price), ("limit_price", request.limit_price))
        for name, price in prices:
            if price is None:
                continue
            if not price > 0:
                raise bad("prices must be > 0")
            if self._rules.price_increments and off_increment(price):
                raise bad(
                    f"invalid {name} {price}. sub-penny increment does not fulfill minimum "
                    "pricing criteria"
                )

    def reserved(self, symbol: str, side: OrderSide, *, ignoring: str | None) -> Decimal:
        """What the open orders on ``side`` of ``symbol`` already hold of the position."""
        return sum(
            (
                o.remaining_qty
                for o in self._book_of(symbol).values()
                if o.side is side and o.id != ignoring
            ),
            _ZERO,
        )

    def available(
        self, symbol: str, side: OrderSide, qty: Decimal, *, ignoring: str | None
    ) -> None:
        """A closing order may not exceed the position less what other orders already hold."""
        held = self._ledger.held(symbol)
        closing = (held > 0 and side is OrderSide.SELL) or (held < 0 and side is OrderSide.BUY)
        if not closing:
            return
        available = abs(held) - self.reserved(symbol, side, ignoring=ignoring)
        if qty > available:
            raise InsufficientFundsError(
                f"insufficient qty available for order (requested: {qty}, available: {available})"
            )

    def _asset(self, request: OrderRequest) -> None:
        """A listed, tradable asset; a short only where it can be borrowed (rows 19-20)."""
        if self._assets is None:
            return
        asset = self._assets.get(request.symbol)
        if asset is None or not asset.tradable:
            raise InvalidOrderError(f'could not find asset "{request.symbol}"')
        held = self._ledger.held(request.symbol)
        shorts = request.side is OrderSide.SELL and request.qty > max(held, _ZERO)
        if shorts and not (asset.shortable and asset.easy_to_borrow):
            raise InsufficientFundsError(f"asset {request.symbol} cannot be sold short")

    def _wash_trade(self, request: OrderRequest, *, ignoring: str | None) -> None:
        if not self._rules.wash_trades:
            return
        others = (o for o in self._book_of(request.symbol).values() if o.id != ignoring)
        existing = wash_trade_with(request, others)
        if existing is not None:
            raise WashTradeError(existing_order_id=existing.id)

    def _day_trade(self, symbol: str, side: OrderSide, session: date) -> None:
        ledger = self._ledger
        if (
            self._rules.pattern_day_trader
            and ledger.held_to_day_trade_rule()
            and ledger.day_trade_count() >= DAY_TRADES_ALLOWED
            and ledger.completes_day_trade(symbol, side, session)
        ):
            raise PatternDayTraderError("trade denied due to pattern day trading protection")

    def _enough_buying_power(self, request: OrderRequest) -> None:
        reference = (
            request.limit_price or request.stop_price or self._ledger.last_price.get(request.symbol)
        )
        if reference is None:
            return
        held = self._ledger.held(request.symbol)
        reduces = (held > 0 and request.side is OrderSide.SELL) or (
            held < 0 and request.side is OrderSide.BUY
        )
        if not reduces and request.qty * reference > self._buying_power():
            raise InsufficientFundsError("insufficient buying power")
