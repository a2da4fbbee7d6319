"""The adapter's REST side against the simulated exchange: the same scenarios the official SDK's
conformance test drives, through our ``AlpacaBroker``, plus settings and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import structlog

from brokers import (
    AlpacaBroker,
    AlpacaSettings,
    AuthenticationError,
    Broker,
    DuplicateClientOrderIdError,
    InvalidOrderError,
    ManualClock,
    NotCancelableError,
    NotFoundError,
    OrderSide,
    OrderStatus,
    ReplaceRequest,
    SimExchange,
    VenueError,
    absence_is_evidence,
)

from .alpaca_support import ScriptedSession, answer, settings_for, stop_order
from .conftest import T0, make_bar


@pytest.fixture
def broker(sim: SimExchange) -> Iterator[AlpacaBroker]:
    adapter = AlpacaBroker(settings_for(sim))
    yield adapter
    adapter.close()


class TestConformance:
    def test_account(self, broker: AlpacaBroker) -> None:
        """get_account parses the venue's account into ours."""
        account = broker.get_account()
        assert (account.status, account.currency, account.cash) == (
            "ACTIVE",
            "USD",
            Decimal(100000),
        )

    def test_submit_stop_order_and_get_it_back(self, broker: AlpacaBroker) -> None:
        """A stop order is accepted and found by client id, by id, and among open orders."""
        order = broker.submit_order(stop_order("ad-1"))
        assert order.status is OrderStatus.ACCEPTED
        assert (order.qty, order.stop_price, order.side) == (
            Decimal(10),
            Decimal("101.5"),
            OrderSide.BUY,
        )
        assert broker.get_order_by_client_id("ad-1").id == order.id
        assert broker.get_order(order.id).client_order_id == "ad-1"
        assert [o.id for o in broker.list_orders(status="open", symbols=["AAPL"])] == [order.id]

    def test_duplicate_client_id_is_rejected_not_retried(
        self, sim: SimExchange, broker: AlpacaBroker
    ) -> None:
        """A reused client order id raises DuplicateClientOrderIdError (422) at once."""
        broker.submit_order(stop_order("ad-dup"))
        sent = broker.counters.requests
        with pytest.raises(DuplicateClientOrderIdError) as caught:
            broker.submit_order(stop_order("ad-dup", price="120"))
        assert (caught.value.status, caught.value.code) == (422, 40010001)
        assert broker.counters.requests == sent + 1
        assert len(sim.orders()) == 1

    def test_replace_stop_gives_new_order_and_old_is_replaced(
        self, sim: SimExchange, broker: AlpacaBroker
    ) -> None:
        """replace_order returns a new order; the old one is replaced by it once it lands."""
        old = broker.submit_order(stop_order("ad-r"))
        new = broker.replace_order(old.id, ReplaceRequest(stop_price=Decimal("102")))
        assert new.id != old.id
        assert (new.replaces, new.stop_price) == (old.id, Decimal(102))
        assert broker.get_order(old.id).status is OrderStatus.PENDING_REPLACE
        sim.land_requests()
        again = broker.get_order(old.id)
        assert (again.status, again.replaced_by) == (OrderStatus.REPLACED, new.id)

    def test_cancel_then_cancel_again_is_not_cancelable(
        self, sim: SimExchange, broker: AlpacaBroker
    ) -> None:
        """cancel succeeds (pending until it lands); the second raises NotCancelableError."""
        order = broker.submit_order(stop_order("ad-c"))
        broker.cancel_order(order.id)
        assert broker.get_order(order.id).status is OrderStatus.PENDING_CANCEL
        sim.land_requests()
        assert broker.get_order(order.id).status is OrderStatus.CANCELED
        with pytest.raises(NotCancelableError) as caught:
            broker.cancel_order(order.id)
        assert (caught.value.status, caught.value.code) == (422, 42210000)

    def test_positions_then_close_position(self, sim: SimExchange, broker: AlpacaBroker) -> None:
        """A filled stop shows as a long position; close_position sends the selling order."""
        assert broker.list_positions() == []
        broker.submit_order(stop_order("ad-p", price="101"))
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101.25"))
        [position] = broker.list_positions()
        assert (position.symbol, position.qty, position.avg_entry_price) == (
            "AAPL",
            Decimal(10),
            Decimal(101),
        )
        closing = broker.close_position("AAPL")
        assert (closing.side, closing.qty) == (OrderSide.SELL, Decimal(10))
        with pytest.raises(NotFoundError):
            broker.close_position("MSFT")

    def test_broker_satisfies_the_protocol(self, broker: AlpacaBroker) -> None:
        """AlpacaBroker is a Broker (checked statically; here, that it can be used as one)."""
        as_protocol: Broker = broker
        assert as_protocol.list_orders(status="all") == []


class TestErrors:
    def test_wrong_secret_is_authentication_error(self, sim: SimExchange) -> None:
        """401 becomes AuthenticationError, a rejection that is never retried."""
        adapter = AlpacaBroker(settings_for(sim, secret_key="wrong"))
        with pytest.raises(AuthenticationError):
            adapter.get_account()
        assert adapter.counters == type(adapter.counters)(requests=1, retries=0, recovered=0)

    def test_unknown_order_is_not_found(self, broker: AlpacaBroker) -> None:
        """A 404 for an order id or a client id becomes NotFoundError."""
        with pytest.raises(NotFoundError):
            broker.get_order("4f6d6a3e-8f0e-4a43-9d2a-5b0c1e2d3f40")
        assert broker.find_order_by_client_id("nobody") is None

    def test_malformed_order_id_is_invalid(self, broker: AlpacaBroker) -> None:
        """The venue's 422 for a non-UUID id becomes InvalidOrderError."""
        with pytest.raises(InvalidOrderError):
            broker.get_order("not-a-uuid")

    def test_an_answer_that_is_not_json_is_a_venue_error(self, sim: SimExchange) -> None:
        """A 200 whose body cannot be read raises VenueError (the venue's fault)."""
        session = ScriptedSession(lambda method, url, send: answer(200, b"<html>oops"))
        with pytest.raises(VenueError):
            AlpacaBroker(settings_for(sim), session).get_account()

    def test_an_answer_of_the_wrong_shape_is_a_venue_error(self, sim: SimExchange) -> None:
        """A list where an object belongs (or a missing field) raises VenueError."""
        session = ScriptedSession(lambda method, url, send: answer(200, b'{"id": 1}'))
        adapter = AlpacaBroker(settings_for(sim), session)
        with pytest.raises(VenueError):
            adapter.get_account()
        with pytest.raises(VenueError):
            adapter.list_positions()


class TestSettings:
    def test_defaults_are_alpaca_paper_endpoints(self) -> None:
        """Three separate endpoints; REST base without /v2."""
        settings = AlpacaSettings()
        assert settings.rest_url == "https://paper-api.alpaca.markets"
        assert settings.trading_stream_url == "wss://paper-api.alpaca.markets/stream"
        assert settings.data_stream_url == "wss://stream.data.alpaca.markets/v2/iex"
        with pytest.raises(ValueError, match="without /v2"):
            AlpacaSettings(rest_url="http://127.0.0.1:1/v2")

    def test_keys_come_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """from_env reads APCA_API_KEY_ID and APCA_API_SECRET_KEY."""
        monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST")
        monkeypatch.setenv("APCA_API_SECRET_KEY", "very-secret-value")
        settings = AlpacaSettings.from_env(read_timeout=3.0)
        assert (settings.key_id, settings.secret_key, settings.read_timeout) == (
            "PKTEST",
            "very-secret-value",
            3.0,
        )

    def test_missing_environment_names_the_variable_not_a_value(self) -> None:
        """A missing key names the variable."""
        with pytest.raises(ValueError, match="APCA_API_SECRET_KEY"):
            AlpacaSettings.from_env({"APCA_API_KEY_ID": "PKTEST"})

    def test_repr_never_shows_the_keys(self) -> None:
        """repr/str of settings and broker mask the key id and the secret."""
        settings = AlpacaSettings(key_id="PKTEST", secret_key="very-secret-value")
        for text in (repr(settings), str(settings), repr(AlpacaBroker(settings))):
            assert "very-secret-value" not in text
            assert "PKTEST" not in text
        assert "secret_key='***'" in repr(settings)


class TestGracePeriod:
    def test_not_found_for_a_young_order_is_not_evidence(self, broker: AlpacaBroker) -> None:
        """Field lesson 6: "not found" proves absence only once the grace period has passed."""
        clock, grace = ManualClock(T0), timedelta(seconds=5)
        sent_at = T0
        assert broker.find_order_by_client_id("just-sent") is None
        clock.advance(timedelta(seconds=2))
        assert absence_is_evidence(sent_at, clock.now(), grace) is False
        clock.advance(timedelta(seconds=3))
        assert absence_is_evidence(sent_at, clock.now(), grace) is True

    def test_find_by_client_id_answers_the_order_once_it_exists(self, broker: AlpacaBroker) -> None:
        """find_order_by_client_id is get_order_by_client_id with None for "not found"."""
        placed = broker.submit_order(stop_order("found-1"))
        found = broker.find_order_by_client_id("found-1")
        assert found is not None
        assert found.id == placed.id
        with pytest.raises(NotFoundError):
            broker.get_order_by_client_id("never-sent")


def test_no_log_line_carries_a_key(make_sim) -> None:
    """Requests, retries, rejections and recoveries log without the key id or the secret."""
    secret, key = "s3cr3t-never-logged", "PK-never-logged"
    sim = make_sim(key_id=key, secret_key=secret)
    adapter = AlpacaBroker(settings_for(sim, key_id=key, secret_key=secret))
    with structlog.testing.capture_logs() as logs:
        adapter.submit_order(stop_order("log-1"))
        with pytest.raises(DuplicateClientOrderIdError):
            adapter.submit_order(stop_order("log-1"))
        with pytest.raises(AuthenticationError):
            AlpacaBroker(settings_for(sim, key_id=key, secret_key="wrong")).get_account()
    text = repr(logs)
    assert secret not in text
    assert key not in text
