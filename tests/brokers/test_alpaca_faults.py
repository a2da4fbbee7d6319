"""The adapter under the simulated exchange's faults: dropped sockets reconnect and re-announce
themselves without delivering an event twice; lost submit answers are recovered through the
client order id with exactly one order at the exchange; 429/5xx back off and retry only where
repeating cannot act twice."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
import structlog
import websocket

from brokers import (
    AlpacaBroker,
    AlpacaTradeStream,
    BrokerTimeoutError,
    NotFoundError,
    OrderStatus,
    RateLimitedError,
    ReplaceRequest,
    RetryPolicy,
    SimExchange,
    SimFaults,
    UnavailableError,
)

from .alpaca_support import (
    Collector,
    ScriptedSession,
    Sleeps,
    answer,
    settings_for,
    stop_order,
)

POST_ORDERS = ("POST /v2/orders",)


@pytest.fixture
def stream_of(sim: SimExchange) -> Iterator[Callable[..., AlpacaTradeStream]]:
    made: list[AlpacaTradeStream] = []

    def make(*args: Any, **kwargs: Any) -> AlpacaTradeStream:
        stream = AlpacaTradeStream(settings_for(sim), *args, **kwargs)
        made.append(stream)
        return stream

    yield make
    for stream in made:
        stream.stop()
        assert not stream.is_alive


def _heal(sim: SimExchange) -> Callable[[], None]:
    return lambda: setattr(sim, "faults", SimFaults())


def _client_ids(sim: SimExchange) -> list[str]:
    return [o.client_order_id for o in sim.orders()]


class TestStreamDrops:
    def test_socket_dropped_mid_stream_reconnects_without_double_delivery(
        self, sim: SimExchange, stream_of: Callable[..., AlpacaTradeStream]
    ) -> None:
        """The exchange closes the socket after 3 messages (with every message doubled): the
        stream reconnects, on_connect fires again, the reconcile it triggers finds what the
        stream missed, and no (order, event, execution id) is delivered twice."""
        broker = AlpacaBroker(settings_for(sim))
        got = Collector()
        stream = stream_of()
        stream.start(got.on_update, got.on_connect)
        assert got.next_connect() == 1
        sim.faults = SimFaults(duplicate=1.0, close_after=3)
        for i in range(3):
            broker.submit_order(stop_order(f"drop-{i}"))
        assert got.next_connect() == 2
        sim.faults = SimFaults()
        # what the runner does on every on_connect: reconcile over REST what the stream missed
        reconciled = {o.client_order_id for o in broker.list_orders(status="all")}
        broker.submit_order(stop_order("after"))
        delivered = got.until("after")
        keys = [(u.order.id, u.kind, u.execution_id) for u in delivered]
        assert len(keys) == len(set(keys)), "an event was delivered twice"
        streamed = {u.order.client_order_id for u in delivered}
        assert {"drop-0", "drop-1", "after"} <= streamed
        assert streamed | reconciled == {"drop-0", "drop-1", "drop-2", "after"}
        counters = stream.counters
        assert (counters.connects, counters.reconnects, counters.disconnects) == (2, 1, 1)
        assert counters.duplicates >= 1

    def test_client_side_network_loss_reconnects_and_reauthenticates(
        self, sim: SimExchange, stream_of: Callable[..., AlpacaTradeStream]
    ) -> None:
        """Our own socket dies (shut down under the WebSocketApp): a new session authenticates,
        listens and announces itself; later events arrive once."""
        apps: list[websocket.WebSocketApp] = []

        def recording(url: str, **callbacks: Any) -> websocket.WebSocketApp:
            app = websocket.WebSocketApp(url, **callbacks)
            apps.append(app)
            return app

        broker = AlpacaBroker(settings_for(sim))
        got = Collector()
        stream = stream_of(recording)
        with structlog.testing.capture_logs() as logs:
            stream.start(got.on_update, got.on_connect)
            got.next_connect()
            broker.submit_order(stop_order("before"))
            assert [u.order.client_order_id for u in got.take(1)] == ["before"]
            apps[0].sock.sock.shutdown(socket.SHUT_RDWR)
            assert got.next_connect() == 2
            broker.submit_order(stop_order("later"))
            assert [u.order.client_order_id for u in got.take(1)] == ["later"]
        assert len(apps) == 2
        assert got.nothing_more()
        assert [e["event"] for e in logs if e["event"].startswith("stream_re")] == [
            "stream_reconnected"
        ]
        assert "'S'" not in repr([e for e in logs if e["event"] != "frame_dropped"])

    def test_a_replayed_event_after_reconnect_is_dropped(
        self, sim: SimExchange, stream_of: Callable[..., AlpacaTradeStream]
    ) -> None:
        """A venue re-sending, on the new session, an event the old one delivered: the dedup
        memory outlives the socket, so the runner sees it once."""
        frames: list[str | bytes] = []
        sessions = 0

        def replaying(url: str, **callbacks: Any) -> websocket.WebSocketApp:
            nonlocal sessions
            sessions += 1
            on_message = callbacks["on_message"]
            replay = sessions > 1

            def wrapped(app: websocket.WebSocketApp, frame: str | bytes) -> None:
                data = frame if isinstance(frame, bytes) else frame.encode()
                if b"trade_updates" in data and b'"event"' in data:
                    frames.append(frame)
                on_message(app, frame)
                if replay and b'"listening"' in data:
                    for old in list(frames):
                        on_message(app, old)

            callbacks["on_message"] = wrapped
            return websocket.WebSocketApp(url, **callbacks)

        broker = AlpacaBroker(settings_for(sim))
        got = Collector()
        stream = stream_of(replaying)
        stream.start(got.on_update, got.on_connect)
        got.next_connect()
        broker.submit_order(stop_order("once"))
        got.take(1)
        sim.drop_streams()
        assert got.next_connect() == 2
        broker.submit_order(stop_order("sentinel"))
        assert [u.order.client_order_id for u in got.until("sentinel")] == ["sentinel"]
        assert stream.counters.duplicates == 1


class TestSubmitRecovery:
    def test_submit_timed_out_is_recovered_by_client_id_with_one_order(
        self, sim: SimExchange
    ) -> None:
        """The exchange answers the POST after the client gave up: the adapter looks the client
        order id up and adopts the order; exactly one order exists."""
        broker = AlpacaBroker(settings_for(sim, read_timeout=0.3), sleep=Sleeps())
        sim.faults = SimFaults(rest_delay=1.0, rest_delay_routes=POST_ORDERS)
        order = broker.submit_order(stop_order("slow-1"))
        assert order.client_order_id == "slow-1"
        assert _client_ids(sim) == ["slow-1"]
        assert order.id == sim.orders()[0].id
        assert broker.counters.recovered == 1

    def test_submit_without_client_id_gets_one_and_is_recovered(self, sim: SimExchange) -> None:
        """No client order id given: the adapter assigns one, so a timeout is recoverable."""
        broker = AlpacaBroker(settings_for(sim, read_timeout=0.3), sleep=Sleeps())
        sim.faults = SimFaults(rest_delay=1.0, rest_delay_routes=POST_ORDERS)
        order = broker.submit_order(stop_order(None))
        assert len(order.client_order_id) == 36
        assert _client_ids(sim) == [order.client_order_id]

    def test_lost_answer_and_lagging_lookup_resend_then_adopt_late_success(
        self, sim: SimExchange
    ) -> None:
        """Answer lost; the lookup says 404 (the venue lags); the resend gets "must be unique":
        that is a late success, so the order is adopted — one order, never two."""
        state = {"lost": False, "lagged": False}

        def script(method: str, url: str, send: Callable[[], requests.Response]) -> Any:
            if method == "POST" and not state["lost"]:
                state["lost"] = True
                send()
                raise requests.ReadTimeout("answer lost")
            if "by_client_order_id" in url and not state["lagged"]:
                state["lagged"] = True
                return answer(404, b'{"code":40410000,"message":"order not found"}')
            return send()

        session = ScriptedSession(script)
        broker = AlpacaBroker(settings_for(sim), session, sleep=Sleeps())
        order = broker.submit_order(stop_order("late-1"))
        assert order.client_order_id == "late-1"
        assert _client_ids(sim) == ["late-1"]
        assert [m for m, _ in session.sent] == ["POST", "POST", "GET"]

    def test_request_that_never_arrived_is_resent_once_found_absent(self, sim: SimExchange) -> None:
        """The connection failed before sending: the lookup finds nothing, the resend places
        the order."""
        state = {"failed": False}

        def script(method: str, url: str, send: Callable[[], requests.Response]) -> Any:
            if method == "POST" and not state["failed"]:
                state["failed"] = True
                raise requests.ConnectionError("connection reset")
            return send()

        session = ScriptedSession(script)
        broker = AlpacaBroker(settings_for(sim), session, sleep=Sleeps())
        broker.submit_order(stop_order("never-1"))
        assert _client_ids(sim) == ["never-1"]
        assert [m for m, _ in session.sent] == ["GET", "POST"]

    def test_5xx_on_submit_checks_then_resends(self, sim: SimExchange) -> None:
        """A 503 (the venue did not act) → back off, look up (404), resend: one order."""
        sleeps = Sleeps(then=_heal(sim))
        broker = AlpacaBroker(settings_for(sim), sleep=sleeps)
        sim.faults = SimFaults(rest_5xx=1.0)
        broker.submit_order(stop_order("5xx-1"))
        assert _client_ids(sim) == ["5xx-1"]
        assert len(sleeps.delays) == 1

    def test_submit_without_client_id_is_never_retried_blindly(self, sim: SimExchange) -> None:
        """With id assignment off, a submit with no client order id is sent once: a 503 is
        raised, not retried."""
        sleeps = Sleeps()
        broker = AlpacaBroker(settings_for(sim, assign_client_order_ids=False), sleep=sleeps)
        sim.faults = SimFaults(rest_5xx=1.0)
        with pytest.raises(UnavailableError):
            broker.submit_order(stop_order(None))
        assert (sleeps.delays, broker.counters.requests) == ([], 1)

    def test_submit_gives_up_after_the_retry_budget(self, sim: SimExchange) -> None:
        """A venue that keeps timing out: the last error is raised after max_attempts, and the
        one order placed by the first attempt is the only one."""
        sleeps = Sleeps()
        policy = RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002)
        broker = AlpacaBroker(settings_for(sim, read_timeout=0.2, retry=policy), sleep=sleeps)
        sim.faults = SimFaults(rest_delay=0.5)  # every route, the lookups too
        with pytest.raises(BrokerTimeoutError):
            broker.submit_order(stop_order("budget-1"))
        sim.faults = SimFaults()
        assert _client_ids(sim) == ["budget-1"]
        assert len(sleeps.delays) == 2


class TestReplaceRecovery:
    def test_replace_with_new_client_id_timed_out_is_adopted(self, sim: SimExchange) -> None:
        """A PATCH naming a new client order id whose answer is late: adopted by that id; one
        replacement, the old order replaced."""
        broker = AlpacaBroker(settings_for(sim, read_timeout=0.3), sleep=Sleeps())
        old = broker.submit_order(stop_order("stop-1"))
        sim.faults = SimFaults(rest_delay=1.0, rest_delay_routes=("PATCH /v2/orders/*",))
        new = broker.replace_order(
            old.id, ReplaceRequest(stop_price=Decimal("102"), client_order_id="stop-1-r1")
        )
        sim.faults = SimFaults()
        assert (new.client_order_id, new.replaces) == ("stop-1-r1", old.id)
        assert _client_ids(sim) == ["stop-1", "stop-1-r1"]
        sim.land_requests()
        assert broker.get_order(old.id).status is OrderStatus.REPLACED

    def test_replace_without_client_id_is_not_retried_after_a_lost_answer(
        self, sim: SimExchange
    ) -> None:
        """Field lesson 11: without a new client order id a timed-out replace is raised, never
        sent again — there is one replacement, not two live stops."""
        sleeps = Sleeps()
        broker = AlpacaBroker(settings_for(sim, read_timeout=0.3), sleep=sleeps)
        old = broker.submit_order(stop_order("stop-2"))
        sim.faults = SimFaults(rest_delay=1.0, rest_delay_routes=("PATCH /v2/orders/*",))
        with pytest.raises(BrokerTimeoutError):
            broker.replace_order(old.id, ReplaceRequest(stop_price=Decimal("102")))
        sim.faults = SimFaults()
        assert sleeps.delays == []
        sim.land_requests()
        assert len(sim.orders()) == 2
        assert [o.is_open for o in sim.orders()] == [False, True]


class TestBackoff:
    def test_429_backs_off_then_succeeds(self, sim: SimExchange) -> None:
        """A 429 waits a jittered backoff (within the policy's ceiling), then the submit
        succeeds; one order; the retry is logged without the keys."""
        sleeps = Sleeps(then=_heal(sim))
        broker = AlpacaBroker(settings_for(sim), sleep=sleeps)
        sim.faults = SimFaults(rest_429=1.0)
        with structlog.testing.capture_logs() as logs:
            order = broker.submit_order(stop_order("429-1"))
        assert order.client_order_id == "429-1"
        assert _client_ids(sim) == ["429-1"]
        [delay] = sleeps.delays
        assert 0 <= delay <= 0.01
        [retry] = [e for e in logs if e["event"] == "rest_retry"]
        assert (retry["status"], retry["error"]) == (429, "RateLimitedError")
        assert retry["log_level"] == "warning"  # the venue pushed back, even if the retry works
        assert broker.counters.retries == 1
        assert "'S'" not in repr(logs)

    def test_persistent_429_gives_up_with_growing_bounded_waits(self, sim: SimExchange) -> None:
        """Still 429 after max_attempts: RateLimitedError; each wait under its exponential
        ceiling, capped at max_backoff."""
        sleeps = Sleeps()
        policy = RetryPolicy(max_attempts=5, initial_backoff=0.001, max_backoff=0.004)
        broker = AlpacaBroker(settings_for(sim, retry=policy), sleep=sleeps)
        sim.faults = SimFaults(rest_429=1.0)
        with pytest.raises(RateLimitedError):
            broker.get_account()
        ceilings = [0.001, 0.002, 0.004, 0.004]
        assert len(sleeps.delays) == 4
        assert all(0 <= d <= c for d, c in zip(sleeps.delays, ceilings, strict=True))

    def test_5xx_on_a_read_and_on_cancel_is_retried(self, sim: SimExchange) -> None:
        """GETs and cancel are idempotent: a 503 is retried after a backoff."""
        broker = AlpacaBroker(settings_for(sim), sleep=Sleeps(then=_heal(sim)))
        order = broker.submit_order(stop_order("idem-1"))
        sim.faults = SimFaults(rest_5xx=1.0)
        assert broker.get_order(order.id).id == order.id
        sim.faults = SimFaults(rest_5xx=1.0)
        broker.cancel_order(order.id)
        sim.land_requests()
        assert broker.get_order(order.id).status is OrderStatus.CANCELED
        assert broker.counters.retries == 2

    def test_close_position_is_never_repeated_after_a_5xx(self, sim: SimExchange) -> None:
        """Closing a position is not idempotent: a 503 is raised at once."""
        sleeps = Sleeps()
        broker = AlpacaBroker(settings_for(sim), sleep=sleeps)
        sim.faults = SimFaults(rest_5xx=1.0)
        with pytest.raises(UnavailableError):
            broker.close_position("AAPL")
        assert sleeps.delays == []

    def test_connection_refused_is_unavailable_after_retries(self) -> None:
        """Nothing listening: UnavailableError once the retry budget is spent."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        sleeps = Sleeps()

        class Closed:
            rest_url = f"http://127.0.0.1:{port}"
            trading_stream_url = data_stream_url = f"ws://127.0.0.1:{port}/stream"

        broker = AlpacaBroker(settings_for(Closed), sleep=sleeps)  # type: ignore[arg-type]
        with pytest.raises(UnavailableError):
            broker.list_orders()
        assert len(sleeps.delays) == 3

    def test_not_found_is_a_rejection_and_not_retried(self, sim: SimExchange) -> None:
        """A 404 is an answer, not a failure: no retry."""
        sleeps = Sleeps()
        broker = AlpacaBroker(settings_for(sim), sleep=sleeps)
        with pytest.raises(NotFoundError):
            broker.get_order_by_client_id("missing")
        assert sleeps.delays == []
