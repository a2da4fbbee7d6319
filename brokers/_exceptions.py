"""Broker errors, by whose fault they are — which decides whether a retry can help::

    BrokerError
     ├── RequestRejectedError          we sent something the venue refuses: never retry as is
     │    ├── AuthenticationError      401: missing or wrong keys
     │    ├── InvalidOrderError        422: bad fields, unsupported order, not a UUID
     │    ├── DuplicateClientOrderIdError  422: the client order id was used before
     │    ├── InsufficientFundsError   403: buying power or available quantity too small
     │    ├── WashTradeError           403: an opposite working order could trade with it
     │    ├── PatternDayTraderError    403: it would complete a fourth day trade in 5 sessions
     │    ├── NotFoundError            404: no such order or position
     │    ├── NotCancelableError       422: the order is already terminal
     │    ├── NotReplaceableError      422: the order is not open (or not yet at the exchange)
     │    └── UnchangedOrderError      403: a replace that changes nothing
     ├── TransportError                the request may not have arrived: retry where idempotent
     │    ├── RateLimitedError         429
     │    ├── UnavailableError         5xx, connection refused or reset
     │    └── BrokerTimeoutError       no answer in time (the request may still have worked)
     └── VenueError                    the venue answered nonsense (malformed JSON, wrong shape)

Every error carries the HTTP ``status`` and Alpaca ``code`` when there was one.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BrokerError",
    "BrokerTimeoutError",
    "DuplicateClientOrderIdError",
    "InsufficientFundsError",
    "InvalidOrderError",
    "NotCancelableError",
    "NotFoundError",
    "NotReplaceableError",
    "PatternDayTraderError",
    "RateLimitedError",
    "RequestRejectedError",
    "TransportError",
    "UnavailableError",
    "UnchangedOrderError",
    "VenueError",
    "WashTradeError",
]


class BrokerError(Exception):
    """Base of every broker error."""

    status: int | None = None
    code: int | None = None

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class RequestRejectedError(BrokerError):
    """The venue refused what we sent; sending it again unchanged will fail again."""


class AuthenticationError(RequestRejectedError):
    status, code = 401, 40110000


class InvalidOrderError(RequestRejectedError):
    status, code = 422, 40010001


class DuplicateClientOrderIdError(InvalidOrderError):
    """The client order id was used before (by any order ever, cancelled ones included)."""


class InsufficientFundsError(RequestRejectedError):
    status, code = 403, 40310000


class WashTradeError(RequestRejectedError):
    """The venue refuses an order that could trade with an opposite working order of the symbol
    (Alpaca: "potential wash trade detected. use complex orders"); ``existing_order_id`` names
    that order."""

    status, code = 403, 40310000

    def __init__(
        self,
        message: str = "potential wash trade detected. use complex orders",
        *,
        existing_order_id: str | None = None,
        status: int | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.existing_order_id = existing_order_id


class PatternDayTraderError(RequestRejectedError):
    """An account under $25,000 may not complete a fourth day trade in five sessions."""

    status, code = 403, 40310100


class NotFoundError(RequestRejectedError):
    status, code = 404, 40410000


class NotCancelableError(RequestRejectedError):
    status, code = 422, 42210000


class NotReplaceableError(RequestRejectedError):
    status, code = 422, 40010001


class UnchangedOrderError(RequestRejectedError):
    status, code = 403, 40310000


class TransportError(BrokerError):
    """The request may not have reached the venue, or its answer was lost."""


class RateLimitedError(TransportError):
    status, code = 429, 42910000


class UnavailableError(TransportError):
    status = 503


class BrokerTimeoutError(TransportError):
    """No answer in time: the request may still have been carried out."""


class VenueError(BrokerError):
    """The venue answered something that cannot be read."""
