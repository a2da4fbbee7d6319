"""Alpaca's wire format: our types to JSON and back, request parsing, errors, stream messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokers import (
    Account,
    AuthenticationError,
    Bar,
    DuplicateClientOrderIdError,
    InsufficientFundsError,
    InvalidOrderError,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    RateLimitedError,
    ReplaceRequest,
    TimeInForce,
    TradeUpdate,
    UnavailableError,
    UnchangedOrderError,
    UpdateKind,
    VenueError,
)
from brokers.alpaca._wire import (
    ORDER_FIELDS,
    UNAUTHORIZED_BODY,
    account_from_json,
    account_to_json,
    error_body,
    error_from_response,
    format_decimal,
    format_time,
    order_from_json,
    order_request_from_json,
    order_request_to_json,
    order_to_json,
    parse_time,
    position_from_json,
    position_to_json,
    replace_request_from_json,
    replace_request_to_json,
)
from brokers.alpaca._wire_streams import (
    ALPACA_EVENTS,
    bar_from_json,
    bar_to_json,
    trade_update_from_json,
    trade_update_to_json,
    update_kind_from_wire,
    update_kind_to_wire,
)

D = Decimal
T = datetime(2026, 11, 23, 14, 30, 1, 123456, tzinfo=UTC)
ID = "3b1c2a5e-8f4d-4b6a-9c2e-1d0f7e6a5b4c"
ASSET = "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415"


def an_order(**changes: object) -> Order:
    order = Order(
        id=ID,
        client_order_id="orb-AAPL-20261123-1-entry",
        symbol="AAPL",
        side=OrderSide.BUY,
        type=OrderType.STOP,
        time_in_force=TimeInForce.DAY,
        qty=D(10),
        status=OrderStatus.NEW,
        created_at=T,
        updated_at=T,
        submitted_at=T,
        asset_id=ASSET,
        stop_price=D("101.25"),
    )
    return replace(order, **changes)  # type: ignore[arg-type]


class TestOrder:
    def test_every_field_is_present_in_the_reference_order(self) -> None:
        """The Order object carries every key the reference lists, nulls included."""
        body = order_to_json(an_order())
        assert list(body) == list(ORDER_FIELDS)
        assert body["order_type"] == body["type"] == "stop"
        assert (body["order_class"], body["asset_class"]) == ("", "us_equity")
        for key in ("legs", "trail_percent", "trail_price", "hwm", "notional"):
            assert body[key] is None
        for key in ("created_at", "updated_at", "submitted_at"):
            assert body[key] == "2026-11-23T14:30:01.123456Z"
        assert (body["qty"], body["filled_qty"], body["stop_price"]) == ("10", "0", "101.25")
        assert body["filled_avg_price"] is None

    @pytest.mark.parametrize(
        "changes",
        [
            {},
            {
                "status": OrderStatus.FILLED,
                "filled_qty": D(10),
                "filled_avg_price": D("101.3"),
                "filled_at": T,
            },
            {"status": OrderStatus.REPLACED, "replaced_by": ASSET, "replaced_at": T},
            {
                "type": OrderType.LIMIT,
                "stop_price": None,
                "limit_price": D("99.95"),
                "replaces": ASSET,
            },
            {"status": OrderStatus.CANCELED, "canceled_at": T, "time_in_force": TimeInForce.GTC},
            {
                "status": OrderStatus.EXPIRED,
                "expired_at": T,
                "side": OrderSide.SELL,
                "extended_hours": True,
            },
            {"type": OrderType.MARKET, "stop_price": None, "qty": D("0.5")},
        ],
    )
    def test_round_trip(self, changes: dict[str, object]) -> None:
        """JSON → Order gives back the order, through a real JSON text."""
        order = an_order(**changes)
        assert order_from_json(json.loads(json.dumps(order_to_json(order)))) == order

    @pytest.mark.parametrize("status", list(OrderStatus))
    def test_every_status_round_trips(self, status: OrderStatus) -> None:
        """Each of Alpaca's statuses (held and pending_review included) is read back as sent."""
        order = an_order(status=status)
        body = order_to_json(order)
        assert body["status"] == status.value
        assert order_from_json(json.loads(json.dumps(body))) == order

    def test_missing_or_bad_field_is_a_venue_error(self) -> None:
        """A venue order without an id, or with a status that is not text, is VenueError naming
        the field (a status or type outside the known ones reads as ``other``: issue 14)."""
        body = order_to_json(an_order())
        with pytest.raises(VenueError, match="id is required"):
            order_from_json(body | {"id": None})
        with pytest.raises(VenueError, match="status"):
            order_from_json(body | {"status": 5})
        assert order_from_json(body | {"status": "lost"}).status is OrderStatus.OTHER
        with pytest.raises(VenueError):
            order_from_json([body])

    def test_nanosecond_timestamps_parse(self) -> None:
        """Alpaca may send nanoseconds; they are truncated to microseconds."""
        assert parse_time("2026-11-23T14:30:01.123456789Z") == T
        assert parse_time("2026-11-23T09:30:01.123456-05:00") == T
        with pytest.raises(ValueError, match="timezone"):
            parse_time("2026-11-23T14:30:01")

    def test_format_decimal_has_no_exponent(self) -> None:
        """Decimals are plain strings, without exponent or trailing zeros."""
        assert [format_decimal(D(x)) for x in ("1E+3", "10.0", "0.00", "101.250")] == [
            "1000",
            "10",
            "0",
            "101.25",
        ]
        assert format_time(T) == "2026-11-23T14:30:01.123456Z"


class TestRequests:
    def test_sdk_numbers_become_exact_decimals(self) -> None:
        """qty 10.0 and stop_price 101.15 (numbers) parse without float noise."""
        request = order_request_from_json(
            {
                "symbol": "aapl",
                "qty": 10.0,
                "side": "buy",
                "type": "stop",
                "time_in_force": "day",
                "stop_price": 101.15,
                "client_order_id": "c",
            }
        )
        assert request == OrderRequest(
            symbol="AAPL",
            qty=D("10.0"),
            side=OrderSide.BUY,
            type=OrderType.STOP,
            time_in_force=TimeInForce.DAY,
            stop_price=D("101.15"),
            client_order_id="c",
        )
        assert str(request.stop_price) == "101.15"

    @pytest.mark.parametrize(
        ("fields", "named"),
        [
            ({"qty": "ten"}, "qty"),
            ({"qty": True}, "qty"),
            ({"qty": "NaN"}, "qty"),
            ({"side": "up"}, "side"),
            ({"symbol": None}, "symbol"),
            ({"type": None}, "type"),
            ({"time_in_force": "week"}, "time_in_force"),
            ({"stop_price": [1]}, "stop_price"),
            ({"extended_hours": "maybe"}, "extended_hours"),
            ({"notional": "100"}, "notional"),
            ({"order_class": "bracket"}, "order_class"),
        ],
    )
    def test_bad_field_is_422_naming_it(self, fields: dict[str, object], named: str) -> None:
        """A bad field raises InvalidOrderError (422 40010001) whose message names it."""
        body = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
        }
        with pytest.raises(InvalidOrderError, match=named) as caught:
            order_request_from_json(body | fields)
        assert (caught.value.status, caught.value.code) == (422, 40010001)

    def test_order_request_round_trip(self) -> None:
        """Our request → JSON → request is the identity; decimals travel as strings."""
        request = OrderRequest(
            symbol="MSFT",
            qty=D(3),
            side=OrderSide.SELL,
            type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            limit_price=D("410.05"),
            client_order_id="x",
            extended_hours=True,
        )
        body = order_request_to_json(request)
        assert body["limit_price"] == "410.05"
        assert "stop_price" not in body
        assert order_request_from_json(body) == request

    def test_replace_request_round_trip(self) -> None:
        """A replace body carries only what changes."""
        request = ReplaceRequest(stop_price=D("102.5"), client_order_id="x-r1")
        assert replace_request_to_json(request) == {
            "stop_price": "102.5",
            "client_order_id": "x-r1",
        }
        assert replace_request_from_json(replace_request_to_json(request)) == request
        assert replace_request_from_json({"qty": 5, "time_in_force": "gtc"}) == ReplaceRequest(
            qty=D(5), time_in_force=TimeInForce.GTC
        )


class TestPositionAndAccount:
    def test_short_position_json_and_back(self) -> None:
        """A short has negative qty, side short, negative cost and value; it round-trips."""
        position = Position(
            symbol="AAPL",
            qty=D(-10),
            avg_entry_price=D("100"),
            asset_id=ASSET,
            exchange="NASDAQ",
            current_price=D("99.5"),
            qty_available=D(4),  # 6 held by an open buy stop
        )
        body = position_to_json(position)
        assert (body["qty"], body["side"], body["exchange"]) == ("-10", "short", "NASDAQ")
        assert body["qty_available"] == "4"
        assert (body["cost_basis"], body["market_value"], body["unrealized_pl"]) == (
            "-1000",
            "-995",
            "5",
        )
        assert body["current_price"] == "99.5"
        assert position_from_json(json.loads(json.dumps(body))) == position

    def test_account_round_trip(self) -> None:
        """The account's money fields are strings and come back as the same Decimals."""
        account = Account(
            id=ID, account_number="SIM1", cash=D("1000.5"), equity=D("1200"), buying_power=D("4800")
        )
        body = account_to_json(account)
        assert (body["status"], body["cash"], body["buying_power"]) == ("ACTIVE", "1000.5", "4800")
        assert account_from_json(body) == account


class TestErrors:
    def test_bodies(self) -> None:
        """Error bodies are {"code", "message"}; a 401 is Alpaca's exact text."""
        assert error_body(NotFoundError("position does not exist")) == {
            "code": 40410000,
            "message": "position does not exist",
        }
        assert error_body(AuthenticationError("x")) == UNAUTHORIZED_BODY

    @pytest.mark.parametrize(
        ("status", "body", "kind"),
        [
            (401, UNAUTHORIZED_BODY, AuthenticationError),
            (
                422,
                {"code": 40010001, "message": "client_order_id must be unique"},
                DuplicateClientOrderIdError,
            ),
            (
                422,
                {"code": 42210000, "message": 'order is already in "filled" state'},
                NotCancelableError,
            ),
            (
                422,
                {"code": 40010001, "message": "unable to replace order, order is not open"},
                NotReplaceableError,
            ),
            (422, {"code": 40010001, "message": "invalid qty"}, InvalidOrderError),
            (
                403,
                {"code": 40310000, "message": "order parameters are not changed"},
                UnchangedOrderError,
            ),
            (
                403,
                {"code": 40310000, "message": "insufficient buying power"},
                InsufficientFundsError,
            ),
            (404, {"code": 40410000, "message": "order not found for x"}, NotFoundError),
            (429, {"code": 42910000, "message": "rate limit exceeded"}, RateLimitedError),
            (503, "upstream down", UnavailableError),
        ],
    )
    def test_from_response(self, status: int, body: object, kind: type) -> None:
        """An HTTP error answer becomes the typed error, with its status and code."""
        text = body if isinstance(body, str) else json.dumps(body)
        error = error_from_response(status, text.encode())
        assert type(error) is kind
        assert error.status == status
        if isinstance(body, dict):
            assert (error.code, error.message) == (body["code"], body["message"])


class TestStreamMessages:
    def test_fill_round_trip(self) -> None:
        """A fill message carries price, qty and position_qty as strings, and parses back."""
        update = TradeUpdate(
            kind=UpdateKind.FILL,
            order=an_order(
                status=OrderStatus.FILLED, filled_qty=D(10), filled_avg_price=D("101.25")
            ),
            timestamp=T,
            execution_id=ASSET,
            price=D("101.25"),
            qty=D(10),
            position_qty=D(10),
        )
        message = trade_update_to_json(update)
        assert message["stream"] == "trade_updates"
        assert (message["data"]["price"], message["data"]["qty"]) == ("101.25", "10")
        assert trade_update_from_json(json.loads(json.dumps(message))) == update
        assert trade_update_from_json(message["data"]) == update

    def test_new_has_no_price(self) -> None:
        """A ``new`` event has a timestamp and a null execution id, no fill fields."""
        new = TradeUpdate(kind=UpdateKind.NEW, order=an_order(), timestamp=T)
        data = trade_update_to_json(new)["data"]
        assert data["event"] == "new"
        assert data["execution_id"] is None
        assert data["timestamp"] == "2026-11-23T14:30:01.123456Z"
        assert not {"price", "qty", "position_qty"} & set(data)

    @pytest.mark.parametrize("kind", list(UpdateKind))
    def test_every_kind_round_trips_through_the_wire(self, kind: UpdateKind) -> None:
        """Each UpdateKind leaves as Alpaca's event name and comes back, through JSON text."""
        update = TradeUpdate(kind=kind, order=an_order(), timestamp=T)
        text = json.dumps(trade_update_to_json(update))
        assert json.loads(text)["data"]["event"] == ALPACA_EVENTS[kind]
        assert trade_update_from_json(json.loads(text)) == update

    @pytest.mark.parametrize(
        ("kind", "event"),
        [
            (UpdateKind.NEW, "new"),
            (UpdateKind.PARTIAL_FILL, "partial_fill"),
            (UpdateKind.FILL, "fill"),
            (UpdateKind.CANCEL_REJECTED, "order_cancel_rejected"),
            (UpdateKind.REPLACE_REJECTED, "order_replace_rejected"),
            (UpdateKind.TRADE_BUST, "trade_bust"),
            (UpdateKind.TRADE_CORRECT, "trade_correct"),
            (UpdateKind.HELD, "held"),
        ],
    )
    def test_kinds_are_spelled_as_alpaca_spells_them(self, kind: UpdateKind, event: str) -> None:
        """The neutral names map to Alpaca's spellings (alpaca-behaviours row 5) and back."""
        assert update_kind_to_wire(kind) == event
        assert update_kind_from_wire(event) is kind

    def test_the_table_names_every_kind_once(self) -> None:
        """Every kind has exactly one event name and no two kinds share one."""
        assert set(ALPACA_EVENTS) == set(UpdateKind)
        assert len(set(ALPACA_EVENTS.values())) == len(UpdateKind)

    @pytest.mark.parametrize("event", ["order_teleported", "cancel_rejected", "FILL", ""])
    def test_an_unknown_event_is_a_venue_error(self, event: str) -> None:
        """An event name Alpaca does not send (the neutral spelling included) is VenueError."""
        message = trade_update_to_json(
            TradeUpdate(kind=UpdateKind.NEW, order=an_order(), timestamp=T)
        )
        message["data"]["event"] = event
        with pytest.raises(VenueError, match="trade update"):
            trade_update_from_json(json.loads(json.dumps(message)))

    def test_a_trade_update_takes_a_kind_not_a_venue_spelling(self) -> None:
        """A string where an UpdateKind belongs is refused when the update is built."""
        with pytest.raises(TypeError, match="UpdateKind"):
            TradeUpdate(kind="fill", order=an_order(), timestamp=T)  # type: ignore[arg-type]

    def test_bar_round_trip(self) -> None:
        """A bar leaves with JSON numbers and ``t`` in Z, and parses back exactly."""
        bar = Bar(
            symbol="AAPL",
            start=datetime(2026, 11, 23, 14, 31, tzinfo=UTC),
            open=D("100.1"),
            high=D("101.35"),
            low=D("99.9"),
            close=D("100.75"),
            volume=D(1200),
            trade_count=7,
            vwap=D("100.4"),
        )
        body = bar_to_json(bar)
        assert body == {
            "T": "b",
            "S": "AAPL",
            "o": 100.1,
            "h": 101.35,
            "l": 99.9,
            "c": 100.75,
            "v": 1200,
            "t": "2026-11-23T14:31:00Z",
            "n": 7,
            "vw": 100.4,
        }
        assert bar_from_json(json.loads(json.dumps(body))) == bar
        assert bar_from_json(body | {"t": bar.start}) == bar

    def test_malformed_bar_is_a_venue_error(self) -> None:
        """A bar whose close is above its high is rejected as the venue's fault."""
        body = {"T": "b", "S": "AAPL", "o": 1, "h": 1, "l": 1, "c": 2, "t": "2026-11-23T14:31:00Z"}
        with pytest.raises(VenueError):
            bar_from_json(body)
