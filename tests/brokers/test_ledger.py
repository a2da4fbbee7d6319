"""The ledger's running sums answer exactly what summing every position afresh answers.

Equity, exposure and the day-trade count are asked before every opening order; they are kept
as running sums (``brokers._ledger``). Each answer must be the very ``Decimal`` the fresh sum
gives — same value, same exponent (``repr``) — whatever the fills, marks and prices' scales;
and so must what the open orders commit on a venue whose open orders use buying power.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from brokers import (
    ALPACA_PAPER,
    Bar,
    BrokerError,
    MatchingEngine,
    OrderRequest,
    OrderSide,
    OrderType,
)
from brokers._ledger import _SESSIONS, Ledger

D = Decimal
_ZERO = D(0)
DAY = date(2026, 11, 23)
T0 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def fresh_equity(ledger: Ledger) -> Decimal:
    return ledger.cash + sum(
        (h.qty * ledger.last_price.get(s, h.avg) for s, h in ledger.holdings.items()), _ZERO
    )


def fresh_exposure(ledger: Ledger) -> Decimal:
    return sum(
        (abs(h.qty) * ledger.last_price.get(s, h.avg) for s, h in ledger.holdings.items()), _ZERO
    )


def fresh_day_trades(ledger: Ledger) -> int:
    recent = set(ledger.sessions[-_SESSIONS:])
    return sum(1 for day in ledger.day_trades if day in recent)


def check(ledger: Ledger) -> None:
    assert repr(ledger.equity()) == repr(fresh_equity(ledger))
    assert repr(ledger.exposure()) == repr(fresh_exposure(ledger))
    assert repr(ledger.buying_power()) == repr(
        max(_ZERO, fresh_equity(ledger) * ledger.margin - fresh_exposure(ledger))
    )
    assert ledger.day_trade_count() == fresh_day_trades(ledger)


PRICES = st.sampled_from(["0.5", "1", "12.3", "12.30", "99.99", "250.05", "0.0001", "7.125"])
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["fill", "mark", "ask", "session"]),
        st.sampled_from(["A", "B", "C", "D"]),
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.sampled_from(["1", "3", "100", "0.5", "250"]),
        PRICES,
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(STEPS, st.sampled_from(["100000", "25000.00", "1E+3"]))
def test_every_answer_is_the_fresh_sums(steps, cash) -> None:
    """Fills (a symbol filled before it was ever marked included), marks, new sessions: after
    each, equity, exposure, buying power and the day-trade count are the fresh sums'."""
    ledger = Ledger(cash=D(cash))
    session = DAY
    for kind, symbol, side, qty, price in steps:
        if kind == "fill":
            ledger.record_fill(symbol, side, D(qty), D(price), session)
        elif kind == "mark":
            ledger.mark(symbol, D(price))
        elif kind == "session":
            session += timedelta(days=1)
            ledger.start_session(session)
        check(ledger)


def test_a_desk_of_positions_after_many_marks() -> None:
    """Thousands of symbols, positions opened and closed, every symbol marked each bar."""
    rng = random.Random(7)
    ledger = Ledger(cash=D(10_000_000))
    ledger.start_session(DAY)
    symbols = [f"S{i:04d}" for i in range(300)]
    for _ in range(20):
        for symbol in symbols:
            ledger.mark(symbol, D(rng.randrange(100, 20_000)) / 100)
            if rng.random() < 0.1:
                side = rng.choice([OrderSide.BUY, OrderSide.SELL])
                ledger.record_fill(
                    symbol, side, D(rng.randrange(1, 500)), ledger.last_price[symbol], DAY
                )
        check(ledger)


def test_books_beyond_the_precision_are_summed_afresh() -> None:
    """Where the fresh sum rounds (books wider than the context's precision), the answer is the
    fresh sum's rounding, not the exact sum."""
    ledger = Ledger(cash=D(1))
    ledger.mark("A", D("0.1234567890123"))  # 3 of them: a term the 12-digit context rounds
    ledger.record_fill("A", OrderSide.BUY, D(3), D("0.1234567890123"), DAY)
    ledger.mark("B", D("10000000000"))
    ledger.record_fill("B", OrderSide.BUY, D(10_000_000_000), D("10000000000"), DAY)
    with localcontext() as context:
        context.prec = 12
        check(ledger)
    check(ledger)  # the terms again, in the default context
    ledger.mark("B", D(1))
    check(ledger)


def test_a_record_extended_from_outside_is_counted() -> None:
    """``sessions`` and ``day_trades`` are lists a test may extend (an account's record before a
    run): the count follows them, and follows the window as new sessions push days out."""
    ledger = Ledger(cash=D(30_000))
    days = [DAY + timedelta(days=i) for i in range(8)]
    ledger.sessions.extend(days[:3])
    ledger.day_trades.extend(days[:3])
    check(ledger)
    for day in days[3:]:
        ledger.start_session(day)
        ledger.day_trades.append(day)
        check(ledger)


def fresh_committed(engine: MatchingEngine) -> Decimal:
    ledger = engine.ledger
    every = engine._all_open.values()
    return sum((ledger.order_value(o) for o in every if ledger.opens(o)), _ZERO)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["stop", "limit", "market", "bar", "bar", "outside", "cancel"]),
            st.sampled_from(["A", "B", "C"]),
            st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
            st.sampled_from(["1", "7", "100"]),
            st.sampled_from(["9.5", "10", "10.25", "10.5", "11"]),
        ),
        max_size=40,
    )
)
def test_open_orders_committed_as_summed_afresh(steps) -> None:
    """On a venue whose open orders use buying power (Alpaca's rules): orders placed, filled
    (whole or in part), cancelled, prices moving — what they commit is the fresh sum's."""
    engine = MatchingEngine(
        cash=D(100_000), rules=replace(ALPACA_PAPER, wash_trades=False, pattern_day_trader=False)
    )
    now = T0
    for kind, symbol, side, qty, price in steps:
        try:
            if kind == "stop":
                engine.submit(_request(symbol, side, qty, OrderType.STOP, stop=price), now)
            elif kind == "limit":
                engine.submit(_request(symbol, side, qty, OrderType.LIMIT, limit=price), now)
            elif kind == "market":
                engine.submit(_request(symbol, side, qty, OrderType.MARKET), now)
            elif kind == "cancel":
                for order in [o for o in engine._all_open.values() if o.symbol == symbol][:1]:
                    engine.cancel(order.id, now, at_once=True)
            elif kind in ("bar", "outside"):  # outside the session: only the price moves
                now += timedelta(minutes=1)
                p = D(price)
                low, high = p - D("0.5"), p + D("0.5")
                engine.on_bar(
                    Bar(symbol=symbol, start=now, open=p, high=high, low=low, close=p),
                    now,
                    regular=kind == "bar",
                )
        except BrokerError:
            pass  # refused (buying power, an order it cannot take): the books are unchanged
        committed = engine.ledger.committed_to(engine._open, engine._all_open.values())
        assert repr(committed) == repr(fresh_committed(engine))
        assert repr(engine.account().buying_power) == repr(
            engine.ledger.buying_power(engine._all_open.values())
        )


def _request(
    symbol: str,
    side: OrderSide,
    qty: str,
    kind: OrderType,
    *,
    stop: str | None = None,
    limit: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        qty=D(qty),
        side=side,
        type=kind,
        stop_price=D(stop) if stop else None,
        limit_price=D(limit) if limit else None,
    )
