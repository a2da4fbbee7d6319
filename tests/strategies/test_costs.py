"""Costs and limits (issue 19): commission, slippage, buying power; net = gross - costs."""

from __future__ import annotations

import csv
import functools
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from machines import FixedTick
from strategies import SpecError
from strategies.engine import CostModel, TradeRecorder
from strategies.run import (
    around_the_sessions,
    daily_history,
    load_bars,
    run_replay,
    split_sessions,
)
from strategies.spec import StrategySpec, load_strategy, validate_strategy

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
MINUTES = ROOT / "data" / "intraday_1min"
ORB = ROOT / "examples" / "opening_range.toml"
CENT = FixedTick(D("0.01"))
T0 = datetime(2012, 11, 1, 14, 30, tzinfo=UTC)
COSTS = {
    "commission_per_share": D("0.005"),
    "commission_minimum": D("1.00"),
    "slippage_ticks": 1,
}


def _with_costs(spec: StrategySpec, **costs: object) -> StrategySpec:
    data = spec.model_dump(mode="json")
    data["costs"] = {k: v for k, v in {**data["costs"], **costs}.items() if v is not None}
    return validate_strategy(data, base_dir=ROOT / "examples")


class TestCostModel:
    def test_commission_is_per_order_with_its_minimum_paid_once(self):
        """0.005 a share, at least $1 an order: 100 shares pay $1, 1,000 pay $5; an order filled
        in two parts pays what its whole fill costs, not two minimums."""
        model = CostModel(commission_per_share=D("0.005"), commission_minimum=D("1"))
        assert model.commission(D(100), D(10_000)) == D("1.00")
        assert model.commission(D(1000), D(100_000)) == D("5.00")
        assert model.commission(D(0), D(0)) == D(0)
        recorder = TradeRecorder(costs=model)
        for qty in (D(60), D(40)):  # one entry order, two partial fills
            recorder.on_fill(
                symbol="AAPL", buy=True, qty=qty, price=D(100), at=T0, client_order_id="e"
            )
        recorder.on_fill(
            symbol="AAPL", buy=False, qty=D(100), price=D(101), at=T0, client_order_id="x"
        )
        (trade,) = recorder.trades
        assert trade.commission == D("2.00")  # $1 for the entry, $1 for the exit

    def test_percent_of_notional(self):
        """0.1 % of a $10,000 fill is $10, rounded to the cent."""
        model = CostModel(commission_percent=D("0.1"))
        assert model.commission(D(100), D("10000")) == D("10.00")
        assert model.commission(D(3), D("10.005")) == D("0.01")

    @pytest.mark.parametrize(
        ("model", "buy", "price", "expected"),
        [
            (CostModel(slippage_ticks=2), True, D("100.00"), D("100.02")),
            (CostModel(slippage_ticks=2), False, D("100.00"), D("99.98")),
            # 3 bps of 100.00 is 0.03; of 100.01 it is 0.030003, rounded toward the loss
            (CostModel(slippage_bps=D(3)), True, D("100.01"), D("100.05")),
            (CostModel(slippage_bps=D(3)), False, D("100.01"), D("99.97")),
            (CostModel(slippage_bps=D(3)), True, D("100.00"), D("100.03")),
        ],
    )
    def test_slippage_goes_against_the_trader_and_rounds_toward_the_loss(
        self, model, buy, price, expected
    ):
        """A buy pays more, a sell gets less; off the tick, the price rounds to the worse tick."""
        assert model.slipped(price, buy=buy, tick=CENT) == expected

    def test_negative_or_double_slippage_is_refused(self):
        """A cost model cannot pay the trader, nor slip in two units at once."""
        with pytest.raises(ValueError, match="must not be negative"):
            CostModel(commission_per_share=D("-0.01"))
        with pytest.raises(ValueError, match="not both"):
            CostModel(slippage_ticks=1, slippage_bps=D(1))


class TestTradeByTrade:
    def test_net_is_gross_less_commission_and_slippage(self):
        """A long of 200 at 50.00 out at 51.00: gross 200, commission 1 + 1, slippage 2 x 2.00;
        a limit fill (no slippage) pays only its commission."""
        recorder = TradeRecorder(costs=CostModel(commission_minimum=D(1), slippage_ticks=1))
        later = T0 + timedelta(minutes=5)
        recorder.on_fill(symbol="X", buy=True, qty=D(200), price=D(50), at=T0, client_order_id="a")
        recorder.on_fill(
            symbol="X", buy=False, qty=D(200), price=D(51), at=later, client_order_id="b"
        )
        recorder.on_fill(
            symbol="X", buy=True, qty=D(10), price=D(50), at=later, client_order_id="c", slips=False
        )
        recorder.on_fill(
            symbol="X",
            buy=False,
            qty=D(10),
            price=D(50),
            at=later,
            client_order_id="d",
            slips=False,
        )
        first, second = recorder.trades
        assert (first.pnl, first.commission, first.slippage) == (D(200), D(2), D(4))
        assert first.net_pnl == D(194) == first.pnl - first.costs
        assert (second.pnl, second.slippage, second.net_pnl) == (D(0), D(0), D(-2))


@functools.cache
def _month(days: int = 2):
    """ORB, 2012-11-01 and -02 as tickstate replay plays them, with their look-back."""
    spec = load_strategy(ORB)
    bars = load_bars(MINUTES, symbols=spec.symbols, dates=(date(2012, 10, 25), date(2012, 11, 6)))
    earlier, live = split_sessions(bars, spec, days, date(2012, 11, 1))
    return spec, earlier, around_the_sessions(spec, live)


def _replay(spec, tmp_path: Path, model: str):
    base, earlier, live = _month()
    return run_replay(
        spec, live, out_dir=tmp_path, model=model, history=daily_history(base, earlier)
    )


class TestReplayWithCosts:
    @pytest.mark.parametrize("model", ["twin", "plain"])
    def test_net_pnl_is_gross_less_costs_trade_by_trade(self, model, tmp_path):
        """ORB over two sessions with commission and a tick of slippage: every trade's net is
        its gross less its costs, in memory and in trades.csv; the fills are those of the run
        without costs; the summary's total is the sum of the trades."""
        base = _month()[0]
        free = _replay(base, tmp_path / "free", model)
        charged = _replay(_with_costs(base, **COSTS), tmp_path / "costs", model)
        assert len(charged.trades) >= 5
        assert [(t.entry_order_id, t.pnl) for t in charged.trades] == [
            (t.entry_order_id, t.pnl) for t in free.trades
        ]
        for trade in charged.trades:
            assert trade.commission >= D(2)  # an entry and an exit order, $1 at least each
            assert trade.slippage == trade.qty * D("0.01") * 2  # one tick in, one tick out
            assert trade.net_pnl == trade.pnl - trade.commission - trade.slippage
        rows = list(csv.DictReader(io.StringIO(charged.trades_path.read_text())))
        for row in rows:
            assert D(row["net_pnl"]) == D(row["pnl"]) - D(row["costs"])
            assert D(row["costs"]) == D(row["commission"]) + D(row["slippage"])
        total = charged.total
        assert total.net_pnl == sum((t.net_pnl for t in charged.trades), D(0))
        assert total.costs == sum((t.costs for t in charged.trades), D(0)) > 0
        assert "net_pnl" not in free.trades_path.read_text()  # no cost columns when free

    @pytest.mark.parametrize("model", ["twin", "plain"])
    def test_buying_power_declines_an_oversized_entry_and_counts_it(self, model, tmp_path):
        """A $500 risk budget on a $100,000 cash account (leverage 1): ORB's sizes (up to
        $236,000 of IBM) are declined before they are sent, counted as buying_power_blocked,
        and no position held more than the account could buy."""
        spec = _with_costs(_month()[0], cash=D(100_000), leverage=D(1))
        result = _replay(spec, tmp_path, model)
        assert result.total.buying_power_blocked >= 3
        assert sum(s.buying_power_blocked for s in result.summaries) == (
            result.total.buying_power_blocked
        )
        for trade in result.trades:
            assert trade.qty * trade.entry_price <= D(100_000) + abs(trade.pnl)


class TestSpec:
    @pytest.mark.parametrize(
        ("costs", "message"),
        [
            ("commission_per_share = -1", "costs.commission_per_share: must be >= 0, got -1"),
            ("slippage_ticks = 1\nslippage_bps = 2", "costs.slippage_bps: set slippage_ticks"),
            ("leverage = 5", "costs.leverage: must be <= 4, got 5"),
            ("cash = 0", "costs.cash: must be > 0, got 0"),
            ('commission_minimum = "x"', "costs.commission_minimum: must be a decimal"),
        ],
    )
    def test_a_bad_cost_is_one_line_naming_its_key(self, costs, message, tmp_path):
        """Each mistake in [costs] is one line: file, key path, problem."""
        path = tmp_path / "s.toml"
        path.write_text(ORB.read_text() + f"\n[costs]\n{costs}\n")
        with pytest.raises(SpecError) as caught:
            load_strategy(path)
        text = str(caught.value)
        assert "\n" not in text
        assert text.startswith(f"{path}: {message}")

    def test_costs_are_decimal_and_default_to_nothing(self):
        """Without [costs] nothing is charged and the venue's account applies."""
        spec = load_strategy(ORB)
        assert not spec.costs.charges
        assert not spec.costs.limits_buying_power
        charged = _with_costs(spec, commission_percent="0.05")
        assert charged.costs.commission_percent == D("0.05")
        assert isinstance(charged.costs.commission_percent, Decimal)
