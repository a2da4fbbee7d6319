"""Issue 14's must-shows, live against the twin with its default (Alpaca paper) rules.

A month of opening-range breakouts (the 21 sessions of November 2012, demo data, five symbols),
live in lock-step (the default of ``tickstate run`` on the simulated exchange) over real sockets
through the Alpaca adapter. To keep it affordable each session plays 09:30-10:30 only (the range
is 09:30-09:45; entries until 10:10, square-off 10:20), as fast as the run acknowledges. The
account holds $10,000,000 (and so does the replay's twin): buying power (row 18) is not what this
test is about, and a $100,000 account refuses GOOG's and IBM's sizes while other symbols' orders
are open.

- Both sides trade: the pair rests one leg at a time (``Rules.one_resting_leg``), so Alpaca's
  wash-trade rule (row 1) never refuses the second leg; no order is refused at all.
- Partial entry fills (row 21, about one fill in ten) are protected: the remainder is cancelled,
  the stop follows its answer within a bound, and nothing is flattened by force.
- The trades are the replay's, byte for byte: ``tickstate replay`` (the twin model, the same seed
  and account) of the same bars writes the same ``trades.csv``.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from brokers import AlpacaBroker, LockStep, SimExchange
from machines import ClientOrderId, OrderRole
from strategies.run import (
    RunSettings,
    daily_history,
    load_bars,
    run_live,
    run_replay,
    split_sessions,
)
from strategies.spec import StrategySpec
from tests.live.support import ROOT, STALL_PROOF, FillLog, audit, positions_of

NY = ZoneInfo("America/New_York")
SPEED = 1e9  # as fast as the run acknowledges: lock-step holds the exchange to the run
CASH = Decimal(10_000_000)
STOP_WITHIN = 60.0  # market seconds from an entry's first fill to its protection
MONTH = date(2012, 11, 1), 21


def _orb() -> StrategySpec:
    raw = tomllib.loads((ROOT / "examples" / "opening_range.toml").read_text(encoding="utf-8"))
    raw["square_off"] = "10:20"
    raw["entry_window"]["end"] = "10:10"
    return StrategySpec.model_validate(raw)


def _key(trade) -> tuple[str, date, str]:
    return trade.symbol, trade.entry_time.astimezone(NY).date(), trade.side


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """The month live over real sockets (and its replay): trades, orders, positions, refusals."""
    spec = _orb()
    start, days = MONTH
    bars = load_bars(
        ROOT / "data" / "intraday_1min",
        symbols=spec.symbols,
        dates=(date(2012, 10, 25), date(2012, 12, 5)),
    )
    earlier, live = split_sessions(bars, spec, days, start)
    window = [b for b in live if time(9, 30) <= b.start.astimezone(NY).time() < time(10, 30)]
    tmp = tmp_path_factory.mktemp("month")
    replay = run_replay(
        spec,
        window,
        out_dir=tmp / "replay",
        history=daily_history(spec, earlier),
        seed=spec.broker.seed,
        cash=CASH,
    )
    sim = SimExchange(
        window,
        speed=SPEED,
        session_tz=str(spec.session.hours().timezone),
        hold_until_subscribed=True,
        history=earlier,
        cash=CASH,
        lockstep=LockStep(),
        seed=spec.broker.seed,
    ).start()
    fills = FillLog()
    fills.install(sim)
    try:
        result = run_live(
            spec,
            bars=window,
            settings=RunSettings(poll_interval=0.5, lockstep_timeout=STALL_PROOF),
            exchange=sim,
        )
        trades, _summary = result.write(spec.name, tmp / "live")
        rest = AlpacaBroker(sim.client_settings())
        orders = rest.list_orders(status="all", limit=500)
        rest.close()
        positions = positions_of(sim, spec.symbols)
        refusals = dict(sim.refusals)
    finally:
        sim.stop()
    return spec, replay, result, orders, positions, refusals, fills, trades


class TestOpeningRangeOnAlpacasRules:
    def test_orb_trades_both_sides_and_nothing_is_refused_as_a_wash_trade(self, month):
        """Every symbol trades long and short over the month; the venue refused no order (a
        cancel overtaken by its fill aside)."""
        spec, _replay, result, orders, _positions, refusals, _fills, _trades = month
        sides = {(t.symbol, t.side) for t in result.engine.recorder.trades}
        assert sides == {(s, side) for s in spec.symbols for side in ("long", "short")}
        # A cancel that lost its race to a fill is answered 422 (row 7): Alpaca's normal, not an
        # order refused. Nothing else may be.
        assert refusals.get("WashTradeError", 0) == 0
        # A 404 answers a lookup of an order the venue does not know yet (the not-found grace),
        # or a cancel of one already gone: an answer, not an order refused.
        answers = {"NotCancelableError", "NotFoundError"}
        assert {k: n for k, n in refusals.items() if k not in answers} == {}
        legs = [o for o in orders if _role(o) is OrderRole.ENTRY]
        assert {o.side.value for o in legs} == {"buy", "sell"}

    def test_partial_entry_fills_are_protected_without_a_forced_flatten(self, month):
        """An entry filled in part has its remainder cancelled and a stop for what filled, within
        a minute of market time of its first fill (the cancel's answer comes at the venue's next
        moment); no anomaly, no halt, the books are clean and flat."""
        spec, _replay, result, orders, positions, _refusals, fills, _trades = month
        partial = [
            o
            for o in orders
            if _role(o) is OrderRole.ENTRY and 0 < o.filled_qty < o.qty and not o.is_open
        ]
        assert partial, "the month holds entries the venue filled in part (row 21)"
        assert (
            audit(
                spec=spec,
                orders=orders,
                positions=positions,
                journal=None,
                fills=fills,
                speed=1.0,  # lock-step: the bound is in the exchange's (market) seconds
                stop_within=STOP_WITHIN,
            )
            == []
        )
        counters = result.engine.desk.counters()
        assert counters.anomalies == 0
        assert not any(s.is_halted for s in result.engine.desk.snapshots())
        assert {t.exit_reason for t in result.engine.recorder.trades} <= {
            "stop",
            "target",
            "square_off",
        }

    def test_live_trades_are_the_replays(self, month):
        """The month live writes exactly the trades.csv that tickstate replay writes for the same
        bars, strategy, seed and account."""
        _spec, replay, result, _orders, _positions, _refusals, _fills, trades = month
        assert len(replay.trades) > 80
        assert result.lockstep_timeouts == 0  # a moment that went on early would differ too
        assert trades.read_bytes() == replay.trades_path.read_bytes()


def _role(order) -> OrderRole:
    cid = ClientOrderId.parse(order.client_order_id)
    assert cid is not None
    return cid.role
