"""The runner reads its orders in batches of symbols, its own prefix only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from brokers import ManualClock, OrderRequest, OrderSide, OrderType, PaperBroker, TimeInForce
from strategies.run._listing import list_own_orders


class TestListingInBatches:
    def test_two_thousand_instruments_are_read_in_batches_of_a_hundred(self):
        """No query names more than 100 symbols; every order of every batch is found."""
        paper = PaperBroker(clock=ManualClock(datetime(2026, 11, 23, 15, tzinfo=UTC)))
        asked: list[int] = []
        listing = paper.list_orders

        def counting(**kwargs):
            asked.append(len(kwargs["symbols"]))
            return listing(**kwargs)

        paper.list_orders = counting  # type: ignore[method-assign]
        symbols = [f"S{n:04d}" for n in range(2000)]
        for symbol in symbols[::250]:
            for cid in (f"mine-{symbol}-1", f"theirs-{symbol}-1"):
                paper.submit_order(
                    OrderRequest(
                        symbol=symbol,
                        qty=Decimal(1),
                        side=OrderSide.BUY,
                        type=OrderType.STOP,
                        time_in_force=TimeInForce.DAY,
                        stop_price=Decimal("10"),
                        client_order_id=cid,
                    )
                )
        found = list_own_orders(paper, symbols, prefix="mine-")
        assert asked == [100] * 20
        assert sorted(found) == sorted(f"mine-{s}-1" for s in symbols[::250])
