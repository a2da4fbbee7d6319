"""The simulated exchange's REST API under ``/v2``: Alpaca's subset, on the matching core.

Runs on the exchange's event loop (the only thread that touches the matching engine). One
middleware checks the keys (401), the rate limit per key (429, with Alpaca's ``X-RateLimit-*``
headers on every answer) and the REST fault knobs, turns ``BrokerError`` into
``{"code", "message"}`` answers, and sends the stream events a request caused after its answer
has gone out (or before it, with ``stream_before_response``). The rate window is measured on
the exchange's own clock when it replays recorded bars (a sped-up session keeps Alpaca's rate per
minute of market time), on the wall clock otherwise.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import json
import math
import time as time_module
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from brokers._clock import Clock, VirtualClock
from brokers._exceptions import BrokerError, InvalidOrderError, RateLimitedError
from brokers._matching import MatchingEngine
from brokers._types import Order, OrderStatus, TradeUpdate
from brokers.alpaca._wire import (
    JSON,
    UNAUTHORIZED_BODY,
    account_to_json,
    asset_to_json,
    error_body,
    order_request_from_json,
    order_to_json,
    parse_time,
    position_to_json,
    replace_request_from_json,
)
from brokers.sim._faults import FaultDice
from brokers.sim._streams import TradingStreamHub

__all__ = ["SimRest"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The stream events of the request being handled (handler and middleware share its task).
_PENDING: contextvars.ContextVar[list[TradeUpdate]] = contextvars.ContextVar("sim_pending")


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status)


def _query_decimal(request: web.Request, name: str) -> Decimal | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidOrderError(f"invalid {name}: {text!r}") from None
    if not value.is_finite():
        raise InvalidOrderError(f"invalid {name}: {text!r}")
    return value


def _order_id(request: web.Request) -> str:
    raw = request.match_info["order_id"]
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise InvalidOrderError(f"order_id is not a valid UUID: {raw}") from None


class SimRest:
    """REST handlers over one matching engine; ``middleware`` guards them all."""

    def __init__(
        self,
        *,
        engine: MatchingEngine,
        clock: Clock,
        keys: dict[str, str],
        dice: FaultDice,
        trading: TradingStreamHub,
        rate_limit: int,
        rate_window: float,
        on_pending: Callable[[], None] = lambda: None,
        refusals: collections.Counter[str] | None = None,
        foreign_orders: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        # Orders on the account that the twin does not model (a manual trailing stop, a
        # bracket's held leg): listed as given by ``GET /v2/orders``, never matched.
        self._foreign_orders = foreign_orders
        # Every refusal answered, by its error (``WashTradeError``, ...): tests read it.
        self.refusals: collections.Counter[str] = (
            refusals if refusals is not None else collections.Counter()
        )
        self._engine = engine
        self._clock = clock
        self._keys = keys
        self._dice = dice
        self._trading = trading
        self._rate_limit = rate_limit
        self._rate_window = rate_window
        self._on_pending = on_pending
        self._hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def add_routes(self, app: web.Application) -> None:
        """Register every ``/v2`` route (static ones before the data feed's ``/v2/{feed}``)."""
        app.middlewares.append(self.middleware)
        app.router.add_get("/v2/account", self.account)
        app.router.add_post("/v2/orders", self.submit)
        app.router.add_get("/v2/orders", self.list_orders)
        app.router.add_delete("/v2/orders", self.cancel_all)
        app.router.add_get("/v2/orders:by_client_order_id", self.by_client_id)
        app.router.add_get("/v2/orders/{order_id}", self.get_order)
        app.router.add_patch("/v2/orders/{order_id}", self.replace)
        app.router.add_delete("/v2/orders/{order_id}", self.cancel)
        app.router.add_get("/v2/positions", self.positions)
        app.router.add_delete("/v2/positions", self.close_all)
        app.router.add_get("/v2/positions/{symbol}", self.position)
        app.router.add_delete("/v2/positions/{symbol}", self.close_position)
        app.router.add_get("/v2/assets", self.assets)
        app.router.add_get("/v2/assets/{symbol}", self.asset)

    # --- the guard -------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Keys, rate limit, faults, errors, and the stream events after the answer."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)  # the streams authenticate in-band
        key = request.headers.get("APCA-API-KEY-ID", "")
        if key not in self._keys or self._keys[key] != request.headers.get("APCA-API-SECRET-KEY"):
            return _json(UNAUTHORIZED_BODY, 401)
        admitted, limits = self._admit(key)
        if not admitted:
            limited = _json(error_body(RateLimitedError("rate limit exceeded")), 429)
            limited.headers.update(limits)
            return limited
        response = await self._guarded(request, handler, limits)
        self._on_pending()  # a cancel or replace it made lands when it is due
        return response

    async def _guarded(
        self, request: web.Request, handler: Handler, limits: dict[str, str]
    ) -> web.StreamResponse:
        """Faults, errors, and the stream events after the answer."""
        faults = self._dice.faults  # the knobs in force when the request arrived
        failure = self._dice.rest_failure(faults, request.method, request.path)
        if failure == 429:
            return _json(error_body(RateLimitedError("rate limit exceeded")), 429)
        if failure is not None:
            return _error(failure, 50010000, "internal server error")
        pending: list[TradeUpdate] = []
        _PENDING.set(pending)
        try:
            response = await handler(request)
        except BrokerError as exc:
            self.refusals[type(exc).__name__] += 1
            response = _json(error_body(exc), exc.status or 500)
        except web.HTTPException as exc:
            response = _error(exc.status, exc.status * 100000, exc.reason)
        response.headers.update(limits)
        if pending and faults.stream_before_response:
            self._trading.publish(pending, faults)
            await self._trading.flush()
            pending = []
        if faults.delays(request.method, request.path):
            await asyncio.sleep(faults.rest_delay)
        if not pending:
            return response
        try:
            await response.prepare(request)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client gave up waiting; the request was carried out all the same
        self._trading.publish(pending, faults)
        return response

    def _admit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Whether one more request of ``key`` fits in its window, and the headers that say so."""
        now = self._now()
        hits = self._hits[key]
        while hits and hits[0] <= now - self._rate_window:
            hits.popleft()
        admitted = len(hits) < self._rate_limit
        if admitted:
            hits.append(now)
        reset = (hits[0] if hits else now) + self._rate_window
        if isinstance(self._clock, VirtualClock):
            # the window closes at that exchange time: say when, in wall-clock epoch seconds
            moment = datetime.fromtimestamp(reset, UTC)
            reset = time_module.time() + self._clock.real_seconds_until(moment)
        limits = {
            "X-RateLimit-Limit": str(self._rate_limit),
            "X-RateLimit-Remaining": str(max(0, self._rate_limit - len(hits))),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        return admitted, limits

    def _now(self) -> float:
        if isinstance(self._clock, VirtualClock):
            return self._clock.now().timestamp()
        return time_module.time()

    @staticmethod
    def _later(request: web.Request, updates: list[TradeUpdate]) -> None:
        _PENDING.get().extend(updates)

    @staticmethod
    async def _body(request: web.Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            raise BrokerError("request body format is invalid", status=400, code=40010000) from None

    # --- account ---------------------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        """``GET /v2/account``."""
        return _json(account_to_json(self._engine.account()))

    # --- orders ----------------------------------------------------------------------------

    async def submit(self, request: web.Request) -> web.Response:
        """``POST /v2/orders``: 200 with the accepted order; ``new`` follows on the stream."""
        order_request = order_request_from_json(await self._body(request))
        order, updates = self._engine.submit(order_request, self._clock.now())
        self._later(request, updates)
        return _json(order_to_json(order))

    async def list_orders(self, request: web.Request) -> web.Response:
        """``GET /v2/orders`` with status, limit, after, until, direction, symbols, side."""
        query = request.query
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise InvalidOrderError(f"invalid status: {status!r}")
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            raise InvalidOrderError(f"invalid limit: {query.get('limit')!r}") from None
        if limit < 1:
            raise InvalidOrderError(f"invalid limit: {limit}")
        limit = min(limit, 500)
        direction = query.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise InvalidOrderError(f"invalid direction: {direction!r}")
        after = self._query_time(query.get("after"), "after")
        until = self._query_time(query.get("until"), "until")
        symbols = {s.strip().upper() for s in query.get("symbols", "").split(",") if s.strip()}
        side = query.get("side")
        found = [
            o
            for o in self._engine.all_orders()
            if (status == "all" or o.is_open == (status == "open"))
            and (not symbols or o.symbol in symbols)
            and (side is None or o.side.value == side)
            and (after is None or o.submitted_at > after)
            and (until is None or o.submitted_at < until)
        ]
        if direction == "desc":
            found.reverse()
        listed = [order_to_json(o) for o in found[:limit]]
        if status != "closed":  # the foreign ones are open (new, held, ...)
            listed += [
                dict(o) for o in self._foreign_orders if not symbols or o.get("symbol") in symbols
            ]
        return _json(listed[:limit])

    @staticmethod
    def _query_time(value: str | None, name: str) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError:
            raise InvalidOrderError(f"invalid {name}: {value!r}") from None

    async def by_client_id(self, request: web.Request) -> web.Response:
        """``GET /v2/orders:by_client_order_id?client_order_id=X``."""
        client_order_id = request.query.get("client_order_id")
        if not client_order_id:
            raise InvalidOrderError("client_order_id is required")
        return _json(order_to_json(self._engine.get_order_by_client_id(client_order_id)))

    async def get_order(self, request: web.Request) -> web.Response:
        """``GET /v2/orders/{id}`` (422 when the id is not a UUID)."""
        return _json(order_to_json(self._engine.get_order(_order_id(request))))

    async def replace(self, request: web.Request) -> web.Response:
        """``PATCH /v2/orders/{id}``: the new order; ``replaced`` then ``new`` on the stream."""
        order_id = _order_id(request)
        changes = replace_request_from_json(await self._body(request))
        order, updates = self._engine.replace(order_id, changes, self._clock.now())
        self._later(request, updates)
        return _json(order_to_json(order))

    async def cancel(self, request: web.Request) -> web.Response:
        """``DELETE /v2/orders/{id}``: 204, empty; ``canceled`` follows on the stream."""
        order = self._engine.get_order(_order_id(request))
        if order.status is OrderStatus.FILLED and self._dice.cancel_filled_gets_204():
            return web.Response(status=204)
        self._later(request, self._engine.cancel(order.id, self._clock.now()))
        return web.Response(status=204)

    async def cancel_all(self, request: web.Request) -> web.Response:
        """``DELETE /v2/orders``: 207 with one entry per open order."""
        return _json(self._cancel_open(request), 207)

    def _cancel_open(self, request: web.Request, *, at_once: bool = False) -> list[JSON]:
        results: list[JSON] = []
        for order in self._engine.list_orders(status="open", limit=500, newest_first=False):
            if order.status is OrderStatus.PENDING_CANCEL:
                continue  # already on its way
            updates = self._engine.cancel(order.id, self._clock.now(), at_once=at_once)
            self._later(request, updates)
            results.append({"id": order.id, "status": 200})
        return results

    # --- positions -------------------------------------------------------------------------

    async def positions(self, request: web.Request) -> web.Response:
        """``GET /v2/positions``."""
        return _json([position_to_json(p) for p in self._engine.positions()])

    def _symbol(self, request: web.Request) -> str:
        wanted = request.match_info["symbol"]
        for held in self._engine.positions():
            if wanted == held.asset_id:
                return held.symbol
        return wanted.upper()

    async def position(self, request: web.Request) -> web.Response:
        """``GET /v2/positions/{symbol or asset id}``."""
        return _json(position_to_json(self._engine.position(self._symbol(request))))

    async def close_position(self, request: web.Request) -> web.Response:
        """``DELETE /v2/positions/{symbol}[?qty=|percentage=]``: the closing market order."""
        qty = _query_decimal(request, "qty")
        percentage = _query_decimal(request, "percentage")
        order = self._close(request, self._symbol(request), qty=qty, percentage=percentage)
        return _json(order_to_json(order))

    def _close(
        self,
        request: web.Request,
        symbol: str,
        *,
        qty: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> Order:
        order, updates = self._engine.close_position(
            symbol, self._clock.now(), qty=qty, percentage=percentage
        )
        self._later(request, updates)
        return order

    # --- assets ----------------------------------------------------------------------------

    async def assets(self, request: web.Request) -> web.Response:
        """``GET /v2/assets``: what the venue trades (every asset is an active US equity)."""
        status = request.query.get("status", "active")
        found = self._engine.assets() if status == "active" else []
        return _json([asset_to_json(a) for a in found])

    async def asset(self, request: web.Request) -> web.Response:
        """``GET /v2/assets/{symbol or id}``; 404 for one the venue does not list."""
        wanted = request.match_info["symbol"]
        for listed in self._engine.assets():
            if wanted in (listed.symbol, listed.id):
                return _json(asset_to_json(listed))
        return _json(asset_to_json(self._engine.asset(wanted.upper())))

    async def close_all(self, request: web.Request) -> web.Response:
        """``DELETE /v2/positions[?cancel_orders=true]``: 207, one entry per position."""
        if request.query.get("cancel_orders", "false").lower() == "true":
            self._cancel_open(request, at_once=True)  # the venue's own: done before it closes
        results: list[JSON] = []
        for held in self._engine.positions():
            try:
                order = self._close(request, held.symbol)
            except BrokerError as exc:
                status = exc.status or 500
                results.append({"symbol": held.symbol, "status": status, "body": error_body(exc)})
            else:
                results.append({"symbol": held.symbol, "status": 200, "body": order_to_json(order)})
        return _json(results, 207)
