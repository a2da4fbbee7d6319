"""The paper broker: the matching core behind the Broker protocol, updates published in order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokers import (
    ManualClock,
    NotFoundError,
    OrderRequest,
    OrderSide,
    OrderType,
    PaperBroker,
    TradeUpdate,
    UpdateKind,
)

T0 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def _stop(client_order_id: str) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL",
        qty=Decimal(10),
        side=OrderSide.BUY,
        type=OrderType.STOP,
        stop_price=Decimal("101.5"),
        client_order_id=client_order_id,
    )


class TestFindOrderByClientId:
    def test_a_known_client_id_answers_its_order(self) -> None:
        """find_order_by_client_id answers the order get_order_by_client_id does."""
        broker = PaperBroker(clock=ManualClock(T0))
        placed = broker.submit_order(_stop("p-1"))
        found = broker.find_order_by_client_id("p-1")
        assert found is not None
        assert found == broker.get_order_by_client_id("p-1")
        assert found.id == placed.id

    def test_an_unknown_client_id_answers_none_where_get_raises(self) -> None:
        """ "Not found" is None from find and NotFoundError from get."""
        broker = PaperBroker(clock=ManualClock(T0))
        assert broker.find_order_by_client_id("never-sent") is None
        with pytest.raises(NotFoundError):
            broker.get_order_by_client_id("never-sent")


def test_updates_are_published_as_kinds_before_the_call_returns() -> None:
    """Submit and cancel publish NEW then CANCELED to the subscriber, synchronously."""
    broker = PaperBroker(clock=ManualClock(T0))
    seen: list[TradeUpdate] = []
    broker.subscribe(seen.append)
    placed = broker.submit_order(_stop("p-2"))
    assert [u.kind for u in seen] == [UpdateKind.NEW]
    broker.cancel_order(placed.id)
    assert [u.kind for u in seen] == [UpdateKind.NEW, UpdateKind.CANCELED]
