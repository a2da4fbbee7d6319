"""Round-trip trades, built from our fills, and the figures a replay or live run reports.

A trade opens when a symbol's position leaves zero and closes when it returns there; its PnL
(gross) is the cash its fills moved, its costs the commission and slippage of those fills
(``CostModel``, shared out by shares when one fill opens or closes more than one trade), and its
net PnL gross minus costs. Everything is ``Decimal``.

Fills are counted per order by their cumulative quantity, so a fill learnt twice — from the
trade stream and again from a reconciliation, or replayed from the journal after a restart — is
counted once, whichever way it came first (docs/design.md §8, invariant 14: limits come from
the books).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from machines import ClientOrderId, FixedTick, OrderRole, TickRule
from strategies.engine._costs import CostModel

__all__ = ["Trade", "TradeRecorder", "trades_csv"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One round trip in one symbol."""

    symbol: str
    side: str  # long | short
    qty: Decimal
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    pnl: Decimal  # gross: what the fills moved
    exit_reason: str
    entry_order_id: str
    commission: Decimal = _ZERO
    slippage: Decimal = _ZERO

    @property
    def costs(self) -> Decimal:
        """Commission plus slippage."""
        return self.commission + self.slippage

    @property
    def net_pnl(self) -> Decimal:
        """Gross PnL less costs."""
        return self.pnl - self.costs


@dataclass(slots=True)
class _Open:
    side: int
    entry_time: datetime
    entry_order_id: str
    entry_qty: Decimal = _ZERO
    entry_notional: Decimal = _ZERO
    exit_qty: Decimal = _ZERO
    exit_notional: Decimal = _ZERO
    commission: Decimal = _ZERO
    slippage: Decimal = _ZERO


@dataclass(slots=True)
class _Learnt:
    """What one order has filled, as far as the recorder counted it."""

    qty: Decimal = _ZERO
    notional: Decimal = _ZERO


@dataclass(slots=True)
class _Charged:
    """What one order has filled and paid in commission so far."""

    qty: Decimal = _ZERO
    notional: Decimal = _ZERO
    commission: Decimal = _ZERO


_CENT_TICK = FixedTick(Decimal("0.01"))


def _cent_tick(symbol: str) -> TickRule:
    return _CENT_TICK


@dataclass(slots=True)
class TradeRecorder:
    """Collects fills (ours only) and turns them into trades, charging ``costs`` on them
    (slippage on the tick of ``tick_of(symbol)``)."""

    trades: list[Trade] = field(default_factory=list)
    costs: CostModel = field(default_factory=CostModel)
    tick_of: Callable[[str], TickRule] = _cent_tick
    _charged: dict[str, _Charged] = field(default_factory=dict)
    _position: dict[str, Decimal] = field(default_factory=dict)
    _open: dict[str, _Open] = field(default_factory=dict)
    _learnt: dict[str, _Learnt] = field(default_factory=dict)

    def on_fill(
        self,
        *,
        symbol: str,
        buy: bool,
        qty: Decimal,
        price: Decimal,
        at: datetime,
        client_order_id: str,
        exit_reason: str | None = None,
        cumulative: Decimal | None = None,
        avg_price: Decimal | None = None,
        slips: bool = True,
    ) -> None:
        """Record one execution of ``qty`` at ``price``; ``slips``: a stop or market order's
        (every order tickstate sends is one), charged slippage.

        With ``cumulative`` (the order's filled quantity after this execution, and its average
        price ``avg_price``), only what the recorder has not counted for the order yet is
        recorded: nothing for a fill learnt before, and for a fill that arrives after a later
        one, the difference at the price the averages imply.
        """
        if cumulative is not None:
            learnt = self._learnt.setdefault(client_order_id, _Learnt())
            new = cumulative - learnt.qty
            if new <= 0:
                return
            if new != qty:
                average = avg_price if avg_price is not None else price
                price = (cumulative * average - learnt.notional) / new
                qty = new
            learnt.qty = cumulative
            learnt.notional += qty * price
        cost = self._cost(symbol, buy, qty, price, client_order_id, slips)
        self._record(symbol, qty if buy else -qty, price, at, client_order_id, exit_reason, cost)

    def _cost(
        self,
        symbol: str,
        buy: bool,
        qty: Decimal,
        price: Decimal,
        client_order_id: str,
        slips: bool,
    ) -> tuple[Decimal, Decimal]:
        """The commission and slippage one execution adds."""
        costs = self.costs
        if costs.free:
            return _ZERO, _ZERO
        charged = self._charged.setdefault(client_order_id, _Charged())
        charged.qty += qty
        charged.notional += qty * price
        total = costs.commission(charged.qty, charged.notional)
        commission, charged.commission = total - charged.commission, total
        slippage = _ZERO
        if slips:
            slippage = abs(costs.slipped(price, buy=buy, tick=self.tick_of(symbol)) - price) * qty
        return commission, slippage

    def on_cumulative(
        self,
        *,
        symbol: str,
        buy: bool,
        filled_qty: Decimal,
        avg_price: Decimal,
        at: datetime,
        client_order_id: str,
        exit_reason: str | None = None,
    ) -> None:
        """An order has filled ``filled_qty`` at ``avg_price`` on average (a machine event, from
        a reconciliation or the journal): record what of it was not counted yet."""
        learnt = self._learnt.get(client_order_id) or _Learnt()
        new = filled_qty - learnt.qty
        if new <= 0:
            return
        price = avg_price if not learnt.qty else (filled_qty * avg_price - learnt.notional) / new
        self.on_fill(
            symbol=symbol,
            buy=buy,
            qty=new,
            price=price,
            at=at,
            client_order_id=client_order_id,
            exit_reason=exit_reason,
            cumulative=filled_qty,
            avg_price=avg_price,
        )

    def open_entry(self, symbol: str) -> tuple[Decimal, Decimal] | None:
        """The open trade in ``symbol`` as (signed position, average entry price); None when
        flat. Read from another thread (a metrics scrape) it may lag one fill, never tear: the
        figures are read once each."""
        trade = self._open.get(symbol)
        held = self._position.get(symbol, _ZERO)
        if trade is None or held == 0 or trade.entry_qty == 0:
            return None
        return held, trade.entry_notional / trade.entry_qty

    def _record(
        self,
        symbol: str,
        signed: Decimal,
        price: Decimal,
        at: datetime,
        client_order_id: str,
        exit_reason: str | None,
        cost: tuple[Decimal, Decimal] = (_ZERO, _ZERO),
    ) -> None:
        held = self._position.get(symbol, _ZERO)
        remaining = signed
        commission, slippage = cost
        whole = abs(signed)
        while remaining != 0:
            if held == 0:
                self._open[symbol] = _Open(
                    side=1 if remaining > 0 else -1, entry_time=at, entry_order_id=client_order_id
                )
            trade = self._open[symbol]
            if commission or slippage:  # shared out by shares between the trades it touches
                part = (
                    abs(remaining)
                    if (remaining > 0) == (trade.side > 0)
                    else min(abs(remaining), abs(held))
                )
                trade.commission += commission * part / whole
                trade.slippage += slippage * part / whole
            if (remaining > 0) == (trade.side > 0):
                trade.entry_qty += abs(remaining)
                trade.entry_notional += abs(remaining) * price
                held += remaining
                remaining = _ZERO
                continue
            closing = min(abs(remaining), abs(held))
            trade.exit_qty += closing
            trade.exit_notional += closing * price
            step = closing if remaining > 0 else -closing
            held += step
            remaining -= step
            if held == 0:
                self._close(symbol, trade, at, _reason(client_order_id, exit_reason))
        self._position[symbol] = held

    def _close(self, symbol: str, trade: _Open, at: datetime, reason: str) -> None:
        gross = trade.exit_notional - trade.entry_notional
        self.trades.append(
            Trade(
                symbol=symbol,
                side="long" if trade.side > 0 else "short",
                qty=trade.entry_qty,
                entry_time=trade.entry_time,
                entry_price=trade.entry_notional / trade.entry_qty,
                exit_time=at,
                exit_price=trade.exit_notional / trade.exit_qty,
                pnl=gross if trade.side > 0 else -gross,
                exit_reason=reason,
                entry_order_id=trade.entry_order_id,
                commission=trade.commission,
                slippage=trade.slippage,
            )
        )
        del self._open[symbol]


def _reason(client_order_id: str, exit_reason: str | None) -> str:
    """Why a trade closed: its protective stop, else the exit the machine was winding down for."""
    cid = ClientOrderId.parse(client_order_id)
    if cid is not None and cid.role is OrderRole.STOP:
        return OrderRole.STOP.value
    return exit_reason or OrderRole.EXIT.value


_COLUMNS = (
    "symbol",
    "side",
    "qty",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "pnl",
    "exit_reason",
    "entry_order_id",
)


_COST_COLUMNS = ("commission", "slippage", "costs", "net_pnl")


def trades_csv(trades: Iterable[Trade], *, costs: bool = False) -> str:
    """The trade list as CSV text, in a stable order (byte-identical for the same trades);
    ``costs`` (a run that charges any) adds each trade's commission, slippage, costs and net PnL
    (``pnl`` stays the gross)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS + _COST_COLUMNS if costs else _COLUMNS)
    for t in sorted(trades, key=lambda t: (t.entry_time, t.symbol, t.entry_order_id)):
        writer.writerow(
            [
                t.symbol,
                t.side,
                t.qty,
                t.entry_time.isoformat(),
                t.entry_price.quantize(Decimal("0.0001")),
                t.exit_time.isoformat(),
                t.exit_price.quantize(Decimal("0.0001")),
                t.pnl.quantize(Decimal("0.01")),
                t.exit_reason,
                t.entry_order_id,
                *(
                    (_cents(t.commission), _cents(t.slippage), _cents(t.costs), _cents(t.net_pnl))
                    if costs
                    else ()
                ),
            ]
        )
    return out.getvalue()


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))
