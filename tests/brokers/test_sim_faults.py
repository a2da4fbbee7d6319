"""The fault knobs: each one observable, off by default, changeable at run time, and seeded."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import websocket

from brokers import ALPACA_PAPER, SimExchange, SimFaults
from brokers.alpaca._wire_streams import update_kind_to_wire
from brokers.sim._faults import FaultDice, StreamShaper

from .conftest import TIMEOUT, Rest, StreamClient, make_bar


def _sentinel_events(sim: SimExchange, stream: StreamClient, rest: Rest) -> list[tuple[str, str]]:
    """Turn the knobs off, submit a sentinel, and return (event, client id) up to it."""
    sim.faults = SimFaults()
    rest.submit(client_order_id="sentinel")
    seen = []
    while True:
        event, data = stream.events(1)[0]
        if data["order"]["client_order_id"] == "sentinel":
            return seen
        seen.append((event, data["order"]["client_order_id"]))


def _lossy_run(seed: int) -> list[tuple[str, str]]:
    with SimExchange(seed=seed, faults=SimFaults(drop=0.4, duplicate=0.4)) as sim:
        rest, stream = Rest(sim), StreamClient(sim)
        try:
            for i in range(20):
                rest.submit(client_order_id=f"o-{i}")
            return _sentinel_events(sim, stream, rest)
        finally:
            stream.close()


class TestStreamKnobs:
    def test_drop_and_duplicate_are_seeded(self) -> None:
        """Same seed, same requests → the same messages dropped and duplicated."""
        first, second = _lossy_run(7), _lossy_run(7)
        assert first == second
        ids = [cid for _, cid in first]
        assert len(set(ids)) < 20, "some were dropped"
        assert len(ids) > len(set(ids)), "some were duplicated"

    def test_drop_everything(self, sim: SimExchange, rest: Rest, stream: StreamClient) -> None:
        """drop=1 loses every trade update."""
        sim.faults = SimFaults(drop=1.0)
        rest.submit(client_order_id="lost")
        assert _sentinel_events(sim, stream, rest) == []

    def test_duplicate_fill_keeps_its_execution_id(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """duplicate=1 sends each message twice, the fill's execution id unchanged."""
        rest.submit(stop_price="101")
        stream.events(1)
        sim.faults = SimFaults(duplicate=1.0)
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101"))
        (e1, d1), (e2, d2) = stream.events(2)
        assert e1 == e2 == "fill"
        assert d1["execution_id"] == d2["execution_id"]

    def test_delay_holds_messages(self, sim: SimExchange, rest: Rest, stream: StreamClient) -> None:
        """delay=1 with delay_ms=200: the event arrives at least 200 ms after the answer."""
        sim.faults = SimFaults(delay=1.0, delay_ms=200)
        rest.submit()
        answered = time.monotonic()
        stream.events(1)
        assert time.monotonic() - answered >= 0.18

    def test_reorder_swaps_with_the_next_message(self, make_sim) -> None:
        """reorder=1: a replace's ``replaced`` arrives after its ``new`` (on a venue whose
        replaces land at once, so the two go out back to back)."""
        sim = make_sim(rules=dataclasses.replace(ALPACA_PAPER, order_latency=timedelta(0)))
        rest, stream = Rest(sim), StreamClient(sim)
        try:
            old = rest.submit().json()
            stream.events(1)
            sim.faults = SimFaults(reorder=1.0)
            rest("PATCH", f"/orders/{old['id']}", json={"stop_price": "102"})
            assert [e for e, _ in stream.events(2)] == ["new", "replaced"]
        finally:
            stream.close()
            rest.session.close()

    @pytest.mark.parametrize(
        "faults",
        [SimFaults(delay=1.0, delay_ms=5), SimFaults(reorder=1.0)],
        ids=["delay", "reorder"],
    )
    def test_a_held_message_counts_as_sent_from_when_it_is_held(self, faults: SimFaults) -> None:
        """Lock-step waits for what the trading stream counts as sent: a message a fault holds
        back is promised (to the two sessions listening) when it is held, so the moment that
        sent it waits for it, and it is handed over later with that promise, not counted again."""

        async def scenario() -> tuple[list[int], list[tuple[bytes, int | None]]]:
            promised: list[int] = []
            handed: list[tuple[bytes, int | None]] = []
            left = asyncio.get_running_loop().create_future()

            def promise() -> int:
                promised.append(2)
                return 2

            def deliver(message: bytes, owed: int | None) -> None:
                handed.append((message, owed))
                if not left.done():
                    left.set_result(None)

            def echo(message: bytes) -> None:  # no duplicates here: would show in ``handed``
                handed.append((message, None))

            shaper = StreamShaper(FaultDice(faults, seed=1), deliver, promise, echo)
            shaper.send(b"held")
            assert (promised, handed) == ([2], [])  # counted, not yet on its way
            await asyncio.wait_for(left, TIMEOUT)
            return promised, handed

        assert asyncio.run(scenario()) == ([2], [(b"held", 2)])

    def test_a_duplicates_second_copy_is_sent_and_never_waited_for(self) -> None:
        """duplicate=1: the message goes out counted, its copy through ``echo``, uncounted —
        the client drops it as a duplicate, so lock-step waiting for it would time out."""

        async def scenario() -> list[tuple[str, bytes, int | None]]:
            sent: list[tuple[str, bytes, int | None]] = []
            shaper = StreamShaper(
                FaultDice(SimFaults(duplicate=1.0), seed=1),
                lambda message, owed: sent.append(("counted", message, owed)),
                lambda: 1,
                lambda message: sent.append(("echo", message, None)),
            )
            shaper.send(b"twice")
            return sent

        assert asyncio.run(scenario()) == [("counted", b"twice", None), ("echo", b"twice", None)]

    def test_close_after_n_messages(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """close_after=2 closes the trading socket after two trade updates."""
        sim.faults = SimFaults(close_after=2)
        for i in range(3):
            rest.submit(client_order_id=f"c-{i}")
        assert len(stream.events(2)) == 2
        opcode, _ = stream.ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE

    def test_drop_streams_closes_every_socket(self, sim: SimExchange, stream: StreamClient) -> None:
        """drop_streams() closes the live sessions; a new one can authenticate again."""
        sim.drop_streams()
        opcode, _ = stream.ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        again = StreamClient(sim)
        assert again.auth["data"]["status"] == "authorized"
        again.close()


class TestRestKnobs:
    def test_429_and_5xx_are_seeded(self, make_sim) -> None:
        """rest_429 / rest_5xx answer before carrying out; the same seed, the same answers."""
        faults = SimFaults(rest_429=0.3, rest_5xx=0.3, rest_5xx_status=504)
        runs = []
        for _ in range(2):
            sim = make_sim(seed=3, faults=faults)
            rest = Rest(sim)
            runs.append([rest.submit(client_order_id=f"x-{i}").status_code for i in range(30)])
            placed = sim.orders()
            assert len(placed) == runs[-1].count(200)
        assert runs[0] == runs[1]
        assert {200, 429, 504} == set(runs[0])

    def test_failures_can_be_aimed_at_some_routes(self, sim: SimExchange, rest: Rest) -> None:
        """``rest_fail_routes`` limits 429/5xx to the matching ``METHOD /path``: every submit
        fails while reads answer."""
        sim.faults = SimFaults(rest_5xx=1.0, rest_fail_routes=("POST /v2/orders",))
        assert rest.submit(client_order_id="aimed").status_code == 503
        assert rest("GET", "/account").status_code == 200
        assert sim.orders() == []

    def test_failures_can_end_after_the_first_few(self, sim: SimExchange, rest: Rest) -> None:
        """``rest_fail_first``: the first N matching requests fail, the next ones answer."""
        sim.faults = SimFaults(
            rest_5xx=1.0, rest_fail_routes=("POST /v2/orders",), rest_fail_first=2
        )
        codes = [rest.submit(client_order_id=f"n-{i}").status_code for i in range(3)]
        assert codes == [503, 503, 200]
        assert [o.client_order_id for o in sim.orders()] == ["n-2"]

    def test_delay_past_the_client_timeout_still_places_the_order(
        self, sim: SimExchange, rest: Rest
    ) -> None:
        """A submit that times out at the client was carried out: recover by client id."""
        sim.faults = SimFaults(rest_delay=1.0, rest_delay_routes=("POST /v2/orders",))
        body = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "client_order_id": "slow",
        }
        with pytest.raises(requests.ReadTimeout):
            rest("POST", "/orders", timeout=0.3, json=body)
        found = rest("GET", "/orders:by_client_order_id", params={"client_order_id": "slow"})
        assert found.status_code == 200  # GET is not a delayed route
        sim.faults = SimFaults()
        assert (
            rest.submit(client_order_id="slow").json()["message"]
            == "client_order_id must be unique"
        )
        assert [o.client_order_id for o in sim.orders()] == ["slow"]

    def test_stream_before_response(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """With stream_before_response the ``new`` event arrives while the POST still waits."""
        sim.faults = SimFaults(
            stream_before_response=True, rest_delay=0.5, rest_delay_routes=("POST /v2/orders",)
        )
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(rest.submit, client_order_id="early")
            [(event, data)] = stream.events(1)
            assert not answer.done()
            assert answer.result(TIMEOUT).status_code == 200
        assert (event, data["order"]["client_order_id"]) == ("new", "early")

    def test_response_before_stream_by_default(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """Without the knob, the stream event waits for the (delayed) answer to go out."""
        sim.faults = SimFaults(rest_delay=0.3, rest_delay_routes=("POST /v2/orders",))
        sent = time.monotonic()
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(rest.submit, client_order_id="late")
            stream.events(1)
            assert time.monotonic() - sent >= 0.29
            assert answer.result(TIMEOUT).status_code == 200

    def test_cancel_of_a_filled_order_answers_204(
        self, sim: SimExchange, rest: Rest, stream: StreamClient
    ) -> None:
        """cancel_filled_204=1: DELETE of a filled order is 204 and sends no event."""
        placed = rest.submit(stop_price="101").json()
        sim.feed_bar(make_bar(0, "100.5", "101.5", "100", "101"))
        assert rest("DELETE", f"/orders/{placed['id']}").status_code == 422
        sim.faults = SimFaults(cancel_filled_204=1.0)
        assert rest("DELETE", f"/orders/{placed['id']}").status_code == 204
        assert rest("GET", f"/orders/{placed['id']}").json()["status"] == "filled"
        assert [e for e, _ in _sentinel_events(sim, stream, rest)] == ["new", "fill"]


def _partial_run(seed: int) -> list[tuple[str, str]]:
    with SimExchange(seed=seed, start=make_bar(0, "1", "1", "1", "1").start) as sim:
        rest, stream = Rest(sim), StreamClient(sim)
        try:
            sim.faults = SimFaults(partial_fill=1.0)
            rest.submit(qty="100", type="market", stop_price=None)
            stream.events(1)
            fills = []
            for i in range(40):
                for update in sim.feed_bar(make_bar(i, "100", "100", "100", "100")):
                    fills.append((update_kind_to_wire(update.kind), str(update.order.filled_qty)))
                if fills and fills[-1][0] == "fill":
                    break
            streamed = [(e, d["order"]["filled_qty"]) for e, d in stream.events(len(fills))]
            assert streamed == fills
            return fills
        finally:
            stream.close()


def test_partial_fills_are_cumulative_and_seeded() -> None:
    """partial_fill=1: partial fills grow the cumulative quantity; the same seed, the same fills."""
    first = _partial_run(11)
    assert first == _partial_run(11)
    assert first[0][0] == "partial_fill"
    quantities = [int(q) for _, q in first]
    assert quantities == sorted(set(quantities))


def test_faults_validate_probabilities() -> None:
    """A probability outside [0, 1] is refused when the knobs are built."""
    with pytest.raises(ValueError, match="drop"):
        SimFaults(drop=1.5)


def test_knobs_change_at_run_time(sim: SimExchange, rest: Rest) -> None:
    """Replacing ``faults`` takes effect on the next request."""
    sim.faults = SimFaults(rest_5xx=1.0)
    assert rest("GET", "/account").status_code == 503
    sim.faults = SimFaults()
    assert rest("GET", "/account").status_code == 200


def test_no_thread_left_behind(make_sim) -> None:
    """stop() ends the exchange's thread."""
    sim = make_sim()
    sim.stop()
    assert not [t for t in threading.enumerate() if t.name == "tickstate-sim" and t.is_alive()]
