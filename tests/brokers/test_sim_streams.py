"""The simulated exchange's WebSockets: the trading stream's handshake and event sequences, and
the bar stream in JSON and msgpack, driven with websocket-client."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgpack
import pytest
import websocket

from brokers import SimExchange

from .conftest import TIMEOUT, Rest, StreamClient, make_bar


class TestTradingStreamHandshake:
    def test_authenticate_then_listen_as_the_reference_shows(self, stream: StreamClient) -> None:
        """authenticate → authorization/authorized; listen → listening trade_updates."""
        assert stream.auth == {
            "stream": "authorization",
            "data": {"status": "authorized", "action": "authenticate"},
        }
        assert stream.listening == {"stream": "listening", "data": {"streams": ["trade_updates"]}}

    def test_wrong_keys_are_unauthorized_and_closed(self, sim: SimExchange) -> None:
        """A wrong secret gets status unauthorized, then the exchange closes the socket."""
        ws = websocket.create_connection(sim.trading_stream_url, timeout=TIMEOUT)
        ws.send(json.dumps({"action": "authenticate", "data": {"key_id": "K", "secret_key": "x"}}))
        answer = json.loads(ws.recv())
        assert answer["data"]["status"] == "unauthorized"
        opcode, _ = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        ws.close()

    def test_a_second_session_for_the_key_is_refused_until_the_first_is_gone(
        self, sim: SimExchange
    ) -> None:
        """One live session per key (row 12): a second handshake is refused with 429 while the
        first lives; once it has closed, a new one is taken."""
        first = StreamClient(sim)
        try:
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                StreamClient(sim)
            assert refused.value.status_code == 429
        finally:
            first.close()
        assert sim.wait_for_listeners(0, TIMEOUT)
        second = StreamClient(sim)
        try:
            assert second.auth["data"]["status"] == "authorized"
        finally:
            second.close()


class TestTradeUpdateSequences:
    def test_submit_gives_new_with_the_full_order(self, rest: Rest, stream: StreamClient) -> None:
        """A submit is followed by ``new``, carrying the full order and a timestamp."""
        placed = rest.submit(client_order_id="s-1").json()
        [(event, data)] = stream.events(1)
        assert event == "new"
        assert data["order"]["id"] == placed["id"]
        assert data["order"]["status"] == "new"
        assert data["execution_id"] is None
        assert data["timestamp"].endswith("Z")
        assert "price" not in data

    def test_fill_carries_price_qty_and_position(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """A bar through the stop fills it: ``fill`` with cumulative quantities and position."""
        rest.submit(stop_price="101")
        stream.events(1)
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101.2"))
        [(event, data)] = stream.events(1)
        assert event == "fill"
        assert (data["price"], data["qty"], data["position_qty"]) == ("101", "10", "10")
        assert data["order"]["filled_qty"] == "10"
        assert data["order"]["filled_avg_price"] == "101"
        assert data["order"]["status"] == "filled"
        assert data["execution_id"]

    def test_replace_gives_replaced_then_new(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """Replace A→B: ``pending_replace`` (A); when it lands ``replaced`` (A, replaced_by B)
        then ``new`` (B)."""
        old = rest.submit().json()
        stream.events(1)
        new = rest("PATCH", f"/orders/{old['id']}", json={"stop_price": "102"}).json()
        [(pending, data)] = stream.events(1)
        assert (pending, data["order"]["status"]) == ("pending_replace", "pending_replace")
        sim.land_requests()
        (e1, d1), (e2, d2) = stream.events(2)
        assert (e1, d1["order"]["id"], d1["order"]["replaced_by"]) == (
            "replaced",
            old["id"],
            new["id"],
        )
        assert (e2, d2["order"]["id"], d2["order"]["replaces"]) == ("new", new["id"], old["id"])

    def test_cancel_gives_canceled(self, sim: SimExchange, rest: Rest, stream: StreamClient) -> None:
        """Cancel: 204, ``pending_cancel``, then ``canceled`` when it lands."""
        placed = rest.submit().json()
        stream.events(1)
        rest("DELETE", f"/orders/{placed['id']}")
        [(pending, _)] = stream.events(1)
        assert pending == "pending_cancel"
        sim.land_requests()
        [(event, data)] = stream.events(1)
        assert (event, data["order"]["status"]) == ("canceled", "canceled")
        assert data["order"]["canceled_at"]

    def test_session_close_expires_day_orders(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """At the session's end a working DAY order gets ``expired``; a GTC one keeps working,
        ``done_for_day``."""
        day = rest.submit().json()
        gtc = rest.submit(time_in_force="gtc").json()
        stream.events(2)
        sim.close_session()
        (event, data), (resting, later) = stream.events(2)
        assert (event, data["order"]["id"]) == ("expired", day["id"])
        assert (resting, later["order"]["id"]) == ("done_for_day", gtc["id"])

    def test_not_listening_gets_no_updates(self, sim: SimExchange, rest: Rest) -> None:
        """An authenticated session that never listened receives nothing."""
        quiet = StreamClient(sim, listen=False)
        try:
            rest.submit()
            quiet.ws.settimeout(0.3)
            with pytest.raises(websocket.WebSocketTimeoutException):
                quiet.ws.recv()
        finally:
            quiet.close()


def _data_client(sim: SimExchange, *, packed: bool) -> tuple[websocket.WebSocket, Any]:
    header = ["Content-Type: application/msgpack"] if packed else []
    ws = websocket.create_connection(sim.data_stream_url, timeout=TIMEOUT, header=header)

    def recv() -> list[dict[str, Any]]:
        opcode, data = ws.recv_data()
        if packed:
            assert opcode == websocket.ABNF.OPCODE_BINARY
            return msgpack.unpackb(data)
        assert opcode == websocket.ABNF.OPCODE_TEXT
        return json.loads(data)

    def send(message: dict[str, Any]) -> None:
        if packed:
            ws.send_binary(msgpack.packb(message))
        else:
            ws.send(json.dumps(message))

    assert recv() == [{"T": "success", "msg": "connected"}]
    send({"action": "auth", "key": "K", "secret": "S"})
    assert recv() == [{"T": "success", "msg": "authenticated"}]
    send({"action": "subscribe", "bars": ["AAPL"]})
    [subscription] = recv()  # every channel listed, as Alpaca lists them; only bars asked for
    assert subscription == {"T": "subscription", **{key: [] for key in CHANNELS}, "bars": ["AAPL"]}
    return ws, recv


CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds",
            "corrections", "cancelErrors")


class TestBarStream:
    def test_json_bars_in_text_frames(self, sim: SimExchange) -> None:
        """Handshake as the reference shows; a subscribed bar arrives as a JSON array."""
        ws, recv = _data_client(sim, packed=False)
        try:
            sim.feed_bar(
                make_bar(0, "100", "101", "99.5", "100.5", symbol="MSFT")
            )  # not subscribed
            sim.feed_bar(make_bar(1, "100", "101", "99.5", "100.5"))
            [message] = recv()
            assert message == {
                "T": "b",
                "S": "AAPL",
                "o": 100.0,
                "h": 101.0,
                "l": 99.5,
                "c": 100.5,
                "v": 1000,
                "t": "2026-11-23T14:31:00Z",
                "n": 10,
                "vw": 100.0,
            }
        finally:
            ws.close()

    def test_msgpack_bars_with_a_timestamp(self, sim: SimExchange) -> None:
        """A client that asks for msgpack gets binary frames, ``t`` a msgpack Timestamp."""
        ws, recv = _data_client(sim, packed=True)
        try:
            sim.feed_bar(make_bar(2, "100", "101", "99.5", "100.5"))
            [message] = recv()
            assert isinstance(message["t"], msgpack.Timestamp)
            assert message["t"].to_datetime() == datetime(2026, 11, 23, 14, 32, tzinfo=UTC)
            assert (message["T"], message["S"], message["c"]) == ("b", "AAPL", 100.5)
        finally:
            ws.close()

    def test_bad_keys_get_error_402(self, sim: SimExchange) -> None:
        """Wrong keys are answered with an error message, then the socket closes."""
        ws = websocket.create_connection(sim.data_stream_url, timeout=TIMEOUT)
        try:
            ws.recv()
            ws.send(json.dumps({"action": "auth", "key": "K", "secret": "nope"}))
            assert json.loads(ws.recv()) == [{"T": "error", "code": 402, "msg": "auth failed"}]
        finally:
            ws.close()


class TestReplay:
    def test_replay_fills_before_the_bar_and_expires_at_the_day_end(self, make_sim) -> None:
        """Recorded bars replay on the virtual clock: fill event, then the bar; DAY orders
        expire when the day ends; ``finished`` is set when the data ends."""
        bars = [make_bar(i, "100", "100.5", "99.5", "100") for i in range(1, 4)]
        bars[1] = make_bar(2, "100.5", "101.5", "100.25", "101")
        sim = make_sim(bars, speed=600.0)  # a minute in 0.1 s
        stream = StreamClient(sim)
        ws, recv = _data_client(sim, packed=False)
        try:
            rest = Rest(sim)
            rest.submit(stop_price="101")  # before the first bar ends: matched from bar 2
            # a sell limit far above (a sell stop would be a wash trade): never reached, expires
            rest.submit(side="sell", type="limit", stop_price=None, limit_price="110")
            assert [e for e, _ in stream.events(2)] == ["new", "new"]
            starts = [recv()[0]["t"] for _ in range(3)]
            assert starts == [
                "2026-11-23T14:31:00Z",
                "2026-11-23T14:32:00Z",
                "2026-11-23T14:33:00Z",
            ]
            (fill, data), (expired, _) = stream.events(2)
            assert (fill, data["price"]) == ("fill", "101")
            assert expired == "expired"
            assert sim.finished.wait(TIMEOUT)
        finally:
            stream.close()
            ws.close()
