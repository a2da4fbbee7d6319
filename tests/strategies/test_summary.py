"""The summary (issue 19): every figure on a small fixture worked out by hand."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from strategies.engine import RunFacts, Trade, summarise, summary_json, total_of

D = Decimal
NY = ZoneInfo("America/New_York")
DAYS = (date(2012, 11, 5), date(2012, 11, 6), date(2012, 11, 7))


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2012, 11, 5 + day, hour, minute, tzinfo=NY)


def _trade(symbol: str, pnl: str, opened: datetime, closed: datetime, costs: str = "0") -> Trade:
    return Trade(
        symbol=symbol,
        side="long",
        qty=D(100),
        entry_time=opened,
        entry_price=D(10),
        exit_time=closed,
        exit_price=D(10) + D(pnl) / 100,
        pnl=D(pnl),
        exit_reason="stop",
        entry_order_id=f"s-{symbol}-{opened:%d%H%M}-1-buy",
        commission=D(costs),
    )


#: A: +100 on day 1 (10:00-11:00), -50 on day 2 (10:00-10:30); B: +32 gross, 2 of costs, on
#: day 2 (10:00-11:00, closed before A's loss). Day 3 is flat. Net: +100, +30, -50.
TRADES = [
    _trade("A", "100", _at(0, 10), _at(0, 11)),
    _trade("B", "32", _at(1, 10), _at(1, 10, 20), costs="2"),
    _trade("A", "-50", _at(1, 10), _at(1, 10, 30)),
]
FACTS = RunFacts(
    sessions=DAYS,
    hours={
        d: (
            datetime(d.year, d.month, d.day, 9, 30, tzinfo=NY),
            datetime(d.year, d.month, d.day, 16, 0, tzinfo=NY),
        )
        for d in DAYS
    },
    timezone=NY,
    starting_equity=D(10_000),
    config_hash="c" * 64,
    data_fingerprint="d" * 64,
    parameters={"signal": {"kind": "k"}},
    costs={"commission_minimum": "1"},
    buying_power_blocked={"A": 2},
)


def _sharpe_by_hand(returns: list[float]) -> float:
    mean = sum(returns) / len(returns)
    spread = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    return mean / spread * math.sqrt(252)


class TestSummaryFigures:
    def test_the_total_of_a_known_fixture(self):
        """Trades, win rate, gross/net, costs, drawdown of the net, profit factor, expectancy,
        average win and loss, daily Sharpe and Sortino, exposure — each as worked by hand."""
        per_symbol = summarise(TRADES, ["A", "B"], facts=FACTS)
        total = total_of(TRADES, per_symbol, FACTS)
        assert (total.trades, total.wins, total.win_rate) == (3, 2, D("0.6667"))
        assert (total.pnl, total.costs, total.net_pnl) == (D(82), D(2), D(80))
        assert total.max_drawdown == D(50)  # +100, +30 (peak 130), -50
        assert total.profit_factor == pytest.approx(130 / 50)
        assert total.expectancy == D(80) / 3
        assert (total.average_win, total.average_loss) == (D(65), D(-50))
        returns = [0.01, -0.002, 0.0]  # each session's net over $10,000; the flat day counts
        assert total.sharpe == pytest.approx(_sharpe_by_hand(returns))
        downside = math.sqrt((0.002**2) / 3)
        assert total.sortino == pytest.approx(sum(returns) / 3 / downside * math.sqrt(252))
        # held 1 h on day 1 and 10:00-10:30 on day 2 (B inside A's span), of 3 x 6.5 h
        assert total.exposure == pytest.approx(1.5 / 19.5)
        assert total.buying_power_blocked == 2

    def test_per_symbol_figures_and_undefined_ratios(self):
        """B has no loss and no losing day: its profit factor and Sortino are None, not a
        made-up number; A's drawdown is its own."""
        a, b = summarise(TRADES, ["A", "B"], facts=FACTS)
        assert (a.net_pnl, a.max_drawdown, a.buying_power_blocked) == (D(50), D(50), 2)
        assert (b.pnl, b.commission, b.net_pnl) == (D(32), D(2), D(30))
        assert b.profit_factor is None
        assert b.sortino is None
        assert b.average_loss is None
        assert b.exposure == pytest.approx((20 / 60) / 19.5)

    def test_summary_json_keeps_the_earlier_keys_and_adds_the_rest(self):
        """The earlier keys, in their order and meaning (``pnl`` the gross), then the added
        figures and what produced the run."""
        per_symbol = summarise(TRADES, ["A", "B"], facts=FACTS)
        total = total_of(TRADES, per_symbol, FACTS)
        document = json.loads(summary_json("s", per_symbol, 42, total=total, facts=FACTS))
        assert list(document)[:4] == ["strategy", "bars", "symbols", "total"]
        assert list(document["symbols"]["A"])[:7] == [
            "trades",
            "wins",
            "win_rate",
            "pnl",
            "max_drawdown",
            "races",
            "anomalies",
        ]
        assert document["total"]["pnl"] == "82.00"
        assert document["total"]["net_pnl"] == "80.00"
        assert document["total"]["costs"] == "2.00"
        assert document["symbols"]["B"]["profit_factor"] is None
        assert document["total"]["profit_factor"] == 2.6
        assert (document["start"], document["end"], document["sessions"]) == (
            "2012-11-05",
            "2012-11-07",
            3,
        )
        assert document["instruments"] == ["A", "B"]
        assert document["config_hash"] == "c" * 64
        assert document["data_fingerprint"] == "d" * 64
        assert document["parameters"] == {"signal": {"kind": "k"}}
        assert document["starting_equity"] == "10000"

    def test_without_facts_the_summary_is_as_before(self):
        """Callers that pass no facts get the earlier document, key for key."""
        per_symbol = summarise(TRADES, ["A", "B"])
        document = json.loads(summary_json("s", per_symbol, 42))
        assert set(document) == {"strategy", "bars", "symbols", "total"}
        assert "net_pnl" not in document["total"]
        assert per_symbol[0].sharpe is None
        assert per_symbol[0].exposure is None


def test_a_trade_charged_nothing_nets_its_gross():
    """With no costs, net equals gross (so every earlier figure keeps its value)."""
    trade = _trade("A", "12.5", _at(0, 10), _at(0, 10) + timedelta(minutes=5))
    assert trade.net_pnl == trade.pnl == D("12.5")
