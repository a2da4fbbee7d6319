"""The figures a replay or live run reports: per symbol and in total, and what produced them.

Money stays ``Decimal`` (gross and net PnL, costs, drawdown, average win and loss, expectancy);
ratios are floats, rounded to four places in ``summary.json``: the Sharpe and Sortino ratios
of the daily net PnL as a return on the starting equity (every session of the run counts, a
flat one as 0; annualised by √252), the profit factor (net wins over net losses), the win rate
and the exposure (the share of the sessions' regular hours a position was open; in total, that
any was). The statistics are the standard library's ``statistics`` (mean, sample stdev): a
well-kept, exact-enough implementation for a few hundred daily values, with no new dependency.

A ratio that the trades cannot define (no losing day for Sortino, no loss for the profit factor,
fewer than two sessions for Sharpe) is ``None`` (``null`` in JSON), never a made-up number.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from strategies.engine._trades import Trade

__all__ = ["RunFacts", "SymbolSummary", "summarise", "summary_json", "total_of"]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_RATE = Decimal("0.0001")
_YEAR = math.sqrt(252)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFacts:
    """What produced a run's figures, and what its ratios are measured against."""

    sessions: tuple[date, ...]  # the sessions the strategy traded, oldest first
    hours: Mapping[date, tuple[datetime, datetime]]  # each session's regular open and close
    timezone: tzinfo  # the exchange's: a trade's session is its exit's local date
    starting_equity: Decimal
    config_hash: str
    data_fingerprint: str | None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    costs: Mapping[str, str] = field(default_factory=dict)
    buying_power_blocked: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSummary:
    """What one symbol (or, as ``total``, every symbol) did over a run."""

    symbol: str
    trades: int
    wins: int
    win_rate: Decimal
    pnl: Decimal  # gross
    max_drawdown: Decimal  # of the net PnL, trade by trade (the gross when nothing is charged)
    races: int = 0
    anomalies: int = 0
    commission: Decimal = _ZERO
    slippage: Decimal = _ZERO
    net_pnl: Decimal = _ZERO
    average_win: Decimal | None = None
    average_loss: Decimal | None = None
    expectancy: Decimal | None = None
    profit_factor: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    exposure: float | None = None
    buying_power_blocked: int = 0

    @property
    def costs(self) -> Decimal:
        """Commission plus slippage."""
        return self.commission + self.slippage


def _in_exit_order(trades: Iterable[Trade]) -> list[Trade]:
    return sorted(trades, key=lambda t: (t.exit_time, t.entry_order_id))


def _figures_of(
    symbol: str,
    done: Sequence[Trade],
    facts: RunFacts | None,
    *,
    races: int,
    anomalies: int,
    blocked: int,
) -> SymbolSummary:
    equity = peak = drawdown = _ZERO
    for trade in _in_exit_order(done):
        equity += trade.net_pnl
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
    nets = [t.net_pnl for t in done]
    won = [n for n in nets if n > 0]
    lost = [n for n in nets if n <= 0]
    losses = -sum(lost, _ZERO)
    wins = len(won)  # after costs (the gross when nothing is charged)
    return SymbolSummary(
        symbol=symbol,
        trades=len(done),
        wins=wins,
        win_rate=(Decimal(wins) / len(done)).quantize(_RATE) if done else _ZERO,
        pnl=sum((t.pnl for t in done), _ZERO),
        max_drawdown=drawdown,
        races=races,
        anomalies=anomalies,
        commission=sum((t.commission for t in done), _ZERO),
        slippage=sum((t.slippage for t in done), _ZERO),
        net_pnl=sum(nets, _ZERO),
        average_win=sum(won, _ZERO) / len(won) if won else None,
        average_loss=sum(lost, _ZERO) / len(lost) if lost else None,
        expectancy=sum(nets, _ZERO) / len(nets) if nets else None,
        profit_factor=float(sum(won, _ZERO) / losses) if losses else None,
        sharpe=_sharpe(done, facts),
        sortino=_sortino(done, facts),
        exposure=_exposure(done, facts),
        buying_power_blocked=blocked,
    )


def _daily_returns(trades: Sequence[Trade], facts: RunFacts | None) -> list[float] | None:
    """Each session's net PnL over the starting equity (None: no sessions or no equity)."""
    if facts is None or not facts.sessions or not facts.starting_equity > 0:
        return None
    by_day = dict.fromkeys(facts.sessions, _ZERO)
    for trade in trades:
        day = trade.exit_time.astimezone(facts.timezone).date()
        by_day[day] = by_day.get(day, _ZERO) + trade.net_pnl
    return [float(pnl / facts.starting_equity) for _, pnl in sorted(by_day.items())]


def _sharpe(trades: Sequence[Trade], facts: RunFacts | None) -> float | None:
    returns = _daily_returns(trades, facts)
    if returns is None or len(returns) < 2:
        return None
    spread = statistics.stdev(returns)
    return statistics.fmean(returns) / spread * _YEAR if spread > 0 else None


def _sortino(trades: Sequence[Trade], facts: RunFacts | None) -> float | None:
    returns = _daily_returns(trades, facts)
    if returns is None or len(returns) < 2:
        return None
    downside = math.sqrt(statistics.fmean([min(r, 0.0) ** 2 for r in returns]))
    return statistics.fmean(returns) / downside * _YEAR if downside > 0 else None


def _exposure(trades: Sequence[Trade], facts: RunFacts | None) -> float | None:
    """The share of the sessions' regular hours with a position open (overlaps counted once)."""
    if facts is None or not facts.hours:
        return None
    total = sum((close - open_).total_seconds() for open_, close in facts.hours.values())
    if total <= 0:
        return None
    spans = sorted((t.entry_time, t.exit_time) for t in trades)
    held = 0.0
    start = end = None
    for begin, finish in spans:
        if end is None or begin > end:
            if start is not None and end is not None:
                held += (end - start).total_seconds()
            start, end = begin, finish
        else:
            end = max(end, finish)
    if start is not None and end is not None:
        held += (end - start).total_seconds()
    return min(1.0, held / total)


def summarise(
    trades: Iterable[Trade],
    symbols: Iterable[str],
    races: Mapping[str, int] | None = None,
    anomalies: Mapping[str, int] | None = None,
    facts: RunFacts | None = None,
) -> list[SymbolSummary]:
    """One summary per symbol (in ``symbols`` order), trades taken in exit order."""
    by_symbol: dict[str, list[Trade]] = {s: [] for s in symbols}
    for trade in trades:
        by_symbol.setdefault(trade.symbol, []).append(trade)
    blocked = facts.buying_power_blocked if facts is not None else {}
    return [
        _figures_of(
            symbol,
            done,
            facts,
            races=(races or {}).get(symbol, 0),
            anomalies=(anomalies or {}).get(symbol, 0),
            blocked=blocked.get(symbol, 0),
        )
        for symbol, done in by_symbol.items()
    ]


def total_of(
    trades: Iterable[Trade], summaries: Sequence[SymbolSummary], facts: RunFacts | None = None
) -> SymbolSummary:
    """Every symbol together, as one summary named ``total``."""
    return _figures_of(
        "total",
        list(trades),
        facts,
        races=sum(s.races for s in summaries),
        anomalies=sum(s.anomalies for s in summaries),
        blocked=sum(s.buying_power_blocked for s in summaries),
    )


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount.quantize(_CENT))


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _more(s: SymbolSummary) -> dict[str, Any]:
    """The figures added by issue 19, after the earlier ones (whose keys stay as they were)."""
    return {
        "gross_pnl": _money(s.pnl),
        "commission": _money(s.commission),
        "slippage": _money(s.slippage),
        "costs": _money(s.costs),
        "net_pnl": _money(s.net_pnl),
        "average_win": _money(s.average_win),
        "average_loss": _money(s.average_loss),
        "expectancy": _money(s.expectancy),
        "profit_factor": _ratio(s.profit_factor),
        "sharpe": _ratio(s.sharpe),
        "sortino": _ratio(s.sortino),
        "exposure": _ratio(s.exposure),
        "buying_power_blocked": s.buying_power_blocked,
    }


def _figures(s: SymbolSummary, more: bool) -> dict[str, Any]:
    found = {
        "trades": s.trades,
        "wins": s.wins,
        "win_rate": str(s.win_rate),
        "pnl": str(s.pnl.quantize(_CENT)),
        "max_drawdown": str(s.max_drawdown.quantize(_CENT)),
        "races": s.races,
        "anomalies": s.anomalies,
    }
    return {**found, **_more(s)} if more else found


def summary_json(
    strategy: str,
    summaries: Sequence[SymbolSummary],
    bars: int,
    *,
    total: SymbolSummary | None = None,
    facts: RunFacts | None = None,
) -> str:
    """The JSON summary (no timings, so it is deterministic too). With ``total`` and ``facts``
    (every run writes them) it also says what produced it and the figures above; the earlier
    keys keep their names and meanings (``pnl`` is the gross)."""
    trades = sum(s.trades for s in summaries)
    wins = sum(s.wins for s in summaries)
    more = total is not None and facts is not None
    total_figures: dict[str, Any] = {
        "trades": trades,
        "wins": wins,
        "win_rate": str((Decimal(wins) / trades).quantize(_RATE) if trades else 0),
        "pnl": str(sum((s.pnl for s in summaries), _ZERO).quantize(_CENT)),
        "races": sum(s.races for s in summaries),
        "anomalies": sum(s.anomalies for s in summaries),
    }
    if total is not None and more:
        total_figures["max_drawdown"] = str(total.max_drawdown.quantize(_CENT))
        total_figures.update(_more(total))
    document: dict[str, Any] = {
        "strategy": strategy,
        "bars": bars,
        "symbols": {s.symbol: _figures(s, more) for s in summaries},
        "total": total_figures,
    }
    if facts is not None and more:
        document.update(
            {
                "start": facts.sessions[0].isoformat() if facts.sessions else None,
                "end": facts.sessions[-1].isoformat() if facts.sessions else None,
                "sessions": len(facts.sessions),
                "instruments": [s.symbol for s in summaries],
                "parameters": dict(facts.parameters),
                "costs": dict(facts.costs),
                "starting_equity": str(facts.starting_equity),
                "config_hash": facts.config_hash,
                "data_fingerprint": facts.data_fingerprint,
            }
        )
    return json.dumps(document, indent=2) + "\n"
