"""The Alpaca REST adapter: the ``Broker`` protocol over ``requests``, retrying only what is safe.

One rule: a call is repeated only when repeating it cannot do the thing twice. Every request
goes through ``_send``, the one place where ``requests`` exceptions and HTTP error answers
become ``brokers._exceptions`` errors. Then:

- 429 means the venue refused before acting, so every call retries it (jittered exponential
  backoff, ``RetryPolicy``);
- other transport failures (5xx, connection errors, timeouts) are retried only for idempotent
  calls: GETs and cancel (DELETE of one order);
- a submit is idempotent through its client order id and follows the wire reference's recovery
  recipe: after a timeout or 5xx, ``GET /v2/orders:by_client_order_id`` → 200 adopt, 404 resend
  with the same id, and a 422 "must be unique" on the resend is a late success → adopt;
- a replace is recovered the same way only when it names a new client order id; otherwise a lost
  answer is raised, never retried blindly; closing a position is never repeated.

The runner learns what happened from the error type (``RequestRejectedError``: do not retry;
``TransportError``: the outcome is unknown, reconcile). A "not found" for an order sent only
lately is not evidence that it does not exist (field lesson 6): see
``brokers.absence_is_evidence``, which the runner applies with its own grace.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import requests
import structlog
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from brokers._exceptions import (
    BrokerError,
    BrokerTimeoutError,
    DuplicateClientOrderIdError,
    NotFoundError,
    NotReplaceableError,
    RateLimitedError,
    TransportError,
    UnavailableError,
    VenueError,
)
from brokers._types import Account, Order, OrderRequest, Position, ReplaceRequest
from brokers.alpaca._settings import AlpacaSettings
from brokers.alpaca._wire import (
    account_from_json,
    error_from_response,
    order_from_json,
    order_request_to_json,
    position_from_json,
    replace_request_to_json,
)

__all__ = ["AlpacaBroker", "RestCounters", "rest_session"]

_log = structlog.get_logger("tickstate.brokers.alpaca")

Predicate = Callable[[BaseException], bool]


def _any_transport(exc: BaseException) -> bool:
    return isinstance(exc, TransportError)


def _refused_before_acting(exc: BaseException) -> bool:
    return isinstance(exc, RateLimitedError)


@dataclass(frozen=True, slots=True)
class RestCounters:
    """What the adapter had to do beyond the happy path."""

    requests: int = 0
    retries: int = 0
    recovered: int = 0


def rest_session(url: str, *, connections: int = 10) -> requests.Session:
    """A session for ``url`` that keeps ``connections`` connections open, with the
    environment's proxy (``HTTPS_PROXY``, ``NO_PROXY``, ...) and CA bundle read once, now.

    requests reads them again on every request when its ``trust_env`` is on — a scan of
    ``os.environ`` and a netrc lookup, about a millisecond of CPU a request (the executor
    benchmark's 100 commands after one bar spent a fifth of their CPU there).
    """
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(url))  # NO_PROXY applied here
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=connections)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class AlpacaBroker:
    """The ``Broker`` protocol against Alpaca's REST API (or the simulated exchange).

    ``session`` is the HTTP seam: pass a ``requests.Session`` (or a subclass that wraps one, in
    tests); without one the broker makes its own (``rest_session``, ``connections`` kept open:
    as many as threads send at once) and closes it in ``close()``. ``sleep`` waits between
    retries (tests pass one that records the delays instead of waiting).
    """

    def __init__(
        self,
        settings: AlpacaSettings,
        session: requests.Session | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        connections: int = 10,
    ) -> None:
        self._settings = settings
        self._owns_session = session is None
        self._session = (
            session
            if session is not None
            else rest_session(settings.rest_url, connections=connections)
        )
        self._sleep = sleep
        self._base = settings.rest_url + "/v2"
        self._headers = settings.rest_headers
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        self._requests = self._retries = self._recovered = 0
        self._foreign: set[str] = set()  # foreign orders already listed in the log
        self._rate_limit: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"AlpacaBroker(rest_url={self._settings.rest_url!r})"

    @property
    def settings(self) -> AlpacaSettings:
        """The settings in force."""
        return self._settings

    @property
    def counters(self) -> RestCounters:
        """Requests sent, retries waited for, submits/replaces recovered by client order id."""
        return RestCounters(self._requests, self._retries, self._recovered)

    def close(self) -> None:
        """Close the HTTP session if the broker made it."""
        if self._owns_session:
            self._session.close()

    # --- the choke point -------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One HTTP request; its parsed JSON (None when empty), or a ``BrokerError``."""
        self._requests += 1
        try:
            response = self._session.request(
                method,
                self._base + path,
                params=params,
                json=body,
                headers=self._headers,
                timeout=self._timeout,
            )
        except requests.ConnectTimeout as exc:
            raise UnavailableError(f"{method} {path}: connect timed out") from exc
        except requests.Timeout as exc:
            raise BrokerTimeoutError(f"{method} {path}: no answer in time") from exc
        except requests.ConnectionError as exc:
            raise UnavailableError(f"{method} {path}: connection failed") from exc
        except requests.RequestException as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}") from exc
        self._note_rate_limit(response.headers)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.content)
        if not response.content:
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            raise VenueError(
                f"{method} {path}: answer {response.status_code} is not JSON",
                status=response.status_code,
            ) from None

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        limit, remaining = headers.get("X-RateLimit-Limit"), headers.get("X-RateLimit-Remaining")
        if limit is not None and remaining is not None:
            with contextlib.suppress(ValueError):
                self._rate_limit = (int(limit), int(remaining))

    @property
    def rate_limit(self) -> tuple[int, int] | None:
        """The venue's ``X-RateLimit-Limit`` and ``-Remaining`` as last answered (None: not yet);
        a command executor paces itself by them."""
        return self._rate_limit

    def _retrying(self, retry_on: Predicate, what: str) -> Retrying:
        policy = self._settings.retry

        def before_sleep(state: RetryCallState) -> None:
            self._retries += 1
            error = state.outcome.exception() if state.outcome is not None else None
            # A 429, 5xx or timeout: the venue is in trouble even if the retry works.
            _log.warning(
                "rest_retry",
                call=what,
                attempt=state.attempt_number,
                delay=round(state.upcoming_sleep, 4),
                error=type(error).__name__,
                status=getattr(error, "status", None),
            )

        return Retrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=wait_random_exponential(multiplier=policy.initial_backoff, max=policy.max_backoff),
            retry=retry_if_exception(retry_on),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        retry_on = _any_transport if idempotent else _refused_before_acting
        for attempt in self._retrying(retry_on, f"{method} {path}"):
            with attempt:
                return self._send(method, path, params=params, body=body)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    # --- reads -----------------------------------------------------------------------------

    def get_account(self) -> Account:
        """``GET /v2/account``."""
        return account_from_json(self._call("GET", "/account", idempotent=True))

    def get_order(self, order_id: str) -> Order:
        """``GET /v2/orders/{id}``."""
        return order_from_json(self._call("GET", _order_path(order_id), idempotent=True))

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        """``GET /v2/orders:by_client_order_id``; ``NotFoundError`` when there is none."""
        params = {"client_order_id": client_order_id}
        found = self._call("GET", "/orders:by_client_order_id", idempotent=True, params=params)
        return order_from_json(found)

    def find_order_by_client_id(self, client_order_id: str) -> Order | None:
        """The order with this client order id, or None on "not found".

        None proves absence only as ``brokers.absence_is_evidence`` says.
        """
        try:
            return self.get_order_by_client_id(client_order_id)
        except NotFoundError:
            return None

    def list_orders(
        self,
        *,
        status: str = "open",
        limit: int = 50,
        symbols: Sequence[str] | None = None,
        client_id_prefix: str | None = None,
    ) -> list[Order]:
        """``GET /v2/orders`` (newest first). With ``client_id_prefix``, an order whose client
        order id lacks it (a manual trailing stop, a bracket's held leg, a notional order) is
        left out before it is parsed, and listed in the log once (``foreign_order``)."""
        params = {"status": status, "limit": str(limit)}
        if symbols:
            params["symbols"] = ",".join(symbols)
        found = self._call("GET", "/orders", idempotent=True, params=params)
        items = _json_list(found, "orders")
        if client_id_prefix is not None:
            items = [item for item in items if self._ours(item, client_id_prefix)]
        return [order_from_json(item) for item in items]

    def _ours(self, item: object, prefix: str) -> bool:
        """Whether a listed order is ours; a foreign one is logged the first time it is seen."""
        fields = item if isinstance(item, dict) else {}
        client_id = fields.get("client_order_id")
        if isinstance(client_id, str) and client_id.startswith(prefix):
            return True
        key = str(fields.get("id") or client_id)
        if key not in self._foreign:
            self._foreign.add(key)
            _log.info(
                "foreign_order",
                order_id=fields.get("id"),
                client_order_id=client_id,
                symbol=fields.get("symbol"),
                type=fields.get("type") or fields.get("order_type"),
                order_class=fields.get("order_class"),
                status=fields.get("status"),
            )
        return False

    def list_positions(self) -> list[Position]:
        """``GET /v2/positions``."""
        found = self._call("GET", "/positions", idempotent=True)
        return [position_from_json(item) for item in _json_list(found, "positions")]

    # --- writes ----------------------------------------------------------------------------

    def cancel_order(self, order_id: str) -> None:
        """``DELETE /v2/orders/{id}``; retried (a second cancel cannot do anything twice).

        If an earlier attempt's answer was lost, the retry may raise ``NotCancelableError``:
        the order is terminal (cancelled by that attempt, or filled) — the stream tells which.
        """
        self._call("DELETE", _order_path(order_id), idempotent=True)

    def close_position(self, symbol: str) -> Order:
        """``DELETE /v2/positions/{symbol}``: never repeated after a lost answer (it would
        send a second closing order); only a 429 is retried."""
        path = "/positions/" + quote(symbol, safe="")
        return order_from_json(self._call("DELETE", path, idempotent=False))

    def submit_order(self, request: OrderRequest) -> Order:
        """``POST /v2/orders``, recovered through the client order id after a lost answer."""
        if request.client_order_id is None:
            if not self._settings.assign_client_order_ids:
                body = order_request_to_json(request)
                return order_from_json(self._call("POST", "/orders", idempotent=False, body=body))
            request = replace(request, client_order_id=str(uuid.uuid4()))
        client_order_id = request.client_order_id
        assert client_order_id is not None
        body = order_request_to_json(request)
        return self._recovering(
            "POST /orders",
            client_order_id,
            lambda: order_from_json(self._send("POST", "/orders", body=body)),
            late_success=(DuplicateClientOrderIdError,),
        )

    def replace_order(self, order_id: str, request: ReplaceRequest) -> Order:
        """``PATCH /v2/orders/{id}``: the new order. Recovered by client order id only when
        ``request`` names a new one; otherwise only a 429 is retried."""
        path = _order_path(order_id)
        body = replace_request_to_json(request)
        if request.client_order_id is None:
            return order_from_json(self._call("PATCH", path, idempotent=False, body=body))
        return self._recovering(
            f"PATCH {path}",
            request.client_order_id,
            lambda: order_from_json(self._send("PATCH", path, body=body)),
            late_success=(DuplicateClientOrderIdError, NotReplaceableError),
        )

    def _recovering(
        self,
        what: str,
        client_order_id: str,
        send: Callable[[], Order],
        *,
        late_success: tuple[type[BrokerError], ...],
    ) -> Order:
        """The recovery recipe around ``send``, which creates the order ``client_order_id``.

        After an answer is lost (any transport failure but 429, which is refused before the
        venue acts) the outcome is unknown: before sending again, look the id up — 200 adopt,
        404 send again. A ``late_success`` error on a later send means an earlier one worked:
        look it up and adopt it (if it is not there, the error stands).
        """
        uncertain = False
        for attempt in self._retrying(_any_transport, what):
            with attempt:
                if uncertain:
                    found = self._lookup_once(client_order_id)
                    if found is not None:
                        return self._adopted(what, found, "found")
                try:
                    return send()
                except late_success:
                    if not uncertain:
                        raise
                    found = self._lookup_once(client_order_id)
                    if found is None:
                        raise
                    return self._adopted(what, found, "late_success")
                except RateLimitedError:
                    raise
                except TransportError as exc:
                    uncertain = True
                    _log.warning(
                        "order_outcome_unknown",
                        call=what,
                        client_order_id=client_order_id,
                        error=type(exc).__name__,
                    )
                    raise
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _lookup_once(self, client_order_id: str) -> Order | None:
        """One by-client-id lookup (a transport failure propagates to the recipe's loop)."""
        try:
            found = self._send(
                "GET", "/orders:by_client_order_id", params={"client_order_id": client_order_id}
            )
        except NotFoundError:
            return None
        return order_from_json(found)

    def _adopted(self, what: str, order: Order, how: str) -> Order:
        self._recovered += 1
        _log.info(
            "order_recovered",
            call=what,
            client_order_id=order.client_order_id,
            order_id=order.id,
            how=how,
        )
        return order


def _order_path(order_id: str) -> str:
    return "/orders/" + quote(order_id, safe="")


def _json_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise VenueError(f"malformed {what}: expected a JSON list")
    return value
