"""An account's books at a venue: positions, cash, last prices, buying power and day trades.

The matching core records each fill here and asks it what an order may do: how much of a
position is not yet held by closing orders (``qty_available``), how much buying power is left
once open opening orders are counted (row 18), and whether an order would complete a pattern
day trader's fourth day trade in five sessions (row 3). Single-threaded like the matching core.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from brokers._types import Order, OrderSide

__all__ = ["DAY_TRADES_ALLOWED", "PDT_EQUITY", "Ledger"]

_ZERO = Decimal(0)
#: Below this equity an account is held to the pattern-day-trader rule.
PDT_EQUITY = Decimal(25000)
#: Day trades such an account may make in five sessions; the next is refused.
DAY_TRADES_ALLOWED = 3
_SESSIONS = 5


@dataclass(slots=True)
class _Holding:
    qty: Decimal = _ZERO  # signed: negative for a short
    avg: Decimal = _ZERO
    opened_on: date | None = None  # the session the position last left zero


@dataclass(slots=True)
class Ledger:
    """Cash, positions and the day-trade record of one account."""

    cash: Decimal
    margin: Decimal = Decimal(4)
    holdings: dict[str, _Holding] = field(default_factory=dict)
    last_price: dict[str, Decimal] = field(default_factory=dict)
    sessions: list[date] = field(default_factory=list)  # every session seen, oldest first
    day_trades: list[date] = field(default_factory=list)  # the session of each day trade

    # --- reading ---------------------------------------------------------------------------

    def held(self, symbol: str) -> Decimal:
        """The signed position in ``symbol``."""
        holding = self.holdings.get(symbol)
        return holding.qty if holding is not None else _ZERO

    def average(self, symbol: str) -> Decimal:
        """The average entry price of the position in ``symbol``."""
        holding = self.holdings.get(symbol)
        return holding.avg if holding is not None else _ZERO

    def equity(self) -> Decimal:
        """Cash plus every position at its last price."""
        return self.cash + sum(
            (h.qty * self.last_price.get(s, h.avg) for s, h in self.holdings.items()), _ZERO
        )

    def exposure(self) -> Decimal:
        """The absolute market value of every position."""
        return sum(
            (abs(h.qty) * self.last_price.get(s, h.avg) for s, h in self.holdings.items()), _ZERO
        )

    def buying_power(self, open_orders: Iterable[Order] = ()) -> Decimal:
        """Margin on equity, less the positions held and the open orders that would add to them."""
        committed = sum((self.order_value(o) for o in open_orders if self.opens(o)), _ZERO)
        return max(_ZERO, self.equity() * self.margin - self.exposure() - committed)

    def opens(self, order: Order) -> bool:
        """Whether ``order`` adds to (or opens) a position rather than reducing one."""
        held = self.held(order.symbol)
        reduces = (held > 0 and order.side is OrderSide.SELL) or (
            held < 0 and order.side is OrderSide.BUY
        )
        return not reduces

    def order_value(self, order: Order) -> Decimal:
        """What an order would cost at its price (a market order at the last price)."""
        price = order.limit_price or order.stop_price or self.last_price.get(order.symbol, _ZERO)
        return order.remaining_qty * price

    def day_trade_count(self) -> int:
        """Day trades in the last five sessions."""
        recent = set(self.sessions[-_SESSIONS:])
        return sum(1 for day in self.day_trades if day in recent)

    def held_to_day_trade_rule(self) -> bool:
        """Whether the account is held to the pattern-day-trader rule: under $25,000 of equity."""
        return self.equity() < PDT_EQUITY

    def flagged_pattern_day_trader(self) -> bool:
        """Alpaca's ``pattern_day_trader`` flag: more day trades in five sessions than the rule
        allows a small account (only an account of $25,000 or more can get there)."""
        return self.day_trade_count() > DAY_TRADES_ALLOWED

    def completes_day_trade(self, symbol: str, side: OrderSide, session: date) -> bool:
        """Whether an order on ``side`` would reduce a position opened in ``session``."""
        holding = self.holdings.get(symbol)
        if holding is None or holding.qty == 0 or holding.opened_on != session:
            return False
        return (holding.qty > 0) == (side is OrderSide.SELL)

    # --- writing ---------------------------------------------------------------------------

    def start_session(self, session: date) -> None:
        """Note a session the venue traded (for the five-session day-trade window)."""
        if not self.sessions or self.sessions[-1] != session:
            self.sessions.append(session)

    def mark(self, symbol: str, price: Decimal) -> None:
        """The last trade price of ``symbol``."""
        self.last_price[symbol] = price

    def record_fill(
        self, symbol: str, side: OrderSide, qty: Decimal, price: Decimal, session: date
    ) -> Decimal:
        """Apply one execution; returns the new signed position."""
        holding = self.holdings.setdefault(symbol, _Holding())
        held, avg = holding.qty, holding.avg
        signed = qty if side is OrderSide.BUY else -qty
        self.cash -= signed * price
        new = held + signed
        reduces = held != 0 and (held > 0) != (signed > 0)
        if reduces and holding.opened_on == session:
            self.day_trades.append(session)
        if held == 0 or (held > 0) == (signed > 0):
            avg = (abs(held) * avg + qty * price) / abs(new)  # opening or adding
        elif new != 0 and (new > 0) != (held > 0):
            avg = price  # flipped through zero: the rest opened at this price
        if held == 0 or (new != 0 and (new > 0) != (held > 0)):
            holding.opened_on = session
        holding.qty, holding.avg = new, avg if new != 0 else _ZERO
        return new

