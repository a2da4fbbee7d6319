"""The adapter's streams against the simulated exchange: trade updates and bars arrive typed, on
named threads, after an ``on_connect``; bad frames and failing handlers are survived; stop() ends
the thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import structlog
import websocket

from brokers import (
    AlpacaBarStream,
    AlpacaBroker,
    AlpacaSettings,
    AlpacaTradeStream,
    BarStream,
    SimExchange,
    SimFaults,
    TradeUpdate,
    TradeUpdateStream,
    UpdateKind,
)
from brokers.alpaca._wire_streams import trade_update_to_json

from .alpaca_support import WAIT, Collector, settings_for, stop_order
from .conftest import T0, make_bar

Streams = Callable[..., Any]


@pytest.fixture
def broker(sim: SimExchange) -> Iterator[AlpacaBroker]:
    adapter = AlpacaBroker(settings_for(sim))
    yield adapter
    adapter.close()


@pytest.fixture
def streams() -> Iterator[Streams]:
    """Builds streams and stops every one of them after the test."""
    made: list[AlpacaTradeStream | AlpacaBarStream] = []

    def make(kind: type[AlpacaTradeStream | AlpacaBarStream], *args: Any, **kwargs: Any) -> Any:
        stream = kind(*args, **kwargs)
        made.append(stream)
        return stream

    yield make
    for stream in made:
        stream.stop()
        assert not stream.is_alive


def _injecting(frames: list[str | bytes]) -> Callable[..., websocket.WebSocketApp]:
    """A WebSocket factory whose first session receives ``frames`` right after the handshake."""
    sessions = 0

    def factory(url: str, **callbacks: Any) -> websocket.WebSocketApp:
        nonlocal sessions
        sessions += 1
        on_message = callbacks["on_message"]
        first = sessions == 1

        def wrapped(app: websocket.WebSocketApp, frame: str | bytes) -> None:
            on_message(app, frame)
            if (
                first
                and frames
                and b"listening" in (frame if isinstance(frame, bytes) else frame.encode())
            ):
                for bad in frames:
                    on_message(app, bad)

        callbacks["on_message"] = wrapped
        return websocket.WebSocketApp(url, **callbacks)

    return factory


class TestTradeStream:
    def test_updates_arrive_typed_after_on_connect(
        self, sim: SimExchange, broker: AlpacaBroker, streams: Streams
    ) -> None:
        """new, new, fill, pending_cancel, canceled arrive in order, each once, after the first
        on_connect."""
        got = Collector()
        stream: TradeUpdateStream = streams(AlpacaTradeStream, settings_for(sim))
        stream.start(got.on_update, got.on_connect)
        assert got.next_connect() == 1
        filled = broker.submit_order(stop_order("st-1", price="101"))
        other = broker.submit_order(stop_order("st-2", price="150"))
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101.25"))
        broker.cancel_order(other.id)
        sim.land_requests()
        updates = got.take(5)
        assert [(u.kind, u.order.id) for u in updates] == [
            (UpdateKind.NEW, filled.id),
            (UpdateKind.NEW, other.id),
            (UpdateKind.FILL, filled.id),
            (UpdateKind.PENDING_CANCEL, other.id),
            (UpdateKind.CANCELED, other.id),
        ]
        fill = updates[2]
        assert (fill.price, fill.qty, fill.position_qty) == (Decimal(101), Decimal(10), Decimal(10))
        assert fill.execution_id is not None
        assert fill.order.filled_qty == Decimal(10)

    def test_runs_on_a_named_thread_and_stop_joins_it(
        self, sim: SimExchange, broker: AlpacaBroker
    ) -> None:
        """Handlers run on 'tickstate-trade-stream'; stop() ends that thread."""
        threads: list[str] = []
        got = Collector()
        stream = AlpacaTradeStream(settings_for(sim))
        stream.start(lambda u: threads.append(threading.current_thread().name), got.on_connect)
        got.next_connect()
        broker.submit_order(stop_order("thread-1"))
        assert sim.wait_for_listeners(1, WAIT)
        stream.stop()
        assert not stream.is_alive
        assert not [t for t in threading.enumerate() if t.name == "tickstate-trade-stream"]
        assert set(threads) <= {"tickstate-trade-stream"}

    def test_duplicates_from_the_venue_are_delivered_once(
        self, sim: SimExchange, broker: AlpacaBroker, streams: Streams
    ) -> None:
        """With every message sent twice, each (order, kind, execution id) arrives once."""
        got = Collector()
        stream = streams(AlpacaTradeStream, settings_for(sim))
        stream.start(got.on_update, got.on_connect)
        got.next_connect()
        sim.faults = SimFaults(duplicate=1.0)
        broker.submit_order(stop_order("dup-1", price="101"))
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101.25"))
        sim.faults = SimFaults()
        broker.submit_order(stop_order("sentinel"))
        kinds = [(u.kind, u.order.client_order_id) for u in got.until("sentinel")]
        assert kinds == [
            (UpdateKind.NEW, "dup-1"),
            (UpdateKind.FILL, "dup-1"),
            (UpdateKind.NEW, "sentinel"),
        ]
        assert stream.counters.duplicates == 2

    def test_malformed_frames_are_logged_counted_and_dropped(
        self, sim: SimExchange, broker: AlpacaBroker, streams: Streams
    ) -> None:
        """Bad bytes, bad JSON, a wrong shape, an unknown stream and an unknown event never stop
        the stream."""
        order = broker.submit_order(stop_order("before-garbage"))
        message = trade_update_to_json(TradeUpdate(kind=UpdateKind.NEW, order=order, timestamp=T0))
        message["data"]["event"] = "order_teleported"
        bad: list[str | bytes] = [
            b"\xff\xfe not utf-8",
            "{not json",
            b'{"stream":"trade_updates","data":{"event":"new"}}',
            '["a", "list"]',
            '{"stream":"mystery","data":{}}',
            json.dumps(message).encode(),
        ]
        got = Collector()
        stream = streams(AlpacaTradeStream, settings_for(sim), _injecting(bad))
        with structlog.testing.capture_logs() as logs:
            stream.start(got.on_update, got.on_connect)
            got.next_connect()
            broker.submit_order(stop_order("after-garbage"))
            [update] = got.take(1)
        assert update.order.client_order_id == "after-garbage"
        assert stream.counters.dropped_frames == len(bad)
        dropped = [entry for entry in logs if entry["event"] == "frame_dropped"]
        assert len(dropped) == len(bad)
        assert any("unknown event 'order_teleported'" in entry["reason"] for entry in dropped)
        assert stream.counters.connects == 1

    def test_a_failing_handler_is_logged_and_the_stream_goes_on(
        self, sim: SimExchange, broker: AlpacaBroker, streams: Streams
    ) -> None:
        """An exception in on_update is counted; the next update still arrives."""
        got = Collector()

        def fragile(update: Any) -> None:
            if update.order.client_order_id == "boom":
                raise RuntimeError("handler bug")
            got.on_update(update)

        stream = streams(AlpacaTradeStream, settings_for(sim))
        stream.start(fragile, got.on_connect)
        got.next_connect()
        broker.submit_order(stop_order("boom"))
        broker.submit_order(stop_order("fine"))
        [update] = got.take(1)
        assert update.order.client_order_id == "fine"
        assert stream.counters.handler_errors == 1

    def test_wrong_keys_end_the_stream_without_retrying(
        self, sim: SimExchange, streams: Streams
    ) -> None:
        """An unauthorized answer is fatal: no on_connect, the thread ends, the secret unlogged."""
        got = Collector()
        stream = streams(AlpacaTradeStream, settings_for(sim, secret_key="wrong-secret-xyz"))
        with structlog.testing.capture_logs() as logs:
            stream.start(got.on_update, got.on_connect)
            stream._thread.join(WAIT)
        assert not stream.is_alive
        assert got.connects.empty()
        assert any(entry["event"] == "stream_auth_failed" for entry in logs)
        assert "wrong-secret-xyz" not in repr(logs)


class TestBarStream:
    def test_bars_arrive_typed_after_on_connect(self, sim: SimExchange, streams: Streams) -> None:
        """Subscribed bars arrive as Bar values (text frames), on 'tickstate-bar-stream'."""
        got = Collector()
        names: list[str] = []

        def on_bar(bar: Any) -> None:
            names.append(threading.current_thread().name)
            got.on_bar(bar)

        stream: BarStream = streams(AlpacaBarStream, settings_for(sim))
        stream.start(["AAPL"], on_bar, got.on_connect)
        assert got.next_connect() == 1
        sim.feed_bar(make_bar(3, "100", "101", "99.5", "100.75"))
        sim.feed_bar(make_bar(3, "50", "51", "49", "50.5", symbol="MSFT"))  # not subscribed
        sim.feed_bar(make_bar(4, "100.75", "102", "100.5", "101"))
        first, second = got.bars.get(timeout=WAIT), got.bars.get(timeout=WAIT)
        assert (first.symbol, first.open, first.high, first.low, first.close) == (
            "AAPL",
            Decimal(100),
            Decimal(101),
            Decimal("99.5"),
            Decimal("100.75"),
        )
        assert first.start.isoformat() == "2026-11-23T14:33:00+00:00"
        assert second.close == Decimal(101)
        assert set(names) == {"tickstate-bar-stream"}

    def test_bar_stream_resubscribes_after_a_drop(self, sim: SimExchange, streams: Streams) -> None:
        """After the exchange closes the socket: reconnect, re-auth, re-subscribe, on_connect;
        the drop is logged at warning (not asked for), the reconnection at info."""
        got = Collector()
        stream = streams(AlpacaBarStream, settings_for(sim))
        stream.start(["AAPL"], got.on_bar, got.on_connect)
        got.next_connect()
        with structlog.testing.capture_logs() as logs:
            sim.drop_streams()
            assert got.next_connect() == 2
        levels = {e["event"]: e["log_level"] for e in logs}
        assert levels["stream_disconnected"] == "warning"
        assert levels["stream_reconnected"] == "info"
        sim.feed_bar(make_bar(5, "100", "101", "99", "100"))
        assert got.bars.get(timeout=WAIT).symbol == "AAPL"
        assert stream.counters.reconnects == 1

    def test_bar_stream_needs_symbols(self) -> None:
        """Starting without symbols is refused up front."""
        with pytest.raises(ValueError, match="symbol"):
            AlpacaBarStream(AlpacaSettings()).start([], print, print)
