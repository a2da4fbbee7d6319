"""Round-trip trades, built from our fills, and the figures a replay or live run reports.

A trade opens when a symbol's position leaves zero and closes when it returns there; its PnL is
the cash it moved. Everything is ``Decimal``.

Fills are counted per order by their cumulative quantity, so a fill learnt twice — from the
trade stream and again from a reconciliation, or replayed from the journal after a restart — is
counted once, whichever way it came first (DESIGN §8, invariant 14: limits come from the books).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from machines import ClientOrderId, OrderRole

__all__ = ["SymbolSummary", "Trade", "TradeRecorder", "summarise", "summary_json", "trades_csv"]

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
    pnl: Decimal
    exit_reason: str
    entry_order_id: str


@dataclass(slots=True)
class _Open:
    side: int
    entry_time: datetime
    entry_order_id: str
    entry_qty: Decimal = _ZERO
    entry_notional: Decimal = _ZERO
    exit_qty: Decimal = _ZERO
    exit_notional: Decimal = _ZERO


@dataclass(slots=True)
class _Learnt:
    """What one order has filled, as far as the recorder counted it."""

    qty: Decimal = _ZERO
    notional: Decimal = _ZERO


@dataclass(slots=True)
class TradeRecorder:
    """Collects fills (ours only) and turns them into trades."""

    trades: list[Trade] = field(default_factory=list)
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
    ) -> None:
        """Record one execution of ``qty`` at ``price``.

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
        self._record(symbol, qty if buy else -qty, price, at, client_order_id, exit_reason)

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
    ) -> None:
        held = self._position.get(symbol, _ZERO)
        remaining = signed
        while remaining != 0:
            if held == 0:
                self._open[symbol] = _Open(
                    side=1 if remaining > 0 else -1, entry_time=at, entry_order_id=client_order_id
                )
            trade = self._open[symbol]
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
            )
        )
        del self._open[symbol]


def _reason(client_order_id: str, exit_reason: str | None) -> str:
    """Why a trade closed: its protective stop, else the exit the machine was winding down for."""
    cid = ClientOrderId.parse(client_order_id)
    if cid is not None and cid.role is OrderRole.STOP:
        return OrderRole.STOP.value
    return exit_reason or OrderRole.EXIT.value


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSummary:
    """What one symbol did over a run."""

    symbol: str
    trades: int
    wins: int
    win_rate: Decimal
    pnl: Decimal
    max_drawdown: Decimal
    races: int = 0
    anomalies: int = 0


def summarise(
    trades: Iterable[Trade],
    symbols: Iterable[str],
    races: Mapping[str, int] | None = None,
    anomalies: Mapping[str, int] | None = None,
) -> list[SymbolSummary]:
    """One summary per symbol (in ``symbols`` order), trades taken in exit order."""
    by_symbol: dict[str, list[Trade]] = {s: [] for s in symbols}
    for trade in trades:
        by_symbol.setdefault(trade.symbol, []).append(trade)
    summaries = []
    for symbol, done in by_symbol.items():
        equity = peak = drawdown = _ZERO
        for trade in sorted(done, key=lambda t: (t.exit_time, t.entry_order_id)):
            equity += trade.pnl
            peak = max(peak, equity)
            drawdown = max(drawdown, peak - equity)
        wins = sum(1 for t in done if t.pnl > 0)
        summaries.append(
            SymbolSummary(
                symbol=symbol,
                trades=len(done),
                wins=wins,
                win_rate=(Decimal(wins) / len(done)).quantize(Decimal("0.0001")) if done else _ZERO,
                pnl=sum((t.pnl for t in done), _ZERO),
                max_drawdown=drawdown,
                races=(races or {}).get(symbol, 0),
                anomalies=(anomalies or {}).get(symbol, 0),
            )
        )
    return summaries


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


def trades_csv(trades: Iterable[Trade]) -> str:
    """The trade list as CSV text, in a stable order (byte-identical for the same trades)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS)
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
            ]
        )
    return out.getvalue()


def _figures(s: SymbolSummary) -> dict[str, Any]:
    return {
        "trades": s.trades,
        "wins": s.wins,
        "win_rate": str(s.win_rate),
        "pnl": str(s.pnl.quantize(Decimal("0.01"))),
        "max_drawdown": str(s.max_drawdown.quantize(Decimal("0.01"))),
        "races": s.races,
        "anomalies": s.anomalies,
    }


def summary_json(strategy: str, summaries: Sequence[SymbolSummary], bars: int) -> str:
    """The JSON summary (no timings, so it is deterministic too)."""
    trades = sum(s.trades for s in summaries)
    wins = sum(s.wins for s in summaries)
    total = {
        "trades": trades,
        "wins": wins,
        "win_rate": str((Decimal(wins) / trades).quantize(Decimal("0.0001")) if trades else 0),
        "pnl": str(sum((s.pnl for s in summaries), Decimal(0)).quantize(Decimal("0.01"))),
        "races": sum(s.races for s in summaries),
        "anomalies": sum(s.anomalies for s in summaries),
    }
    document = {
        "strategy": strategy,
        "bars": bars,
        "symbols": {s.symbol: _figures(s) for s in summaries},
        "total": total,
    }
    return json.dumps(document, indent=2) + "\n"
