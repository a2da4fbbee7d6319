"""An account's books at a venue: positions, cash, last prices, buying power and day trades.

The matching core records each fill here and asks it what an order may do: how much of a
position is not yet held by closing orders (``qty_available``), how much buying power is left
once open opening orders are counted (row 18), and whether an order would complete a pattern
day trader's fourth day trade in five sessions (row 3). Single-threaded like the matching core.

Equity and exposure are asked before every opening order, and a desk of thousands of symbols
holds thousands of positions, so they are kept as running sums rather than summed afresh: each
symbol's term (its position at its last price) is re-priced when a fill or a mark moved it (at
most once per question, however many bars marked it), the sums are exact, and each answer is
the very ``Decimal`` the fresh sum gives (the same value at the same exponent), or is the fresh
sum itself where that could differ (a position with no price yet, or books too large for the
context's precision). What the open orders commit (on a venue whose open orders use buying
power: the twin's) is kept the same way, per symbol, summed again when the symbol's orders
(``orders_moved``), position or price moved. The day-trade count counts only the day trades
since the last question, until the five-session window moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, getcontext

from brokers._types import Order, OrderSide

__all__ = ["DAY_TRADES_ALLOWED", "PDT_EQUITY", "Ledger"]

_ZERO = Decimal(0)
#: Below this equity an account is held to the pattern-day-trader rule.
PDT_EQUITY = Decimal(25000)
#: Day trades such an account may make in five sessions; the next is refused.
DAY_TRADES_ALLOWED = 3
_SESSIONS = 5
#: The running sums' arithmetic: exact whatever their size (each answer is checked against the
#: caller's context before it is given).
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


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
    # ``sessions`` and ``day_trades`` only ever grow. What follows is derived, never compared.
    _books: _RunningBooks = field(
        default_factory=lambda: _RunningBooks(), init=False, repr=False, compare=False
    )
    _commitments: _Commitments = field(
        default_factory=lambda: _Commitments(), init=False, repr=False, compare=False
    )
    _day_window: tuple[date, ...] = field(default=(), init=False, repr=False, compare=False)
    _day_seen: int = field(default=0, init=False, repr=False, compare=False)
    _day_count: int = field(default=0, init=False, repr=False, compare=False)

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
        value = self._books.value_sum(self)
        if value is None:
            return self.cash + sum(
                (h.qty * self.last_price.get(s, h.avg) for s, h in self.holdings.items()), _ZERO
            )
        return self.cash + value

    def exposure(self) -> Decimal:
        """The absolute market value of every position."""
        gross = self._books.gross_sum(self)
        if gross is None:
            return sum(
                (abs(h.qty) * self.last_price.get(s, h.avg) for s, h in self.holdings.items()),
                _ZERO,
            )
        return gross

    def buying_power(
        self, open_orders: Iterable[Order] = (), *, committed: Decimal | None = None
    ) -> Decimal:
        """Margin on equity, less the positions held and the open orders that would add to them
        (``committed``: their value, as ``committed_to`` gives it, instead of the orders)."""
        if committed is None:
            committed = sum((self.order_value(o) for o in open_orders if self.opens(o)), _ZERO)
        return max(_ZERO, self.equity() * self.margin - self.exposure() - committed)

    def committed_to(
        self, books: Mapping[str, Mapping[str, Order]], open_orders: Iterable[Order]
    ) -> Decimal:
        """What the open orders that would add to a position would use: ``books`` holds them by
        symbol, ``open_orders`` in the order they were placed (as ``buying_power`` sums them).
        Only the symbols whose orders, position or price moved (``orders_moved``, fills, marks)
        are summed again; the answer is the fresh sum's very ``Decimal``."""
        found = self._commitments.total(self, books)
        if found is None:
            return sum((self.order_value(o) for o in open_orders if self.opens(o)), _ZERO)
        return found

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
        window = tuple(self.sessions[-_SESSIONS:])
        trades = self.day_trades
        if window != self._day_window or len(trades) < self._day_seen:
            self._day_window, self._day_seen, self._day_count = window, 0, 0  # count afresh
        if len(trades) > self._day_seen:
            recent = set(window)
            self._day_count += sum(1 for day in trades[self._day_seen :] if day in recent)
            self._day_seen = len(trades)
        return self._day_count

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
        if symbol in self.holdings:
            self._books.stale.add(symbol)
        if symbol in self._commitments.terms:  # a market order's value is at the last price
            self._commitments.stale.add(symbol)

    def orders_moved(self, symbol: str) -> None:
        """An order of ``symbol`` was placed, changed or closed (for ``committed_to``)."""
        self._commitments.stale.add(symbol)

    def record_fill(
        self, symbol: str, side: OrderSide, qty: Decimal, price: Decimal, session: date
    ) -> Decimal:
        """Apply one execution; returns the new signed position."""
        holding = self.holdings.setdefault(symbol, _Holding())
        self._books.stale.add(symbol)
        self._commitments.stale.add(symbol)  # whether its orders open a position may change
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


@dataclass(slots=True)
class _RunningBooks:
    """Each held symbol's terms (position x last price, signed and absolute), their exact sums,
    how many terms have each exponent, and which symbols moved since their terms were taken."""

    terms: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    value: Decimal = _ZERO
    gross: Decimal = _ZERO
    value_exponents: dict[int, int] = field(default_factory=dict)
    gross_exponents: dict[int, int] = field(default_factory=dict)
    unpriced: set[str] = field(default_factory=set)  # held, never marked: the fresh sums then
    stale: set[str] = field(default_factory=set)
    priced_in: tuple[int, str] = (0, "")  # the context's precision and rounding of the terms
    answers: tuple[Decimal | None, Decimal | None] | None = None  # until a term moves

    def value_sum(self, ledger: Ledger) -> Decimal | None:
        """The signed terms' sum as ``sum(terms, Decimal(0))`` gives it, or None (see
        ``_as_summed``)."""
        return self._answers(ledger)[0]

    def gross_sum(self, ledger: Ledger) -> Decimal | None:
        """The absolute terms' sum as ``sum(terms, Decimal(0))`` gives it, or None."""
        return self._answers(ledger)[1]

    def _answers(self, ledger: Ledger) -> tuple[Decimal | None, Decimal | None]:
        self._reprice(ledger)
        answers = self.answers
        if answers is None:  # a term moved since the last question (an account reads both)
            answers = self.answers = (
                self._as_summed(self.value, self.value_exponents),
                self._as_summed(self.gross, self.gross_exponents),
            )
        return answers

    def _as_summed(self, exact: Decimal, exponents: dict[int, int]) -> Decimal | None:
        """``exact`` at the exponent the fresh sum from zero ends at (the smallest of its terms'
        and zero's), when that sum is exact in the current context: every partial sum, bounded
        by the gross sum, fits its precision at that exponent. None when it might round, or a
        held symbol has no price (the fresh sum prices it at its average)."""
        if self.unpriced:
            return None
        low = min(0, *exponents) if exponents else 0
        if self.gross and self.gross.adjusted() - low + 1 > getcontext().prec:
            return None
        return exact.quantize(Decimal((0, (1,), low)))

    def _reprice(self, ledger: Ledger) -> None:
        context = getcontext()
        if (context.prec, context.rounding) != self.priced_in:  # every term, in this context
            self.priced_in = (context.prec, context.rounding)
            self.stale.update(ledger.holdings)
            self.answers = None
        if not self.stale:
            return
        self.answers = None
        for symbol in self.stale:
            holding = ledger.holdings[symbol]
            old = self.terms.pop(symbol, None)
            if old is not None:
                self._take(old, -1)
            price = ledger.last_price.get(symbol)
            if price is None:
                self.unpriced.add(symbol)
                continue
            self.unpriced.discard(symbol)
            # The fresh sum's very terms: the same operations, in the caller's context.
            new = (holding.qty * price, abs(holding.qty) * price)
            self.terms[symbol] = new
            self._take(new, 1)
        self.stale.clear()

    def _take(self, terms: tuple[Decimal, Decimal], sign: int) -> None:
        value, gross = terms
        if sign > 0:
            self.value, self.gross = _EXACT.add(self.value, value), _EXACT.add(self.gross, gross)
        else:
            self.value = _EXACT.subtract(self.value, value)
            self.gross = _EXACT.subtract(self.gross, gross)
        for term, counts in ((value, self.value_exponents), (gross, self.gross_exponents)):
            exponent = term.as_tuple().exponent
            assert isinstance(exponent, int)  # a finite price and quantity
            left = counts.get(exponent, 0) + sign
            if left:
                counts[exponent] = left
            else:
                del counts[exponent]


@dataclass(slots=True)
class _Commitments:
    """Per symbol with open orders: its opening orders' values summed exactly, their absolute
    sum and smallest exponent; the exact total, how many symbols have each smallest exponent,
    and which symbols moved since they were summed."""

    terms: dict[str, tuple[Decimal, Decimal, int | None]] = field(default_factory=dict)
    value: Decimal = _ZERO
    gross: Decimal = _ZERO
    exponents: dict[int, int] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)
    priced_in: tuple[int, str] = (0, "")
    answer: Decimal | None = None  # until a symbol moves

    def total(self, ledger: Ledger, books: Mapping[str, Mapping[str, Order]]) -> Decimal | None:
        """The committed value as the fresh sum from zero over every open order gives it, or
        None when that sum might round in the current context."""
        context = getcontext()
        if (context.prec, context.rounding) != self.priced_in:  # every value, in this context
            self.priced_in = (context.prec, context.rounding)
            self.stale.update(books)
            self.stale.update(self.terms)
            self.answer = None
        if self.stale:
            self.answer = None
            for symbol in self.stale:
                self._sum_again(ledger, symbol, books.get(symbol))
            self.stale.clear()
        if self.answer is None:
            low = min(0, *self.exponents) if self.exponents else 0
            if self.gross and self.gross.adjusted() - low + 1 > context.prec:
                return None  # a partial sum might round: the fresh sum, in its order
            self.answer = self.value.quantize(Decimal((0, (1,), low)))
        return self.answer

    def _sum_again(self, ledger: Ledger, symbol: str, book: Mapping[str, Order] | None) -> None:
        old = self.terms.pop(symbol, None)
        if old is not None:
            self.value = _EXACT.subtract(self.value, old[0])
            self.gross = _EXACT.subtract(self.gross, old[1])
            if old[2] is not None:
                self._count(old[2], -1)
        if not book:
            return
        # The fresh sum's very terms: the same operations, in the caller's context.
        values = [ledger.order_value(o) for o in book.values() if ledger.opens(o)]
        value = gross = _ZERO
        low: int | None = None
        for term in values:
            value, gross = _EXACT.add(value, term), _EXACT.add(gross, abs(term))
            exponent = term.as_tuple().exponent
            assert isinstance(exponent, int)  # a finite price and quantity
            low = exponent if low is None else min(low, exponent)
        self.terms[symbol] = (value, gross, low)
        self.value, self.gross = _EXACT.add(self.value, value), _EXACT.add(self.gross, gross)
        if low is not None:
            self._count(low, 1)

    def _count(self, exponent: int, sign: int) -> None:
        left = self.exponents.get(exponent, 0) + sign
        if left:
            self.exponents[exponent] = left
        else:
            del self.exponents[exponent]
