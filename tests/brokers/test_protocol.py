"""The broker protocol: every broker offers all of it, and "not found" is read one way for all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brokers import AlpacaBroker, Broker, PaperBroker, absence_is_evidence

T0 = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
GRACE = timedelta(seconds=10)


def _members() -> list[str]:
    return sorted(name for name in vars(Broker) if not name.startswith("_"))


def test_the_protocol_looks_orders_up_by_client_id_both_ways():
    """Broker has get_order_by_client_id (raises) and find_order_by_client_id (None)."""
    assert {"get_order_by_client_id", "find_order_by_client_id"} <= set(_members())


@pytest.mark.parametrize("kind", [PaperBroker, AlpacaBroker])
def test_every_broker_offers_every_method_of_the_protocol(kind: type) -> None:
    """The paper broker and the Alpaca adapter define each method Broker names."""
    assert [name for name in _members() if not callable(getattr(kind, name, None))] == []


class TestAbsenceIsEvidence:
    @pytest.mark.parametrize(
        ("elapsed", "proves"),
        [
            (timedelta(0), False),
            (timedelta(seconds=9, microseconds=999_999), False),
            (GRACE, True),
            (timedelta(minutes=5), True),
        ],
    )
    def test_not_found_proves_absence_only_once_the_grace_has_passed(
        self, elapsed: timedelta, proves: bool
    ) -> None:
        """Field lesson 6: within the grace a "not found" proves nothing; from its end on, it does."""
        assert absence_is_evidence(T0, T0 + elapsed, GRACE) is proves

    def test_a_clock_behind_the_send_time_proves_nothing(self) -> None:
        """A "now" before the order was sent (clock skew) is never evidence."""
        assert absence_is_evidence(T0, T0 - timedelta(seconds=30), GRACE) is False
