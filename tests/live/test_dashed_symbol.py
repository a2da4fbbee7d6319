"""A symbol with a dash (``BRK-B``) trades end to end, and what the broker refuses reaches it.

Client order ids read ``{strategy}-{symbol}-{date}-{attempt}-{tag}``: a reader that splits at
the first dash after the strategy routed a rejection for ``BRK-B`` to a phantom machine ``BRK``
while ``BRK-B`` stayed ``entry_pending`` forever. Here AAPL's demo bars trade as ``BRK-B``: the
replay must give AAPL's trades exactly, the live run over real sockets must trade it, and a
rejected entry must bring ``BRK-B`` itself back to flat.
"""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import AlpacaBroker, Bar, SimExchange
from machines import ClientOrderId, OutcomeKind
from strategies.engine import Fired
from strategies.run import RunSettings, first_sessions, load_bars, run_live, run_replay
from strategies.spec import StrategySpec, validate_strategy

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2012, 11, 15)  # 80-20 trades AAPL long that day (10:55 ET)
DASHED = "BRK-B"


def spec_for(symbol: str) -> StrategySpec:
    """The 80-20 example trading one symbol."""
    text = (ROOT / "examples" / "eighty_twenty.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text, parse_float=Decimal)
    data["instruments"] = [{"symbol": symbol, "tick": "0.01"}]
    return validate_strategy(data)


@pytest.fixture(scope="module")
def aapl_bars() -> list[Bar]:
    return [b for b in load_bars(ROOT / "data" / "intraday_5min") if b.symbol == "AAPL"]


@pytest.fixture(scope="module")
def dashed_bars(aapl_bars) -> list[Bar]:
    return [dataclasses.replace(b, symbol=DASHED) for b in aapl_bars]


def _renamed(csv: bytes) -> bytes:
    return csv.replace(b"AAPL", DASHED.encode())


class TestDashedSymbol:
    def test_a_replay_of_brk_b_trades_exactly_what_aapl_did(self, aapl_bars, dashed_bars, tmp_path):
        """The same prices under a dashed name give the same trades, byte for byte (renamed)."""
        plain = run_replay(spec_for("AAPL"), aapl_bars, out_dir=tmp_path / "aapl")
        dashed = run_replay(spec_for(DASHED), dashed_bars, out_dir=tmp_path / "brk")
        assert len(plain.trades) > 10
        assert dashed.trades_path.read_bytes() == _renamed(plain.trades_path.read_bytes())
        for trade in dashed.trades:
            cid = ClientOrderId.parse(trade.entry_order_id)
            assert cid is not None
            assert cid.symbol == DASHED

    def test_a_live_run_on_the_simulated_exchange_trades_brk_b(self, dashed_bars):
        """Over real sockets: BRK-B trades and ends flat; no machine but BRK-B's exists."""
        spec = spec_for(DASHED)
        bars, history = first_sessions(dashed_bars, spec, 1, DAY)
        sim = SimExchange(bars, speed=4000, rate_limit=100_000, hold_until_subscribed=True).start()
        try:
            result = run_live(
                spec, bars=bars, history=history, settings=RunSettings(poll_interval=0.5), exchange=sim
            )
            rest = AlpacaBroker(sim.client_settings())
            orders = rest.list_orders(status="all", limit=500)
            positions = rest.list_positions()
            rest.close()
        finally:
            sim.stop()
        assert [t.symbol for t in result.engine.recorder.trades] == [DASHED]
        assert orders
        assert {ClientOrderId.parse(o.client_order_id).symbol for o in orders} == {DASHED}
        assert positions == []
        assert result.engine.desk.symbols() == (DASHED,)
        snapshot = result.engine.desk.machine(DASHED).snapshot()
        assert (snapshot.is_settled, snapshot.anomalies) == (True, 0)

    def test_a_rejected_entry_reaches_brk_b_itself(self, dashed_bars):
        """The exchange refuses the entry (buying power): BRK-B's own machine learns it and is
        flat again; no phantom ``BRK`` machine is made."""
        spec = spec_for(DASHED)
        bars, history = first_sessions(dashed_bars, spec, 1, DAY)
        rejections: list[Fired] = []

        def watch(fired: Fired) -> None:
            if fired.outcome.trigger == "entry_rejected":
                rejections.append(fired)

        sim = SimExchange(
            bars, speed=4000, rate_limit=100_000, cash=Decimal(1000), hold_until_subscribed=True
        ).start()
        try:
            result = run_live(
                spec,
                bars=bars,
                history=history,
                settings=RunSettings(poll_interval=0.5),
                exchange=sim,
                observers=(watch,),
            )
        finally:
            sim.stop()
        assert rejections, "the entry was never refused"
        (first, *_) = rejections
        assert first.outcome.kind is OutcomeKind.ACCEPTED
        assert first.outcome.snapshot.symbol == DASHED
        assert first.outcome.snapshot.is_flat
        assert result.engine.desk.symbols() == (DASHED,)
        assert result.engine.recorder.trades == []
