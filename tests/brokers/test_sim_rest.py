"""The simulated exchange's REST API, driven with plain ``requests`` as Alpaca documents it."""

from __future__ import annotations

import uuid

import pytest

from brokers import SimExchange
from brokers.alpaca._wire import ORDER_FIELDS, UNAUTHORIZED_BODY

from .conftest import HEADERS, Rest, make_bar


class TestAccountAndAuth:
    def test_account_is_active_with_decimal_strings(self, rest: Rest) -> None:
        """GET /v2/account answers an ACTIVE account whose money fields are strings."""
        body = rest("GET", "/account").json()
        uuid.UUID(body["id"])
        assert body["status"] == "ACTIVE"
        assert body["cash"] == "100000"
        assert isinstance(body["buying_power"], str)

    @pytest.mark.parametrize(
        "headers",
        [{}, {"APCA-API-KEY-ID": "K"}, {"APCA-API-KEY-ID": "K", "APCA-API-SECRET-KEY": "x"}],
    )
    def test_missing_or_wrong_keys_get_401_with_the_exact_body(
        self, sim: SimExchange, headers: dict[str, str]
    ) -> None:
        """Every request without the right key pair is refused with Alpaca's 401 body."""
        import requests

        response = requests.get(sim.rest_url + "/v2/account", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED_BODY

    def test_rate_limit_answers_429_past_the_limit(self, make_sim) -> None:
        """Past ``rate_limit`` requests in the window, a key gets 429 with a JSON error."""
        sim = make_sim(rate_limit=5)
        client = Rest(sim)
        codes = [client("GET", "/account").status_code for _ in range(7)]
        assert codes == [200] * 5 + [429, 429]
        assert client("GET", "/account").json()["code"] == 42910000

    def test_clock_reports_the_session(self, rest: Rest) -> None:
        """GET /v2/clock follows the exchange's clock (T0 is the Monday open)."""
        body = rest("GET", "/clock").json()
        assert body["timestamp"] == "2026-11-23T14:30:00Z"
        assert body["is_open"] is True
        assert body["next_close"] == "2026-11-23T21:00:00Z"


class TestOrders:
    def test_submit_stop_order_answers_accepted_with_every_field(self, rest: Rest) -> None:
        """POST /v2/orders is 200 with the full Order object, status accepted."""
        response = rest.submit(qty=10.0, stop_price=101.5, client_order_id="e-1")
        assert response.status_code == 200
        order = response.json()
        assert list(order) == list(ORDER_FIELDS)
        assert order["status"] == "accepted"
        assert (order["qty"], order["stop_price"], order["filled_qty"]) == ("10", "101.5", "0")
        # Alpaca books a buy stop as a stop-limit 2.5 % above its stop (4 % below $50)
        assert order["order_type"] == order["type"] == "stop_limit"
        assert order["limit_price"] == "104.03"
        assert order["created_at"].endswith("Z")

    def test_duplicate_client_order_id_is_422_with_the_exact_message(self, rest: Rest) -> None:
        """A reused client order id, even of a cancelled order, is refused."""
        first = rest.submit(client_order_id="dup").json()
        assert rest("DELETE", f"/orders/{first['id']}").status_code == 204
        again = rest.submit(client_order_id="dup")
        assert again.status_code == 422
        assert again.json() == {"code": 40010001, "message": "client_order_id must be unique"}

    def test_get_by_client_order_id_and_by_id(self, rest: Rest) -> None:
        """The order is found by its client id and by its venue id."""
        placed = rest.submit(client_order_id="find-me").json()
        by_client = rest("GET", "/orders:by_client_order_id", params={"client_order_id": "find-me"})
        assert by_client.status_code == 200
        assert by_client.json()["id"] == placed["id"]
        assert rest("GET", f"/orders/{placed['id']}").json()["client_order_id"] == "find-me"
        missing = rest("GET", "/orders:by_client_order_id", params={"client_order_id": "nope"})
        assert missing.status_code == 404
        assert missing.json()["code"] == 40410000

    def test_get_order_with_a_non_uuid_is_422(self, rest: Rest) -> None:
        """An order id that is not a UUID is a 422 40010001, not a 404."""
        response = rest("GET", "/orders/not-a-uuid")
        assert response.status_code == 422
        assert response.json()["code"] == 40010001

    def test_get_unknown_order_is_404(self, rest: Rest) -> None:
        """A well-formed id of no order is a 404 naming it."""
        unknown = str(uuid.uuid4())
        response = rest("GET", f"/orders/{unknown}")
        assert response.status_code == 404
        assert response.json() == {"code": 40410000, "message": f"order not found for {unknown}"}

    def test_replace_stop_gives_a_new_order_and_marks_the_old_replaced(
        self, sim: SimExchange, rest: Rest
    ) -> None:
        """PATCH answers a new order that ``replaces`` the old; the old is ``pending_replace``
        until the request lands, then ``replaced_by`` it."""
        old = rest.submit(client_order_id="stop-1").json()
        response = rest("PATCH", f"/orders/{old['id']}", json={"stop_price": 102.25})
        assert response.status_code == 200
        new = response.json()
        assert new["id"] != old["id"]
        assert new["replaces"] == old["id"]
        assert (new["stop_price"], new["status"]) == ("102.25", "pending_new")
        waiting = rest("GET", f"/orders/{old['id']}").json()
        assert waiting["status"] == "pending_replace"
        busy = rest("PATCH", f"/orders/{old['id']}", json={"stop_price": "102.5"})
        assert busy.status_code == 422  # not replaceable while a replace is on its way
        sim.land_requests()
        after = rest("GET", f"/orders/{old['id']}").json()
        assert after["status"] == "replaced"
        assert after["replaced_by"] == new["id"]
        unchanged = rest("PATCH", f"/orders/{new['id']}", json={"stop_price": "102.25"})
        assert unchanged.status_code == 403
        assert unchanged.json()["message"] == "order parameters are not changed"
        closed = rest("PATCH", f"/orders/{old['id']}", json={"stop_price": "103"})
        assert closed.status_code == 422
        assert closed.json()["message"] == "unable to replace order, order is not open"

    def test_cancel_is_204_then_cancel_again_is_422(self, sim: SimExchange, rest: Rest) -> None:
        """DELETE answers 204 with no body; the order is ``pending_cancel`` until the cancel
        lands; a second DELETE is refused, before and after."""
        placed = rest.submit().json()
        first = rest("DELETE", f"/orders/{placed['id']}")
        assert first.status_code == 204
        assert first.content == b""
        assert rest("GET", f"/orders/{placed['id']}").json()["status"] == "pending_cancel"
        pending = rest("DELETE", f"/orders/{placed['id']}")
        assert pending.status_code == 422
        sim.land_requests()
        second = rest("DELETE", f"/orders/{placed['id']}")
        assert second.status_code == 422
        assert second.json() == {
            "code": 42210000,
            "message": 'order is already in "canceled" state',
        }

    def test_list_orders_filters_and_sorts(self, sim: SimExchange, rest: Rest) -> None:
        """GET /v2/orders: open by default, newest first; status, symbols, limit, direction."""
        a = rest.submit(client_order_id="a").json()
        b = rest.submit(client_order_id="b", symbol="MSFT").json()
        c = rest.submit(client_order_id="c").json()
        rest("DELETE", f"/orders/{c['id']}")
        sim.land_requests()
        ids = [o["id"] for o in rest("GET", "/orders").json()]
        assert ids == [b["id"], a["id"]]
        every = rest("GET", "/orders", params={"status": "all", "direction": "asc"}).json()
        assert [o["id"] for o in every] == [a["id"], b["id"], c["id"]]
        closed = rest("GET", "/orders", params={"status": "closed"}).json()
        assert [o["id"] for o in closed] == [c["id"]]
        msft = rest("GET", "/orders", params={"status": "all", "symbols": "MSFT,TSLA"}).json()
        assert [o["id"] for o in msft] == [b["id"]]
        assert len(rest("GET", "/orders", params={"status": "all", "limit": 1}).json()) == 1
        assert rest("GET", "/orders", params={"status": "bogus"}).status_code == 422

    def test_bad_fields_are_422_naming_the_field(self, rest: Rest) -> None:
        """A bad or missing field is 422 40010001 with a message naming it."""
        for fields, word in [
            ({"qty": "ten"}, "qty"),
            ({"side": "up"}, "side"),
            ({"type": "trailing"}, "type"),
            ({"stop_price": None}, "stop_price"),
            ({"notional": "100"}, "notional"),
        ]:
            response = rest.submit(**fields)
            assert response.status_code == 422, fields
            assert response.json()["code"] == 40010001
            assert word in response.json()["message"]

    def test_cancel_all_answers_207(self, sim: SimExchange, rest: Rest) -> None:
        """DELETE /v2/orders asks to cancel every open order and lists each with its status;
        the cancels land as any other."""
        a = rest.submit().json()
        b = rest.submit(symbol="MSFT").json()
        response = rest("DELETE", "/orders")
        assert response.status_code == 207
        assert sorted(r["id"] for r in response.json()) == sorted([a["id"], b["id"]])
        assert all(r["status"] == 200 for r in response.json())
        sim.land_requests()
        assert rest("GET", "/orders").json() == []


class TestPositions:
    def test_position_after_a_fill_and_closing_it(self, sim: SimExchange, rest: Rest) -> None:
        """A filled buy shows as a long position; DELETE closes it with a market order."""
        assert rest("GET", "/positions").json() == []
        assert rest("GET", "/positions/AAPL").status_code == 404
        rest.submit(qty="10", stop_price="101")
        sim.feed_bar(make_bar(0, "100.50", "101.50", "100.25", "101.25"))
        [position] = rest("GET", "/positions").json()
        assert position["symbol"] == "AAPL"
        assert (position["qty"], position["side"], position["avg_entry_price"]) == (
            "10",
            "long",
            "101",
        )
        assert position["cost_basis"] == "1010"
        assert position["current_price"] == "101.25"
        assert position["market_value"] == "1012.5"
        assert position["unrealized_pl"] == "2.5"
        assert position["exchange"] in ("NASDAQ", "NYSE")
        closing = rest("DELETE", "/positions/AAPL")
        assert closing.status_code == 200
        assert (closing.json()["side"], closing.json()["type"]) == ("sell", "market")
        sim.feed_bar(make_bar(1, "101", "101.5", "100.5", "101"))
        assert rest("GET", "/positions").json() == []

    def test_short_position_has_negative_qty(self, sim: SimExchange, rest: Rest) -> None:
        """A filled sell from flat is a short: qty negative, side short."""
        rest.submit(side="sell", stop_price="99")
        sim.feed_bar(make_bar(0, "100", "100", "98", "98.5"))
        position = rest("GET", "/positions/AAPL").json()
        assert (position["qty"], position["side"]) == ("-10", "short")

    def test_close_all_positions_cancels_orders_first(self, sim: SimExchange, rest: Rest) -> None:
        """DELETE /v2/positions?cancel_orders=true frees the held quantity, then closes: 207."""
        rest.submit(qty="10", stop_price="101")
        sim.feed_bar(make_bar(0, "100.50", "101.50", "100.25", "101.25"))
        rest.submit(side="sell", stop_price="95")  # a protective stop holding the qty
        response = rest("DELETE", "/positions", params={"cancel_orders": "true"})
        assert response.status_code == 207
        [entry] = response.json()
        assert (entry["symbol"], entry["status"]) == ("AAPL", 200)
        assert entry["body"]["type"] == "market"
        assert [o["type"] for o in rest("GET", "/orders").json()] == ["market"]


def test_headers_constant_matches_the_default_keys() -> None:
    """The tests' keys are the exchange's defaults."""
    assert HEADERS == {"APCA-API-KEY-ID": "K", "APCA-API-SECRET-KEY": "S"}
