"""Alpaca's error answers: ``{"code", "message"}`` out, and the typed error for an answer in.

Pure: no I/O. The mapping goes by HTTP status first, then Alpaca's code and message (a 422 can be
a duplicate client order id, a terminal order, an order not open for replacing, or a bad field).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from brokers._exceptions import (
    AuthenticationError,
    BrokerError,
    DuplicateClientOrderIdError,
    InsufficientFundsError,
    InvalidOrderError,
    NotCancelableError,
    NotFoundError,
    NotReplaceableError,
    PatternDayTraderError,
    RateLimitedError,
    RequestRejectedError,
    UnavailableError,
    UnchangedOrderError,
    VenueError,
    WashTradeError,
)

__all__ = ["UNAUTHORIZED_BODY", "error_body", "error_from_response"]

#: The exact 401 body of a missing or wrong key pair.
UNAUTHORIZED_BODY: dict[str, Any] = {
    "code": 40110000,
    "message": "access key verification failed : verification failure",
}


def error_body(error: BrokerError) -> dict[str, Any]:
    """``{"code", "message"}`` for an error the venue answers with."""
    if isinstance(error, AuthenticationError):
        return dict(UNAUTHORIZED_BODY)
    body: dict[str, Any] = {
        "code": error.code if error.code is not None else 50010000,
        "message": error.message,
    }
    if isinstance(error, WashTradeError) and error.existing_order_id is not None:
        body["existing_order_id"] = error.existing_order_id
    return body


def error_from_response(status: int, body: bytes | str) -> BrokerError:
    """The typed error for an HTTP error answer, by status, Alpaca code and message."""
    code: int | None = None
    message = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        parsed = json.loads(message)
    except ValueError:
        parsed = None
    existing: str | None = None
    if isinstance(parsed, Mapping):
        raw_code = parsed.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(parsed.get("message", message))
        raw_existing = parsed.get("existing_order_id")
        existing = raw_existing if isinstance(raw_existing, str) else None
    if status == 403 and "wash trade" in message:
        return WashTradeError(message, existing_order_id=existing, status=status, code=code)
    if status == 403 and (code == PatternDayTraderError.code or "pattern day" in message):
        return PatternDayTraderError(message, status=status, code=code)
    kind: type[BrokerError]
    if status == 401:
        kind = AuthenticationError
    elif status == 404:
        kind = NotFoundError
    elif status == 429:
        kind = RateLimitedError
    elif status >= 500:
        kind = UnavailableError
    elif status == 403:
        kind = UnchangedOrderError if "not changed" in message else InsufficientFundsError
    elif status == 422:
        if "must be unique" in message:
            kind = DuplicateClientOrderIdError
        elif code == 42210000 or "already in" in message:
            kind = NotCancelableError
        elif "unable to replace" in message:
            kind = NotReplaceableError
        else:
            kind = InvalidOrderError
    elif 400 <= status < 500:
        kind = RequestRejectedError
    else:
        kind = VenueError
    return kind(message, status=status, code=code)
